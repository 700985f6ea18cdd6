"""Speed and memory figures: bare e5 query, cold search at 2k and 20k entries, upsert, RSS.

    python -m retrieval.benchmark --kb ../shared/eval/kb.jsonl \\
        --queries ../shared/eval/dev_queries.jsonl --data-dir var/bench [--scale 10]

The 2k index is the real one (built with e5 through the embedding cache). The
20k one copies every entry `scale` times with new ids and perturbed text; its
passage vectors are the originals' e5 vectors plus small noise, because embedding
18,000 more entries would take an hour and search cost does not depend on which
unit vectors are stored. Queries always go through the real e5 model.
"""

from __future__ import annotations

import argparse
import random
import resource
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base.models import Entry
from retrieval.embed import E5Embedder, EmbeddingCache
from retrieval.evaluate import load_faq_jsonl, load_queries
from retrieval.indexer import KnowledgeIndex, print_progress


class NoisyCopyEmbedder:
    """e5 for queries; for passages, the cached e5 vector of the original text plus noise."""

    def __init__(self, e5: E5Embedder, cache: EmbeddingCache, originals: dict[str, str]) -> None:
        self.model_id, self.dim = e5.model_id, e5.dim
        self._e5, self._cache, self._originals = e5, cache, originals
        self._rng = np.random.default_rng(0)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._noisy(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._noisy(texts, "passage")

    def _noisy(self, texts: Sequence[str], role: str) -> np.ndarray:
        base = self._cache.embed(self._e5, [self._originals.get(t, t) for t in texts], role)
        noisy = base + self._rng.normal(0, 0.01, base.shape).astype(np.float32)
        return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def perturb(text: str, rng: random.Random) -> str:
    """Drop or swap a few characters, so the copy's terms differ a little."""
    chars = list(text)
    for _ in range(max(1, len(chars) // 20)):
        i = rng.randrange(len(chars)) if chars else 0
        if chars and rng.random() < 0.5:
            del chars[i]
        elif len(chars) > 1:
            j = min(i + 1, len(chars) - 1)
            chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars) or text


def synthetic_copies(entries: list[Entry], scale: int) -> tuple[list[Entry], dict[str, str]]:
    """`scale` - 1 perturbed copies of each entry; maps each copy's dense texts to the original's."""
    rng, out, originals = random.Random(0), list(entries), {}
    for n in range(1, scale):
        for entry in entries:
            copy = entry.model_copy(update={"id": f"{entry.id}-copy{n}",
                                            "title": perturb(entry.title, rng),
                                            "text": perturb(entry.text, rng)})
            out.append(copy)
            originals.update(zip(dense_texts_of(copy), dense_texts_of(entry), strict=False))
    return out, originals


def dense_texts_of(entry: Entry) -> list[str]:
    from retrieval.document import index_entry

    return [t.text for t in index_entry(entry).dense_texts]


def interleaved(e5: E5Embedder, indexes: dict[str, KnowledgeIndex], texts: list[str]
                ) -> dict[str, dict[str, float]]:
    """Per query: bare e5, then a cold search in each index (query cache cleared), so
    every figure sees the same load on a shared machine. Milliseconds."""
    times: dict[str, list[float]] = {"bare e5": [], **{name: [] for name in indexes}}
    for text in texts:
        started = time.perf_counter()
        e5.embed_queries([text])
        times["bare e5"].append((time.perf_counter() - started) * 1000)
        for name, index in indexes.items():
            index.retriever.cache.clear()
            started = time.perf_counter()
            index.retriever.search(text)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"p50": round(float(np.percentile(t, 50)), 1),
                   "p99": round(float(np.percentile(t, 99)), 1)} for name, t in times.items()}


def time_upsert(index: KnowledgeIndex) -> dict[str, float]:
    """Seconds until a new entry is found by search (polled from another thread, with the
    query embedded beforehand so e5 time is not counted twice) and until it is saved."""
    entry = Entry(id="bench-upsert", title="共享单车停放管理规定",
                  text="共享单车应停放在划定的停放区域内，违规停放由城管部门依法处理。")
    vector = index.retriever.embedder.embed_queries([entry.title])[0]
    seen: dict[str, float] = {}
    started = time.perf_counter()

    def poll() -> None:
        while "searchable" not in seen and time.perf_counter() - started < 30:
            hits = index.retriever.search_vector(entry.title, vector, 1).hits
            if hits and hits[0].entry_id == entry.id:
                seen["searchable"] = time.perf_counter() - started

    watcher = threading.Thread(target=poll)
    watcher.start()
    index.upsert(entry)
    saved = time.perf_counter() - started
    watcher.join()
    index.remove(entry.id)
    return {"searchable_s": seen.get("searchable", float("nan")), "saved_s": saved}


def cold_build(e5: E5Embedder, entries: list[Entry], sample: int, directory: Path
               ) -> dict[str, float]:
    """Build `sample` entries (spread over the base) with an empty cache; scale to all."""
    import shutil

    shutil.rmtree(directory, ignore_errors=True)
    picked = entries[:: max(1, len(entries) // sample)][:sample]
    index = KnowledgeIndex(directory, embedder=e5)
    started = time.perf_counter()
    index.build(picked)
    seconds = time.perf_counter() - started
    return {"entries": len(picked), "seconds": seconds,
            "estimate_all_s": seconds / len(picked) * len(entries)}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--cold-sample", type=int, default=200, help="0 skips the cold build")
    args = parser.parse_args(argv)
    entries, texts = load_faq_jsonl(args.kb), [q["query"] for q in load_queries(args.queries)]
    e5 = E5Embedder()
    e5.embed_queries(texts[:5])  # warm up
    if args.cold_sample:
        print("cold build", cold_build(e5, entries, args.cold_sample, args.data_dir / "cold"))
    small = KnowledgeIndex(args.data_dir / "2k", embedder=e5)
    print(small.load_or_build(entries, print_progress))
    big_entries, originals = synthetic_copies(entries, args.scale)
    big = KnowledgeIndex(args.data_dir / "20k", embedder=NoisyCopyEmbedder(e5, small.cache, originals))
    print(big.load_or_build(big_entries, print_progress))
    big.retriever.embedder = e5  # queries through the real model, not the copy cache
    sizes = {f"search {len(small)}": small, f"search {len(big)}": big}
    print("latency ms", interleaved(e5, sizes, texts))
    for name, index in sizes.items():
        print(name, "upsert", time_upsert(index))
    print(f"max RSS {rss_mb():.0f} MB (e5, both indexes, jieba)")


if __name__ == "__main__":
    main()
