"""Render the bot's channel-neutral replies as WeChat text (at most 2048 bytes each).

An answer that does not fit is cut at a line and ends with a way to ask for the rest
that the dialogue understands: the follow-up words of the cut guide sections ("材料",
"流程"), or "详情" for the whole entry, or the source link.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from wechatpy.replies import TextReply

from bot.channels import texts
from bot.channels.wechat_inbound import WechatInbound
from bot.messages import Reply

MAX_TEXT_BYTES = 2048  # WeChat's limit for a text message's Content, in UTF-8 bytes
MAX_LINKS = 5
# Section labels of a guide answer -> the follow-up word that asks for that section.
SECTION_WORDS = {
    "申请材料": "材料", "办理流程": "流程", "办理地点": "地点", "在线办理": "网上办理",
    "办理对象和条件": "条件", "办理时限": "多久", "收费标准": "收费", "咨询电话": "电话",
    "设定依据": "依据",
}


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def cut_to_bytes(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-8 bytes (never half a character)."""
    return text.encode("utf-8")[: max(limit, 0)].decode("utf-8", errors="ignore")


def anchor(title: str, url: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(title, quote=False)}</a>'


def render_reply(reply: Reply, limit: int = MAX_TEXT_BYTES) -> str:
    """One WeChat text for one reply: text, numbered choices, links and sources."""
    parts = (_cdata_safe(reply.text.strip()), _cdata_safe(_choices(reply)))
    body = "\n".join(part for part in parts if part)
    tail = _tail(reply)
    if size(tail) > limit // 2:
        tail = ""
    full = "\n\n".join(part for part in (body, tail) if part)
    if size(full) <= limit:
        return full
    budget = limit - (size(tail) + 2 if tail else 0)
    return "\n\n".join(p for p in (_shorten(reply, body, budget), tail) if p)


def render_replies(replies: Sequence[Reply], limit: int = MAX_TEXT_BYTES) -> list[str]:
    return pack([render_reply(reply, limit) for reply in replies], limit)


def pack(parts: Sequence[str], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Join consecutive texts into as few messages as fit, each within `limit` bytes."""
    messages: list[str] = []
    for part in (p for p in parts if p):
        part = part if size(part) <= limit else cut_to_bytes(part, limit)
        if messages and size(messages[-1]) + 2 + size(part) <= limit:
            messages[-1] = f"{messages[-1]}\n\n{part}"
        else:
            messages.append(part)
    return messages


def passive_reply(inbound: WechatInbound, text: str, now: float | None = None) -> str:
    """The passive (synchronous) text reply XML for `inbound`, rendered by wechatpy."""
    reply = TextReply(
        source=inbound.account, target=inbound.openid, content=text, time=int(now or time.time())
    )
    return str(reply.render())


def _choices(reply: Reply) -> str:
    titles = [choice.title for choice in reply.choices]
    if not titles or all(title in reply.text for title in titles):
        return ""  # the bot already listed them, numbered
    lines = [f"{n}. {title}" for n, title in enumerate(titles, 1)]
    return "\n".join([texts.CHOICES_HEAD, *lines])


def _tail(reply: Reply) -> str:
    seen: set[str] = set()
    links = []
    for link in reply.links[:MAX_LINKS]:
        if link.url not in seen:
            seen.add(link.url)
            links.append(anchor(link.title, link.url))
    sources = []
    for citation in reply.citations[:MAX_LINKS]:
        if citation.url and citation.url not in seen:
            seen.add(citation.url)
            sources.append(anchor(citation.title, citation.url))
        elif not citation.url:
            sources.append(f"《{citation.title}》")
    lines = [texts.LINKS_HEAD + " ".join(links)] if links else []
    if sources:
        lines.append(texts.SOURCE + "；".join(sources))
    return "\n".join(lines)


def _shorten(reply: Reply, body: str, budget: int) -> str:
    longest_hint = max(size(h) for h in _hints(reply, list(SECTION_WORDS)))
    kept, cut_labels = _keep_lines(body.split("\n"), budget - longest_hint)
    return kept + _hints(reply, cut_labels)[0]


def _keep_lines(lines: list[str], budget: int) -> tuple[str, list[str]]:
    """Whole lines that fit in `budget` bytes, and the section labels that were cut."""
    kept: list[str] = []
    used, label = 0, None
    for index, line in enumerate(lines):
        cost = size(line) + (1 if kept else 0)
        if used + cost > budget:
            if not kept:  # one enormous first line: cut inside it
                kept.append(cut_to_bytes(line, budget))
            later = [_label(x) for x in lines[index:]]
            cut = ([label] if label and _label(line) is None else []) + later
            if len(kept) > 1 and _label(kept[-1]):  # no heading left without its content
                cut.insert(0, _label(kept.pop()))
            return "\n".join(kept), [x for x in cut if x]
        kept.append(line)
        used += cost
        label = _label(line) or label
    return "\n".join(kept), []


def _label(line: str) -> str | None:
    head = line.strip().removesuffix("：")
    return head if line.strip().endswith("：") and head in SECTION_WORDS else None


def _hints(reply: Reply, cut_labels: list[str]) -> list[str]:
    """Continuation lines, best first; all are candidates when sizing the budget."""
    words = [SECTION_WORDS[x] for x in dict.fromkeys(cut_labels) if x in SECTION_WORDS]
    hints = []
    if reply.card is not None and words:
        hints.append(texts.CONTINUE_FIELDS.format(words="".join(f"“{w}”" for w in words)))
    if reply.card is not None:
        hints.append(texts.CONTINUE_DETAILS)
    url = next((c.url for c in reply.citations if c.url), None)
    if url:
        hints.append(texts.CONTINUE_LINK.format(link=anchor("查看原文", url)))
    hints.append(texts.CONTINUE_PLAIN)
    return hints


def _cdata_safe(text: str) -> str:
    # wechatpy puts Content in CDATA without escaping; "]]>" would end it early.
    return text.replace("]]>", "]] >")
