#!/usr/bin/env python3
"""backprop's Python estimator against scikit-learn's MLPClassifier, side by side in one run.

Two comparisons, on Fashion-MNIST (60,000 training and 10,000 test images):

* fixed epochs: the same network, solver, mini-batch size, epochs, learning rate and data (pixels
  / 255 as float32), no L2 penalty (alpha=0) on either side; seconds per epoch (fit time / epochs
  run: training only) and test accuracy;
* `--defaults`: both estimators exactly as a new user runs them, every parameter at its default
  but `random_state=0`, on the pixels / 255 (float64, as `X / 255.0` gives) and on the pixels
  standardised by `StandardScaler`; the whole fit time, the epochs run (`n_iter_`, each stops by
  its own convergence rule), seconds per epoch and test accuracy.

Both use the default thread counts of both (scikit-learn's BLAS and ours: one per core). Prints a
Markdown table per comparison.

    python3 bench/python_vs_sklearn.py [--epochs-sgd 5] [--epochs-adam 10] [--defaults] [--only-defaults] [--data DIR]

Needs `pip install ./python scikit-learn` and Fashion-MNIST (Debian's dataset-fashion-mnist,
or --data DIR with the four IDX .gz files). Not a test: nothing here asserts a time.
"""

import argparse
import gzip
import pathlib
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

import backprop

CONFIGS = [
    # name, hidden, solver, extra parameters
    ("784-100-10 sgd", (100,), "sgd", dict(momentum=0.0, batch_size=10, learning_rate_init=0.01)),
    ("784-256-128-10 adam", (256, 128), "adam", dict(batch_size=200, learning_rate_init=0.001)),
]


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory):
    d = pathlib.Path(directory)
    x = lambda name: (idx(d / name).reshape(-1, 784) / np.float32(255)).astype(np.float32)  # noqa: E731
    return (x("train-images-idx3-ubyte.gz"), idx(d / "train-labels-idx1-ubyte.gz").astype(np.int64),
            x("t10k-images-idx3-ubyte.gz"), idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64))


def run(make, epochs, X, y, Xt, yt):
    clf = make(max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds / clf.n_iter_, clf.score(Xt, yt), clf.n_iter_


def defaults(X, y, Xt, yt):
    """Both estimators at every default but random_state=0, on two scalings of the pixels."""
    from sklearn.preprocessing import StandardScaler

    pixels, test_pixels = np.round(X * 255) / 255.0, np.round(Xt * 255) / 255.0  # X / 255.0 in float64
    scaler = StandardScaler().fit(pixels)
    rows = []
    for scaling, (a, b) in [("pixels / 255", (pixels, test_pixels)),
                            ("StandardScaler", (scaler.transform(pixels), scaler.transform(test_pixels)))]:
        for name, make in [("backprop", backprop.MLPClassifier), ("scikit-learn", SkMLP)]:
            clf = make(random_state=0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                clf.fit(a, y)
                seconds = time.perf_counter() - start
            converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
            row = (scaling, name, seconds, clf.n_iter_, converged, clf.score(b, yt))
            print(f"defaults, {scaling}: {name} fit {seconds:.1f} s, {clf.n_iter_} epochs "
                  f"({'converged' if converged else 'not converged'}), accuracy {100 * row[5]:.2f}%", flush=True)
            rows.append(row)
    print()
    print("| scaling | estimator | fit (s) | epochs (`n_iter_`) | s/epoch | test accuracy | fit time ÷ backprop's |")
    print("|---|---|---|---|---|---|---|")
    for scaling, name, seconds, n_iter, converged, accuracy in rows:
        ours = next(r[2] for r in rows if r[0] == scaling and r[1] == "backprop")
        note = "" if converged else " (not converged)"
        print(f"| {scaling} | {name} | {seconds:.1f} | {n_iter}{note} | {seconds / n_iter:.3f} "
              f"| {100 * accuracy:.2f}% | {seconds / ours:.1f}× |")
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs-sgd", type=int, default=5)
    p.add_argument("--epochs-adam", type=int, default=10)
    p.add_argument("--defaults", action="store_true", help="also run both at every default")
    p.add_argument("--only-defaults", action="store_true", help="run only the defaults comparison")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    X, y, Xt, yt = load(args.data)
    print(f"Fashion-MNIST {X.shape[0]} / {Xt.shape[0]}; {platform.processor() or platform.machine()}; "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    if args.defaults or args.only_defaults:
        defaults(X, y, Xt, yt)
    if args.only_defaults:
        return
    rows = []
    for (name, hidden, solver, extra), epochs in zip(CONFIGS, [args.epochs_sgd, args.epochs_adam]):
        common = dict(hidden_layer_sizes=hidden, activation="relu", solver=solver, alpha=0.0,
                      tol=0.0, n_iter_no_change=epochs + 1, random_state=0, **extra)
        ours = run(lambda **kw: backprop.MLPClassifier(**common, **kw), epochs, X, y, Xt, yt)
        print(f"{name}: backprop {ours[0]:.3f} s/epoch, accuracy {100 * ours[1]:.2f}% ({ours[2]} epochs)", flush=True)
        theirs = run(lambda **kw: SkMLP(**common, **kw), epochs, X, y, Xt, yt)
        print(f"{name}: scikit-learn {theirs[0]:.3f} s/epoch, accuracy {100 * theirs[1]:.2f}% ({theirs[2]} epochs)", flush=True)
        rows.append((name, extra["batch_size"], epochs, ours, theirs))
    print()
    print("| network, solver | mini-batch | epochs | backprop s/epoch | scikit-learn s/epoch | speed-up | backprop accuracy | scikit-learn accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for name, m, epochs, ours, theirs in rows:
        print(f"| {name} | {m} | {epochs} | {ours[0]:.3f} | {theirs[0]:.3f} | {theirs[0] / ours[0]:.1f}× "
              f"| {100 * ours[1]:.2f}% | {100 * theirs[1]:.2f}% |")


if __name__ == "__main__":
    main()
