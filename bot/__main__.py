"""Entry point for `python -m bot`."""

import logging
import sys

from bot.cli import main

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
sys.exit(main())
