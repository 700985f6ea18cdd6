"""intents/data/nlu.yml is Rasa 3.x NLU training data that Rasa can load unchanged."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from intents.errors import NluFormatError
from intents.nlu import load_nlu, parse_nlu
from intents.text import normalize_text

ROOT = Path(__file__).resolve().parents[2]
NLU_PATH = ROOT / "intents" / "data" / "nlu.yml"
DEMO_PATH = ROOT / "evalsets" / "demo_intents.jsonl"
INTENTS = {
    "greet", "goodbye", "thanks", "affirm", "deny", "ask_service_guide", "ask_policy",
    "complaint_suggestion", "request_human", "chitchat", "out_of_scope",
}
# Rasa reads "[text](entity)" and "[text]{...}" inside examples as entity annotations.
ENTITY_MARKUP = re.compile(r"\[[^\]]*\][({]")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = yaml.safe_load(NLU_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def example_lines(block: str) -> list[str]:
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_top_level_is_rasa_3_nlu(document: dict[str, Any]) -> None:
    assert document["version"] == "3.1"  # a string: Rasa rejects the float 3.1
    assert set(document) == {"version", "nlu"}
    assert isinstance(document["nlu"], list)


def test_every_item_is_an_intent_with_an_examples_block(document: dict[str, Any]) -> None:
    for item in document["nlu"]:
        assert set(item) == {"intent", "examples"}, item
        assert isinstance(item["intent"], str)
        assert isinstance(item["examples"], str)
        for line in example_lines(item["examples"]):
            assert line.startswith("- ") and line[2:].strip(), line
            assert not ENTITY_MARKUP.search(line), line


def test_the_intents_are_exactly_the_routers(document: dict[str, Any]) -> None:
    names = [item["intent"] for item in document["nlu"]]
    assert len(names) == len(set(names))
    assert set(names) == INTENTS


def test_at_least_40_examples_per_intent() -> None:
    counts = Counter(example.intent for example in load_nlu(NLU_PATH).examples)
    assert min(counts.values()) >= 40, counts


def test_no_example_appears_twice() -> None:
    seen: dict[str, str] = {}
    for example in load_nlu(NLU_PATH).examples:
        key = normalize_text(example.text)
        assert key not in seen, f"{example.text!r} in {seen.get(key)} and {example.intent}"
        seen[key] = example.intent


def test_demo_set_is_held_out_from_training() -> None:
    trained = {normalize_text(example.text) for example in load_nlu(NLU_PATH).examples}
    rows = [json.loads(line) for line in DEMO_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 150  # 150 written with the model, more added since
    assert {row["intent"] for row in rows} == INTENTS
    assert len({row["id"] for row in rows}) == len(rows)
    assert not [row["text"] for row in rows if normalize_text(row["text"]) in trained]


def test_loader_reads_what_yaml_reads(document: dict[str, Any]) -> None:
    data = load_nlu(NLU_PATH)
    expected = sum(len(example_lines(item["examples"])) for item in document["nlu"])
    assert len(data.examples) == expected
    assert len(data.sha256) == 64


@pytest.mark.parametrize(
    "text",
    [
        'version: "2.0"\nnlu: []\n',
        'version: "3.1"\nnlu: {}\n',
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    你好\n',
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: [你好]\n',
        "version: [unclosed\n",
    ],
)
def test_loader_rejects_malformed_files(text: str) -> None:
    with pytest.raises(NluFormatError):
        parse_nlu(text)
