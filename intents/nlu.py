"""Read Rasa 3.x NLU YAML (`nlu:` items of `intent` + `examples` block) into examples."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from intents.errors import NluFormatError

SUPPORTED_VERSION = "3.1"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


@dataclass(frozen=True)
class NluData:
    examples: tuple[Example, ...]
    sha256: str  # of the file's bytes: the model is retrained when it changes

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(sorted({example.intent for example in self.examples}))


def load_nlu(path: Path) -> NluData:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NluFormatError(f"cannot read {path}: {exc}") from exc
    return parse_nlu(raw.decode("utf-8"), hashlib.sha256(raw).hexdigest())


def parse_nlu(text: str, sha256: str = "") -> NluData:
    document = _load_yaml(text)
    if str(document.get("version")) != SUPPORTED_VERSION:
        raise NluFormatError(f'expected version: "{SUPPORTED_VERSION}"')
    items = document.get("nlu")
    if not isinstance(items, list):
        raise NluFormatError("expected a list under `nlu:`")
    examples = [example for item in items for example in _item_examples(item)]
    return NluData(tuple(examples), sha256)


def parse_example_block(block: str) -> list[str]:
    """Lines of a Rasa `examples: |` block, each `- text`; blank lines are skipped."""
    texts = []
    for line in block.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("- ") or not stripped[2:].strip():
            raise NluFormatError(f"example line must be '- text': {line!r}")
        texts.append(stripped[2:].strip())
    return texts


def _load_yaml(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NluFormatError(f"invalid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise NluFormatError("expected a mapping with `version` and `nlu`")
    return document


def _item_examples(item: Any) -> list[Example]:
    if not isinstance(item, dict) or "intent" not in item:
        return []  # synonym, regex and lookup items carry no intent examples
    intent, block = item.get("intent"), item.get("examples")
    if not isinstance(intent, str) or not intent or not isinstance(block, str):
        raise NluFormatError(f"intent item needs a name and an examples block: {item!r}")
    return [Example(text, intent) for text in parse_example_block(block)]
