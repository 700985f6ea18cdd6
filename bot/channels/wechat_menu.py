"""The account's custom menu and welcome, from YAML: what to publish and what a click means."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.channels.errors import MenuError
from bot.channels.wechat_api import WechatApiClient

DEFAULT_MENU_PATH = Path(__file__).with_name("wechat_menu.yaml")
ACTION_KINDS = ("entry", "ask", "intent", "reply")
# A message the dialogue routes to the intent, for menu buttons that name an intent.
INTENT_UTTERANCES = {
    "request_human": "转人工",
    "complaint_suggestion": "我要投诉",
    "greet": "你好",
}
MAX_TOP, MAX_SUB = 3, 5
NAME_BYTES = {True: 16, False: 60}  # top-level / sub-menu name limits
KEY_BYTES, URL_BYTES = 128, 1024


@dataclass(frozen=True)
class MenuAction:
    kind: str  # entry / ask / intent / reply
    value: str

    def utterance(self) -> str | None:
        """What to hand the dialogue, or None for a fixed reply."""
        if self.kind == "entry":
            return f"/entry {self.value}"
        if self.kind == "intent":
            return INTENT_UTTERANCES[self.value]
        return self.value if self.kind == "ask" else None


@dataclass(frozen=True)
class Menu:
    buttons: tuple[dict[str, Any], ...]  # WeChat's menu/create format
    actions: dict[str, MenuAction]
    welcome_services: tuple[str, ...] = ()
    scenes: dict[str, str] | None = None

    def action(self, key: str) -> MenuAction | None:
        return self.actions.get(key)

    def place(self, scene: str) -> str | None:
        return (self.scenes or {}).get(scene)

    def wechat_json(self) -> dict[str, Any]:
        return {"button": list(self.buttons)}


def load_menu(path: Path = DEFAULT_MENU_PATH) -> Menu:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MenuError(f"cannot read menu {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise MenuError("menu YAML must be a mapping")
    actions: dict[str, MenuAction] = {}
    top = data.get("buttons") or []
    if not isinstance(top, list) or len(top) > MAX_TOP:
        raise MenuError(f"buttons: a list of at most {MAX_TOP}")
    buttons = tuple(_button(b, actions, top_level=True) for b in top)
    services = tuple(str(s) for s in (data.get("welcome") or {}).get("services") or ())
    scenes = {str(k): str(v) for k, v in (data.get("scenes") or {}).items()}
    return Menu(buttons, actions, services, scenes)


class MenuPublisher(Protocol):
    async def create_menu(self, menu: dict[str, Any]) -> None: ...


async def push_menu(client: MenuPublisher, path: Path = DEFAULT_MENU_PATH) -> dict[str, Any]:
    """Publish the menu in `path`; returns what was sent."""
    payload = load_menu(path).wechat_json()
    await client.create_menu(payload)
    return payload


def publish_menu(
    appid: str, secret: str, api_base: str, path: Path | None = None
) -> dict[str, Any]:
    """`python -m bot wechat menu push`: validate the YAML, then publish it (blocking)."""
    menu_path = path or DEFAULT_MENU_PATH
    load_menu(menu_path)  # refuse a bad file before asking WeChat for a token

    async def push() -> dict[str, Any]:
        client = WechatApiClient(appid, secret, base_url=api_base)
        try:
            return await push_menu(client, menu_path)
        finally:
            await client.aclose()

    return asyncio.run(push())


def _button(spec: Any, actions: dict[str, MenuAction], top_level: bool) -> dict[str, Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise MenuError(f"each button needs a name: {spec!r}")
    name = spec["name"]
    _limit(name, NAME_BYTES[top_level], f"name {name!r}")
    subs = spec.get("sub_buttons")
    if subs is not None:
        if not top_level or not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
            raise MenuError(f"{name}: sub_buttons must be a list of 1-{MAX_SUB}, one level deep")
        return {"name": name, "sub_button": [_button(s, actions, top_level=False) for s in subs]}
    if "url" in spec:
        _limit(str(spec["url"]), URL_BYTES, f"{name}: url")
        return {"type": "view", "name": name, "url": str(spec["url"])}
    return _click(name, spec, actions)


def _click(name: str, spec: dict[str, Any], actions: dict[str, MenuAction]) -> dict[str, Any]:
    key = spec.get("key")
    if not isinstance(key, str) or not key:
        raise MenuError(f"{name}: a button needs a key, a url or sub_buttons")
    _limit(key, KEY_BYTES, f"{name}: key")
    kinds = [kind for kind in ACTION_KINDS if kind in spec]
    if len(kinds) != 1 or key in actions:
        raise MenuError(f"{name}: key {key!r} needs exactly one of {ACTION_KINDS}, once")
    value = str(spec[kinds[0]]).strip()
    if kinds[0] == "intent" and value not in INTENT_UTTERANCES:
        raise MenuError(f"{name}: unknown intent {value!r}")
    actions[key] = MenuAction(kinds[0], value)
    return {"type": "click", "name": name, "key": key}


def _limit(value: str, limit: int, what: str) -> None:
    if not value or len(value.encode("utf-8")) > limit:
        raise MenuError(f"{what} must be 1-{limit} bytes")
