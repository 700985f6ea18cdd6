"""Driving the chat widget on the demo portal page; Playwright's CSS locators pierce its
open shadow root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

ANSWER_TIMEOUT_MS = 30_000

# Rows of the message log as plain data: what the citizen sees, read from the shadow root.
ROWS_JS = """() => {
  const root = document.getElementById('wenzheng-widget').shadowRoot;
  return Array.from(root.querySelectorAll('.wz-log > .wz-row')).map(row => ({
    seq: row.dataset.seq ? Number(row.dataset.seq) : null,
    author: ['citizen', 'bot', 'staff', 'system', 'notice'].find(a => row.classList.contains('wz-' + a)) || 'other',
    pending: row.classList.contains('wz-pending'),
    failed: row.classList.contains('wz-failed'),
    text: row.innerText,
  }));
}"""

ACTIVE_JS = """() => {
  const host = document.getElementById('wenzheng-widget');
  if (document.activeElement !== host) return null;
  const el = host.shadowRoot.activeElement;
  return el ? (el.className || el.tagName.toLowerCase()) : null;
}"""


class Widget:
    def __init__(self, page: Page, base_url: str, artifacts: Path) -> None:
        self.page, self.base_url, self.artifacts = page, base_url, artifacts
        self.root = page.locator(".wz-root")
        self.launcher = page.locator(".wz-launcher")
        self.panel = page.locator(".wz-panel")
        self.input = page.locator(".wz-input")
        self.log = page.locator(".wz-log")

    def goto(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)
        self.wait_loaded()

    def wait_loaded(self) -> None:
        # the root stays hidden until widget.css has loaded into the shadow root
        expect(self.launcher).to_be_visible(timeout=15_000)

    def open(self) -> None:
        if not self.panel.is_visible():
            self.launcher.click()
        expect(self.panel).to_be_visible()
        self.wait_connected()

    def wait_connected(self, timeout: float = 15_000) -> None:
        expect(self.root).to_have_attribute("data-conn", "open", timeout=timeout)

    def bot_rows(self) -> Locator:
        return self.page.locator(".wz-log > .wz-row.wz-bot[data-seq]")

    def ask(self, text: str, timeout: float = ANSWER_TIMEOUT_MS) -> Locator:
        """Type a question, press Enter, wait for its echo and an answer; the last answer."""
        before = self.bot_rows().count()
        self.input.fill(text)
        self.input.press("Enter")
        return self.wait_answer(before, timeout)

    def wait_answer(self, before: int, timeout: float = ANSWER_TIMEOUT_MS) -> Locator:
        expect(self.page.locator(".wz-log > .wz-pending")).to_have_count(0, timeout=timeout)
        rows = self.bot_rows()
        expect(rows.nth(before)).to_be_attached(timeout=timeout)
        return rows.last

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.page.evaluate(ROWS_JS)
        return rows

    def active(self) -> str | None:
        """The class of the focused element inside the widget, None when focus is outside."""
        active: str | None = self.page.evaluate(ACTIVE_JS)
        return active

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"))
