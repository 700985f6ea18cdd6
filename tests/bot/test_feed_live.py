"""An editor's `python -m bot kb import` beside the running server reaches its answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.api.deps import Services
from server import create_app
from settings import ROOT, Settings
from tests.live_server import serve_in_thread

ENTRY = {
    "id": "faq-feed-ferry-pass", "title": "轮渡月票怎么办理",
    "text": "持身份证到滨江轮渡码头售票窗口办理，月票每张60元。",
    "questions": ["坐轮渡可以办月票吗", "轮渡月卡在哪里办", "过江轮渡包月怎么收费"],
}


def import_file(settings: Settings, path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(settings.data_dir), "BOT_LOAD_DEMO_CONTENT": "false"}
    done = subprocess.run([sys.executable, "-m", "bot", "kb", "import", str(path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def top_hit(url: str, query: str) -> str | None:
    results = httpx.get(f"{url}/api/search", params={"q": query, "k": 1}).json()["results"]
    return results[0]["id"] if results else None


def test_a_cli_import_is_answered_by_the_running_server(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    source = tmp_path / "ferry.jsonl"
    source.write_text(json.dumps(ENTRY, ensure_ascii=False) + "\n")
    with serve_in_thread(create_app(settings, services=services)) as url:
        assert top_hit(url, "轮渡月票在哪办") != ENTRY["id"]
        try:
            import_file(settings, source)  # another process, the same database
            deadline = time.monotonic() + 10
            while top_hit(url, "轮渡月票在哪办") != ENTRY["id"]:
                assert time.monotonic() < deadline, "the imported entry never became searchable"
                time.sleep(0.1)
            reply = httpx.post(f"{url}/api/chat", json={"sender": "feed-1",
                                                        "message": "轮渡月票在哪办"}).json()
            assert ENTRY["id"] in reply[0]["custom"]["entry_ids"]
            assert "滨江轮渡码头" in " ".join(r.get("text", "") for r in reply)

            source.write_text(json.dumps({**ENTRY, "text": "月票已改为线上办理：在“滨江出行”小程序申请。"},
                                         ensure_ascii=False) + "\n")
            import_file(settings, source)  # an edit: the kept copy of the entry must not linger
            deadline = time.monotonic() + 10
            while True:
                reply = httpx.post(f"{url}/api/chat", json={
                    "sender": f"feed-{time.monotonic_ns()}", "message": "轮渡月票在哪办"}).json()
                if "滨江出行" in " ".join(r.get("text", "") for r in reply):
                    break
                assert time.monotonic() < deadline, "the edited answer never reached the server"
                time.sleep(0.1)
        finally:
            services.kb.delete(ENTRY["id"], "test")
