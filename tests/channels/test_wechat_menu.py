"""The menu YAML: valid as shipped, every entry it names exists, and push_menu publishes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.channels.errors import MenuError
from bot.channels.wechat_api import WechatApiClient
from bot.channels.wechat_menu import load_menu, push_menu
from tests.channels.wechat_fake import FakeWechat
from tests.channels.wechat_peer import APPID, SECRET


def test_shipped_menu_names_existing_entries(stack: Any) -> None:
    menu = load_menu()
    entries = [a.value for a in menu.actions.values() if a.kind == "entry"]
    assert entries and all(stack.kb.get(entry_id).id == entry_id for entry_id in entries)
    assert menu.place("hall_binjiang") == "滨江区政务服务中心"


async def test_push_menu_publishes_the_yaml(fake_wechat: FakeWechat) -> None:
    client = WechatApiClient(APPID, SECRET, base_url=fake_wechat.base_url)
    sent = await push_menu(client)
    await client.aclose()
    assert fake_wechat.menus[-1] == sent == load_menu().wechat_json()
    assert len(sent["button"]) <= 3


@pytest.mark.parametrize("yaml_text, problem", [
    ("buttons: [" + ", ".join(f"{{name: {c}, key: {c}, ask: x}}" for c in "abcd") + "]",
     "at most 3"),
    ("buttons: [{name: a}]", "needs a key"),
    ("buttons: [{name: a, key: A, ask: x, reply: y}]", "exactly one"),
    ("buttons: [{name: a, key: A, intent: dance}]", "unknown intent"),
    ("buttons: [{name: 一个非常非常长的菜单名字, key: A, ask: x}]", "bytes"),
    ("buttons: [{name: a, key: A, ask: x}, {name: b, key: A, ask: y}]", "once"),
    ("buttons: [{name: a, sub_buttons: []}]", "sub_buttons"),
    ("- just a list", "mapping"),
    ("buttons: [{name: a, key: A, ask: x", "cannot read"),
])
def test_invalid_menus_are_refused(tmp_path: Path, yaml_text: str, problem: str) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(MenuError, match=problem):
        load_menu(path)
