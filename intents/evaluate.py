"""Score an intent classifier on labelled rows: accuracy, macro-F1, route accuracy, per-intent
figures and a confusion matrix.

    python -m intents.evaluate ROWS.jsonl [--nlu intents/data/nlu.yml] [--model-dir var/intents]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from intents.classifier import IntentClassifier, IntentPrediction

# The two question intents both go to the knowledge base: one route.
ROUTES: Mapping[str, str] = {"ask_service_guide": "ask_kb", "ask_policy": "ask_kb"}


@runtime_checkable
class BatchIntentClassifier(Protocol):
    def parse_batch(self, texts: Sequence[str]) -> list[IntentPrediction]: ...


def evaluate_intents(
    classifier: IntentClassifier, rows: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Gold labels the classifier has no class for can never be predicted: they count as errors."""
    items = [(str(row["text"]), str(row["intent"])) for row in rows]
    predicted = predict_names(classifier, [text for text, _ in items])
    gold = [intent for _, intent in items]
    per_intent = {label: _intent_scores(label, gold, predicted) for label in sorted(set(gold))}
    return {
        "count": len(items),
        "accuracy": _share(g == p for g, p in zip(gold, predicted, strict=True)),
        "macro_f1": _mean(scores["f1"] for scores in per_intent.values()),
        "route_accuracy": _share(route(g) == route(p)
                                 for g, p in zip(gold, predicted, strict=True)),
        "per_intent": per_intent,
        "confusion": confusion_matrix(gold, predicted),
        "errors": [{"text": t, "intent": g, "predicted": p}
                   for (t, g), p in zip(items, predicted, strict=True) if g != p],
    }


def predict_names(classifier: IntentClassifier, texts: Sequence[str]) -> list[str]:
    if isinstance(classifier, BatchIntentClassifier):
        return [prediction.name for prediction in classifier.parse_batch(texts)]
    return [classifier.parse(text).name for text in texts]


def route(intent: str) -> str:
    return ROUTES.get(intent, intent)


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Rows are gold labels, columns predictions, over every label seen in either."""
    labels = sorted(set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted, strict=True))
    return {"labels": labels, "matrix": [[pairs[(g, p)] for p in labels] for g in labels]}


def format_report(result: Mapping[str, Any]) -> str:
    summary = (f"rows {result['count']}  accuracy {result['accuracy']:.3f}  "
               f"macro-F1 {result['macro_f1']:.3f}  route accuracy {result['route_accuracy']:.3f}")
    header = f"{'intent':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"
    lines = [summary, "", header]
    for label, s in result["per_intent"].items():
        lines.append(f"{label:<22}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}"
                     f"{s['support']:>9d}")
    return "\n".join(lines + ["", *_confusion_lines(result["confusion"])])


def _confusion_lines(confusion: Mapping[str, Any]) -> list[str]:
    labels = confusion["labels"]
    header = f"{'gold / predicted':<22}" + "".join(f"{n:>5d}" for n in range(1, len(labels) + 1))
    rows = [f"{n:>2d} {label:<19}" + "".join(f"{count:>5d}" for count in counts)
            for n, (label, counts) in enumerate(zip(labels, confusion["matrix"], strict=True), 1)]
    return [header, *rows]


def _intent_scores(label: str, gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
    support, claimed = gold.count(label), predicted.count(label)
    precision = hits / claimed if claimed else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def _share(flags: Iterable[bool]) -> float:
    return _mean(1.0 if flag else 0.0 for flag in flags)


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def read_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intents.evaluate")
    parser.add_argument("rows", type=Path, help="jsonl with text and intent")
    parser.add_argument("--nlu", type=Path, default=Path("intents/data/nlu.yml"))
    parser.add_argument("--model-dir", type=Path, default=Path("var/intents"))
    parser.add_argument("--json", action="store_true", help="the whole result as JSON")
    args = parser.parse_args(argv)
    from intents.model import E5QueryEncoder, load_or_train

    classifier = load_or_train(args.nlu, args.model_dir, E5QueryEncoder())
    result = evaluate_intents(classifier, read_rows(args.rows))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
