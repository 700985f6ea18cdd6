"""Side-by-side retrieval variants, a cross-validation check and threshold calibration.

    python -m retrieval.experiment --kb ../shared/eval/kb.jsonl \\
        --queries ../shared/eval/dev_queries.jsonl --data-dir var/eval \\
        [--negatives retrieval/data/out_of_scope.txt] [--extra-negatives FILE.jsonl]

Every variant is computed from the same per-query feature matrices (all entries),
so the table isolates the scoring; the chosen configuration is then re-run
through `HybridRetriever.search` itself by `evaluate_retrieval`.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.document import PASSAGE_CHARS
from retrieval.evaluate import evaluate_retrieval, format_report, load_faq_jsonl, load_queries
from retrieval.indexer import KnowledgeIndex, print_progress
from retrieval.sparse import Bm25Index
from retrieval.tokenize import read_lines, strip_filler


@dataclass(frozen=True)
class Features:
    """Query x entry matrices over the whole index."""

    ids: list[str]
    question: np.ndarray
    passage: np.ndarray
    paraphrased: np.ndarray  # per entry: similar questions besides the title
    bm25: dict[str, np.ndarray]  # analyzer name -> raw scores
    coverage: np.ndarray


def feature_matrices(index: KnowledgeIndex, texts: list[str]) -> Features:
    r = index.retriever
    catalog = r.catalog
    ids = list(catalog.entries)
    vectors = index.embedder.embed_queries([strip_filler(t) for t in texts])
    question = np.full((len(texts), len(ids)), -1.0, np.float32)
    passage = question.copy()
    for column, entry_id in enumerate(ids):
        sims = r.dense.reconstruct(np.array(catalog.vector_ids[entry_id])) @ vectors.T
        for text, row in zip(catalog.entries[entry_id].dense_texts, sims, strict=True):
            target = passage if text.label == "passage" else question
            target[:, column] = np.maximum(target[:, column], row)
    coverage = np.stack([r._coverage(ids, strip_filler(t)) for t in texts])
    paraphrased = np.array([catalog.entries[i].paraphrased for i in ids], bool)
    return Features(ids, question, passage, paraphrased, sparse_matrices(index, ids, texts), coverage)


def sparse_matrices(index: KnowledgeIndex, ids: list[str], texts: list[str]) -> dict[str, np.ndarray]:
    tokenizer, out = index.tokenizer, {}
    analyzers: dict[str, Callable[[str], list[str]]] = {
        "words": tokenizer.tokenize, "bigrams": tokenizer.bigrams, "words+bigrams": tokenizer.terms}
    for name, analyze in analyzers.items():
        bm25 = Bm25Index(analyze, index.field_weights)
        for entry_id in ids:
            bm25.add(entry_id, index.retriever.catalog.entries[entry_id].sparse_fields())
        rows = []
        for text in texts:
            snapshot, raw = bm25.scores(strip_filler(text))
            rows.append(raw[[snapshot.positions[i] for i in ids]])
        out[name] = np.stack(rows)
    return out


def by_best(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(matrix.max(axis=1, keepdims=True), 1e-9)


def fused(f: Features, passage_offset: float = 0.05, sparse: float = 0.03, coverage: float = 0.015,
          analyzer: str = "words+bigrams", paraphrased_offset: float = 0.02,
          paraphrased_bonus: float = 0.015) -> np.ndarray:
    offset = np.where(f.paraphrased, paraphrased_offset, passage_offset)
    bonus = np.where(f.paraphrased, paraphrased_bonus, 0.0)
    dense = np.maximum(f.question, f.passage + offset[None, :]) + bonus[None, :]
    return dense + sparse * by_best(f.bm25[analyzer]) + coverage * f.coverage


def rrf(*matrices: np.ndarray, k: int = 60) -> np.ndarray:
    ranks = [np.argsort(np.argsort(-m, axis=1), axis=1) for m in matrices]
    return sum(1.0 / (k + r + 1) for r in ranks)


VARIANTS: dict[str, Callable[[Features], np.ndarray]] = {
    "BM25 jieba words, fields": lambda f: f.bm25["words"],
    "BM25 char bigrams, fields": lambda f: f.bm25["bigrams"],
    "BM25 words+bigrams, fields": lambda f: f.bm25["words+bigrams"],
    "e5 title (query role)": lambda f: f.question,
    "e5 passage (title + body head)": lambda f: f.passage,
    "e5 max(title, passage+0.05)": lambda f: np.maximum(f.question, f.passage + 0.05),
    "RRF(e5 max, BM25)": lambda f: rrf(np.maximum(f.question, f.passage + 0.05),
                                       f.bm25["words+bigrams"]),
    "fused: e5 + BM25 (no coverage)": lambda f: fused(f, coverage=0.0),
    "fused: e5 + coverage (no BM25)": lambda f: fused(f, sparse=0.0),
    "fused: words BM25 instead": lambda f: fused(f, analyzer="words"),
    "fused: bigram BM25 instead": lambda f: fused(f, analyzer="bigrams"),
    "fused: one passage offset for all": lambda f: fused(f, paraphrased_offset=0.05,
                                                         paraphrased_bonus=0.0),
    "fused (default)": fused,
}


def ranks(scores: np.ndarray, ids: list[str], queries: list[dict[str, Any]], strict: bool
          ) -> list[int | None]:
    out: list[int | None] = []
    for row, query in zip(scores, queries, strict=True):
        relevant = {query["expected_kb_id"]} | (set() if strict else set(query.get("also_relevant") or []))
        order = np.argsort(-row, kind="stable")[:100]
        out.append(next((n + 1 for n, c in enumerate(order) if ids[c] in relevant), None))
    return out


def metrics(scores: np.ndarray, ids: list[str], queries: list[dict[str, Any]]) -> dict[str, float]:
    out = {}
    for mode in ("strict", "lenient"):
        rs = ranks(scores, ids, queries, mode == "strict")
        out[f"{mode} hit@1"] = float(np.mean([r == 1 for r in rs]))
        out[f"{mode} hit@5"] = float(np.mean([r is not None and r <= 5 for r in rs]))
        out[f"{mode} MRR"] = float(np.mean([1 / r if r else 0.0 for r in rs]))
    return out


def variant_table(f: Features, queries: list[dict[str, Any]]) -> str:
    lines = [f"{'variant':34s} strict h@1 h@5  MRR  | lenient h@1 h@5  MRR"]
    for name, variant in VARIANTS.items():
        m = metrics(variant(f), f.ids, queries)
        lines.append(f"{name:34s} {m['strict hit@1']:.3f} {m['strict hit@5']:.3f} "
                     f"{m['strict MRR']:.3f} | {m['lenient hit@1']:.3f} {m['lenient hit@5']:.3f} "
                     f"{m['lenient MRR']:.3f}")
    return "\n".join(lines)


GRID = list(itertools.product([0.03, 0.04, 0.05, 0.06], [0.0, 0.02, 0.03, 0.04, 0.06],
                              [0.0, 0.01, 0.015, 0.02, 0.03]))


def cross_validate(f: Features, queries: list[dict[str, Any]], repeats: int = 30) -> dict[str, float]:
    """Tune the three weights on one half of the queries, score the other half."""
    scored = {w: [r == 1 for r in ranks(fused(f, *w), f.ids, queries, False)] for w in GRID}
    rng, held_out = np.random.default_rng(0), []
    for _ in range(repeats):
        order = rng.permutation(len(queries))
        for train, test in ((order[::2], order[1::2]), (order[1::2], order[::2])):
            best = max(GRID, key=lambda w: np.mean([scored[w][i] for i in train]))
            held_out.append(np.mean([scored[best][i] for i in test]))
    default = np.mean(scored[(0.05, 0.03, 0.015)])
    return {"held-out lenient hit@1": float(np.mean(held_out)), "default in-sample": float(default),
            "grid best in-sample": float(max(np.mean(v) for v in scored.values()))}


def top_fused(index: KnowledgeIndex, texts: list[str]) -> tuple[np.ndarray, list[str | None]]:
    """The best fused score and its entry for each text, through the real retriever."""
    r, best, tops = index.retriever, [], []
    vectors = index.embedder.embed_queries([strip_filler(t) for t in texts])
    for text, vector in zip(texts, vectors, strict=True):
        found = r.candidates(strip_filler(text), vector)
        scores = r.fusion.fuse(found) if found.ids else np.array([-1.0])
        best.append(float(scores.max()))
        tops.append(found.ids[int(scores.argmax())] if found.ids else None)
    return np.array(best), tops


def calibrate(index: KnowledgeIndex, queries: list[dict[str, Any]], negatives: list[str],
              extra: list[str]) -> str:
    """Fit `sigmoid(scale * (fused - center))` and tabulate thresholds."""
    from sklearn.linear_model import LogisticRegression

    fused_q, tops = top_fused(index, [q["query"] for q in queries])
    correct = np.array([t == q["expected_kb_id"] or t in (q.get("also_relevant") or [])
                        for t, q in zip(tops, queries, strict=True)])
    fused_n, _ = top_fused(index, negatives)
    fused_x, _ = top_fused(index, extra) if extra else (np.empty(0), [])
    x = np.concatenate([fused_q, fused_n])[:, None]
    y = np.concatenate([correct, np.zeros(len(fused_n), bool)])
    model = LogisticRegression(C=100.0, class_weight="balanced").fit(x, y)
    scale = float(model.coef_[0, 0])
    center = float(-model.intercept_[0] / scale)
    lines = [(f"fitted scale {scale:.1f}, center {center:.4f}  (FusionConfig defaults:"
              f" {index.retriever.fusion.scale}, {index.retriever.fusion.center})"),
             "threshold  dev answered  dev answered&correct  own negatives refused  extra refused"]
    calibrated = index.retriever.fusion.calibrate
    for threshold in (0.2, 0.3, 0.37, 0.4, 0.45, 0.5, 0.6, 0.7):
        lines.append(
            f"{threshold:9.2f}  {np.mean(calibrated(fused_q) >= threshold):12.3f}"
            f"  {np.mean((calibrated(fused_q) >= threshold) & correct):20.3f}"
            f"  {np.mean(calibrated(fused_n) < threshold):21.3f}"
            f"  {np.mean(calibrated(fused_x) < threshold) if extra else float('nan'):13.3f}")
    return "\n".join(lines)


def e5_miss_ranks(f: Features, queries: list[dict[str, Any]]) -> str:
    """For each miss of the default, where plain e5 and BM25 ranked the right entry."""
    chosen = ranks(fused(f), f.ids, queries, False)
    e5 = ranks(np.maximum(f.question, f.passage + 0.05), f.ids, queries, False)
    bm25 = ranks(f.bm25["words+bigrams"], f.ids, queries, False)
    lines = ["misses of the default (lenient): fused rank / e5 rank / BM25 rank / query"]
    for query, c, e, b in zip(queries, chosen, e5, bm25, strict=True):
        if c != 1:
            lines.append(f"  {c} / {e} / {b} / {query['query']}")
    return "\n".join(lines)


def read_negatives(path: Path | None, intents: set[str]) -> list[str]:
    if path is None:
        return []
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        return [row["text"] for row in rows if row.get("intent") in intents]
    return read_lines(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("var/eval"))
    parser.add_argument("--negatives", type=Path,
                        default=Path(__file__).parent / "data" / "out_of_scope.txt")
    parser.add_argument("--extra-negatives", type=Path)
    parser.add_argument("--negative-intents", default="out_of_scope,chitchat")
    parser.add_argument("--passage-chars", type=int, default=PASSAGE_CHARS)
    args = parser.parse_args(argv)
    index = KnowledgeIndex(args.data_dir, passage_chars=args.passage_chars)
    print(index.load_or_build(load_faq_jsonl(args.kb), print_progress))
    queries = load_queries(args.queries)
    answerable = [q for q in queries if q.get("expected_kb_id")]
    features = feature_matrices(index, [q["query"] for q in answerable])
    print(variant_table(features, answerable), "\n")
    print(cross_validate(features, answerable), "\n")
    print(e5_miss_ranks(features, answerable), "\n")
    negatives = read_negatives(args.negatives, set())
    extra = read_negatives(args.extra_negatives, set(args.negative_intents.split(",")))
    print(calibrate(index, answerable, negatives, extra), "\n")
    refusals = [{"query": text, "expected_kb_id": None} for text in negatives + extra]
    print(format_report(evaluate_retrieval(index, answerable + refusals)))


if __name__ == "__main__":
    main()
