"""KnowledgeIndex plumbing with the hashing embedder: builds, edits, persistence, threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from knowledge_base.models import Entry, EntryKind, EntryStatus
from retrieval.errors import IndexMismatch, IndexNotBuilt
from retrieval.indexer import BuildProgress, KnowledgeIndex
from retrieval.tokenize import ChineseTokenizer
from tests.retrieval.conftest import HashEmbedder
from tests.retrieval.faq_fixture import draft_entry, faq_entries


def make_index(path: Path, embedder: HashEmbedder, tokenizer: ChineseTokenizer,
               **options: object) -> KnowledgeIndex:
    return KnowledgeIndex(path, embedder=embedder, tokenizer=tokenizer, **options)  # type: ignore[arg-type]


def top(index: KnowledgeIndex, query: str) -> str:
    return index.retriever.search(query, k=3).hits[0].entry_id


@pytest.fixture
def index(tmp_path: Path, hash_embedder: HashEmbedder, tokenizer: ChineseTokenizer) -> KnowledgeIndex:
    built = make_index(tmp_path, hash_embedder, tokenizer)
    built.build(faq_entries() + [draft_entry()])
    return built


def test_search_before_build_raises(tmp_path: Path, hash_embedder: HashEmbedder,
                                    tokenizer: ChineseTokenizer) -> None:
    with pytest.raises(IndexNotBuilt):
        make_index(tmp_path, hash_embedder, tokenizer).retriever.search("公积金")
    with pytest.raises(IndexNotBuilt):
        make_index(tmp_path, hash_embedder, tokenizer).load()


def test_build_indexes_published_entries_only(index: KnowledgeIndex) -> None:
    assert len(index) == len(faq_entries())
    assert "draft-only" not in index.retriever.catalog
    assert top(index, "住房公积金提取") == "hf-withdraw"


def test_build_reports_progress(tmp_path: Path, hash_embedder: HashEmbedder,
                                tokenizer: ChineseTokenizer) -> None:
    seen: list[BuildProgress] = []
    make_index(tmp_path, hash_embedder, tokenizer, batch_entries=5).build(faq_entries(), seen.append)
    assert [p.done for p in seen] == [5, 10, 15, 20, 24]
    assert seen[-1].total == 24 and seen[-1].rate > 0 and "24 entries" in str(seen[-1])


def test_upsert_and_remove_are_visible_at_once(index: KnowledgeIndex) -> None:
    new = Entry(id="ebike", title="电动自行车登记上牌", text="电动自行车上路前应登记并悬挂号牌。")
    assert index.upsert(new)
    assert top(index, "电动自行车登记上牌") == "ebike"
    index.upsert(new.model_copy(update={"title": "电动自行车号牌补领"}))
    hit = index.retriever.search("电动自行车号牌补领").hits[0]
    assert (hit.entry_id, hit.title) == ("ebike", "电动自行车号牌补领")
    assert index.remove("ebike") and not index.remove("ebike")
    assert all(h.entry_id != "ebike" for h in index.retriever.search("电动自行车号牌补领").hits)
    archived = faq_entries()[0].model_copy(update={"status": EntryStatus.ARCHIVED})
    assert not index.upsert(archived)
    assert "hf-withdraw" not in index.retriever.catalog


def test_a_matters_guides_follow_edits_and_reloads(index: KnowledgeIndex, tmp_path: Path,
                                                    tokenizer: ChineseTokenizer) -> None:
    """`guides_about` looks through the service guides only, kept beside the entries."""
    guide = Entry(id="ebike-reg", title="电动自行车登记上牌", text="到登记点办理。",
                  kind=EntryKind.GUIDE, keywords=["电动车"])
    assert index.retriever.guides_about(["电动车"]) == []  # the FAQs that mention it are not guides
    index.upsert(guide)
    index.upsert(guide.model_copy(update={"id": "ebike-plate", "title": "电动自行车号牌补领",
                                          "keywords": []}))
    assert index.retriever.guides_about(["电动车"]) == [("ebike-reg", "电动自行车登记上牌")]
    assert [i for i, _ in index.retriever.guides_about(["电动自行车"])] == ["ebike-reg", "ebike-plate"]
    index.upsert(guide.model_copy(update={"kind": EntryKind.FAQ}))  # no longer a guide
    assert index.retriever.guides_about(["电动车"]) == []
    index.upsert(guide)
    index.remove("ebike-plate")
    assert index.retriever.guides_about(["电动自行车"]) == [("ebike-reg", "电动自行车登记上牌")]
    index.save()
    fresh = make_index(tmp_path, HashEmbedder(), tokenizer)
    fresh.load()
    assert fresh.retriever.guides_about(["电动自行车"]) == [("ebike-reg", "电动自行车登记上牌")]


def test_second_build_embeds_nothing(index: KnowledgeIndex, hash_embedder: HashEmbedder) -> None:
    before = len(hash_embedder.embedded)
    report = index.build(faq_entries())
    assert report.embedded == 0 and len(hash_embedder.embedded) == before


def test_sync_embeds_only_changed_text(index: KnowledgeIndex, hash_embedder: HashEmbedder) -> None:
    entries = faq_entries()
    entries[3] = entries[3].model_copy(update={"text": "身份证补领现在可以全城通办。"})
    del entries[5]
    entries.append(Entry(id="new-one", title="新增的办事指南", text="新增内容说明"))
    before = len(hash_embedder.embedded)
    report = index.sync(entries)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 22)
    assert sorted(hash_embedder.embedded[before:]) == sorted(
        ["居民身份证丢失补领\n身份证补领现在可以全城通办。", "新增的办事指南", "新增的办事指南\n新增内容说明"])
    assert index.sync(entries).embedded == 0


def test_reload_from_disk(index: KnowledgeIndex, tmp_path: Path, tokenizer: ChineseTokenizer) -> None:
    fresh = make_index(tmp_path, HashEmbedder(), tokenizer)
    fresh.load()
    assert len(fresh) == len(index)
    assert top(fresh, "社保卡丢了怎么补") == top(index, "社保卡丢了怎么补")


def test_model_change_means_rebuild(index: KnowledgeIndex, tmp_path: Path,
                                    tokenizer: ChineseTokenizer) -> None:
    other = HashEmbedder(dim=32, model_id="test/other-model")
    changed = make_index(tmp_path, other, tokenizer)
    with pytest.raises(IndexMismatch):
        changed.load()
    report = changed.load_or_build(faq_entries())
    assert report.added == 24 and report.embedded > 0
    assert top(changed, "住房公积金提取") == "hf-withdraw"


def test_tokenizer_change_retokenises_without_embedding(index: KnowledgeIndex, tmp_path: Path) -> None:
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("公积金 房补\n", "utf-8")
    embedder = HashEmbedder()
    changed = make_index(tmp_path, embedder, ChineseTokenizer(synonyms=synonyms))
    changed.load()
    assert embedder.embedded == []
    assert changed.retriever.sparse.search("房补提取", k=1)[0][0] == "hf-withdraw"


def test_searches_keep_working_during_edits(index: KnowledgeIndex) -> None:
    stop = threading.Event()

    def search_loop() -> int:
        done = 0
        while not stop.is_set():
            assert index.retriever.search("住房公积金提取").hits
            index.retriever.cache.clear()
            done += 1
        return done

    with ThreadPoolExecutor(3) as pool:
        loops = [pool.submit(search_loop) for _ in range(3)]
        for n in range(15):
            index.upsert(Entry(id=f"temp-{n % 4}", title=f"临时事项{n}", text="临时内容"))
            if n % 3 == 0:
                index.remove(f"temp-{(n + 1) % 4}")
        stop.set()
        assert all(loop.result() > 0 for loop in loops)  # re-raises a search's error
    assert top(index, "住房公积金提取") == "hf-withdraw"


def test_hnsw_index_supports_the_same_edits(tmp_path: Path, hash_embedder: HashEmbedder,
                                            tokenizer: ChineseTokenizer) -> None:
    index = make_index(tmp_path, hash_embedder, tokenizer, dense_kind="hnsw")
    index.build(faq_entries())
    assert index.retriever.dense.kind == "hnsw"
    index.upsert(Entry(id="ebike", title="电动自行车登记上牌", text="上路前应登记。"))
    index.remove("hf-withdraw")
    reloaded = make_index(tmp_path, HashEmbedder(), tokenizer, dense_kind="hnsw")
    reloaded.load()
    assert top(reloaded, "电动自行车登记上牌") == "ebike"
    assert "hf-withdraw" not in {h.entry_id for h in reloaded.retriever.search("住房公积金提取").hits}


def test_the_served_updater_makes_an_edit_searchable_then_saves_it(
    tmp_path: Path, hash_embedder: HashEmbedder, tokenizer: ChineseTokenizer
) -> None:
    from server import IndexUpdater

    index = make_index(tmp_path, hash_embedder, tokenizer)
    index.build(faq_entries())
    updater = IndexUpdater(index)
    updater.on_change("create", "ebike", Entry(id="ebike", title="电动自行车登记上牌", text="上路前应登记。"))
    deadline = time.monotonic() + 10
    while top(index, "电动自行车登记上牌") != "ebike":
        assert time.monotonic() < deadline, "the edit never became searchable"
        time.sleep(0.01)
    updater.on_change("delete", "hf-withdraw", None)
    updater.close()  # drains the queue; the index files are written by then
    reloaded = make_index(tmp_path, HashEmbedder(), tokenizer)
    reloaded.load()
    assert top(reloaded, "电动自行车登记上牌") == "ebike"
    assert "hf-withdraw" not in reloaded.retriever.catalog
