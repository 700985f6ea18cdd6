"""The chat widget on the demo portal, in real Chromium against a real server."""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.server_process import Server
from tests.e2e.widget_page import Widget

pytestmark = pytest.mark.browser

ELDER = "大字模式：放大文字和按钮"


def test_guide_card_with_source(widget: Widget, page: Page) -> None:
    widget.goto()
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    widget.open()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".wz-greeting")).to_contain_text("政务服务智能助手")
    expect(widget.log).to_have_attribute("role", "log")
    expect(widget.log).to_have_attribute("aria-live", "polite")

    answer = widget.ask("孩子上学要准备什么材料")
    card = answer.locator(".wz-card")
    expect(card).to_be_visible()
    expect(card.locator(".wz-card-title")).to_contain_text("入学")
    expect(card.locator("dt").first).to_have_text("申请材料")
    expect(card.locator("dd").first).to_contain_text("户口簿")
    online = card.locator("dd a").first
    expect(online).to_have_attribute("href", re.compile(r"^https://"))
    expect(online).to_have_attribute("rel", "noopener noreferrer")
    expect(online).to_have_attribute("target", "_blank")

    more = card.locator("details.wz-more")
    expect(more.locator("dl")).to_be_hidden()
    more.locator("summary").click()
    expect(more.locator("dl")).to_be_visible()
    expect(more).to_contain_text("办理时限")

    source = answer.locator(".wz-source")
    expect(source).to_contain_text("来源：")
    expect(source.locator("a").first).to_have_attribute("href", re.compile(r"^https?://"))
    expect(answer.locator(".wz-vote")).to_have_count(2)
    # the card is not shown twice: the plain-text copy of its fields is left out
    assert answer.locator(".wz-bubble").inner_text().count("户口簿") == 1
    widget.shot("guide-card")


def test_quick_reply_sends_the_choice(widget: Widget, page: Page) -> None:
    widget.goto()
    widget.open()
    answer = widget.ask("公积金")
    choices = answer.locator(".wz-choice")
    expect(choices.first).to_be_visible()
    assert choices.count() >= 2
    widget.shot("quick-replies")

    # which entries are offered is retrieval's business; the button reads "3. 标题"
    title = re.sub(r"^\d+\.\s*", "", choices.last.inner_text().strip())
    before = widget.bot_rows().count()
    choices.last.click()
    reply = widget.wait_answer(before)
    citizen = [r for r in widget.rows() if r["author"] == "citizen"]
    assert title and title in citizen[-1]["text"]
    expect(reply.locator(".wz-card-title")).to_contain_text(title)


def test_feedback_and_satisfaction_rating_are_stored(widget: Widget, page: Page, live_server: Server) -> None:
    widget.goto()
    widget.open()
    answer = widget.ask("身份证丢了怎么补办")
    seq = int(answer.get_attribute("data-seq") or 0)
    conversation = int(answer.get_attribute("data-conv") or 0)
    answer.get_by_role("button", name="这个回答有用").click()
    expect(answer.locator(".wz-thanks")).to_have_text("感谢您的反馈！")
    stored = live_server.query("SELECT kind, value FROM ratings WHERE turn_id = ?", (seq,))
    assert stored and set(stored) == {("helpful", 1)}

    page.get_by_role("button", name="结束对话").click()
    expect(widget.log).to_contain_text("本次对话已结束")
    form = page.locator(".wz-log .wz-rate")
    expect(form).to_be_visible()
    expect(form.locator("label.wz-level")).to_have_text(["非常满意", "满意", "基本满意", "不满意", "非常不满意"])
    form.get_by_role("button", name="提交评价").click()
    expect(form.locator(".wz-err")).to_have_text("请先选择一个评价等级。")
    form.locator("label.wz-level", has_text=re.compile("^满意$")).click()
    form.get_by_role("textbox", name="意见建议（选填）").fill("回答很清楚，谢谢")
    widget.shot("satisfaction-rating")
    form.get_by_role("button", name="提交评价").click()
    expect(page.locator(".wz-log .wz-thanks").last).to_have_text("感谢您的评价！")
    rating = live_server.query(
        "SELECT value, comment FROM ratings WHERE kind = 'satisfaction' AND conversation_id = ?",
        (conversation,),
    )
    assert rating == [(4, "回答很清楚，谢谢")]


def test_history_after_reload(widget: Widget, page: Page) -> None:
    widget.goto()
    widget.open()
    widget.ask("社保卡丢了怎么办")
    before = [(r["seq"], r["author"]) for r in widget.rows() if r["seq"]]
    assert [a for _, a in before] == ["citizen", "bot"]

    page.reload()
    widget.wait_loaded()
    widget.open()  # it stays open across a reload; open() only checks
    expect(page.locator(".wz-log > .wz-row[data-seq]")).to_have_count(len(before))
    after = [(r["seq"], r["author"]) for r in widget.rows() if r["seq"]]
    assert after == before
    expect(page.locator(".wz-greeting")).to_have_count(0)
    expect(widget.bot_rows().last.locator(".wz-source")).to_be_visible()
    widget.shot("history-after-reload")

    # a second tab of the same citizen (same token) shows the same history
    other = page.context.new_page()
    second = Widget(other, widget.base_url, widget.artifacts)
    second.goto()
    second.open()
    expect(other.locator(".wz-log > .wz-row[data-seq]")).to_have_count(len(before))


def test_keyboard_only(widget: Widget, page: Page) -> None:
    widget.goto()
    page.keyboard.press("Shift+Tab")  # from the top of the page back to the last stop
    assert widget.active() == "wz-launcher"
    outline = page.evaluate(
        "() => getComputedStyle(document.getElementById('wenzheng-widget').shadowRoot"
        ".querySelector('.wz-launcher')).outlineStyle"
    )
    assert outline == "solid", "the focused launcher shows a focus outline"
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    widget.wait_connected()
    assert widget.active() == "wz-input"

    before = widget.bot_rows().count()
    page.keyboard.type("身份证丢了怎么补办")
    page.keyboard.press("Enter")
    widget.wait_answer(before)
    assert widget.active() == "wz-input"
    page.keyboard.press("Tab")
    assert widget.active() == "wz-send"

    unnamed = page.evaluate("""() => {
      const root = document.getElementById('wenzheng-widget').shadowRoot;
      return Array.from(root.querySelectorAll('button, textarea, input, summary, a, [tabindex]'))
        .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim() || el.closest('label')))
        .map(el => el.outerHTML);
    }""")
    assert unnamed == []

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    assert widget.active() == "wz-launcher"
    # closing after an answered question offers the 好差评 rating, once
    card = page.locator(".wz-ratecard")
    expect(card).to_be_visible()
    expect(card).to_contain_text("请您对本次服务进行评价")
    widget.shot("rating-after-close")
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    assert widget.active() == "wz-launcher"
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(card).to_be_hidden()


def test_elder_mode_is_remembered(widget: Widget, page: Page) -> None:
    widget.goto()
    widget.open()
    toggle = page.get_by_role("button", name=ELDER)
    expect(toggle).to_have_attribute("aria-pressed", "false")

    def font_size() -> float:
        return float(widget.input.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))

    normal = font_size()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(widget.root).to_have_class(re.compile(r"\bwz-elder\b"))
    assert font_size() >= normal * 1.25
    widget.ask("身份证丢了怎么补办")
    widget.shot("elder-mode")

    page.reload()
    widget.wait_loaded()
    expect(widget.root).to_have_class(re.compile(r"\bwz-elder\b"))
    widget.open()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    page.reload()
    widget.wait_loaded()
    expect(widget.root).not_to_have_class(re.compile(r"\bwz-elder\b"))


def test_xss_payload_is_shown_as_text(widget: Widget, page: Page) -> None:
    widget.goto()
    widget.open()
    payloads = [
        "<img src=x onerror=alert(1)>",
        '<script>alert(2)</script><a href="javascript:alert(3)">点我</a> javascript:alert(4)',
    ]
    for payload in payloads:
        widget.ask(payload)
    texts = page.locator(".wz-log > .wz-citizen[data-seq] .wz-text")
    expect(texts).to_have_text(payloads)
    page.wait_for_timeout(300)
    assert page.locator(".wz-log img, .wz-log script").count() == 0
    hrefs = page.locator(".wz-log a").evaluate_all("els => els.map(a => a.href)")
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    widget.shot("xss-as-text")
    # a dialog would have failed the test through the page fixture


def fake_server(frames: list[dict[str, Any]], mode: str = "bot", staff_name: str | None = None) -> Any:
    """A WebSocket handler standing in for the server: welcome, the given frames, state."""

    def handler(ws: WebSocketRoute) -> None:
        def on_message(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "hello":
                ws.send(json.dumps({"type": "welcome", "token": "v1.demo.fake.sig", "seq": 0,
                                    "mode": "bot", "staff_available": False}))
                for f in frames:
                    ws.send(json.dumps(f))
                ws.send(json.dumps({"type": "state", "mode": mode, "staff_name": staff_name,
                                    "staff_available": True}))
                ws.send(json.dumps({"type": "typing", "author": "staff", "on": True}))

        ws.on_message(on_message)

    return handler


def test_hostile_server_data_is_rendered_as_text(widget: Widget, page: Page) -> None:
    evil = "<img src=x onerror=alert(5)>"
    frame = {
        "type": "message", "seq": 7, "conversation_id": 1, "author": "bot",
        "text": evil + " 详见 https://example.gov.cn/a?b=1。 javascript:alert(6)",
        "client_id": None, "rateable": True, "staff_name": None,
        "created_at": "2026-11-27T10:00:00+00:00",
        "card": {"title": evil, "entry_id": "x", "fields": [
            {"label": evil, "value": "<b>粗</b> http://example.gov.cn/x", "primary": True},
            {"label": "更多", "value": evil, "primary": False}]},
        "choices": [{"title": evil, "payload": "/entry x"}],
        "links": [{"title": "坏链接", "url": "javascript:alert(7)"}, {"title": evil, "url": "https://example.gov.cn/"}],
        "citations": [{"entry_id": "x", "title": evil, "url": "javascript:alert(8)"}],
    }
    staff = dict(frame, seq=8, author="staff", staff_name="<i>王</i>", card=None, choices=[],
                 links=[], citations=[], rateable=False, text="您好")
    page.route_web_socket(re.compile(r"/ws/chat"), fake_server([frame, frame, staff], "human", "王"))
    widget.goto()
    widget.open()
    expect(page.locator(".wz-log > .wz-row[data-seq]")).to_have_count(2)  # seq 7 once
    bot = page.locator(".wz-row[data-seq='7']")
    expect(bot.locator(".wz-card-title")).to_have_text(evil)
    expect(bot.locator(".wz-choice")).to_contain_text(evil)
    expect(page.locator(".wz-row[data-seq='8'] .wz-who")).to_have_text("工作人员 · <i>王</i>")
    assert page.locator(".wz-log img, .wz-log b, .wz-log i").count() == 0
    hrefs = page.locator(".wz-log a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.gov.cn/a?b=1", "http://example.gov.cn/x", "https://example.gov.cn/"]
    expect(page.locator(".wz-notice.wz-handoff")).to_have_text("工作人员（王）已接入")
    expect(page.locator(".wz-typing")).to_be_visible()
    expect(page.locator(".wz-typing")).to_contain_text("工作人员正在输入")


def test_sse_transport_answers_a_question(widget: Widget, page: Page, live_server: Server) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    embed(page, widget.base_url, 'data-site="demo" data-transport="sse"')
    widget.goto()
    widget.open()
    expect(widget.root).to_have_attribute("data-transport", "sse")
    answer = widget.ask("身份证丢了怎么补办")
    expect(answer.locator(".wz-card")).to_be_visible()
    answer.get_by_role("button", name="这个回答有用").click()
    expect(answer.locator(".wz-thanks")).to_be_visible()
    assert sockets == []
    widget.shot("sse-transport")
    # the stream's URL carries the citizen's token; the server's access log must not
    token = page.evaluate("localStorage.getItem('wenzheng:demo:token') || ''")
    log = live_server.log_tail(400)
    streams = [line for line in log.splitlines() if "/api/webchat/events" in line]
    assert streams and all("token=***" in line for line in streams if "token=" in line), streams
    assert token and token not in log


@pytest.mark.network_errors
def test_falls_back_to_sse_when_websockets_are_blocked(widget: Widget, page: Page) -> None:
    attempts: list[str] = []

    def blocked(ws: WebSocketRoute) -> None:  # a proxy that drops every WebSocket
        attempts.append(ws.url)
        ws.close(code=1011, reason="blocked")

    page.route_web_socket(re.compile(r"/ws/chat"), blocked)
    widget.goto()
    widget.open()
    expect(widget.root).to_have_attribute("data-transport", "sse")
    assert len(attempts) == 2
    widget.ask("公积金")


def keep_portal_up(page: Page) -> None:
    """Serve the portal page and the widget's files from the first copy fetched, as a portal
    hosted elsewhere would stay up while the chat server is down."""
    cached: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def portal(route: Any) -> None:
        url = route.request.url
        if url not in cached:
            response = route.fetch()
            cached[url] = (response.status, response.headers, response.body())
        status, headers, body = cached[url]
        route.fulfill(status=status, headers=headers, body=body)

    page.route(re.compile(r"^http://127\.0\.0\.1:\d+/(widget\.(js|css)|static/demo\.css)?$"), portal)


def seqs_seen(widget: Widget) -> list[int]:
    rows = widget.rows()
    assert not any(r["pending"] or r["failed"] for r in rows)
    seqs = [r["seq"] for r in rows if r["seq"]]
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs), seqs
    return seqs


@pytest.mark.network_errors
def test_reconnects_after_the_server_is_killed(widget: Widget, page: Page, live_server: Server) -> None:
    keep_portal_up(page)
    widget.goto()
    widget.open()
    widget.ask("身份证丢了怎么补办")

    # 1. kill -9 mid-conversation; a message typed meanwhile waits as "sending"
    live_server.kill()
    expect(widget.root).to_have_attribute("data-conn", "reconnecting", timeout=10_000)
    expect(page.locator(".wz-status")).to_contain_text("正在重新连接")
    widget.input.fill("社保卡丢了怎么办")
    widget.input.press("Enter")
    expect(page.locator(".wz-log > .wz-pending")).to_have_count(1)
    widget.shot("reconnecting")
    started = time.monotonic()
    live_server.start()
    widget.wait_connected(timeout=60_000)
    widget.wait_answer(1, timeout=60_000)
    print(f"reconnected and answered {time.monotonic() - started:.1f} s after the restart began")
    widget.ask("公积金怎么提取")
    rows = widget.rows()
    citizen = [r["text"] for r in rows if r["author"] == "citizen"]
    assert len(citizen) == 3 and "社保卡丢了怎么办" in citizen[1]
    assert sum(r["author"] == "bot" for r in rows) >= 3
    expect(widget.root).to_have_attribute("data-transport", "ws")
    seqs = seqs_seen(widget)
    widget.shot("after-reconnect")

    # 2. killed again, and the page reloaded while the server is down: the unsent message
    # survives the reload and is sent once when the server is back, on the WebSocket
    live_server.kill()
    expect(widget.root).to_have_attribute("data-conn", "reconnecting", timeout=10_000)
    widget.input.fill("医保怎么转移")
    widget.input.press("Enter")
    page.reload()
    widget.wait_loaded()
    expect(page.locator(".wz-log > .wz-pending")).to_have_count(1)
    page.wait_for_timeout(1500)  # a few failed attempts: no reason to leave the WebSocket
    live_server.start()
    # rather than wait out the backoff; the widget may have got back on its own while the
    # server was starting, and then the button is gone
    with contextlib.suppress(PlaywrightTimeoutError):
        page.get_by_role("button", name="立即重连").click(timeout=3_000)
    widget.wait_connected(timeout=60_000)
    expect(page.locator(".wz-log > .wz-row[data-seq]")).to_have_count(len(seqs) + 2, timeout=60_000)
    expect(widget.root).to_have_attribute("data-transport", "ws")
    after = seqs_seen(widget)
    assert after[: len(seqs)] == seqs
    citizen = [r["text"] for r in widget.rows() if r["author"] == "citizen"]
    assert len(citizen) == 4 and "医保怎么转移" in citizen[3]

    # the server's record matches what the citizen saw
    page.reload()
    widget.wait_loaded()
    widget.open()
    expect(page.locator(".wz-log > .wz-row[data-seq]")).to_have_count(len(after))
    assert seqs_seen(widget) == after


def test_narrow_screen_and_zoom(widget: Widget, page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    widget.goto()
    widget.open()
    box = widget.panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 740)
    answer = widget.ask("孩子上学要准备什么材料")
    expect(answer.locator(".wz-card")).to_be_visible()
    for control in (widget.input, page.locator(".wz-send"), page.locator(".wz-close").first):
        b = control.bounding_box()
        assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 360
    overflow = widget.log.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0
    widget.shot("narrow-360")

    # 200 % zoom on a 1280 × 800 screen leaves 640 × 400 CSS pixels
    page.set_viewport_size({"width": 640, "height": 400})
    expect(page.locator(".wz-send")).to_be_in_viewport()
    assert widget.log.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    widget.shot("zoom-200")
    page.get_by_role("button", name="关闭对话窗口").click()
    expect(widget.panel).to_be_hidden()


def test_refused_message_is_kept_in_the_input(widget: Widget, page: Page) -> None:
    widget.goto()
    widget.open()
    # at most 5 messages in 5 s per connection: the sixth is refused, not lost
    for n in range(6):
        widget.input.fill("？" * (n + 1))
        widget.input.press("Enter")
    failed = page.locator(".wz-log > .wz-failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("未发送")
    refused = failed.locator(".wz-text").inner_text()
    expect(widget.input).to_have_value(refused)
    expect(page.locator(".wz-notice.wz-warn")).to_contain_text("稍等")
    expect(page.locator(".wz-log > .wz-pending")).to_have_count(0)
    widget.shot("rate-limited")


def test_handoff_queue_and_leave_a_message(widget: Widget, page: Page, live_server: Server) -> None:
    widget.goto()
    widget.open()
    widget.ask("转人工")
    expect(page.locator(".wz-notice.wz-handoff")).to_contain_text("正在为您转接人工服务…")
    form = page.locator(".wz-leave")
    expect(form).to_be_visible()  # nobody is on duty in the tests
    form.get_by_role("textbox", name="留言内容").fill("小区路灯坏了一个月了，希望尽快修理")
    form.get_by_role("textbox", name="联系电话（选填）").fill("13800138000")
    widget.shot("leave-message")
    form.get_by_role("button", name="提交留言").click()
    expect(form).to_have_count(0)
    system = page.locator(".wz-log > .wz-system[data-seq]")
    expect(system.last).to_contain_text("LJ")
    expect(page.locator(".wz-notice.wz-handoff").last).to_have_text("已回到智能助手")
    tickets = live_server.query("SELECT matter, phone FROM tickets WHERE matter LIKE '小区路灯%'")
    assert tickets == [("小区路灯坏了一个月了，希望尽快修理", "13800138000")]


def embed(page: Page, base_url: str, attributes: str) -> None:
    """Serve the demo page with other data-* attributes on the widget's script tag."""

    def rewrite(route: Any) -> None:
        response = route.fetch()
        body = response.text().replace('data-site="demo"', attributes)
        route.fulfill(response=response, body=body)

    page.route(base_url + "/", rewrite)


def test_embedding_options(widget: Widget, page: Page) -> None:
    embed(page, widget.base_url, 'data-site="demo" data-color="#0b57a4" data-position="left" '
          'data-lang="en" data-title="Linjiang help" data-greeting="Hi there"')
    widget.goto()
    host_style = page.locator("#wenzheng-widget").get_attribute("style") or ""
    assert "--wz-brand: #0b57a4" in host_style
    box = widget.launcher.bounding_box()
    assert box is not None and box["x"] < 100
    expect(widget.launcher).to_have_text("Ask us")
    widget.open()
    expect(widget.root).to_have_attribute("data-transport", "ws")
    expect(page.locator(".wz-title")).to_have_text("Linjiang help")
    expect(page.locator(".wz-greeting")).to_have_text("Assistant:Hi there")
    expect(page.locator(".wz-send")).to_have_text("Send")
    background = page.locator(".wz-send").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(11, 87, 164)"
    widget.shot("options-en-left")


def test_invalid_colour_is_ignored(widget: Widget, page: Page) -> None:
    embed(page, widget.base_url, 'data-site="demo" data-color="red;}*{display:none"')
    widget.goto()
    assert not page.locator("#wenzheng-widget").get_attribute("style")
    background = widget.launcher.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(179, 38, 30)"  # the default brand colour


def bot_frame(seq: int, text: str) -> dict[str, Any]:
    return {"type": "message", "seq": seq, "conversation_id": 1, "author": "bot", "text": text,
            "client_id": None, "card": None, "choices": [], "links": [], "citations": [],
            "rateable": False, "staff_name": None, "created_at": "2026-11-27T10:00:00+00:00"}


def test_resume_sends_token_and_last_seq(widget: Widget, page: Page) -> None:
    """Against a scripted server: the hello frames, resuming after a dropped socket, and a
    turn the server sends twice shown once."""
    hellos: list[dict[str, Any]] = []
    script = [[bot_frame(3, "第一条"), bot_frame(4, "第二条")], [bot_frame(4, "第二条"), bot_frame(5, "第三条")]]

    def server(ws: WebSocketRoute) -> None:
        def on_message(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] != "hello":
                return
            hellos.append(frame)
            ws.send(json.dumps({"type": "welcome", "token": "v1.demo.c2lnbmVk.sig", "seq": 5,
                                "mode": "bot", "staff_available": False}))
            for f in script[min(len(hellos), 2) - 1]:
                ws.send(json.dumps(f))
            ws.send(json.dumps({"type": "state", "mode": "bot", "staff_name": None,
                                "staff_available": False}))
            if len(hellos) == 1:
                ws.close(code=1012, reason="restart")

        ws.on_message(on_message)

    page.route_web_socket(re.compile(r"/ws/chat"), server)
    embed(page, widget.base_url, 'data-site="demo" data-user="u-1001" data-user-hash="abc123"')
    widget.goto()
    widget.open()
    expect(page.locator(".wz-log > .wz-row[data-seq]")).to_have_count(3)
    assert [r["seq"] for r in widget.rows() if r["seq"]] == [3, 4, 5]
    assert hellos[0] == {"type": "hello", "site": "demo", "last_seq": 0, "user": "u-1001", "user_hash": "abc123"}
    assert hellos[1] == {"type": "hello", "site": "demo", "last_seq": 4, "token": "v1.demo.c2lnbmVk.sig",
                         "user": "u-1001", "user_hash": "abc123"}
    assert page.evaluate("localStorage.getItem('wenzheng:demo:token')") == "v1.demo.c2lnbmVk.sig"


@pytest.mark.network_errors
def test_forged_token_is_forgotten(widget: Widget, page: Page) -> None:
    forged = "v1.demo.Zm9yZ2Vk.bm90LWEtc2lnbmF0dXJl"
    page.add_init_script(f"localStorage.setItem('wenzheng:demo:token', '{forged}')")
    widget.goto()
    widget.open()  # refused with 4401, reconnects without the token: a new identity
    token = page.evaluate("localStorage.getItem('wenzheng:demo:token')")
    assert token and token != forged
    widget.ask("你好")


@pytest.mark.network_errors
def test_unknown_site_is_refused_without_retrying(widget: Widget, page: Page) -> None:
    attempts: list[str] = []
    page.on("websocket", lambda ws: attempts.append(ws.url))
    embed(page, widget.base_url, 'data-site="no-such-site"')
    widget.goto()
    widget.launcher.click()
    expect(widget.root).to_have_attribute("data-conn", "stopped")
    expect(page.locator(".wz-status [role=status]")).to_have_text("本网站暂未开通在线咨询服务。")
    expect(page.get_by_role("button", name="立即重连")).to_be_hidden()
    expect(widget.root).to_have_attribute("data-transport", "ws")  # refused: no fallback either
    page.wait_for_timeout(1500)
    assert len(attempts) == 1
