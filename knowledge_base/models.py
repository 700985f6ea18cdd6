"""Knowledge-base entry schema: service guides, policy explainers and FAQs.

One `Entry` shape for all three kinds keeps import, export, search and the HTTP API
uniform; kind-specific fields live in `guide` or `policy`. The same models validate
import rows, YAML content files and HTTP bodies.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENTRY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_ID_RE = re.compile(ENTRY_ID_PATTERN)

ShortText = Annotated[str, Field(min_length=1, max_length=500)]


class EntryKind(StrEnum):
    GUIDE = "guide"  # 办事指南
    POLICY = "policy"  # 政策解读
    FAQ = "faq"  # 常见问题


class EntryStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PolicyValidity(StrEnum):
    IN_FORCE = "in_force"  # 现行有效
    AMENDED = "amended"  # 已修订
    REPEALED = "repealed"  # 已废止


VALIDITY_LABELS = {
    PolicyValidity.IN_FORCE: "现行有效",
    PolicyValidity.AMENDED: "已修订",
    PolicyValidity.REPEALED: "已废止",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Material(_Model):
    """One item of 申请材料."""

    name: ShortText
    original: int | None = Field(default=None, ge=0, le=20)  # 原件份数
    copies: int | None = Field(default=None, ge=0, le=20)  # 复印件份数
    note: str | None = None

    def describe(self) -> str:
        parts = [self.name]
        counts = []
        if self.original:
            counts.append(f"原件{self.original}份")
        if self.copies:
            counts.append(f"复印件{self.copies}份")
        if counts:
            parts.append("（" + "、".join(counts) + "）")
        if self.note:
            parts.append(f"，{self.note}")
        return "".join(parts)


class Location(_Model):
    """办理地点 with its opening hours."""

    name: ShortText
    address: str | None = None
    hours: str | None = None


class QAPair(_Model):
    question: ShortText
    answer: str = Field(min_length=1)


class GuideDetails(_Model):
    """Fields of a 办事指南."""

    eligibility: str | None = None  # 办理对象/条件
    materials: list[Material] = Field(default_factory=list)  # 申请材料
    steps: list[str] = Field(default_factory=list)  # 办理流程
    time_limit: str | None = None  # 办理时限
    fee: str | None = None  # 收费标准
    locations: list[Location] = Field(default_factory=list)  # 办理地点
    phone: str | None = None  # 咨询电话
    online_url: str | None = None  # 在线办理
    legal_basis: str | None = None  # 设定依据


class PolicyDetails(_Model):
    """Fields of a 政策解读."""

    issuer: str | None = None  # 发文机关
    doc_number: str | None = None  # 文号
    published_on: dt.date | None = None  # 发布日期
    effective_on: dt.date | None = None  # 施行日期
    expires_on: dt.date | None = None  # 失效日期
    validity: PolicyValidity = PolicyValidity.IN_FORCE  # 状态
    replaced_by: str | None = None  # entry id of what replaced it
    key_points: list[QAPair] = Field(default_factory=list)  # 要点问答
    original_url: str | None = None  # 原文链接

    def is_current(self, today: dt.date) -> bool:
        """True when this policy may be presented as in force on `today`."""
        if self.validity is not PolicyValidity.IN_FORCE:
            return False
        return self.expires_on is None or self.expires_on >= today


class EntryBase(_Model):
    """Fields an editor sets; shared by create, update and public views."""

    kind: EntryKind = EntryKind.FAQ
    title: str = Field(min_length=1, max_length=2000)
    text: str = Field(default="", max_length=50_000)  # FAQ answer / guide overview / policy 摘要
    questions: list[str] = Field(default_factory=list)  # 相似问
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    department: str | None = None
    region: str | None = None
    status: EntryStatus = EntryStatus.PUBLISHED
    source_url: str | None = None
    guide: GuideDetails | None = None
    policy: PolicyDetails | None = None

    @field_validator("questions", "keywords", "tags")
    @classmethod
    def _clean_list(cls, values: list[str]) -> list[str]:
        seen: list[str] = []
        for value in values:
            value = str(value).strip()
            if value and value not in seen:
                seen.append(value)
        return seen

    @model_validator(mode="after")
    def _details_match_kind(self) -> EntryBase:
        if self.guide is not None and self.kind is not EntryKind.GUIDE:
            raise ValueError("guide details are only allowed on kind 'guide'")
        if self.policy is not None and self.kind is not EntryKind.POLICY:
            raise ValueError("policy details are only allowed on kind 'policy'")
        return self


class EntryCreate(EntryBase):
    id: str = Field(pattern=ENTRY_ID_PATTERN)


class EntryUpdate(_Model):
    """A partial update: only the fields present change."""

    kind: EntryKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=2000)
    text: str | None = Field(default=None, max_length=50_000)
    questions: list[str] | None = None
    keywords: list[str] | None = None
    tags: list[str] | None = None
    department: str | None = None
    region: str | None = None
    status: EntryStatus | None = None
    source_url: str | None = None
    guide: GuideDetails | None = None
    policy: PolicyDetails | None = None


class Entry(EntryCreate):
    """An entry as stored and served."""

    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    version: int = 1

    def is_current_policy(self, today: dt.date) -> bool:
        return self.policy is None or self.policy.is_current(today)


class Revision(_Model):
    """One saved state of an entry: who changed it, when, and to what."""

    entry_id: str
    version: int
    author: str
    action: str  # create / update / delete / restore / import
    created_at: dt.datetime
    snapshot: dict[str, object] | None  # EntryCreate JSON; None after a delete


def is_valid_entry_id(value: str) -> bool:
    return bool(_ID_RE.match(value))
