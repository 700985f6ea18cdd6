"""Importing knowledge-base files: every format, row errors with their lines, strict, replace."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from knowledge_base.errors import ImportFailed, RowError
from knowledge_base.importers import ImportReport, import_file, read_rows
from knowledge_base.models import EntryKind
from knowledge_base.store import KnowledgeBaseStore

ROWS: list[dict[str, object] | str] = [
    {"id": "faq-1", "title": "护照怎么办理", "text": "携带身份证到出入境窗口办理。",
     "dept": "市公安局出入境管理局", "source": "办事指南汇编"},
    {"id": "faq-2", "title": "小孩上户口需要什么手续？", "text": "",
     "kind": "standard_question_only", "dept": None},
    {"id": "faq-3", "title": "回京、上牌", "text": "外地购车需符合本市排放标准。",
     "kind": "kb_answer_keyword_title", "keywords": ["回京", "上牌"]},
    "",
    '{"id": "faq-4", "title": "缺少逗号" "text": "x"}',
    {"id": "faq-5", "text": "没有标题"},
    '["不是对象"]',
    {"id": "faq-1", "title": "重复的编号", "text": "x"},
    {"id": "坏 编号", "title": "编号不合法", "text": "x"},
    {"id": "faq-6", "title": "相似问", "text": "答", "similar_questions": ["问法一", "问法二"],
     "keywords": "社保、医保,公积金|住房", "kind": " FAQ "},
    {"id": "faq-7", "title": ["标题不该是列表"], "text": "答"},
]
JSONL = "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in ROWS)
JSONL_ERRORS = [(5, None), (6, "faq-5"), (7, None), (8, "faq-1"), (9, "坏 编号"), (11, "faq-7")]


@pytest.fixture
def kb(sqlite_engine: Engine) -> KnowledgeBaseStore:
    return KnowledgeBaseStore(sqlite_engine)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def lines_of(errors: list[RowError] | tuple[RowError, ...]) -> list[tuple[int, str | None]]:
    return [(error.line, error.id) for error in errors]


def test_jsonl_rows_map_fields_and_report_errors_by_line(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    report = import_file(kb, write(tmp_path / "kb.jsonl", JSONL), "importer")
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert lines_of(report.errors) == JSONL_ERRORS
    reasons = [error.reason for error in report.errors]
    assert reasons[0].startswith("invalid JSON") and "title" in reasons[1]
    assert reasons[2] == "not a JSON object" and reasons[3] == "duplicate id, first seen on line 1"
    assert "id" in reasons[4] and reasons[5] == "expected text, got a list"
    assert kb.get("faq-1").department == "市公安局出入境管理局"
    assert kb.get("faq-1").title == "护照怎么办理"  # the duplicate row did not overwrite it
    second = kb.get("faq-2")
    assert (second.kind, second.text, second.department) == (EntryKind.FAQ, "", None)
    assert kb.get("faq-3").keywords == ["回京", "上牌"]
    assert kb.get("faq-6").questions == ["问法一", "问法二"]
    assert kb.get("faq-6").keywords == ["社保", "医保", "公积金", "住房"]


def test_jsonl_line_in_another_encoding_is_a_row_error(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    good = '{"id": "faq-1", "title": "标题", "text": "答案"}\n'.encode()
    bad = '{"id": "faq-2", "title": "国标编码", "text": "答案"}\n'.encode("gbk")
    report = import_file(kb, write(tmp_path / "kb.jsonl", b"\xef\xbb\xbf" + good + bad), "importer")
    assert report.created == 1
    assert report.errors == (RowError(2, None, "not UTF-8 text"),)


def test_json_list_or_entries_object_with_nested_details(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    rows = [
        {"id": "guide-1", "kind": "guide", "title": "结婚登记", "text": "双方共同到场办理。",
         "guide": {"materials": [{"name": "户口簿", "original": 1}], "fee": "免费"}},
        {"id": "policy-1", "kind": "policy", "title": "生育津贴政策", "text": "摘要",
         "policy": {"doc_number": "〔2023〕5号", "published_on": "2023-05-01",
                    "validity": "amended"}},
        {"id": "faq-1", "kind": "faq", "title": "带了指南的问答", "text": "x",
         "guide": {"fee": "免费"}},
        "不是对象",
    ]
    for name, data in (("list.json", rows), ("object.json", {"entries": rows})):
        results = list(read_rows(write(tmp_path / name, json.dumps(data, ensure_ascii=False))))
        assert [r.line for r in results] == [1, 2, 3, 4]
        assert [r.entry is not None for r in results] == [True, True, False, False]
    report = import_file(kb, tmp_path / "object.json", "importer")
    assert report.created == 2 and lines_of(report.errors) == [(3, "faq-1"), (4, None)]
    assert "guide details are only allowed" in report.errors[0].reason
    guide = kb.get("guide-1").guide
    assert guide is not None and guide.materials[0].name == "户口簿"
    policy = kb.get("policy-1").policy
    assert policy is not None and policy.published_on == dt.date(2023, 5, 1)


def test_yaml_list(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    text = """\
- id: "001"
  title: 残疾人证怎么办理
  text: |
    到户籍所在地残联申请。
    需要二级以上医院评定。
  kind: guide
  guide:
    steps: [申请, 评定, 发证]
- id: policy-2
  kind: policy
  title: 养老金调整
  text: 摘要
  policy:
    effective_on: 2024-01-01
    key_points:
      - question: 涨多少？
        answer: 总体上调3%。
- title: 没有编号
  text: x
"""
    report = import_file(kb, write(tmp_path / "kb.yaml", text), "importer")
    assert report.created == 2 and lines_of(report.errors) == [(3, None)]
    entry = kb.get("001")
    assert entry.text == "到户籍所在地残联申请。\n需要二级以上医院评定。"
    assert entry.guide is not None and entry.guide.steps == ["申请", "评定", "发证"]
    assert kb.get("policy-2").policy is not None


CSV = """\
id,title,text,dept,similar_questions,keywords,kind,备注
faq-1,社保怎么转移,"在新参保地申请转移，
原参保地审核后办结。",市人社局,社保转移|社保转到外地,"社保、转移",faq,内部备注
faq-2,,缺标题,,,,,
faq-3,医保报销比例,职工医保住院报销85%。,市医保局,"[""医保报销多少"", ""报销|比例""]",医保,other,
"""


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_csv_rows_count_the_header_as_row_one(
    kb: KnowledgeBaseStore, tmp_path: Path, bom: bytes
) -> None:
    report = import_file(kb, write(tmp_path / "kb.csv", bom + CSV.encode()), "importer")
    assert report.created == 2
    assert lines_of(report.errors) == [(3, "faq-2")]
    first = kb.get("faq-1")
    assert first.text == "在新参保地申请转移，\n原参保地审核后办结。"
    assert first.questions == ["社保转移", "社保转到外地"]
    assert first.keywords == ["社保", "转移"] and first.department == "市人社局"
    assert kb.get("faq-3").questions == ["医保报销多少", "报销|比例"]
    assert kb.get("faq-3").kind == EntryKind.FAQ


def test_csv_without_a_required_column_fails_as_a_whole(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    with pytest.raises(ImportFailed, match=r"lacks column.*text"):
        import_file(kb, write(tmp_path / "kb.csv", "id,title\nfaq-1,标题\n"), "importer")


def test_csv_in_gbk_fails_with_a_clear_message(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"not UTF-8 text \(line 1\); save it as UTF-8"):
        import_file(kb, write(tmp_path / "kb.csv", CSV.encode("gbk")), "importer")
    assert kb.count() == 0


def test_xlsx_first_sheet_with_header_row(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "kb.xlsx", [
        ["ID", "Title", "Text", "Keywords", "部门备注"],
        [1001, "营业执照怎么办", "登录政务服务网申请。", "营业执照、开办企业", "忽略"],
        [None, None, None, None, None],
        [1002, None, "缺标题", None, None],
        ["faq-3", "电子营业执照", 12345, "[\"电子执照\"]", None],
    ])
    report = import_file(kb, path, "importer")
    assert report.created == 2 and lines_of(report.errors) == [(4, "1002")]
    assert kb.get("1001").keywords == ["营业执照", "开办企业"]
    assert kb.get("faq-3").text == "12345"


BROKEN = {
    "csv-as-xlsx": ("kb.xlsx", b"id,title,text\n", "not a readable .xlsx"),
    "truncated-xlsx": ("kb.xlsx", b"PK\x03\x04 truncated zip", "not a readable .xlsx"),
    "binary-jsonl": ("kb.jsonl", bytes(range(256)) * 8, "binary file"),
    "cut-json": ("kb.json", b'{"entries": [{"id": "a",', "invalid JSON at line 1"),
    "json-string": ("kb.json", b'"just a string"', "expected a list"),
    "bad-yaml": ("kb.yaml", b"- id: a\n  title: [unclosed\n", "invalid YAML at line"),
    "yaml-mapping": ("kb.yaml", b"id: a\n", "expected a list"),
    "binary-csv": ("kb.csv", b"id,title,text\n\x00\x01\x02", "binary file"),
    "txt": ("kb.txt", b"id,title,text\n", "unsupported file type"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_files_fail_clearly(kb: KnowledgeBaseStore, tmp_path: Path, case: str) -> None:
    name, data, message = BROKEN[case]
    with pytest.raises(ImportFailed, match=message):
        import_file(kb, write(tmp_path / name, data), "importer")
    assert kb.count() == 0


def test_a_zip_that_is_not_a_workbook_fails_clearly(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "kb.xlsx", "w") as archive:
        archive.writestr("readme.txt", "不是表格")
    with pytest.raises(ImportFailed, match="xlsx"):
        import_file(kb, tmp_path / "kb.xlsx", "importer")


def test_a_missing_file_fails_clearly(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="cannot read"):
        import_file(kb, tmp_path / "nope.jsonl", "importer")


def test_strict_writes_nothing_and_lists_the_errors(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_file(kb, write(tmp_path / "kb.jsonl", JSONL), "importer", strict=True)
    assert lines_of(caught.value.errors) == JSONL_ERRORS
    assert "line 6 (faq-5)" in str(caught.value)
    assert kb.count() == 0
    good = write(tmp_path / "good.jsonl", JSONL.splitlines()[0])
    assert import_file(kb, good, "importer", strict=True) == ImportReport(created=1)


def test_import_again_is_unchanged(kb: KnowledgeBaseStore, tmp_path: Path) -> None:
    path = write(tmp_path / "kb.jsonl", JSONL)
    import_file(kb, path, "importer")
    report = import_file(kb, path, "importer")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert [r.action for r in kb.revisions("faq-1")] == ["import"]


def test_replace_makes_the_file_the_whole_knowledge_base(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    import_file(kb, write(tmp_path / "kb.jsonl", JSONL), "importer")
    lines = [
        '{"id": "faq-1", "title": "护照怎么办理", "text": "改为全程网办。"}',
        '{"id": "faq-3", "title": "这一行坏了", "text": 1, "guide": "不是对象"}',
        '{"id": "faq-9", "title": "新条目", "text": "答案"}',
    ]
    new = write(tmp_path / "new.jsonl", "\n".join(lines))
    report = import_file(kb, new, "editor", replace=True)
    assert (report.created, report.updated, report.deleted) == (1, 1, 2)
    assert lines_of(report.errors) == [(2, "faq-3")]
    # faq-3's row was broken, so it is kept rather than deleted
    assert sorted(e.id for e in kb.iter_all()) == ["faq-1", "faq-3", "faq-9"]
    assert kb.revisions("faq-2")[-1].action == "delete"


def test_replace_is_refused_with_no_valid_rows_or_errors_in_strict_mode(
    kb: KnowledgeBaseStore, tmp_path: Path
) -> None:
    import_file(kb, write(tmp_path / "kb.jsonl", JSONL), "importer")
    with pytest.raises(ImportFailed, match="no valid rows"):
        import_file(kb, write(tmp_path / "bad.jsonl", '{"id": "x"}\n'), "editor", replace=True)
    with pytest.raises(ImportFailed, match="no valid rows"):
        import_file(kb, write(tmp_path / "empty.csv", "id,title,text\n"), "editor", replace=True)
    with pytest.raises(ImportFailed, match="nothing imported"):
        import_file(kb, tmp_path / "kb.jsonl", "editor", replace=True, strict=True)
    assert kb.count() == 4
