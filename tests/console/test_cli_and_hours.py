"""Operator-facing details: `python -m bot users ...` prints its result, not screens of
INFO logs; the citizen is told the service hours the server is configured with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.console.hours import ServiceHours
from settings import ROOT
from tests.console.people import PASSWORD


def test_users_commands_log_only_warnings(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_LOAD_DEMO_CONTENT": "false"}
    add = subprocess.run([sys.executable, "-m", "bot", "users", "add", "sunli", "--role", "staff",
                          "--name", "孙丽"], input=PASSWORD + "\n", text=True, cwd=ROOT, env=env,
                         capture_output=True, timeout=120, check=False)
    listed = subprocess.run([sys.executable, "-m", "bot", "users", "list"], text=True, cwd=ROOT,
                            env=env, capture_output=True, timeout=120, check=False)
    assert add.returncode == 0 and listed.returncode == 0, add.stderr + listed.stderr
    assert "added staff sunli" in add.stdout and "sunli" in listed.stdout
    assert " INFO " not in add.stderr + listed.stderr  # migrations and faiss stay quiet


def test_service_hours_as_told_to_citizens() -> None:
    def told(days: list[int], opens: str, closes: str) -> str:
        return ServiceHours.build(opens, closes, days, [], [], "Asia/Shanghai").describe()

    assert told([1, 2, 3, 4, 5], "09:00", "17:00") == "工作日9:00-17:00"
    assert told([1, 2, 3, 4, 5, 6, 7], "00:00", "24:00") == "每天24小时"
    assert told([1, 2, 3, 4, 5, 6], "08:30", "20:00") == "周一至周六8:30-20:00"
    assert told([1, 3, 5], "9:00", "12:00") == "周一、周三、周五9:00-12:00"
