"""Independent check of a saved model: load it with safetensors + NumPy, recompute the forward
pass on the embedded test split (the last 2,000 of crates/backprop/data/mnist-10k), print the number correct.

Usage: python3 check_model.py MODEL.safetensors DATA_DIR
"""
import gzip
import json
import sys

import numpy as np
from safetensors import safe_open


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    sizes = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data[4 + 4 * dims :], dtype=np.uint8).reshape(sizes)


def activation(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "identity":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def main(model_path, data_dir):
    with safe_open(model_path, framework="np") as f:
        meta = f.metadata()
        sizes = [int(s) for s in meta["sizes"].split(",")]
        layers = range(2, len(sizes) + 1)
        w = {l: f.get_tensor(f"layers.{l}.weight") for l in layers}
        b = {l: f.get_tensor(f"layers.{l}.bias") for l in layers}
    for l in layers:
        assert w[l].shape == (sizes[l - 1], sizes[l - 2]) and w[l].dtype == np.float32
        assert b[l].shape == (sizes[l - 1],)
    images = idx(f"{data_dir}/images-idx3-ubyte.gz").reshape(10000, -1)[8000:]
    labels = idx(f"{data_dir}/labels-idx1-ubyte.gz")[8000:]
    a = images.astype(np.float32) / np.float32(255)
    for l in layers:
        name = meta["output_activation"] if l == len(sizes) else meta["hidden_activation"]
        a = activation(name, a @ w[l].T + b[l])  # z = W a + b, one example per row
    correct = int((a.argmax(axis=1) == labels).sum())
    print(json.dumps({"correct": correct, "total": len(labels)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
