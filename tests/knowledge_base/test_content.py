"""Checks on the bundled demo knowledge-base content (knowledge_base/content/*.yaml)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from knowledge_base.content_loader import (
    DOMAIN_TAGS,
    ContentError,
    load_content_dir,
    load_content_file,
)
from knowledge_base.models import EntryCreate, EntryKind, EntryStatus, PolicyValidity

CONTENT_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "content"
REFERENCE_DAY = dt.date(2026, 1, 1)
SITE = "https://zwfw.linjiang.gov.cn/"


@pytest.fixture(scope="module")
def entries() -> list[EntryCreate]:
    return load_content_dir(CONTENT_DIR)


@pytest.fixture(scope="module")
def by_id(entries: list[EntryCreate]) -> dict[str, EntryCreate]:
    return {entry.id: entry for entry in entries}


def _of_kind(entries: list[EntryCreate], kind: EntryKind) -> list[EntryCreate]:
    return [entry for entry in entries if entry.kind is kind]


def test_every_file_is_a_non_empty_list_of_valid_entries() -> None:
    files = sorted(CONTENT_DIR.glob("*.yaml"))
    assert len(files) >= len(DOMAIN_TAGS)
    for file in files:
        assert load_content_file(file), f"{file.name} has no entries"


def test_ids_are_unique_across_files() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for file in sorted(CONTENT_DIR.glob("*.yaml")):
        for entry in load_content_file(file):
            if entry.id in seen:
                duplicates.append(f"{entry.id} in {seen[entry.id]} and {file.name}")
            seen[entry.id] = file.name
    assert not duplicates


def test_ids_are_prefixed_with_their_kind(entries: list[EntryCreate]) -> None:
    wrong = [e.id for e in entries if not e.id.startswith(f"{e.kind.value}-")]
    assert not wrong


def test_counts_per_kind(entries: list[EntryCreate]) -> None:
    counts = Counter(entry.kind for entry in entries)
    assert counts[EntryKind.GUIDE] >= 60
    assert counts[EntryKind.POLICY] >= 30
    assert counts[EntryKind.FAQ] >= 40


def test_every_entry_is_published_with_enough_similar_questions(
    entries: list[EntryCreate],
) -> None:
    for entry in entries:
        assert entry.status is EntryStatus.PUBLISHED, entry.id
        assert entry.text, entry.id
        assert len(entry.questions) >= 3, entry.id
        assert entry.keywords, entry.id
        assert entry.department, entry.id
        assert entry.region, entry.id


def test_first_tag_is_the_domain_and_every_domain_is_covered(
    entries: list[EntryCreate],
) -> None:
    for entry in entries:
        assert entry.tags and entry.tags[0] in DOMAIN_TAGS, entry.id
    per_domain = Counter((entry.tags[0], entry.kind) for entry in entries)
    for domain in DOMAIN_TAGS:
        for kind in EntryKind:
            assert per_domain[(domain, kind)] >= 1, f"no {kind.value} in domain {domain}"


def test_guides_have_full_details(entries: list[EntryCreate]) -> None:
    for entry in _of_kind(entries, EntryKind.GUIDE):
        guide = entry.guide
        assert guide is not None, entry.id
        assert guide.eligibility, entry.id
        assert guide.materials, entry.id
        assert 3 <= len(guide.steps) <= 6, entry.id
        assert guide.time_limit and guide.fee, entry.id
        assert guide.locations and all(loc.hours for loc in guide.locations), entry.id
        assert guide.phone, entry.id
        assert guide.online_url and guide.online_url.startswith(SITE), entry.id
        assert guide.legal_basis, entry.id


def test_policies_have_full_details(entries: list[EntryCreate]) -> None:
    for entry in _of_kind(entries, EntryKind.POLICY):
        policy = entry.policy
        assert policy is not None, entry.id
        assert policy.issuer and policy.doc_number, entry.id
        assert policy.published_on and policy.effective_on, entry.id
        assert len(policy.key_points) >= 3, entry.id
        assert policy.original_url and policy.original_url.startswith(SITE), entry.id
        if policy.expires_on is not None:
            assert policy.expires_on > policy.effective_on, entry.id


def test_faqs_have_no_kind_details(entries: list[EntryCreate]) -> None:
    for entry in _of_kind(entries, EntryKind.FAQ):
        assert entry.guide is None and entry.policy is None, entry.id


def test_replaced_by_points_at_an_existing_current_policy(
    entries: list[EntryCreate], by_id: dict[str, EntryCreate]
) -> None:
    replaced = [e for e in _of_kind(entries, EntryKind.POLICY) if e.policy.replaced_by]
    for entry in replaced:
        target = by_id.get(entry.policy.replaced_by)
        assert target is not None, f"{entry.id} -> missing {entry.policy.replaced_by}"
        assert target.kind is EntryKind.POLICY, entry.id
        assert target.policy.is_current(REFERENCE_DAY), entry.id
    superseded = [
        e
        for e in _of_kind(entries, EntryKind.POLICY)
        if e.policy.validity in (PolicyValidity.AMENDED, PolicyValidity.REPEALED)
    ]
    assert len(superseded) >= 2
    assert all(e.policy.replaced_by for e in superseded)


def test_some_policies_are_not_current(entries: list[EntryCreate]) -> None:
    policies = _of_kind(entries, EntryKind.POLICY)
    not_current = [e for e in policies if not e.policy.is_current(REFERENCE_DAY)]
    assert len(not_current) >= 3
    expired_in_force = [
        e
        for e in not_current
        if e.policy.validity is PolicyValidity.IN_FORCE
        and e.policy.expires_on is not None
        and e.policy.expires_on < REFERENCE_DAY
    ]
    assert expired_in_force


def test_demo_guide_id_card_reissue(by_id: dict[str, EntryCreate]) -> None:
    entry = by_id["guide-id-card-reissue"]
    assert entry.kind is EntryKind.GUIDE
    assert "身份证" in entry.title
    guide = entry.guide
    assert len(guide.materials) >= 2
    assert any("户口" in m.name for m in guide.materials)
    assert "元" in guide.fee


def test_loader_names_file_and_index_on_invalid_entry(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "- id: faq-ok\n  kind: faq\n  title: 好的\n- id: faq-bad\n  kind: faq\n  title: ''\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match=r"bad\.yaml entry #1 \(id='faq-bad'\)"):
        load_content_dir(tmp_path)


def test_loader_rejects_broken_yaml_and_non_lists(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- id: x\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match="broken.yaml"):
        load_content_file(broken)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("id: x\n", encoding="utf-8")
    with pytest.raises(ContentError, match="mapping.yaml: expected a YAML list"):
        load_content_file(mapping)
    scalar_item = tmp_path / "scalar.yaml"
    scalar_item.write_text("- just a string\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"scalar\.yaml entry #0: expected a mapping"):
        load_content_file(scalar_item)
