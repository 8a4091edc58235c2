#!/usr/bin/env python3
"""Side-by-side benchmark: `backprop` against NumPy, PyTorch, candle and burn on the same recipe.

One command:

    python3 bench/run.py [--configs A,B,C,D] [--peers ours,numpy,torch,candle,burn]
                         [--epochs 3] [--threads 1,2] [--seeds 1] [--rounds 1] [--build-jobs N]
    python3 bench/run.py --plane [--plane-epochs 2] [--peers ours,numpy] [--threads 2] ...

It (1) installs or builds the peers that are missing (pip for numpy/torch, cargo for the candle
and burn crates under bench/peers/, into bench/out/target), (2) measures the machine's float32
matrix-multiply ceiling (bench/matmul_ceiling.py), (3) trains every configuration with every
peer, one process at a time, at every thread count and seed, recording each process's peak RSS,
and (4) prints the table and writes bench/out/results.md and bench/out/results.json.
A peer that cannot be installed, built or run stays in the table as "missing"/"failed" with
the reason.

The recipe (every peer): sigmoid on every layer, quadratic cost C = ||a - y||^2 / 2 per example,
gradient = mean over the mini-batch, plain SGD, reshuffle every epoch, float32; inputs are pixel
bytes / 255, one-hot targets over 10 classes; accuracy = argmax of the output equals the label.

Configurations (Fashion-MNIST: 60,000 train / 10,000 test):
  A  784-30-10,          m=10,  eta 3.0, standard init
  B  784-100-10,         m=10,  eta 3.0, standard init
  C  784-1024-1024-10,   m=128, eta 0.2, scaled init (weights N(0, 1/n_in))
  D  embedded MNIST 10k (crates/backprop/data/mnist-10k: first 8000 train, last 2000 test), 784-30-10, m=10,
     eta 3.0, standard init, 30 epochs (--d-epochs N for a quick check)

The plane (--plane, instead of A-D): 784-h-10 on the embedded digits (as D), sigmoid, standard
init, eta 3.0, for every mini-batch m in {1, 10, 32, 64, 128, 256} and h in {30, 100, 300, 1000}
(configurations named m<M>h<H>); after the table it prints one more, peer time / our time per
(m, h) for every peer (NumPy by default). Targets: >= 2x where m <= 64, >= 1.25x where m >= 128.

Columns: median train seconds per epoch (over all epochs and seeds; training only: shuffle,
mini-batches, updates), samples/s, GFLOP/s of the exact matrix work (see gflop_per_epoch), test
accuracy after the final epoch (mean ± sample standard deviation over seeds), peak RSS of the
process, and ratio = peer time / our time. With several thread counts each peer keeps its best.
NumPy runs twice: with the environment as found and with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset
(an old pinned core type selects slow OpenBLAS kernels); the faster counts as "numpy", both are
shown.

Standard library only; the peers bring their own dependencies.
"""

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, "out")
LOGS = os.path.join(OUT, "logs")
PEERS_DIR = os.path.join(BENCH, "peers")
CARGO_TARGET = os.path.join(OUT, "target")
OURS_BIN = os.path.join(REPO, "target", "release", "backprop")
OURS_DATA_DIR = []  # ["--data-dir", FASHION_DIR] when our CLI has that option (see prepare_ours)

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
MNIST10K_DIR = os.path.join(REPO, "crates", "backprop", "data", "mnist-10k")
MNIST10K_TRAIN = 8000

CONFIGS = {
    "A": dict(layers=[784, 30, 10], batch=10, eta=3.0, init="standard", data="fashion"),
    "B": dict(layers=[784, 100, 10], batch=10, eta=3.0, init="standard", data="fashion"),
    "C": dict(layers=[784, 1024, 1024, 10], batch=128, eta=0.2, init="scaled", data="fashion"),
    "D": dict(layers=[784, 30, 10], batch=10, eta=3.0, init="standard", data="mnist10k", epochs=30),
}
PLANE_M = [1, 10, 32, 64, 128, 256]
PLANE_H = [30, 100, 300, 1000]


def plane_name(m, h):
    return f"M{m}H{h}"


for _m in PLANE_M:
    for _h in PLANE_H:
        CONFIGS[plane_name(_m, _h)] = dict(layers=[784, _h, 10], batch=_m, eta=3.0,
                                           init="standard", data="mnist10k", plane=True)
ALL_PEERS = ["ours", "numpy", "torch", "candle", "burn"]
CORETYPE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def nice_prefix():
    """Installs and builds run at the lowest priority, so they disturb the machine least."""
    return ["nice", "-n", "19"] if shutil.which("nice") else []


def tail(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            text = [l.strip() for l in f.read().splitlines() if l.strip()]
        return " | ".join(text[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# The exact matrix work of one epoch
# ---------------------------------------------------------------------------------------------

def gflop_per_epoch(layers, train_samples):
    """Multiply-adds of the three matrix products per layer and example, counted as 2 FLOP each:
    forward a W^T (2 W), weight gradient delta^T a (2 W), and the back-propagated error delta W
    (2 W) for every layer but the first, which needs no error below it:
        FLOP per example = 4 * sum(W_l) + 2 * sum(W_l for l >= 2)
    with W_l = n_in * n_out of layer l (biases and element-wise work are not counted).
    A: 5.75, B: 19.2, C: 574 GFLOP per epoch on 60,000 examples; D: 0.77 on 8,000."""
    w = [a * b for a, b in zip(layers[:-1], layers[1:])]
    return (4 * sum(w) + 2 * sum(w[1:])) * train_samples / 1e9


def idx_count(path):
    """Number of examples in a gzip IDX file (from its header)."""
    with gzip.open(path, "rb") as f:
        return struct.unpack(">II", f.read(8))[1]


def train_samples(cfg):
    if cfg["data"] == "mnist10k":
        return min(MNIST10K_TRAIN, idx_count(os.path.join(MNIST10K_DIR, "labels-idx1-ubyte.gz")))
    return idx_count(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz"))


# ---------------------------------------------------------------------------------------------
# Preparing the peers
# ---------------------------------------------------------------------------------------------

def python_has(module):
    return subprocess.run([sys.executable, "-c", f"import {module}"],
                          capture_output=True).returncode == 0


def pip_install(args_list, logname):
    path = os.path.join(LOGS, logname)
    with open(path, "w") as logf:
        rc = subprocess.run(nice_prefix() + [sys.executable, "-m", "pip", "install", *args_list],
                            stdout=logf, stderr=subprocess.STDOUT).returncode
    return rc, path


def prepare_numpy():
    if not python_has("numpy"):
        log("installing numpy (pip) ...")
        rc, path = pip_install(["numpy", "threadpoolctl"], "install-numpy.log")
        if rc != 0 or not python_has("numpy"):
            return f"pip install numpy failed: {tail(path)}"
    return None


def prepare_torch():
    if python_has("torch"):
        return None
    # The CPU-only wheel index avoids the multi-GB CUDA wheels PyPI's torch pulls in; fall back
    # to PyPI when that index cannot be reached.
    log("installing torch (pip, CPU wheel index) ...")
    rc, path = pip_install(["torch", "--index-url", "https://download.pytorch.org/whl/cpu"],
                           "install-torch-cpu.log")
    if rc != 0 or not python_has("torch"):
        log("CPU wheel index unavailable; installing torch from PyPI ...")
        rc, path = pip_install(["torch"], "install-torch.log")
    if rc != 0 or not python_has("torch"):
        return f"pip install torch failed: {tail(path)}"
    return None


def prepare_crate(name, jobs):
    """Builds bench/peers/<name> (release) into bench/out/target; returns (binary, reason)."""
    if not shutil.which("cargo"):
        return None, "cargo not found"
    manifest = os.path.join(PEERS_DIR, name, "Cargo.toml")
    binary = os.path.join(CARGO_TARGET, "release", f"{name}-peer")
    path = os.path.join(LOGS, f"build-{name}.log")
    log(f"building the {name} peer (cargo, release) ...")
    cmd = nice_prefix() + ["cargo", "build", "--release", "--manifest-path", manifest]
    if jobs:
        cmd += ["-j", str(jobs)]
    env = dict(os.environ, CARGO_TARGET_DIR=CARGO_TARGET)
    with open(path, "w") as logf:
        rc = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env).returncode
    if rc != 0 or not os.path.exists(binary):
        return None, f"cargo build failed: {tail(path)}"
    return binary, None


def prepare_ours(build, jobs):
    """Builds our CLI (a no-op when up to date) and checks that it speaks --metrics."""
    if build:
        if not shutil.which("cargo"):
            return "cargo not found"
        log("building backprop (cargo, release) ...")
        path = os.path.join(LOGS, "build-ours.log")
        cmd = nice_prefix() + ["cargo", "build", "--release", "-p", "backprop-cli"]
        if jobs:
            cmd += ["-j", str(jobs)]
        with open(path, "w") as logf:
            rc = subprocess.run(cmd, cwd=REPO, stdout=logf, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            return f"cargo build failed: {tail(path)}"
    if not os.path.exists(OURS_BIN):
        return f"{os.path.relpath(OURS_BIN, REPO)} not found"
    try:
        help_text = subprocess.run([OURS_BIN, "train", "--help"], capture_output=True,
                                   text=True, timeout=60).stdout
    except subprocess.TimeoutExpired:
        return "`backprop train --help` did not answer"
    if "--metrics" not in help_text:
        return "`backprop train` has no --metrics option yet"
    # Point our CLI at the same Fashion-MNIST files the peers read, where it takes a directory.
    OURS_DATA_DIR[:] = ["--data-dir", FASHION_DIR] if "--data-dir" in help_text else []
    return None


# ---------------------------------------------------------------------------------------------
# Running one training process
# ---------------------------------------------------------------------------------------------

def run_measured(cmd, env, stdout_path, stderr_path, timeout):
    """Runs cmd to completion; returns (exit code, wall seconds, peak RSS in MB).

    The child is reaped with os.wait4 (not Popen.wait), whose resource usage is that process's
    own: ru_maxrss is its peak resident set size (kilobytes on Linux)."""
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=REPO)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    return proc.returncode, wall, usage.ru_maxrss / 1024.0


def read_epochs(path):
    """Per-epoch JSON lines (the peers' stdout, or our metrics file)."""
    epochs = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if "train_seconds" in rec and "test_accuracy" in rec:
                        epochs.append(rec)
    except OSError:
        pass
    return epochs


def peer_command(peer, binary, cfg, epochs, seed, threads, metrics_path):
    layers = ",".join(str(n) for n in cfg["layers"])
    common = ["--layers", layers, "--batch-size", str(cfg["batch"]), "--eta", str(cfg["eta"]),
              "--init", cfg["init"], "--epochs", str(epochs), "--seed", str(seed),
              "--threads", str(threads)]
    if peer == "ours":
        data = ["mnist-10k"] if cfg["data"] == "mnist10k" else ["fashion-mnist", *OURS_DATA_DIR]
        return [OURS_BIN, "train", "--data", *data, *common, "--metrics", metrics_path, "--quiet"]
    data = (["--mnist10k", MNIST10K_DIR] if cfg["data"] == "mnist10k" else ["--data", FASHION_DIR])
    if peer in ("numpy", "torch"):
        return [sys.executable, os.path.join(PEERS_DIR, f"{peer}_mlp.py"), *data, *common]
    return [binary, *data, *common]


# ---------------------------------------------------------------------------------------------
# Summaries and the table
# ---------------------------------------------------------------------------------------------

def summarize(runs):
    """Summary of the runs of one peer at one thread count (all seeds)."""
    ok = [r for r in runs if r["ok"]]
    if not ok:
        return None
    secs = [e["train_seconds"] for r in ok for e in r["epochs"]]
    # Rounds repeat the same seeds (same results), so accuracy counts each seed once.
    finals = [r["epochs"][-1]["test_accuracy"] for r in ok if r.get("round", 1) == min(
        x.get("round", 1) for x in ok if x["seed"] == r["seed"])]
    return {
        "label": ok[0]["label"],
        "threads": ok[0]["threads"],
        "median_seconds": statistics.median(secs),
        "accuracy_mean": statistics.fmean(finals),
        "accuracy_sd": statistics.stdev(finals) if len(finals) > 1 else None,
        "seeds": len({r["seed"] for r in ok}),
        "rounds": len({r.get("round", 1) for r in ok}),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "epochs": len(ok[0]["epochs"]),
        # 1-minute load average around the runs: well above 0 means other work shared the CPUs.
        "loadavg": statistics.fmean(x for r in ok for x in r["loadavg_1min"]),
    }


def best_of(summaries):
    summaries = [s for s in summaries if s]
    return min(summaries, key=lambda s: s["median_seconds"]) if summaries else None


def fmt_row(config, label, s, ours_s, samples, gflop, note=None):
    if s is None:
        return [config, label, "—", "—", "—", "—", "—", "—", note or ""]
    acc = f'{100 * s["accuracy_mean"]:.2f}%'
    if s["accuracy_sd"] is not None:
        acc += f' ± {100 * s["accuracy_sd"]:.2f}'
    ratio = f'{s["median_seconds"] / ours_s["median_seconds"]:.2f}×' if ours_s else "—"
    return [config, label, f'{s["median_seconds"]:.3f}', f'{samples / s["median_seconds"]:,.0f}',
            f'{gflop / s["median_seconds"]:.1f}', acc, f'{s["peak_rss_mb"]:.0f}', ratio,
            note or f'{s["threads"]} thread{"s" if s["threads"] > 1 else ""}, load {s["loadavg"]:.1f}']


HEADER = ["config", "peer", "median train s/epoch", "samples/s", "GFLOP/s",
          "test accuracy (final epoch)", "peak RSS MB", "ratio vs ours", "notes"]


def render_text(rows):
    widths = [max(len(str(r[i])) for r in [HEADER] + rows) for i in range(len(HEADER))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_markdown(rows):
    esc = lambda c: str(c).replace("|", "\\|")
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def describe_ceiling(ceiling):
    if not ceiling:
        return "f32 matmul ceiling: not measured"
    parts = [f'{r["threads"]} thr, OPENBLAS_CORETYPE {r["coretype_env"]}: {r["gflops"]:.1f}'
             for r in ceiling["runs"]]
    return (f'f32 matmul ceiling (NumPy/OpenBLAS, {ceiling["n"]}³, best of runs), GFLOP/s: '
            + "; ".join(parts))


def plane_tables(summary, peers):
    """One markdown table per peer: its median s/epoch ÷ ours, rows m, columns h."""
    out = []
    for peer in (x for x in peers if x != "ours"):
        lines = [f"{peer} ÷ ours (median train s/epoch, 784-h-10, embedded digits; "
                 "target ≥ 2× for m ≤ 64, ≥ 1.25× for m ≥ 128)", "",
                 "| m \\ h | " + " | ".join(str(h) for h in PLANE_H) + " |",
                 "|---|" + "---|" * len(PLANE_H)]
        for m in PLANE_M:
            cells = []
            for h in PLANE_H:
                ps = summary.get(plane_name(m, h), {}).get("peers", {})
                ours, theirs = ps.get("ours"), ps.get(peer)
                ok = lambda s: isinstance(s, dict) and "median_seconds" in s
                if ok(ours) and ok(theirs):
                    r = theirs["median_seconds"] / ours["median_seconds"]
                    target = 2.0 if m <= 64 else 1.25
                    cells.append(f"{r:.2f}×" + ("" if r >= target else " (miss)"))
                else:
                    cells.append("—")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description="backprop side-by-side benchmark",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--configs", default="A,B,C,D")
    p.add_argument("--peers", default=",".join(ALL_PEERS))
    p.add_argument("--epochs", type=int, default=3, help="epochs for A-C (D: --d-epochs)")
    p.add_argument("--d-epochs", type=int, default=30,
                   help="epochs for D (30 in the published table; fewer for a quick check)")
    p.add_argument("--threads", default="1,2", help="thread counts; each peer keeps its best")
    p.add_argument("--seeds", type=int, default=1, help="seeds 1..N for the accuracy mean/spread")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat every peer's runs N times, interleaved (ours, numpy, …, ours, numpy, …), "
                        "so that a machine whose speed drifts weighs on every peer alike; "
                        "times are the median over all rounds")
    p.add_argument("--build-jobs", type=int, default=0, help="cargo -j for the builds (0: cargo's default)")
    p.add_argument("--no-build-ours", action="store_true",
                   help="use target/release/backprop as it is instead of `cargo build --release` first")
    p.add_argument("--no-install", action="store_true", help="do not pip-install or build peers")
    p.add_argument("--no-ceiling", action="store_true", help="skip the matmul ceiling")
    p.add_argument("--timeout", type=float, default=0, help="seconds per training process (0: none)")
    p.add_argument("--plane", action="store_true",
                   help="the m × h plane (784-h-10, embedded digits) instead of --configs; "
                        "peers default to ours,numpy")
    p.add_argument("--plane-epochs", type=int, default=2, help="epochs per plane configuration")
    args = p.parse_args()
    CONFIGS["D"]["epochs"] = args.d_epochs
    for c in CONFIGS.values():
        if c.get("plane"):
            c["epochs"] = args.plane_epochs
    if args.plane:
        args.configs = ",".join(plane_name(m, h) for m in PLANE_M for h in PLANE_H)
        if args.peers == ",".join(ALL_PEERS):
            args.peers = "ours,numpy"

    configs = [c.strip().upper() for c in args.configs.split(",") if c.strip()]
    peers = [x.strip().lower() for x in args.peers.split(",") if x.strip()]
    threads = [int(t) for t in args.threads.split(",")]
    seeds = list(range(1, args.seeds + 1))
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c} (A, B, C, D, or M<m>H<h> of the plane)")
    for x in peers:
        if x not in ALL_PEERS:
            p.error(f"unknown peer {x} ({', '.join(ALL_PEERS)})")
    os.makedirs(LOGS, exist_ok=True)

    # 1. Peers: install/build what is missing; a peer that fails stays with its reason.
    missing, binaries = {}, {}
    for peer in peers:
        if peer == "ours":
            reason = prepare_ours(not (args.no_build_ours or args.no_install), args.build_jobs)
        elif peer == "numpy":
            reason = (None if python_has("numpy") else "numpy not installed") if args.no_install \
                else prepare_numpy()
        elif peer == "torch":
            reason = (None if python_has("torch") else "torch not installed") if args.no_install \
                else prepare_torch()
        else:
            binary = os.path.join(CARGO_TARGET, "release", f"{peer}-peer")
            if args.no_install:
                reason = None if os.path.exists(binary) else f"{peer} peer not built"
            else:
                binary, reason = prepare_crate(peer, args.build_jobs)
            binaries[peer] = binary
        if reason:
            missing[peer] = reason
            log(f"{peer}: missing ({reason})")

    # 2. The matmul ceiling.
    ceiling = None
    if not args.no_ceiling and "numpy" not in missing and python_has("numpy"):
        log("measuring the f32 matmul ceiling ...")
        res = subprocess.run([sys.executable, os.path.join(BENCH, "matmul_ceiling.py"),
                              "--threads", ",".join(map(str, threads))],
                             capture_output=True, text=True)
        if res.returncode == 0:
            ceiling = json.loads(res.stdout.strip().splitlines()[-1])
        else:
            log(f"matmul ceiling failed: {res.stderr.strip()[-300:]}")
    print(describe_ceiling(ceiling), flush=True)

    # NumPy variants: as found, and with the OpenBLAS core-type pin removed. When nothing pins
    # it, both are the same environment and run once.
    coretype_found = os.environ.get("OPENBLAS_CORETYPE")
    pinned = any(os.environ.get(v) for v in CORETYPE_VARS)
    numpy_variants = ([("numpy [coretype as found: %s]" % coretype_found, False),
                       ("numpy [coretype unset]", True)] if pinned
                      else [("numpy [OPENBLAS_CORETYPE not set]", True)])

    # 3. Train: every config × peer (× variant) × thread count × seed, one process at a time.
    runs = []
    for cname in configs:
        cfg = CONFIGS[cname]
        epochs = cfg.get("epochs", args.epochs)
        for rnd, peer in ((r, x) for r in range(1, args.rounds + 1) for x in peers):
            if peer in missing:
                continue
            variants = numpy_variants if peer == "numpy" else [(peer, False)]
            for label, unset in variants:
                for t in threads:
                    for seed in seeds:
                        tag = (f"{cname}-{label.split(' ')[0]}{'-unset' if unset and pinned else ''}"
                               f"-t{t}-s{seed}" + (f"-r{rnd}" if args.rounds > 1 else ""))
                        metrics = os.path.join(LOGS, f"{tag}.metrics.jsonl")
                        if os.path.exists(metrics):
                            os.remove(metrics)
                        cmd = peer_command(peer, binaries.get(peer), cfg, epochs, seed, t, metrics)
                        env = dict(os.environ, **{v: str(t) for v in THREAD_VARS})
                        if unset:
                            for v in CORETYPE_VARS:
                                env.pop(v, None)
                        stdout_path = os.path.join(LOGS, f"{tag}.stdout")
                        stderr_path = os.path.join(LOGS, f"{tag}.stderr")
                        log(f"[{cname}] {label}: {t} thread(s), seed {seed}, {epochs} epochs"
                            + (f", round {rnd}/{args.rounds}" if args.rounds > 1 else "") + " ...")
                        load_before = os.getloadavg()[0]  # other work on the machine skews times
                        rc, wall, rss = run_measured(cmd, env, stdout_path, stderr_path, args.timeout)
                        ep = read_epochs(metrics if peer == "ours" else stdout_path)
                        ok = rc == 0 and len(ep) == epochs
                        run = {"config": cname, "peer": peer, "label": label, "threads": t,
                               "seed": seed, "round": rnd, "cmd": cmd, "exit_code": rc, "ok": ok,
                               "wall_seconds": wall, "peak_rss_mb": rss, "epochs": ep,
                               "coretype_unset": unset,
                               "loadavg_1min": [load_before, os.getloadavg()[0]]}
                        if not ok:
                            run["error"] = (f"exit {rc}, {len(ep)}/{epochs} epochs: "
                                            f"{tail(stderr_path, 2) or tail(stdout_path, 2)}")
                            log(f"  failed: {run['error']}")
                        else:
                            e = ep[-1]
                            log(f"  median {statistics.median(x['train_seconds'] for x in ep):.3f} s/epoch, "
                                f"final accuracy {100 * e['test_accuracy']:.2f}%, peak RSS {rss:.0f} MB")
                        runs.append(run)

    # 4. Summaries and the table.
    rows, summary = [], {}
    for cname in configs:
        cfg = CONFIGS[cname]
        samples = train_samples(cfg)
        gflop = gflop_per_epoch(cfg["layers"], samples)

        def pick(peer, label=None):
            """Best (fastest median) over thread counts and, for NumPy, over its variants;
            each candidate summarises one label at one thread count over all seeds."""
            labels = [label] if label else sorted({r["label"] for r in runs
                                                    if r["config"] == cname and r["peer"] == peer})
            return best_of(summarize([r for r in runs if r["config"] == cname and r["peer"] == peer
                                      and r["label"] == lab and r["threads"] == t])
                           for lab in labels for t in threads)

        ours = pick("ours") if "ours" in peers else None
        summary[cname] = {"train_samples": samples, "gflop_per_epoch": gflop,
                          "epochs": cfg.get("epochs", args.epochs), "peers": {}}
        for peer in peers:
            if peer in missing:
                rows.append([cname, peer, "—", "—", "—", "—", "—", "—", f"missing: {missing[peer]}"])
                summary[cname]["peers"][peer] = {"missing": missing[peer]}
                continue
            best = pick(peer)
            if best is None:
                errs = [r.get("error", "") for r in runs if r["config"] == cname and r["peer"] == peer]
                rows.append(fmt_row(cname, peer, None, ours, samples, gflop,
                                    f"failed: {errs[-1] if errs else 'no run'}"))
                summary[cname]["peers"][peer] = {"failed": errs}
                continue
            rows.append(fmt_row(cname, peer, best, ours, samples, gflop))
            summary[cname]["peers"][peer] = best
            if peer == "numpy" and len(numpy_variants) > 1:
                rows[-1][-1] += f'; counted: {best["label"].split("[")[1].rstrip("]")}'

                for label, _ in numpy_variants:  # show both variants under the counted one
                    s = pick(peer, label)
                    rows.append(fmt_row(cname, "  " + label, s, ours, samples, gflop))
                    summary[cname]["peers"][label] = s
            elif peer == "numpy":
                rows[-1][-1] += "; OPENBLAS_CORETYPE not set here, so both variants are one run"

    title = (f"backprop side-by-side benchmark — {platform.machine()}, {os.cpu_count()} CPUs, "
             f"epochs A–C: {args.epochs}, D: {args.d_epochs}; threads {args.threads}; seeds {len(seeds)}; rounds {args.rounds}")
    text = "\n".join([title, describe_ceiling(ceiling), "", render_text(rows)])
    plane_md = plane_tables(summary, peers) if args.plane else ""
    print("\n" + text + ("\n\n" + plane_md if plane_md else ""))

    md = "\n".join([
        "# backprop side-by-side benchmark", "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"- epochs: A–C {args.epochs}, D {args.d_epochs}; thread counts {args.threads} (each peer's best); "
        f"seeds: {len(seeds)}; rounds: {args.rounds} (interleaved, medians over all)",
        f"- {describe_ceiling(ceiling)}",
        "- GFLOP/s counts the exact matrix work: per example 4·ΣW + 2·ΣW(layers ≥ 2) FLOP "
        "(forward, weight gradient, back-propagated error); "
        + ", ".join(f"{c}: {summary[c]['gflop_per_epoch']:.2f} GFLOP/epoch" for c in configs),
        "- accuracy: test accuracy after the final epoch, mean ± sample sd over seeds",
        "- notes: the thread count kept, and the machine's 1-minute load average around those runs "
        f"({os.cpu_count()} CPUs; a load well above the run's own thread count means other work "
        "shared the CPUs and the times are pessimistic)",
        "", render_markdown(rows), "", plane_md])
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"args": vars(args), "machine": {"arch": platform.machine(),
                                                   "cpus": os.cpu_count(),
                                                   "platform": platform.platform(),
                                                   "openblas_coretype": coretype_found},
                   "ceiling": ceiling, "missing": missing, "summary": summary, "runs": runs},
                  f, indent=1)
    log(f"wrote {os.path.relpath(os.path.join(OUT, 'results.md'), REPO)} and results.json")


if __name__ == "__main__":
    main()
