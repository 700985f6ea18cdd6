"""Entry point for `python -m bot` (logging is configured per command in `bot.cli`)."""

import sys

from bot.cli import main

sys.exit(main())
