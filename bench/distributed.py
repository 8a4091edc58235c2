#!/usr/bin/env python3
"""Distributed training against one process, on this machine, in the same run (issue 15).

For each configuration (A, B, C of bench/run.py, on Fashion-MNIST), interleaved over --rounds:
  one process x T threads           backprop train --threads T
  P MPI ranks x 1 thread            mpirun -np P backprop train --distributed --threads 1
and the median training seconds per epoch (the `train_seconds` of --metrics: shuffles,
mini-batches, updates, and for the ranks every all-reduce; not the evaluation).

Then a model of when it pays across machines: per mini-batch, a ring all-reduce sends and
receives about 2 * 4 * parameters bytes per rank (f32), against the compute of the mini-batch
measured here. Needs target/release/backprop built with `--features mpi` and Open MPI's mpirun.

    cargo build --release -p backprop-cli --features mpi
    python3 bench/distributed.py --configs C --epochs 2 --rounds 2
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "target", "release", "backprop")
FASHION = "/usr/share/datasets/fashion-mnist"
CONFIGS = {
    "A": dict(layers=[784, 30, 10], batch=10, eta=3.0, init="standard"),
    "B": dict(layers=[784, 100, 10], batch=10, eta=3.0, init="standard"),
    "C": dict(layers=[784, 1024, 1024, 10], batch=128, eta=0.2, init="scaled"),
}
TRAIN = 60000
# Links: (name, bytes per second, one-way latency in seconds per message step).
LINKS = [("10 GbE", 10e9 / 8, 20e-6), ("100 GbE", 100e9 / 8, 5e-6)]


def parameters(layers):
    return sum(n * (m + 1) for m, n in zip(layers, layers[1:]))


def train_seconds(cmd):
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.jsonl")
        subprocess.run(cmd + ["--metrics", metrics, "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            return [json.loads(line)["train_seconds"] for line in f if line.strip()]


def command(cfg, epochs, threads, ranks):
    flags = ["train", "--data", "fashion-mnist", "--layers", ",".join(map(str, cfg["layers"])),
             "--batch-size", str(cfg["batch"]), "--eta", str(cfg["eta"]), "--init", cfg["init"],
             "--epochs", str(epochs), "--seed", "0", "--threads", str(threads)]
    if ranks == 1:
        return [BIN] + flags
    return ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), BIN] + flags + [
        "--distributed"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default="A,B,C")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads of the single process")
    args = ap.parse_args()
    variants = [(f"1 process x {args.threads} threads", args.threads, 1),
                (f"{args.ranks} ranks x 1 thread", 1, args.ranks),
                ("1 process x 1 thread", 1, 1)]
    rows = []
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        secs = {v[0]: [] for v in variants}
        for _ in range(args.rounds):
            for label, threads, ranks in variants:
                secs[label] += train_seconds(command(cfg, args.epochs, threads, ranks))
        med = {k: statistics.median(v) for k, v in secs.items()}
        rows.append((name, cfg, med))
        print(f"{name}: " + ", ".join(f"{k} {v:.3f} s/epoch" for k, v in med.items()), flush=True)

    single, ranked, one = (v[0] for v in variants)
    print()
    print(f"| config | {single} | {ranked} | ranks / threads | {one} |")
    print("|---|---|---|---|---|")
    for name, cfg, med in rows:
        print(f"| {name} | {med[single]:.3f} | {med[ranked]:.3f} | "
              f"{med[ranked] / med[single]:.2f}x the time | {med[one]:.3f} |")

    print()
    print(f"Across machines (P = {args.ranks} ranks, one per machine, each as fast as this core), per "
          "mini-batch: bytes each rank sends (2 * 4 * parameters, the large-P figure of a ring "
          "all-reduce), the one-thread compute measured here, the all-reduce's time, and the "
          "time of a mini-batch with P machines relative to one (below 1 pays)")
    print("| config | parameters | bytes sent per rank | compute, 1 core | "
          + " | ".join(f"all-reduce {n} | P=2 / P=1 {n}" for n, _, _ in LINKS) + " |")
    print("|---|---|---|---|" + "---|---|" * len(LINKS))
    for name, cfg, med in rows:
        p = parameters(cfg["layers"])
        batches = -(-TRAIN // cfg["batch"])
        compute = med[one] / batches
        sent = 2 * 4 * p  # a ring all-reduce of f32: 2 (P - 1) / P * 4 p bytes, at most 2 * 4 p
        cells = []
        for _, bandwidth, latency in LINKS:
            comm = sent / bandwidth + 2 * (args.ranks - 1) * latency
            cells.append(f"{comm * 1e3:.3f} ms | {(compute / args.ranks + comm) / compute:.2f}")
        print(f"| {name} | {p:,} | {sent / 1e6:.2f} MB | {compute * 1e3:.3f} ms | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
