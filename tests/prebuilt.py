"""Copying the session's prebuilt index and intent model into a package's own data dir."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_prebuilt(prebuilt: Path, target: Path) -> Path:
    """A fresh data dir (its own empty database) with the prebuilt index and intent model."""
    target.mkdir(parents=True, exist_ok=True)
    for part in ("index", "intents"):
        shutil.copytree(prebuilt / part, target / part, dirs_exist_ok=True)
    return target
