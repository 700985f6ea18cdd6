"""Temperature scaling fitted on out-of-fold scores, so confidences mean what they say.

A logistic regression trained to near-separation on a few hundred examples per class is
over-confident on new wording; one temperature learnt from cross-validation undoes most of it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

FloatArray = npt.NDArray[np.float64]
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0


def fit_temperature(logits: FloatArray, labels: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises the negative log-likelihood of the true labels."""

    def nll(temperature: float) -> float:
        log_probs = log_softmax(logits / temperature, axis=1)
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(nll, bounds=(MIN_TEMPERATURE, MAX_TEMPERATURE), method="bounded")
    return float(result.x)


def calibrated_probabilities(logits: FloatArray, temperature: float) -> FloatArray:
    return np.asarray(softmax(logits / temperature, axis=1), dtype=np.float64)
