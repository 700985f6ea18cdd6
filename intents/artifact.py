"""Save and load a trained model: `model.pkl` plus `meta.json`, which says what it was built
from. A model is reused only while all of that still holds."""

from __future__ import annotations

import json
import pickle
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy
import scipy
import sklearn

from intents.errors import ModelLoadError
from intents.training import ModelConfig, TrainedModel

FORMAT_VERSION = 2  # bump when training changes in a way ModelConfig does not record
MODEL_FILE, META_FILE = "model.pkl", "meta.json"


def model_meta(model: TrainedModel) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "nlu_sha256": model.nlu_sha256,
        "encoder_model_id": model.encoder_model_id,
        "config": asdict(model.config),
        "labels": list(model.labels),
        "temperature": model.temperature,
        "versions": _library_versions(),
    }


def write_model(model_dir: Path, model: TrainedModel) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(model_dir / MODEL_FILE, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    meta = json.dumps(model_meta(model), ensure_ascii=False, indent=2)
    _write_atomic(model_dir / META_FILE, meta.encode("utf-8"))  # last: marks the pair complete


def read_model(
    model_dir: Path, nlu_sha256: str, encoder_model_id: str, config: ModelConfig
) -> TrainedModel | None:
    """The saved model if it was built from this YAML, encoder and config; None when stale or
    absent."""
    meta = read_meta(model_dir)
    wanted = {"format": FORMAT_VERSION, "nlu_sha256": nlu_sha256,
              "encoder_model_id": encoder_model_id, "config": asdict(config),
              "versions": _library_versions()}  # another scikit-learn's pickle: retrain
    if meta is None or any(meta.get(key) != value for key, value in wanted.items()):
        return None
    try:
        model = pickle.loads((model_dir / MODEL_FILE).read_bytes())
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError, ImportError) as exc:
        raise ModelLoadError(f"cannot load {model_dir / MODEL_FILE}: {exc}") from exc
    if not isinstance(model, TrainedModel) or model.nlu_sha256 != nlu_sha256:
        raise ModelLoadError(f"{model_dir / MODEL_FILE} does not match {META_FILE}")
    return model


def read_meta(model_dir: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((model_dir / META_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}


def _write_atomic(path: Path, payload: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(payload)
    partial.replace(path)
