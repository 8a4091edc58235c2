"""backprop: fully connected networks trained by back-propagation, as the lecture teaches it.

Two levels:

* the lecture's: :class:`Network` in its notation (layers 1..L, ``W^(l)`` of shape
  ``(n_l, n_(l-1))``), with ``feedforward``, ``backprop``, ``trace``, ``train``, ``evaluate``,
  ``save`` / :func:`load` (the command line's safetensors model files) and ``gradient_check``;
* scikit-learn's: :class:`MLPClassifier` and :class:`MLPRegressor` (scikit-learn is imported only
  when one of them is used).

>>> import backprop
>>> X, y, X_test, y_test = backprop.datasets.mnist_10k()
>>> net = backprop.Network([784, 30, 10])
>>> reports = net.train(X, y, epochs=3, test=(X_test, y_test))
>>> reports[-1]["test_accuracy"] > 0.85
True
"""

from __future__ import annotations

from . import datasets
from ._native import (
    ACTIVATIONS,
    COSTS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BETA1,
    DEFAULT_BETA2,
    DEFAULT_EPOCHS,
    DEFAULT_EPSILON,
    DEFAULT_ETA,
    DEFAULT_MOMENTUM,
    DEFAULT_VALIDATION_FRACTION,
    HIDDEN_ACTIVATIONS,
    OPTIMIZERS,
    Data,
    Network,
    Trainer,
    load,
    set_threads,
)

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BETA1",
    "DEFAULT_BETA2",
    "DEFAULT_EPOCHS",
    "DEFAULT_EPSILON",
    "DEFAULT_ETA",
    "DEFAULT_MOMENTUM",
    "DEFAULT_VALIDATION_FRACTION",
    "HIDDEN_ACTIVATIONS",
    "OPTIMIZERS",
    "MLPClassifier",
    "MLPRegressor",
    "Data",
    "Network",
    "Trainer",
    "datasets",
    "load",
    "set_threads",
]


def __getattr__(name: str):
    # The estimators import scikit-learn, an optional dependency: only when asked for.
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import sklearn as _sklearn

        return getattr(_sklearn, name)
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")
