"""Import and export of knowledge-base files: .jsonl, .json, .yaml/.yml, .csv and .xlsx.

A row needs `id`, `title` and `text` (which may be empty); the other entry fields map when
present and unknown columns are ignored. A row that fails is reported with its line (jsonl: the
line; csv/xlsx: the row, the header being row 1; json/yaml: the item's position from 1) and the
rest are imported, unless `strict`. A file that cannot be read at all raises ImportFailed.
Export writes what import reads back to the same entries.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from pydantic import ValidationError

from knowledge_base.errors import ImportFailed, KnowledgeBaseError, RowError, describe_validation
from knowledge_base.models import EntryCreate, EntryKind
from knowledge_base.store import KnowledgeBaseStore

COLUMNS = ("id", "kind", "title", "text", "questions", "keywords", "tags", "department",
           "region", "status", "source_url", "guide", "policy")
REQUIRED = ("id", "title", "text")
ALIASES = {"dept": "department", "similar_questions": "questions"}
# Questions may hold commas; keywords and tags come as 、/,/| lists from spreadsheets.
_SEPARATORS = {"questions": re.compile(r"[|\n]"), "keywords": re.compile(r"[、,，|;；\n]"),
               "tags": re.compile(r"[、,，|;；\n]")}
_NESTED = ("guide", "policy")
_SNIFF_BYTES = 8192

Raw = dict[str, Any] | str  # a row's fields, or why the row could not be parsed


@dataclass(frozen=True)
class RowResult:
    """One row of a file: the entry it holds, or the error that kept it out."""

    line: int
    entry: EntryCreate | None = None
    error: RowError | None = None


@dataclass(frozen=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: tuple[RowError, ...] = ()


# Import


def import_file(
    store: KnowledgeBaseStore,
    path: str | Path,
    author: str,
    replace: bool = False,
    strict: bool = False,
) -> ImportReport:
    """Write the valid rows of `path`; with `replace`, also delete entries the file lacks.

    `strict`: any invalid row and nothing is written. Entries whose row was invalid are kept
    by `replace`, so a typo never deletes what it meant to update."""
    name = Path(path).name
    results = list(read_rows(path))
    errors = [result.error for result in results if result.error is not None]
    entries = [result.entry for result in results if result.entry is not None]
    if strict and errors:
        raise ImportFailed(f"{name}: {len(errors)} invalid row(s); nothing imported", errors)
    if replace and not entries:
        raise ImportFailed(f"{name}: no valid rows; refusing to replace the knowledge base", errors)
    if replace:
        kept = {error.id for error in errors if error.id}
        report = store.replace_all(entries, author, keep=kept)
    else:
        report = store.upsert_many(entries, author)
    return ImportReport(**asdict(report), errors=tuple(errors))


def read_rows(path: str | Path) -> Iterator[RowResult]:
    """Each row of `path` as an entry or a row error, in file order."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ImportFailed(f"{path.name}: unsupported file type; use one of {', '.join(_READERS)}")
    first_line: dict[str, int] = {}
    for line, raw in reader(path):
        result = _row_result(line, raw)
        if result.entry is not None and result.entry.id in first_line:
            reason = f"duplicate id, first seen on line {first_line[result.entry.id]}"
            result = RowResult(line, error=RowError(line, result.entry.id, reason))
        elif result.entry is not None:
            first_line[result.entry.id] = line
        yield result


def _row_result(line: int, raw: Raw) -> RowResult:
    if isinstance(raw, str):
        return RowResult(line, error=RowError(line, None, raw))
    entry_id = _row_id(raw)
    try:
        return RowResult(line, entry=EntryCreate.model_validate(_normalize(raw)))
    except ValidationError as exc:
        return RowResult(line, error=RowError(line, entry_id, describe_validation(exc)))
    except ValueError as exc:
        return RowResult(line, error=RowError(line, entry_id, str(exc)))


def _row_id(raw: Mapping[str, Any]) -> str | None:
    """The id to name in an error, if the row has a usable one."""
    value = _canonical_keys(raw).get("id")
    return _text(value).strip() or None if isinstance(value, str | int | float) else None


def _normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map a file row onto EntryCreate fields, dropping columns we do not know."""
    data = _canonical_keys(raw)
    missing = [name for name in REQUIRED
               if name not in data or (name != "text" and _blank(data[name]))]
    if missing:
        raise ValueError(f"missing required field(s): {', '.join(missing)}")
    fields: dict[str, Any] = {"kind": _kind(data.get("kind")), "text": _text(data["text"])}
    for name in COLUMNS:
        value = data.get(name)
        if name in fields or _blank(value):
            continue
        if name in _SEPARATORS:
            fields[name] = _list(name, value)
        else:
            fields[name] = _nested(name, value) if name in _NESTED else _text(value)
    return fields


def _canonical_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).strip().lower()
        canonical = ALIASES.get(name, name)
        if canonical == name or canonical not in data:  # `department` beats `dept`
            data[canonical] = value
    return data


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _kind(value: Any) -> str:
    """guide / policy / faq; anything else (standard_question_only ...) is a FAQ."""
    kind = _text(value).strip().lower()
    return kind if kind in set(EntryKind) else EntryKind.FAQ.value


def _list(name: str, value: Any) -> list[str]:
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: invalid JSON list: {exc.msg}") from None
    if isinstance(value, list | tuple):
        return [_text(item) for item in value if item is not None]
    if isinstance(value, dict):
        raise ValueError(f"{name}: expected a list, got an object")  # noqa: TRY004 - a row error
    return _SEPARATORS[name].split(_text(value))


def _nested(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected an object with the {name} fields")  # noqa: TRY004 - a row error
    return value


def _text(value: Any) -> str:
    """Scalars as text: spreadsheets hand over ids like 1001 as numbers."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise ValueError(f"expected text, got a {'list' if isinstance(value, list) else 'mapping'}")  # noqa: TRY004 - a row error
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


# Readers: each yields (line, fields or the reason the row could not be parsed)


def _read_jsonl(path: Path) -> Iterator[tuple[int, Raw]]:
    for number, raw_line in enumerate(_read_bytes(path).splitlines(), 1):
        try:
            line = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield number, "not UTF-8 text"
            continue
        if line.strip():
            yield number, _json_object(line)


def _json_object(line: str) -> Raw:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} (column {exc.colno})"
    return value if isinstance(value, dict) else "not a JSON object"


def _read_json(path: Path) -> Iterator[tuple[int, Raw]]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return _items(path, data)


def _read_yaml(path: Path) -> Iterator[tuple[int, Raw]]:
    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise ImportFailed(f"{path.name}: invalid YAML{where}: {problem}") from None
    return _items(path, data)


def _items(path: Path, data: Any) -> Iterator[tuple[int, Raw]]:
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        data = data["entries"]
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ImportFailed(f'{path.name}: expected a list of entries or {{"entries": [...]}}')
    for number, item in enumerate(data, 1):
        yield number, item if isinstance(item, dict) else "not an object with entry fields"


def _read_csv(path: Path) -> Iterator[tuple[int, Raw]]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        rows = list(enumerate(reader, 1))
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}: broken CSV at line {reader.line_num}: {exc}") from None
    return _table(path, rows)


def _read_xlsx(path: Path) -> Iterator[tuple[int, Raw]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises a dozen types on a damaged or foreign file
        raise ImportFailed(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        rows = list(enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1))
    except Exception as exc:  # noqa: BLE001 - as above, while reading the rows
        raise ImportFailed(f"{path.name}: damaged .xlsx workbook ({exc})") from None
    finally:
        workbook.close()
    return _table(path, rows)


def _table(path: Path, rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[tuple[int, Raw]]:
    """Rows under the first non-empty row, which names the columns."""
    header: list[str] | None = None
    for number, cells in rows:
        if all(_text(cell).strip() == "" for cell in cells):
            continue
        if header is None:
            header = _header(path, cells)
            continue
        padded = list(cells) + [None] * (len(header) - len(cells))
        yield number, {key: value for key, value in zip(header, padded, strict=False) if key}


def _header(path: Path, cells: Sequence[Any]) -> list[str]:
    header = [_text(cell).strip().lower() for cell in cells]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFailed(f"{path.name}: the header row lacks column(s) {', '.join(missing)}")
    return header


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if b"\0" in data[:_SNIFF_BYTES]:
        raise ImportFailed(f"{path.name}: a binary file, not {path.suffix} text")
    return data


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(f"{path.name}: not UTF-8 text (line {line}); save it as UTF-8") from None


_READERS: dict[str, Callable[[Path], Iterator[tuple[int, Raw]]]] = {
    ".jsonl": _read_jsonl, ".json": _read_json, ".yaml": _read_yaml, ".yml": _read_yaml,
    ".csv": _read_csv, ".xlsx": _read_xlsx,
}


# Export


def export_file(store: KnowledgeBaseStore, path: str | Path) -> int:
    """Write every entry to `path` in the format its extension names; the number written."""
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise KnowledgeBaseError(f"{path.name}: cannot export to {path.suffix or 'no extension'}")
    rows = [export_row(entry) for entry in store.iter_all()]
    partial = path.with_name(f".{path.name}.partial")
    writer(partial, rows)
    os.replace(partial, path)  # readers never see half a file
    return len(rows)


def export_row(entry: EntryCreate) -> dict[str, Any]:
    """An entry's content as a file row, in column order; empty optional fields left out."""
    data = entry.model_dump(mode="json", include=set(COLUMNS), exclude_none=True)
    return {name: data[name] for name in COLUMNS if name in data}


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_text("".join(lines), encoding="utf-8")


def _write_json(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"entries": rows}, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _write_yaml(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    # utf-8-sig: Excel opens a BOM-less UTF-8 CSV as the local code page and garbles Chinese.
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows([_cell(name, row.get(name)) for name in COLUMNS] for row in rows)


def _write_xlsx(path: Path, rows: list[dict[str, Any]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "entries"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([_cell(name, row.get(name)) for name in COLUMNS])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, not a formula Excel would run
    workbook.save(path)


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in _SEPARATORS:
        return _joined(name, value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _joined(name: str, items: list[str]) -> str:
    """`a|b` where that splits back to the same items, else a JSON list."""
    joined = "|".join(items)
    if joined.startswith("[") or any(_SEPARATORS[name].search(item) for item in items):
        return json.dumps(items, ensure_ascii=False)
    return joined


_WRITERS: dict[str, Callable[[Path, list[dict[str, Any]]], None]] = {
    ".jsonl": _write_jsonl, ".json": _write_json, ".yaml": _write_yaml, ".yml": _write_yaml,
    ".csv": _write_csv, ".xlsx": _write_xlsx,
}
