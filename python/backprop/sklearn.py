"""scikit-learn estimators on the backprop engine: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's conventions and its parameter names where the meaning matches
(``hidden_layer_sizes``, ``activation``, ``solver``, ``alpha``, ``batch_size``,
``learning_rate_init``, ``max_iter``, ``shuffle``, ``random_state``, ``tol``, ``momentum``,
``nesterovs_momentum``, ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
``beta_1``, ``beta_2``, ``epsilon``, ``verbose``), with scikit-learn's defaults, and add the
engine's own: ``cost``, ``dropout``, ``output_activation``, ``threads`` and ``dtype``.

At the defaults they train as scikit-learn's do: the same initialisation (weights and biases
from U(±sqrt(6/(n_in + n_out))), sqrt(2/...) for ``logistic``: the engine's ``init="glorot"``),
Adam with bias correction, L2 on the weights only, mini-batches of ``min(200, n_samples)``
(after the validation split), the same stopping rule on the training loss (or the validation
accuracy with ``early_stopping``, split as scikit-learn splits: stratified for two classes only,
at least 2 examples), and the same ``loss_curve_``, ``loss_``, ``best_loss_``, ``n_iter_``,
``t_``, ``validation_scores_`` and ``ConvergenceWarning``.

Differences from ``sklearn.neural_network``, said plainly:

* ``solver`` is ``"sgd"`` or ``"adam"`` (no ``"lbfgs"``); ``learning_rate`` schedules other than
  ``"constant"`` are not offered (use :meth:`backprop.Network.train` and its ``schedule``), nor
  ``warm_start`` or ``sample_weight``.
* Training runs in ``float32`` by default, whatever the dtype of X. ``dtype="float64"`` keeps the
  weights in float64, but the examples still reach the engine as float32 (``backprop.Data`` holds
  float32 only), so it is not scikit-learn's float64 training on float64 input.
* The random numbers are the engine's (seeded by ``random_state``), so the initial weights and
  the order of the examples have scikit-learn's distributions but not its values.
* ``alpha`` is scikit-learn's L2 penalty per mini-batch; it is passed to the engine as the
  lecture's ``lambda = alpha * n_samples / batch_size``, which gives the same gradient on every
  full mini-batch (on the last, smaller one scikit-learn divides by its size, the engine by
  ``batch_size``), and ``loss_curve_`` adds the penalty once per epoch with the epoch's last
  weights (scikit-learn: once per mini-batch, with the weights before its step).
* Adam's ``epsilon`` is added to ``sqrt(v_hat)`` (Kingma and Ba's algorithm, PyTorch's form);
  scikit-learn adds it to ``sqrt(v)`` before the bias correction, so its ε is in effect
  ``ε / sqrt(1 - β₂^t)`` (31 ε at the first step, ε after a few thousand steps); the effect of
  this alone on accuracy was not measured.
* ``shuffle=False`` is refused: the engine always shuffles, seeded by ``random_state``.
* A classifier's output layer is softmax with the log-likelihood cost (for two classes too: two
  softmax outputs are the logistic output, with twice the output weights; scikit-learn uses one
  logistic output), so ``n_outputs_`` is the number of classes; a regressor's is identity with
  the quadratic cost ``|a - y|^2 / 2`` (scikit-learn's squared error).
* ``n_iter_`` counts every epoch of ``partial_fit`` calls since the last ``fit`` (scikit-learn
  resets it to 1 at each call).
* Importing this module imports scikit-learn; ``import backprop`` alone does not.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


from . import _native

__all__ = ["MLPClassifier", "MLPRegressor"]

#: scikit-learn's activation names and the engine's.
_ACTIVATIONS = {"logistic": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
                "identity": "identity"}


def _count(value):
    """An integer, and not a bool (True is no number of epochs)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _number(value):
    """A real number, and not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _dtype_name(dtype):
    """``"float32"`` or ``"float64"`` from a name or a NumPy dtype."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return name


#: What `fit` sets: a failed `fit` removes all of it, so the estimator is not fitted (scikit-learn's
#: NotFittedError) rather than holding an untrained network.
_FITTED = ("_network", "_trainer", "classes_", "n_iter_", "t_", "loss_", "loss_curve_", "best_loss_",
           "validation_scores_", "best_validation_score_", "n_layers_", "n_outputs_", "out_activation_",
           "_no_improvement", "_y_1d")


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share."""

    _default_output = "identity"
    _default_cost = "quadratic"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        momentum=_native.DEFAULT_MOMENTUM,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=_native.DEFAULT_VALIDATION_FRACTION,
        beta_1=_native.DEFAULT_BETA1,
        beta_2=_native.DEFAULT_BETA2,
        epsilon=_native.DEFAULT_EPSILON,
        n_iter_no_change=10,
        cost=None,
        dropout=0.0,
        output_activation=None,
        threads=None,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.cost = cost
        self.dropout = dropout
        self.output_activation = output_activation
        self.threads = threads
        self.dtype = dtype

    # -- parameters ------------------------------------------------------------------------

    def _check_params(self):
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"unknown activation `{self.activation}`; expected one of {', '.join(_ACTIVATIONS)}"
            )
        if self.solver not in ("sgd", "adam"):
            raise ValueError(f"unknown solver `{self.solver}`; expected sgd or adam")
        if not self.shuffle:
            raise ValueError("shuffle=False is not supported: the engine always shuffles, seeded by random_state")
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes) if hasattr(sizes, "__iter__") else [None]
        if not all(_count(n) and 0 < n < 2**62 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if not (_count(self.max_iter) and self.max_iter > 0):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not (_count(self.n_iter_no_change) and self.n_iter_no_change > 0):
            raise ValueError(f"n_iter_no_change must be an integer >= 1, got {self.n_iter_no_change!r}")
        for name in ("alpha", "tol", "momentum", "learning_rate_init"):
            value = getattr(self, name)
            if not (_number(value) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        _dtype_name(self.dtype)
        if self.early_stopping and not (0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        return [int(n) for n in sizes]

    def _improvements(self, n_samples, batch_size):
        kw = {"threads": self.threads, "dropout": float(self.dropout)}
        if self.alpha:
            kw["lambda"] = float(self.alpha) * n_samples / batch_size
        if self.solver == "adam":
            kw.update(optimizer="adam", beta1=float(self.beta_1), beta2=float(self.beta_2),
                      epsilon=float(self.epsilon))
        elif self.momentum:
            kw.update(optimizer="nesterov" if self.nesterovs_momentum else "momentum",
                      momentum=float(self.momentum))
        else:
            kw["optimizer"] = "sgd"
        return kw

    def _batch_size(self, n_samples):
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ValueError(f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size!r}")
            return min(200, n_samples)
        if not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size > 0):
            raise ValueError(f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size!r}")
        return int(min(self.batch_size, n_samples))

    # -- training --------------------------------------------------------------------------

    def _new_network(self, n_in, n_out, hidden):
        seed = int(self._rng.randint(np.iinfo(np.int32).max))
        return _native.Network(
            [n_in, *hidden, n_out],
            activation=_ACTIVATIONS[self.activation],
            output_activation=self.output_activation or self._default_output,
            cost=self.cost or self._default_cost,
            # scikit-learn's initialisation: weights and biases from U(±sqrt(6/(n_in + n_out))),
            # sqrt(2/...) for logistic networks (the engine's "glorot").
            init="glorot",
            seed=seed,
            dtype=_dtype_name(self.dtype),
        )

    def _start(self, X, n_out, hidden):
        """A fresh network and trainer for the training data X (the validation split held out),
        with the hidden layers' sizes that ``_check_params`` read."""
        n_samples = X.shape[0]
        batch = self._batch_size(n_samples)
        self._network = self._new_network(X.shape[1], n_out, hidden)
        self._trainer = _native.Trainer(
            self._network, batch_size=batch, eta=float(self.learning_rate_init),
            seed=int(self._rng.randint(np.iinfo(np.int32).max)),
            **self._improvements(n_samples, batch),
        )
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_out
        self.out_activation_ = self._network.output_activation
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.best_loss_ = np.inf
        self._no_improvement = 0
        self.n_iter_ = 0
        self.t_ = 0

    def _epochs(self, X, targets, y_val_raw, X_val, epochs, incremental):
        data = _native.Data(X, targets, self.n_outputs_)
        best = None
        for _ in range(epochs):
            report = self._trainer.run(data, 1)[0]
            self.n_iter_ += 1
            self.t_ += X.shape[0]
            loss = report["train_cost"]
            self.loss_curve_.append(loss)
            self.loss_ = loss
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            if incremental:
                self.best_loss_ = loss if self.best_loss_ is None else min(self.best_loss_, loss)
                continue
            if self.early_stopping:
                self._network = self._trainer.network  # a copy: scored now, kept if the best
                score = self._score_raw(X_val, y_val_raw)
                self.validation_scores_.append(score)
                if self.verbose:
                    print(f"Validation score: {score:f}")
                improved = score >= self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best = self._network
            else:
                improved = loss <= self.best_loss_ - self.tol
                self.best_loss_ = min(self.best_loss_, loss)
            self._no_improvement = 0 if improved else self._no_improvement + 1
            if self._no_improvement > self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if self.early_stopping else "Training loss"
                    print(f"{what} did not improve more than tol={self.tol:f} for "
                          f"{self.n_iter_no_change} consecutive epochs. Stopping.")
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                    "optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
        # The network is copied out of the trainer once, not after every epoch.
        self._network = best if best is not None else self._trainer.network
        if self.early_stopping:
            self.best_loss_ = None

    def _fit(self, X, y, incremental):
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        X, targets, y_raw = self._prepare_fit(X, y, incremental)
        first = not (incremental and hasattr(self, "_trainer"))
        if not first and getattr(self, "_trainer", None) is None:
            raise ValueError("this estimator was pickled by an older backprop without its optimizer state: "
                             "call fit before partial_fit")
        if first:
            hidden = self._check_params()
            self._rng = check_random_state(self.random_state)
        X_val = y_val = None
        if self.early_stopping and not incremental:
            X, X_val, targets, y_val = self._validation_split(X, targets, y_raw)
        if first:
            self._start(X, targets.shape[1] if targets.ndim == 2 else len(self.classes_), hidden)
        self._epochs(X, targets, y_val, X_val, 1 if incremental else self.max_iter, incremental)
        return self

    def _validation_split(self, X, targets, y_raw):
        """scikit-learn's split: ``validation_fraction`` of the examples drawn at random, stratified
        for two classes only (as scikit-learn does), and at least 2 of them."""
        binary = isinstance(self, ClassifierMixin) and len(self.classes_) == 2
        seed = self._rng.randint(np.iinfo(np.int32).max)
        try:
            X, X_val, targets, _, _, y_val = train_test_split(
                X, targets, y_raw, test_size=self.validation_fraction, random_state=seed,
                stratify=y_raw if binary else None)
        except ValueError:  # a class too small to stratify
            X, X_val, targets, _, _, y_val = train_test_split(
                X, targets, y_raw, test_size=self.validation_fraction, random_state=seed)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return np.ascontiguousarray(X), X_val, targets, y_val

    def fit(self, X, y):
        """Trains a fresh network on (X, y) for up to ``max_iter`` epochs. If it fails (bad data,
        divergence, Ctrl-C), the estimator is left unfitted."""
        self._forget()
        try:
            return self._fit(X, y, incremental=False)
        except BaseException:
            self._forget()
            raise

    def _forget(self):
        for attr in _FITTED:
            if hasattr(self, attr):
                delattr(self, attr)

    # -- the fitted network ----------------------------------------------------------------

    @property
    def coefs_(self):
        """Weights in scikit-learn's orientation: ``coefs_[i]`` is ``W^(i+2)`` transposed, ``(n_in, n_out)``."""
        check_is_fitted(self, "_network")
        return [w.T for w in self._network.weights]

    @property
    def intercepts_(self):
        """Biases: ``intercepts_[i]`` is ``b^(i+2)``."""
        check_is_fitted(self, "_network")
        return self._network.biases

    @property
    def network_(self):
        """The fitted :class:`backprop.Network` (a copy), in the lecture's orientation."""
        check_is_fitted(self, "_network")
        return _native._rebuild(*self._network.__reduce__()[1])

    def _forward(self, X):
        check_is_fitted(self, "_network")
        X = _validate_data(self, X, reset=False, dtype=(np.float32, np.float64), order="C")
        return self._network.feedforward(X)

    # Pickles keep the trainer (the optimizer's memory: Adam's moments or the momentum
    # velocities, the step count), so partial_fit continues after unpickling exactly as without
    # the round trip. Pickles of versions that left it out load, predict, and ask for fit.
    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_network" in state and "_trainer" not in state:
            self._trainer = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier trained by back-propagation on the backprop engine.

    Parameters are those of ``sklearn.neural_network.MLPClassifier`` where the meaning matches
    (see the module's docstring for the differences), plus ``cost`` (default
    ``"log-likelihood"``), ``dropout``, ``output_activation`` (default ``"softmax"``),
    ``threads`` (default: one per core) and ``dtype`` (``"float32"`` or ``"float64"``).

    >>> from backprop import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(30,), random_state=0).fit(X, y)   # doctest: +SKIP
    """

    _default_output = "softmax"
    _default_cost = "log-likelihood"

    def _prepare_fit(self, X, y, incremental):
        X, y = _validate_data(self, X, y, reset=not (incremental and hasattr(self, "_trainer")),
                              dtype=(np.float32, np.float64), order="C")
        y = column_or_1d(y, warn=True)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"Unknown label type: {target_type}; MLPClassifier takes one label per example")
        if not (incremental and hasattr(self, "classes_")):
            if incremental:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = unique_labels(y)
        elif not np.isin(unique_labels(y), self.classes_).all():
            raise ValueError(f"y holds labels not in classes {self.classes_}")
        labels = np.searchsorted(self.classes_, y).astype(np.int64)
        return X, labels, y

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y); ``classes`` (every label that will ever be seen) on the first call."""
        if not hasattr(self, "classes_") or not hasattr(self, "_trainer"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = unique_labels(classes)
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"`classes={list(classes)!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")
        return self._fit(X, y, incremental=True)

    def _score_raw(self, X, y):
        return float(np.mean(self.predict(X) == y))

    def predict_proba(self, X):
        """Class probabilities, one column per ``classes_`` entry (the softmax outputs)."""
        a = np.asarray(self._forward(X), dtype=np.float64)
        if self._network.output_activation != "softmax":
            a = np.clip(a, 0, None)
            total = a.sum(axis=1, keepdims=True)
            a = np.where(total > 0, a / np.where(total > 0, total, 1), 1.0 / a.shape[1])
        return a

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The class of the largest output."""
        check_is_fitted(self, "_network")
        return self.classes_[np.argmax(self._forward(X), axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor trained by back-propagation on the backprop engine.

    The output layer is identity with the quadratic cost ``|a - y|^2 / 2`` by default (the
    regression setting); ``y`` may be 1-dimensional or ``(n_samples, n_outputs)``. Other
    parameters as for :class:`MLPClassifier`.
    """

    def _prepare_fit(self, X, y, incremental):
        try:
            X, y = _validate_data(self, X, y, reset=not incremental or not hasattr(self, "_network"),
                                  multi_output=True, y_numeric=True, dtype=(np.float32, np.float64), order="C")
        except ValueError as e:
            if "convert" in str(e) or "string" in str(e):
                raise ValueError(f"MLPRegressor needs numeric targets y: {e}") from e
            raise
        y = np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise ValueError(
                f"MLPRegressor needs numeric targets y, got dtype {y.dtype}; for labels use MLPClassifier"
            )
        y = y.astype(np.float64)
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if incremental and hasattr(self, "_trainer") and n_out != self.n_outputs_:
            raise ValueError(f"y has {n_out} outputs, but the network was fitted with {self.n_outputs_}")
        self._y_1d = y.ndim == 1
        targets = y.reshape(-1, 1) if y.ndim == 1 else y
        return X, np.ascontiguousarray(targets, dtype=np.float32), y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing the current training."""
        return self._fit(X, y, incremental=True)

    def _score_raw(self, X, y):
        from sklearn.metrics import r2_score

        return float(r2_score(y, self.predict(X)))

    def predict(self, X):
        """The network's output ``a^(L)``; 1-dimensional when fitted on 1-dimensional y."""
        a = np.asarray(self._forward(X), dtype=np.float64)
        return a.ravel() if getattr(self, "_y_1d", False) else a
