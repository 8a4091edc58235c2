#!/usr/bin/env python3
"""The machine's float32 matrix-multiply ceiling, as NumPy's BLAS (OpenBLAS) reaches it.

Times a 2048 x 2048 x 2048 float32 product (2 * 2048^3 = 17.2 GFLOP) and keeps the best of
several runs, for each thread count and for both OpenBLAS core-type settings: the environment as
found, and with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (some workplaces pin an old core type,
which selects slower kernels). Each measurement runs in its own subprocess, because OpenBLAS reads
these variables, and its thread count, when it loads.

Prints one JSON object:
  {"n": 2048, "runs": [{"threads", "coretype_env", "kernel", "best_seconds", "gflops"}, ...],
   "best": {...the fastest run...}}

Usage: python3 bench/matmul_ceiling.py [--threads 1,2] [--repeats 5] [--n 2048]
"""

import argparse
import json
import os
import subprocess
import sys

CORETYPE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def worker(n, repeats):
    """Runs in the subprocess: best time of `repeats` products, and the kernel OpenBLAS chose."""
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm-up: pages, thread pool
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    kernel = None
    try:  # which OpenBLAS kernel ("architecture") runs, e.g. Haswell, Zen, SkylakeX
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("internal_api") == "openblas":
                kernel = f'{info.get("architecture")} ({info.get("num_threads")} threads)'
    except ImportError:
        pass
    print(json.dumps({"best_seconds": best, "gflops": 2 * n**3 / best / 1e9, "kernel": kernel}))


def measure(n, repeats, threads, unset_coretype):
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    found = env.get("OPENBLAS_CORETYPE")
    if unset_coretype:
        for var in CORETYPE_VARS:
            env.pop(var, None)
        label = "unset" if found else "not set (as found)"
    else:
        label = f"as found ({found})" if found else "as found (not set)"
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", "--n", str(n), "--repeats", str(repeats)],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    run = json.loads(out.strip().splitlines()[-1])
    return {"threads": threads, "coretype_env": label, **run}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.n, args.repeats)
        return
    threads = [int(t) for t in args.threads.split(",")]
    # When OPENBLAS_CORETYPE is not set, "as found" and "unset" are the same run: do it once.
    variants = [False, True] if any(os.environ.get(v) for v in CORETYPE_VARS) else [True]
    runs = [measure(args.n, args.repeats, t, u) for t in threads for u in variants]
    best = max(runs, key=lambda r: r["gflops"])
    print(json.dumps({"n": args.n, "dtype": "float32", "runs": runs, "best": best}))


if __name__ == "__main__":
    main()
