"""Retrieval quality: load a FAQ jsonl as entries, score labelled queries, report.

    python -m retrieval.evaluate --kb ../shared/eval/kb.jsonl \\
        --queries ../shared/eval/dev_queries.jsonl --data-dir var/eval

(`python -m retrieval.experiment` adds the variant table and the threshold calibration.)

Queries are rows `{query, expected_kb_id, also_relevant?}`. Strict metrics count
only `expected_kb_id`; lenient ones also any id in `also_relevant`. A query whose
`expected_kb_id` is null should be refused (`confident` false).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge_base.models import Entry, EntryKind
from retrieval.hybrid import SearchResult


class Searcher(Protocol):
    def search(self, query: str, k: int = 5) -> SearchResult: ...


def load_faq_jsonl(path: str | Path) -> list[Entry]:
    """Entries from rows `{id, title, text, kind?, dept?, keywords?}`.

    Kinds other than guide/policy become FAQs; a row without answer text (a bare
    standard question) gets its title as text.
    """
    entries = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            entries.append(entry_from_row(json.loads(line)))
    return entries


def entry_from_row(row: dict[str, Any]) -> Entry:
    kind = row.get("kind")
    title = str(row["title"]).strip()[:300]
    return Entry(
        id=str(row["id"]),
        kind=EntryKind(kind) if kind in {"guide", "policy"} else EntryKind.FAQ,
        title=title,
        text=str(row.get("text") or title)[:50_000],
        keywords=[str(k) for k in row.get("keywords") or []],
        department=row.get("dept") or row.get("department"),
    )


def load_queries(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]


def evaluate_retrieval(index: Any, queries: list[dict[str, Any]], k: int = 5) -> dict[str, Any]:
    """hit@1, hit@5 and MRR (strict and lenient), latency, and no-answer behaviour.

    `index` is a `KnowledgeIndex` or anything with `search(query, k)`. The query
    cache is cleared before each search, so latencies are cold.
    """
    searcher: Searcher = getattr(index, "retriever", index)
    answerable = [q for q in queries if q.get("expected_kb_id")]
    rows, latencies = [], []
    for query in queries:
        clear = getattr(getattr(searcher, "cache", None), "clear", None)
        if clear:
            clear()
        started = time.perf_counter()
        result = searcher.search(query["query"], k=k)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append(judge(query, result))
    return summarize(rows, latencies, len(answerable))


def judge(query: dict[str, Any], result: SearchResult) -> dict[str, Any]:
    """Ranks of the expected entry (strict) and of any relevant entry (lenient), 1-based."""
    ids = [hit.entry_id for hit in result.hits]
    expected = query.get("expected_kb_id")
    relevant = {expected, *(query.get("also_relevant") or [])} - {None}
    return {
        "query": query["query"], "answerable": bool(expected), "confident": result.confident,
        "strict": ids.index(expected) + 1 if expected in ids else None,
        "lenient": next((n + 1 for n, i in enumerate(ids) if i in relevant), None),
        "top": ids[0] if ids else None,
    }


def summarize(rows: list[dict[str, Any]], latencies: list[float], answerable: int) -> dict[str, Any]:
    result: dict[str, Any] = {"queries": len(rows), "answerable": answerable}
    scored = [r for r in rows if r["answerable"]]
    for mode in ("strict", "lenient"):
        ranks = [r[mode] for r in scored]
        result[mode] = {
            "hit@1": share(rank == 1 for rank in ranks),
            "hit@5": share(rank is not None and rank <= 5 for rank in ranks),
            "mrr": float(np.mean([1 / rank if rank else 0.0 for rank in ranks])) if ranks else 0.0,
        }
    unanswerable = [r for r in rows if not r["answerable"]]
    result["no_answer"] = {
        "unanswerable": len(unanswerable),
        "correctly_refused": share(not r["confident"] for r in unanswerable),
        "wrongly_refused": share(not r["confident"] for r in scored),
    }
    result["latency_ms"] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
    result["misses"] = [r for r in scored if r["lenient"] != 1]
    return result


def share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def format_report(result: dict[str, Any]) -> str:
    strict, lenient, na = result["strict"], result["lenient"], result["no_answer"]
    lines = [
        f"queries: {result['queries']} ({result['answerable']} answerable)",
        "          hit@1   hit@5   MRR",
        f"strict    {strict['hit@1']:.3f}   {strict['hit@5']:.3f}   {strict['mrr']:.3f}",
        f"lenient   {lenient['hit@1']:.3f}   {lenient['hit@5']:.3f}   {lenient['mrr']:.3f}",
        f"latency   p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms",
        f"answerable queries refused: {na['wrongly_refused']:.3f}",
    ]
    if na["unanswerable"]:
        lines.append(f"unanswerable queries refused: {na['correctly_refused']:.3f}"
                     f" of {na['unanswerable']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from retrieval.indexer import KnowledgeIndex, print_progress

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("var/eval"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    index = KnowledgeIndex(args.data_dir)
    index.load_or_build(load_faq_jsonl(args.kb), print_progress)
    result = evaluate_retrieval(index, load_queries(args.queries))
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else format_report(result))


if __name__ == "__main__":
    main()
