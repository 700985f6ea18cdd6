"""The console in Chromium at 1366x768 against a real `python -m bot serve`: log in, see the
queue change live when a citizen asks for a person, claim, reply, resolve. Screenshots go
to test-artifacts/console/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.people import PASSWORD
from tests.e2e.server_process import ROOT, Server, free_port, server_env
from tests.prebuilt import copy_prebuilt

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "console"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(console_prebuilt: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    data_dir = copy_prebuilt(console_prebuilt, tmp_path_factory.mktemp("console-e2e") / "data")
    add = [sys.executable, "-m", "bot", "users", "add", "wangfang", "--role", "supervisor",
           "--name", "王芳"]
    done = subprocess.run(add, check=False, input=PASSWORD + "\n", text=True, cwd=ROOT,
                          env=server_env(data_dir), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with Server(data_dir, free_port(), data_dir.parent / "server.log").running() as instance:
        yield instance


@pytest.fixture
def page(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        try:
            yield page
        finally:
            browser.close()
        # the one wrong password on purpose answers 401; anything else (CSP too) fails
        problems = [p for p in problems if "status of 401" not in p]
        assert not problems, "\n".join(problems)


def citizen_says(server: Server, sender: str, text: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(server.url + "/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: list[dict[str, Any]] = json.loads(response.read())
        return answer


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_log_in_claim_reply_resolve(server: Server, page: Any) -> None:
    page.goto(server.url + "/staff")
    assert page.url.endswith("/staff/login")
    page.fill("#username", "wangfang")
    page.fill("#password", "wrong password")
    page.click("#login-button")
    page.wait_for_selector("#login-error:has-text('用户名或密码错误')")
    page.fill("#password", PASSWORD)
    shot(page, "01-login")
    page.click("#login-button")
    page.wait_for_selector("#me-name:has-text('王芳')")
    page.wait_for_selector("#link-state:has-text('已连接')")
    shot(page, "02-empty-queue")

    citizen_says(server, "browser-citizen", "我的公积金提取申请一直没到账，转人工")
    item = page.locator(".queue-item.pending", has_text="公积金提取申请")
    item.wait_for(timeout=10_000)  # live, without a reload
    page.wait_for_selector("#notice:has-text('正在等待人工服务')")
    shot(page, "03-new-waiting")
    item.locator("button").click()
    page.wait_for_selector("#claim:visible")
    page.click("#claim")
    page.wait_for_selector("#reply-form:visible")
    page.wait_for_selector("#suggestions .card")
    page.fill("#reply-text", "您好，我是王芳，请提供一下申请的日期。")
    page.click("#send")
    page.wait_for_selector(".turn.staff:has-text('请提供一下申请的日期')")
    citizen_says(server, "browser-citizen", "上周一申请的")
    page.wait_for_selector(".turn.citizen:has-text('上周一申请的')", timeout=10_000)
    page.fill("#note-text", "需要联系公积金中心核实")
    page.click("#note-form button")
    page.wait_for_selector(".note:has-text('需要联系公积金中心核实')")
    shot(page, "04-conversation")
    page.click("#resolve")
    page.wait_for_selector(".turn.system:has-text('人工服务已结束')")
    page.wait_for_selector(".queue-item", state="detached", timeout=10_000)
    shot(page, "05-resolved")

    rows = server.query("SELECT status, staff FROM handoffs")
    assert rows == [("resolved", "wangfang")]
    assert server.query("SELECT author FROM turns WHERE text LIKE '%需要联系公积金中心%'") == []
    again = citizen_says(server, "browser-citizen", "身份证丢了怎么补办")
    assert again and "申请材料" in again[0]["text"]  # back to the bot
