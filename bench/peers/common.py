"""Shared by the Python benchmark peers (numpy_mlp.py, torch_mlp.py).

Everything that is not the framework under test lives here, so the peers differ only in how they
run the recipe: the command line (the same one as the Rust peers in bench/peers/rust_common),
IDX loading, and the JSON output line.

The recipe (identical in every peer): sigmoid on every layer, quadratic cost
C = ||a - y||^2 / 2 per example, gradient = mean over the mini-batch, plain SGD
(W -= eta * mean grad, b -= eta * mean grad), training set reshuffled every epoch with a seeded
RNG, mini-batches of size m (the last one smaller), float32. Inputs are pixel bytes / 255,
targets one-hot over 10 classes; accuracy = argmax of the output equals the label.
"""

import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

CLASSES = 10
# --mnist10k: the first 8000 examples train, the rest (2000) test.
MNIST10K_TRAIN = 8000


def parse_args(peer):
    """The command line every peer accepts."""
    p = argparse.ArgumentParser(prog=peer, description=f"backprop benchmark peer: {peer}")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="DIR",
                     help="directory with train-/t10k- images-idx3-ubyte.gz and labels-idx1-ubyte.gz")
    src.add_argument("--mnist10k", metavar="DIR",
                     help="directory with images-idx3-ubyte.gz + labels-idx1-ubyte.gz "
                          "(first 8000 train, last 2000 test)")
    p.add_argument("--layers", default="784,30,10",
                   type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--eta", type=float, default=3.0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--init", choices=["standard", "scaled"], default="standard")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    if len(args.layers) < 2 or args.layers[-1] != CLASSES:
        p.error("--layers needs at least two sizes and the last must be 10")
    return args


def limit_blas_threads(threads):
    """Caps BLAS/OpenMP threads. Must run before numpy/torch is imported: OpenBLAS, MKL and
    OpenMP size their pools from these variables when they load."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _read_idx(images_path, labels_path):
    """(pixels uint8 [n, rows*cols], labels uint8 [n]) from an IDX image/label pair (gzip)."""
    with gzip.open(images_path, "rb") as f:
        img = f.read()
    with gzip.open(labels_path, "rb") as f:
        lab = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", img[:16])
    lmagic, ln = struct.unpack(">II", lab[:8])
    if magic != 0x803 or lmagic != 0x801 or n != ln:
        sys.exit(f"bad IDX files: {images_path} / {labels_path}")
    pixels = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    labels = np.frombuffer(lab, dtype=np.uint8, offset=8)
    return pixels, labels


def load(args):
    """((train_pixels, train_labels), (test_pixels, test_labels)), pixels as uint8."""
    if args.data:
        d = args.data
        train = _read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"),
                          os.path.join(d, "train-labels-idx1-ubyte.gz"))
        test = _read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"),
                         os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
        return train, test
    px, lab = _read_idx(os.path.join(args.mnist10k, "images-idx3-ubyte.gz"),
                        os.path.join(args.mnist10k, "labels-idx1-ubyte.gz"))
    k = MNIST10K_TRAIN
    return (px[:k], lab[:k]), (px[k:], lab[k:])


def init_params(layers, init, rng):
    """[(W [n_out, n_in], b [n_out])] float32: standard = all N(0,1); scaled = W N(0, 1/n_in)."""
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        sd = 1.0 if init == "standard" else 1.0 / np.sqrt(n_in)
        w = (rng.standard_normal((n_out, n_in)) * sd).astype(np.float32)
        b = rng.standard_normal(n_out).astype(np.float32)
        params.append((w, b))
    return params


def report(peer, epoch, train_seconds, correct, total):
    """The one JSON line per epoch that every peer prints (epochs counted from 1, as in
    `backprop train --metrics`)."""
    print(json.dumps({"peer": peer, "epoch": epoch, "train_seconds": round(train_seconds, 6),
                      "test_correct": int(correct), "test_total": int(total),
                      "test_accuracy": round(correct / total, 6)}), flush=True)
