from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.sparse import Bm25Index
from retrieval.tokenize import ChineseTokenizer
from tests.retrieval.faq_fixture import FAQ_ROWS


@pytest.fixture
def bm25(tokenizer: ChineseTokenizer) -> Bm25Index:
    index = Bm25Index(tokenizer.terms)
    for entry_id, title, text, questions in FAQ_ROWS:
        index.add(entry_id, {"title": title, "questions": questions, "body": text})
    return index


def test_finds_by_title_questions_and_body(bm25: Bm25Index) -> None:
    assert bm25.search("公积金提取", k=1)[0][0] == "hf-withdraw"
    assert bm25.search("驾照丢了", k=1)[0][0] == "dl-lost"  # 驾照 folds to 驾驶证
    assert bm25.search("厨余垃圾", k=1)[0][0] == "garbage"  # only in the body


def test_title_field_outweighs_body(tokenizer: ChineseTokenizer) -> None:
    index = Bm25Index(tokenizer.terms, {"title": 3.0, "body": 1.0})
    index.add("in-title", {"title": "护照办理", "body": "出入境窗口受理"})
    index.add("in-body", {"title": "港澳通行证", "body": "护照办理也可在这里咨询"})
    for n in range(20):
        index.add(f"filler-{n}", {"title": f"事项{n}", "body": "其他事项说明"})
    assert [doc for doc, _ in index.search("护照办理", k=2)] == ["in-title", "in-body"]


def test_incremental_add_and_remove(bm25: Bm25Index) -> None:
    bm25.add("new", {"title": "电动自行车上牌", "body": "电动自行车需登记上牌后上路"})
    assert bm25.search("电动自行车上牌", k=1)[0][0] == "new"
    assert bm25.remove("new") and not bm25.remove("new")
    assert all(doc != "new" for doc, _ in bm25.search("电动自行车上牌"))
    bm25.add("hf-withdraw", {"title": "退役军人优待证", "body": "优待证申领"})
    assert bm25.search("优待证", k=1)[0][0] == "hf-withdraw"
    assert all(doc != "hf-withdraw" for doc, _ in bm25.search("公积金提取", k=3))


def test_save_and_load_keep_scores(bm25: Bm25Index, tokenizer: ChineseTokenizer,
                                   tmp_path: Path) -> None:
    bm25.save(tmp_path / "sparse.npz")
    loaded = Bm25Index(tokenizer.terms)
    loaded.load(tmp_path / "sparse.npz")
    assert loaded.search("社保卡丢了", k=3) == bm25.search("社保卡丢了", k=3)
    assert len(loaded) == len(bm25)


def test_unknown_field_is_rejected(tokenizer: ChineseTokenizer) -> None:
    with pytest.raises(ValueError):
        Bm25Index(tokenizer.terms, {"summary": 1.0})
