#!/usr/bin/env python3
"""Benchmark peer: the backprop recipe in PyTorch on the CPU.

torch.nn.Linear layers (weights [n_out, n_in]) with the recipe's initialisation, sigmoid on every
layer, autograd for the gradients and torch.optim.SGD (lr = eta, no momentum, no weight decay,
no dampening) for the update, float32, torch.set_num_threads(--threads).

Loss: 0.5 * sum((a - y)^2) / m for a batch of m examples. Its gradient is exactly the mean over
the batch of the gradient of the per-example cost C = ||a - y||^2 / 2, which is what the recipe
asks for (MSELoss's default 'mean' would also divide by the 10 outputs, and drop the 1/2).

Data: pixels stay uint8 as loaded (a torch view of the NumPy array); each mini-batch is gathered
and converted to float32 / 255 inside the timed loop, as in the other peers.

Prints one JSON line per epoch: {"peer": "torch", "epoch", "train_seconds", "test_accuracy"}.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ARGS = common.parse_args("torch")
common.limit_blas_threads(ARGS.threads)  # before torch loads MKL/OpenMP

import numpy as np  # noqa: E402
import torch  # noqa: E402


def build(layers, init, rng):
    """Linear layers holding the recipe's initial parameters (drawn like the NumPy peer's)."""
    mods = []
    for w, b in common.init_params(layers, init, rng):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
    return mods


def forward(x, mods):
    for lin in mods:
        x = torch.sigmoid(lin(x))
    return x


def main(args):
    torch.set_num_threads(args.threads)
    (tr_px, tr_lab), (te_px, te_lab) = common.load(args)
    tr_x = torch.from_numpy(tr_px.copy())                 # uint8 [n, 784]
    tr_y = torch.from_numpy(tr_lab.astype(np.int64))
    eye = torch.eye(common.CLASSES, dtype=torch.float32)  # one-hot rows
    rng = np.random.default_rng(args.seed)
    mods = build(args.layers, args.init, rng)
    params = [p for lin in mods for p in lin.parameters()]
    opt = torch.optim.SGD(params, lr=args.eta, momentum=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    n, m = len(tr_lab), args.batch_size
    inv255 = 1.0 / 255.0

    te_x = torch.from_numpy(te_px.copy()).to(torch.float32).mul_(inv255)
    te_y = torch.from_numpy(te_lab.astype(np.int64))
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, m):
            idx = order[s:s + m]
            x = tr_x[idx].to(torch.float32).mul_(inv255)
            y = eye[tr_y[idx]]
            a = forward(x, mods)
            loss = (a - y).square().sum() * (0.5 / len(idx))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        with torch.no_grad():
            correct = int((forward(te_x, mods).argmax(dim=1) == te_y).sum())
        common.report("torch", epoch + 1, seconds, correct, len(te_lab))


if __name__ == "__main__":
    main(ARGS)
