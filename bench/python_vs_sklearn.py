#!/usr/bin/env python3
"""backprop's Python estimator against scikit-learn's MLPClassifier, side by side in one run.

Same network, solver, mini-batch size, epochs, learning rate and data (Fashion-MNIST, 60,000
training and 10,000 test images, pixels / 255 as float32); no L2 penalty (alpha=0) on either
side; the default thread counts of both (scikit-learn's BLAS and ours: one per core). Prints
seconds per epoch (fit time / epochs run: training only) and test accuracy, and a Markdown table.

    python3 bench/python_vs_sklearn.py [--epochs-sgd 5] [--epochs-adam 10] [--data DIR]

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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs-sgd", type=int, default=5)
    p.add_argument("--epochs-adam", type=int, default=10)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    X, y, Xt, yt = load(args.data)
    print(f"Fashion-MNIST {X.shape[0]} / {Xt.shape[0]}; {platform.processor() or platform.machine()}; "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
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
