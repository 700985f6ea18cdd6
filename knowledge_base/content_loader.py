"""Load the bundled knowledge-base content from YAML files.

Each `*.yaml` (or `*.yml`) file in a content directory holds one domain: a YAML list
whose items are entry mappings that validate as `EntryCreate`. Files are read in name
order and entries keep their order inside a file, so the result is deterministic.

Invalid content fails loudly with `ContentError`, whose message names the file and the
zero-based index (and the id, when there is one) of the offending entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge_base.models import EntryCreate

# One tag from this tuple marks the domain (办事领域) of every bundled entry.
DOMAIN_TAGS: tuple[str, ...] = (
    "户籍证件",  # 户籍/身份证/居住证
    "社保医保",
    "住房公积金",
    "不动产登记",
    "婚姻生育",
    "出入境",
    "驾驶证机动车",
    "市场主体",  # 营业执照/市场主体
    "就业人才",
    "入学",
    "养老救助助残",  # 养老/低保/残疾人
    "纳税",
)

CONTENT_SUFFIXES = (".yaml", ".yml")


class ContentError(ValueError):
    """Raised when a content file cannot be parsed or an entry does not validate."""


def _describe(path: Path, index: int, raw: Any) -> str:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    where = f"{path.name} entry #{index}"
    if entry_id:
        where += f" (id={entry_id!r})"
    return where


def load_content_file(path: str | Path) -> list[EntryCreate]:
    """Parse one YAML content file into validated entries."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path.name}: invalid YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise ContentError(
            f"{path.name}: expected a YAML list of entries, got {type(data).__name__}"
        )

    entries: list[EntryCreate] = []
    for index, raw in enumerate(data):
        where = _describe(path, index, raw)
        if not isinstance(raw, dict):
            raise ContentError(f"{where}: expected a mapping, got {type(raw).__name__}")
        try:
            entries.append(EntryCreate.model_validate(raw))
        except ValidationError as exc:
            raise ContentError(f"{where}: {exc}") from exc
    return entries


def load_content_dir(path: str | Path) -> list[EntryCreate]:
    """Load and validate every YAML content file in `path` (not recursive)."""
    directory = Path(path)
    if not directory.is_dir():
        raise ContentError(f"content directory not found: {directory}")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in CONTENT_SUFFIXES)
    entries: list[EntryCreate] = []
    for file in files:
        entries.extend(load_content_file(file))
    return entries
