"""Type stubs of the compiled module behind ``import backprop``."""

from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

_Path = Union[str, "PathLike[str]"]
_Metrics = Dict[str, Any]

ACTIVATIONS: List[str]
HIDDEN_ACTIVATIONS: List[str]
COSTS: List[str]
OPTIMIZERS: List[str]
DEFAULT_EPOCHS: int
DEFAULT_BATCH_SIZE: int
DEFAULT_ETA: float
DEFAULT_VALIDATION_FRACTION: float
DEFAULT_MOMENTUM: float
DEFAULT_BETA1: float
DEFAULT_BETA2: float
DEFAULT_EPSILON: float

class Network:
    """A fully connected network numbered as in the lecture (layers 1..L, ``W^(l)`` of shape
    ``(n_l, n_(l-1))``), in float32 or float64."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: Optional[str] = None,
        cost: str = "quadratic",
        init: str = "standard",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None: ...
    @property
    def sizes(self) -> List[int]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def activation(self) -> str: ...
    @property
    def output_activation(self) -> str: ...
    @property
    def cost(self) -> str: ...
    @property
    def weights(self) -> List[NDArray[np.floating]]: ...
    @weights.setter
    def weights(self, value: Sequence[ArrayLike]) -> None: ...
    @property
    def biases(self) -> List[NDArray[np.floating]]: ...
    @biases.setter
    def biases(self, value: Sequence[ArrayLike]) -> None: ...
    def feedforward(self, x: ArrayLike) -> NDArray[np.floating]: ...
    def backprop(
        self, x: ArrayLike, y: Union[int, ArrayLike]
    ) -> Tuple[List[NDArray[np.floating]], List[NDArray[np.floating]]]: ...
    def trace(self, x: ArrayLike, y: Union[int, ArrayLike]) -> Dict[str, Any]: ...
    def train(
        self,
        x: ArrayLike,
        y: ArrayLike,
        epochs: int = 30,
        batch_size: int = 10,
        eta: float | None = None,
        seed: int = 0,
        test: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        callback: Optional[Callable[[_Metrics], Optional[bool]]] = None,
        **improvements: Any,
    ) -> List[_Metrics]: ...
    def evaluate(self, x: ArrayLike, y: ArrayLike) -> Dict[str, Any]: ...
    def save(self, path: _Path) -> None: ...
    def gradient_check(
        self,
        x: ArrayLike,
        y: ArrayLike,
        step: Optional[float] = None,
        floor: Optional[float] = None,
        max_per_layer: Optional[int] = None,
        seed: int = 0,
    ) -> Dict[str, Any]: ...
    def astype(self, dtype: str) -> "Network": ...

class Data:
    """Examples converted once for repeated training."""

    def __init__(self, x: ArrayLike, y: ArrayLike, n_outputs: int) -> None: ...
    def __len__(self) -> int: ...

class Trainer:
    """Training in progress, kept between calls (momentum and Adam keep their memory)."""

    def __init__(
        self, network: Network, batch_size: int = 10, eta: float | None = None, seed: int = 0, **improvements: Any
    ) -> None: ...
    def run(self, data: Data, epochs: int = 1) -> List[_Metrics]: ...
    @property
    def network(self) -> Network: ...
    @property
    def epoch(self) -> int: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

def load(path: _Path, dtype: str = "float32") -> Network: ...
def mnist_10k() -> Tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float32], NDArray[np.int64]]: ...
def set_threads(n: int) -> None: ...
def _rebuild(
    sizes: Sequence[int],
    activation: str,
    output_activation: str,
    cost: str,
    dtype: str,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
) -> Network: ...
def _rebuild_trainer(
    network: Network,
    batch_size: int,
    eta: float,
    seed: int,
    improvements: Dict[str, Any],
    state: Dict[str, Any],
) -> Trainer: ...
