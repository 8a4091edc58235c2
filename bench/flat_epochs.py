#!/usr/bin/env python3
"""Does training slow down as it goes on? Per-epoch seconds over 30 epochs, for the command line
and for the scikit-learn estimator, at the estimator's defaults (issue 26).

    python3 bench/flat_epochs.py [--epochs 30] [--samples 30000]

Both train 784-100-10, ReLU, softmax output, log-likelihood, Adam with eta 0.001, mini-batches of
200 and scikit-learn's alpha = 0.0001 (lambda = alpha * n / 200 on the command line) on the first
`--samples` Fashion-MNIST training images / 255 (Debian's dataset-fashion-mnist). Prints every
epoch's seconds, the medians of the first 5 and of the last 10 epochs, and last / first: about
1.0 is flat. Before issue 26 an Intel Xeon read 0.29 s for the estimator's first epochs and
1.1-1.2 s after epoch 5 (subnormal numbers in Adam's moments and the weights).
Needs the `backprop` Python package (pip install ./python) and numpy; the command line at
target/release/backprop (cargo build --release).
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = "/usr/share/datasets/fashion-mnist"
BIN = os.path.join(REPO, "target", "release", "backprop")


def summary(name, seconds):
    first, last = statistics.median(seconds[:5]), statistics.median(seconds[-10:])
    print(f"{name:>10}: first 5 epochs {first:.3f} s, last 10 {last:.3f} s, last / first {last / first:.2f}")
    print(" " * 12 + " ".join(f"{s:.3f}" for s in seconds))


def cli(epochs, samples):
    with tempfile.TemporaryDirectory() as tmp:
        images = os.path.join(tmp, "train-images-idx3-ubyte.gz")
        labels = os.path.join(tmp, "train-labels-idx1-ubyte.gz")
        for src, dst, header, size in [
            ("train-images-idx3-ubyte.gz", images, 16, 784),
            ("train-labels-idx1-ubyte.gz", labels, 8, 1),
        ]:
            with gzip.open(os.path.join(FASHION, src)) as f:
                data = f.read()
            head = bytearray(data[:header])
            head[4:8] = samples.to_bytes(4, "big")
            with gzip.open(dst, "wb", compresslevel=1) as f:
                f.write(bytes(head) + data[header:header + samples * size])
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
            os.symlink(os.path.join(FASHION, name), os.path.join(tmp, name))
        metrics = os.path.join(tmp, "metrics.jsonl")
        lam = 0.0001 * samples / 200
        subprocess.run(
            [BIN, "train", "--data", "fashion-mnist", "--data-dir", tmp, "--layers", "784,100,10",
             "--activation", "relu", "--output-activation", "softmax", "--cost", "log-likelihood",
             "--init", "scaled", "--optimizer", "adam", "--eta", "0.001", "--batch-size", "200",
             "--lambda", str(lam), "--epochs", str(epochs), "--metrics", metrics, "--quiet"],
            check=True, stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            return [json.loads(line)["train_seconds"] for line in f if "train_seconds" in line]


def estimator(epochs, samples):
    import numpy as np
    import backprop

    def idx(name, header):
        with gzip.open(os.path.join(FASHION, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=header)

    x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)[:samples].astype(np.float32) / 255
    y = idx("train-labels-idx1-ubyte.gz", 8)[:samples]
    clf = backprop.MLPClassifier(random_state=0)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        clf.partial_fit(x, y, classes=np.arange(10))
        seconds.append(time.perf_counter() - start)
    return seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--samples", type=int, default=30000)
    args = p.parse_args()
    summary("CLI", cli(args.epochs, args.samples))
    try:
        summary("estimator", estimator(args.epochs, args.samples))
    except ImportError as e:
        print(f" estimator: missing ({e}); pip install ./python numpy", file=sys.stderr)


if __name__ == "__main__":
    main()
