"""Data sets that ship with the package."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import _native

__all__ = ["mnist_10k"]


def mnist_10k() -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 10,000 MNIST digits embedded in the library, split as the command line splits them.

    Returns ``(X_train, y_train, X_test, y_test)``: the first 8,000 digits for training and the
    last 2,000 for testing; ``X`` is float32 of shape ``(N, 784)`` with pixels in ``[0, 1]``,
    ``y`` int64 labels ``0..9``. Licence: CC BY-SA 3.0 (LeCun, Cortes, Burges).
    """
    return _native.mnist_10k()
