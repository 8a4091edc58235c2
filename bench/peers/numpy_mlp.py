#!/usr/bin/env python3
"""Benchmark peer: the backprop recipe in NumPy, vectorised over the mini-batch.

Each mini-batch is one matrix per layer (rows = examples), so every layer costs three matrix
products (forward, weight gradient, back-propagated error; the first layer needs no error),
all float32 through NumPy's BLAS (OpenBLAS in the PyPI wheel).

Data: the pixels stay uint8 as loaded and each mini-batch is converted to float32 / 255 when it
is gathered, inside the timed loop (as the Rust peers do). That conversion is ~m*784 element
operations per batch, negligible next to the matrix products, and it keeps the process from
holding a float32 copy of the training set (188 MB for Fashion-MNIST).

Prints one JSON line per epoch: {"peer": "numpy", "epoch", "train_seconds", "test_accuracy"}.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ARGS = common.parse_args("numpy")
common.limit_blas_threads(ARGS.threads)  # before numpy loads OpenBLAS

import numpy as np  # noqa: E402


def sigmoid(z):
    # In place: z is a fresh temporary of the caller's.
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)
    return z


def forward(x, params):
    """Activations of every layer, input included: [x, a1, ..., aL]; a = sigmoid(a W^T + b)."""
    acts = [x]
    for w, b in params:
        z = acts[-1] @ w.T
        z += b
        acts.append(sigmoid(z))
    return acts


def train_batch(x, y, params, eta):
    """One SGD step on the batch x [m, n_in] (float32), y [m, 10] one-hot."""
    m = x.shape[0]
    acts = forward(x, params)
    a = acts[-1]
    # BP1: delta_L = (a - y) * sigmoid'(z) with sigmoid'(z) = a (1 - a); the 1/m of the mean
    # gradient is folded into delta once, so every product below is already a mean.
    delta = (a - y) * a * (1.0 - a) * np.float32(1.0 / m)
    for l in range(len(params) - 1, -1, -1):
        w, b = params[l]
        a_prev = acts[l]
        grad_w = delta.T @ a_prev           # BP4, summed over the batch (already / m)
        grad_b = delta.sum(axis=0)          # BP3
        if l > 0:                           # BP2: the error of the layer below
            delta = (delta @ w) * a_prev * (1.0 - a_prev)
        w -= np.float32(eta) * grad_w       # plain SGD, in place
        b -= np.float32(eta) * grad_b


def batch(pixels, labels, idx):
    x = pixels[idx].astype(np.float32)
    x *= np.float32(1.0 / 255.0)
    y = np.zeros((len(idx), common.CLASSES), dtype=np.float32)
    y[np.arange(len(idx)), labels[idx]] = 1.0
    return x, y


def evaluate(pixels, labels, params):
    correct = 0
    for s in range(0, len(labels), 1000):
        x = pixels[s:s + 1000].astype(np.float32) * np.float32(1.0 / 255.0)
        out = forward(x, params)[-1]
        correct += int((out.argmax(axis=1) == labels[s:s + 1000]).sum())
    return correct


def main(args):
    (tr_px, tr_lab), (te_px, te_lab) = common.load(args)
    rng = np.random.default_rng(args.seed)
    params = common.init_params(args.layers, args.init, rng)
    order = np.arange(len(tr_lab))
    m = args.batch_size
    for epoch in range(args.epochs):
        start = time.perf_counter()
        rng.shuffle(order)
        for s in range(0, len(order), m):
            x, y = batch(tr_px, tr_lab, order[s:s + m])
            train_batch(x, y, params, args.eta)
        seconds = time.perf_counter() - start
        common.report("numpy", epoch + 1, seconds, evaluate(te_px, te_lab, params), len(te_lab))


if __name__ == "__main__":
    main(ARGS)
