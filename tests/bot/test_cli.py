"""`python -m bot` as an editor or operator runs it, in a subprocess with its own data dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from settings import ROOT

ROWS = [
    {"id": "faq-park-hours", "title": "临江公园几点开门", "text": "临江公园每天6:00至22:00开放。",
     "questions": ["公园开放时间", "临江公园晚上几点关门", "公园早上几点能进"]},
    {"id": "faq-library-card", "title": "市图书馆怎么办借书证", "text": "凭身份证到市图书馆总服务台免费办理。",
     "questions": ["借书证怎么办", "图书馆办卡要钱吗", "办图书馆读者证"]},
    {"id": "", "title": "没有编号的行", "text": "这一行缺少 id"},
    {"id": "faq-bus-card", "title": "老年人乘车卡怎么申请", "text": "年满65周岁可凭身份证到公交服务网点申请。",
     "questions": ["老人公交卡", "65岁坐公交免费吗", "敬老卡怎么办"]},
]


@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path, services) -> dict[str, str]:
    """A fresh data dir; the intent model trained for the session is reused (same YAML hash)."""
    shutil.copytree(data_dir / "intents", tmp_path / "data" / "intents")
    return {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_LOAD_DEMO_CONTENT": "false"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], check=False, cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )


def test_import_reports_row_errors_and_keeps_the_rest(cli_env, tmp_path):
    source = tmp_path / "faq.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n{broken\n")
    result = run(cli_env, "kb", "import", str(source))
    assert result.returncode == 2, result.stderr
    assert "created 3" in result.stdout
    assert "line 3" in result.stderr and "line 5" in result.stderr
    exported = tmp_path / "out.csv"
    assert run(cli_env, "kb", "export", str(exported)).returncode == 0
    again = run(cli_env, "kb", "import", str(exported))
    assert again.returncode == 0 and "unchanged 3" in again.stdout


def test_search_parse_and_ask_print_json(cli_env, tmp_path):
    source = tmp_path / "faq.jsonl"
    good = [r for r in ROWS if r["id"]]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in good))
    assert run(cli_env, "kb", "import", str(source)).returncode == 0
    found = run(cli_env, "search", "图书馆借书证要怎么弄", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["id"] == "faq-library-card"
    parsed = json.loads(run(cli_env, "parse", "我要人工客服", "--json").stdout)
    assert parsed["intent"]["name"] == "request_human"
    asked = run(cli_env, "ask", "老人坐公交的卡怎么申请", "--json")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)[0]["custom"]["entry_ids"] == ["faq-bus-card"]


def test_broken_import_file_is_a_clear_error(cli_env, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip file at all")
    result = run(cli_env, "kb", "import", str(bad))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_serve_logs_without_faiss_loader_noise_unless_verbose():
    import logging

    from bot.cli import build_parser, configure_logging

    loader = logging.getLogger("faiss.loader")
    before = loader.level
    try:
        loader.setLevel(logging.NOTSET)
        configure_logging(build_parser().parse_args(["-v", "serve"]))
        assert loader.level == logging.NOTSET  # verbose: everything FAISS says
        configure_logging(build_parser().parse_args(["serve"]))
        assert loader.level == logging.WARNING  # not its "Could not load ... AVX512" lines
    finally:
        loader.setLevel(before)
