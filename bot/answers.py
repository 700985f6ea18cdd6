"""Compose answers from knowledge-base entries: guide cards, policy answers, FAQs.

A guide answer leads with what citizens need most (materials, steps, where, online link)
and offers the rest as follow-ups. A policy that is no longer in force is never
presented as current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot import texts
from bot.messages import Card, CardField, Choice, Citation, Link, Reply
from knowledge_base.models import VALIDITY_LABELS, Entry, EntryKind, GuideDetails, PolicyDetails

FAQ_PREVIEW_CHARS = 600


def citation_for(entry: Entry) -> Citation:
    url = entry.source_url
    if url is None and entry.guide is not None:
        url = entry.guide.online_url
    if url is None and entry.policy is not None:
        url = entry.policy.original_url
    return Citation(entry_id=entry.id, title=entry.title, url=url)


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def _locations(guide: GuideDetails) -> str:
    parts = []
    for loc in guide.locations:
        line = loc.name + (f"（{loc.address}）" if loc.address else "")
        parts.append(line + (f"，办公时间：{loc.hours}" if loc.hours else ""))
    return "；".join(parts)


def guide_fields(guide: GuideDetails) -> dict[str, tuple[str, str]]:
    """Field key -> (label, text) for every filled field of a guide."""
    values = {
        "materials": ("申请材料", _numbered([m.describe() for m in guide.materials])),
        "steps": ("办理流程", _numbered(guide.steps)),
        "location": ("办理地点", _locations(guide)),
        "online": ("在线办理", guide.online_url or ""),
        "eligibility": ("办理对象和条件", guide.eligibility or ""),
        "time_limit": ("办理时限", guide.time_limit or ""),
        "fee": ("收费标准", guide.fee or ""),
        "phone": ("咨询电话", guide.phone or ""),
        "basis": ("设定依据", guide.legal_basis or ""),
    }
    return {key: pair for key, pair in values.items() if pair[1]}


PRIMARY_GUIDE_FIELDS = ("materials", "steps", "location", "online")


def _date(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def policy_fields(policy: PolicyDetails) -> dict[str, tuple[str, str]]:
    values = {
        "issuer": ("发文机关", policy.issuer or ""),
        "doc_number": ("文号", policy.doc_number or ""),
        "published_on": ("发布日期", _date(policy.published_on)),
        "effective_on": ("施行日期", _date(policy.effective_on)),
        "expires_on": ("失效日期", _date(policy.expires_on)),
        "validity": ("状态", VALIDITY_LABELS[policy.validity]),
        "original": ("原文链接", policy.original_url or ""),
    }
    return {key: pair for key, pair in values.items() if pair[1]}


def validity_warning(entry: Entry, today: dt.date, replacement: Entry | None) -> str:
    """Empty when the entry may be presented as current; else a plain warning."""
    policy = entry.policy
    if policy is None or policy.is_current(today):
        return ""
    if policy.validity.value == "in_force":
        warning = f"请注意：该政策已于{_date(policy.expires_on)}到期失效，目前不再执行。"
    else:
        warning = f"请注意：该政策{VALIDITY_LABELS[policy.validity]}，以下内容不再作为现行规定。"
    if replacement is not None:
        warning += f"现行规定请看《{replacement.title}》，回复“看新政策”查看。"
    return warning


def compose_guide(entry: Entry, asked: str | None = None) -> Reply:
    """The guide's answer; `asked`, a detail the question named ("要多久"), comes first."""
    guide = entry.guide or GuideDetails()
    fields = guide_fields(guide)
    lead = asked if asked in fields and asked not in PRIMARY_GUIDE_FIELDS else None
    shown = (lead, *PRIMARY_GUIDE_FIELDS) if lead else PRIMARY_GUIDE_FIELDS
    lines = [f"【{entry.title}】"]
    if lead:
        lines.append(f"{fields[lead][0]}：{fields[lead][1]}")
    if entry.text:
        lines.append(entry.text)
    lines += [f"{fields[k][0]}：\n{fields[k][1]}" for k in PRIMARY_GUIDE_FIELDS if k in fields]
    rest = [fields[k][0] for k in fields if k not in shown]
    if rest:
        lines.append("您还可以问我：" + "、".join(rest) + "。")
    order = sorted(fields, key=lambda key: key != lead)  # the asked detail first, else as listed
    card = Card(
        title=entry.title,
        entry_id=entry.id,
        fields=tuple(
            CardField(fields[key][0], fields[key][1], primary=key in shown) for key in order
        ),
    )
    links = (Link("在线办理", guide.online_url),) if guide.online_url else ()
    return Reply("\n".join(lines), card=card, links=links, citations=(citation_for(entry),))


def _replacement_choice(warning: str, replacement: Entry | None) -> tuple[Choice, ...]:
    """The button to the policy in force, beside the warning that this one is not."""
    if not warning or replacement is None:
        return ()
    return (Choice(f"查看《{replacement.title}》", f"/entry {replacement.id}"),)


def compose_policy(entry: Entry, today: dt.date, replacement: Entry | None) -> Reply:
    policy = entry.policy or PolicyDetails()
    fields = policy_fields(policy)
    warning = validity_warning(entry, today, replacement)
    head = "，".join(fields[k][1] for k in ("issuer", "doc_number") if k in fields)
    lines = [f"【{entry.title}】" + (f"（{head}）" if head else "")]
    if warning:
        lines.append(warning)
    if entry.text:
        lines.append(entry.text)
    for point in policy.key_points[:3]:
        lines.append(f"问：{point.question}\n答：{point.answer}")
    dates = [f"{fields[k][0]}：{fields[k][1]}" for k in ("effective_on", "expires_on") if k in fields]
    if dates:
        lines.append("；".join(dates) + f"；状态：{fields['validity'][1]}")
    card = Card(
        title=entry.title,
        entry_id=entry.id,
        fields=tuple(CardField(label, text) for label, text in fields.values()),
    )
    choices = _replacement_choice(warning, replacement)
    reply = Reply("\n".join(lines), card=card, choices=choices, citations=(citation_for(entry),))
    return reply


def compose_faq(entry: Entry) -> Reply:
    text = entry.text or entry.title
    if len(text) > FAQ_PREVIEW_CHARS:
        text = text[:FAQ_PREVIEW_CHARS] + "……（回复“详情”查看全文）"
    return Reply(f"【{entry.title}】\n{text}", citations=(citation_for(entry),))


def compose_entry(
    entry: Entry, today: dt.date, replacement: Entry | None = None, asked: str | None = None
) -> Reply:
    if entry.kind is EntryKind.GUIDE:
        return compose_guide(entry, asked)
    if entry.kind is EntryKind.POLICY:
        return compose_policy(entry, today, replacement)
    return compose_faq(entry)


FieldLookup = Callable[[Entry], dict[str, tuple[str, str]]]


def compose_field(entry: Entry, key: str) -> Reply | None:
    """Answer a follow-up about one field of the entry, or None when it has no such field."""
    if key == "details":
        text = entry.text or entry.title
        return Reply(f"【{entry.title}】\n{text}", citations=(citation_for(entry),))
    fields: dict[str, tuple[str, str]] = {}
    if entry.guide is not None:
        fields = guide_fields(entry.guide)
    elif entry.policy is not None:
        fields = policy_fields(entry.policy)
    if key not in fields:
        return None
    label, text = fields[key]
    return Reply(f"【{entry.title}】{label}：\n{text}", citations=(citation_for(entry),))


def compose_again(
    entry: Entry, today: dt.date, replacement: Entry | None = None, asked: str | None = None
) -> Reply:
    """The entry the conversation has just answered, asked about again in other words ("一个
    月多少钱" after the 低保 guide): the whole guide is already on the citizen's screen, so the
    detail asked, else the gist (a policy's validity warning kept), and what else to ask."""
    if asked is not None:
        field = compose_field(entry, asked)
        if field is not None:
            return field
    if entry.kind is EntryKind.FAQ:
        return compose_faq(entry)
    warning = validity_warning(entry, today, replacement)
    hint = texts.AGAIN_GUIDE if entry.kind is EntryKind.GUIDE else texts.AGAIN_POLICY
    lines = [f"【{entry.title}】", *([warning] if warning else []), entry.text or "", hint]
    choices = _replacement_choice(warning, replacement)
    return Reply("\n".join(line for line in lines if line), choices=choices,
                 citations=(citation_for(entry),))

