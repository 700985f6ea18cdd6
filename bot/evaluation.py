"""`python -m bot eval ...`: retrieval and intent figures on the dev set and our own sets."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from settings import ROOT, Settings

OWN_QUERIES = ROOT / "evalsets" / "demo_queries.jsonl"
OWN_INTENTS = ROOT / "evalsets" / "demo_intents.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_kb(path: Path) -> list[Any]:
    from knowledge_base.content_loader import load_content_dir
    from retrieval.evaluate import load_faq_jsonl

    return load_content_dir(path) if path.is_dir() else load_faq_jsonl(path)


def evaluate_retrieval_files(settings: Settings, kb: Path, queries: Path) -> dict[str, Any]:
    """Build a fresh index of `kb` under the data dir and score `queries` against it."""
    from retrieval.embed import load_embedder
    from retrieval.evaluate import evaluate_retrieval
    from retrieval.indexer import KnowledgeIndex

    target = settings.data_dir / "eval" / kb.stem
    shutil.rmtree(target / "index" / "dense", ignore_errors=True)  # fresh index, warm embedding cache
    index = KnowledgeIndex(target, embedder=load_embedder(settings.embedding_model))
    index.build(load_kb(kb))
    result: dict[str, Any] = evaluate_retrieval(index, read_jsonl(queries))
    return result


def evaluate_intent_file(settings: Settings, data: Path) -> dict[str, Any]:
    from intents.evaluate import evaluate_intents
    from server import build_classifier

    classifier = build_classifier(settings)
    result: dict[str, Any] = evaluate_intents(classifier, read_jsonl(data))
    return result


def run(args: argparse.Namespace, settings: Settings) -> int:
    from intents.evaluate import format_report as intents_report
    from retrieval.evaluate import format_report as retrieval_report

    if args.eval_command == "retrieval":
        result = evaluate_retrieval_files(settings, Path(args.kb), Path(args.queries))
        print(json.dumps(result, ensure_ascii=False) if args.json else retrieval_report(result))
        return 0
    if args.eval_command == "intents":
        result = evaluate_intent_file(settings, Path(args.data))
        print(json.dumps(result, ensure_ascii=False) if args.json else intents_report(result))
        return 0
    return run_all(settings, Path(args.shared), args.json)


def run_all(settings: Settings, shared: Path, as_json: bool) -> int:
    results: dict[str, dict[str, Any]] = {}
    if (shared / "kb.jsonl").exists():
        results["retrieval dev"] = evaluate_retrieval_files(
            settings, shared / "kb.jsonl", shared / "dev_queries.jsonl"
        )
        results["intents dev"] = evaluate_intent_file(settings, shared / "dev_intents.jsonl")
    else:
        print(f"(no dev set at {shared}: our own sets only)")
    results["retrieval own"] = evaluate_retrieval_files(settings, ROOT / "knowledge_base" / "content", OWN_QUERIES)
    results["intents own"] = evaluate_intent_file(settings, OWN_INTENTS)
    if as_json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        print(summary_table(results))
    return 0


def _get(result: dict[str, Any], *path: str) -> str:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| set | metric | value |", "| --- | --- | --- |"]
    for name, result in results.items():
        if name.startswith("retrieval"):
            metrics = [
                ("lenient hit@1", ("lenient", "hit@1")), ("lenient hit@5", ("lenient", "hit@5")),
                ("lenient MRR", ("lenient", "mrr")), ("strict hit@1", ("strict", "hit@1")),
                ("strict hit@5", ("strict", "hit@5")), ("latency p50 ms", ("latency_ms", "p50")),
                ("latency p99 ms", ("latency_ms", "p99")),
            ]
        else:
            metrics = [
                ("accuracy", ("accuracy",)), ("macro-F1", ("macro_f1",)),
                ("route accuracy", ("route_accuracy",)),
            ]
        lines += [f"| {name} | {label} | {_get(result, *path)} |" for label, path in metrics]
    return "\n".join(lines)
