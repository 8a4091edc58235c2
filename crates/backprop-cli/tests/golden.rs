//! One result on every machine (issue 20): a model trained with the same seed and data is the
//! same file, byte for byte, under every matrix kernel and any number of threads. The golden
//! hashes below were written on one CPU kind (AMD Zen 4, AVX-512); a CPU of another kind runs
//! the kernels it has and must print the same files. README.md quotes the same hashes.

mod common;

use backprop::Kernel;
use common::{backprop, succeeds};
use sha2::{Digest, Sha256};
use std::path::Path;

/// `backprop train --save M`: the README's default run (the lecture's 784-30-10 network, 30
/// epochs, m = 10, η = 3, seed 0).
const LECTURE_RUN: &[&str] = &[];
const LECTURE_SHA256: &str = "7a567f6a58f217955eaa4b85c52fa4da3c77f27ab521c8e25093666c7020ca43";

/// The README's run with the improvements: ReLU, softmax + log-likelihood, Adam, L2, dropout.
const IMPROVED_RUN: &[&str] = &[
    "--layers",
    "784,100,10",
    "--activation",
    "relu",
    "--output-activation",
    "softmax",
    "--cost",
    "log-likelihood",
    "--init",
    "scaled",
    "--optimizer",
    "adam",
    "--eta",
    "0.001",
    "--batch-size",
    "32",
    "--lambda",
    "0.0001",
    "--dropout",
    "0.1",
    "--epochs",
    "3",
];
const IMPROVED_SHA256: &str = "0fd2fb2cba1e7fe51391b112d9a3530a967c9e39df1673f0820008e088d18947";

/// Trains with `args` under `kernel` on `threads`, saves to `path`, returns the file's SHA-256.
fn trained(args: &[&str], kernel: Kernel, threads: &str, path: &Path) -> String {
    succeeds(
        backprop()
            .args(["train", "--quiet", "--threads", threads, "--save"])
            .arg(path)
            .args(args)
            .env("BACKPROP_KERNEL", kernel.name()),
    );
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_readme_runs_give_the_golden_files_under_every_kernel() {
    let dir = tempfile::tempdir().unwrap();
    for kernel in Kernel::supported() {
        let path = dir.path().join(format!("{kernel}.safetensors"));
        assert_eq!(
            trained(LECTURE_RUN, kernel, "2", &path),
            LECTURE_SHA256,
            "{kernel}"
        );
        assert_eq!(
            trained(IMPROVED_RUN, kernel, "2", &path),
            IMPROVED_SHA256,
            "{kernel}"
        );
    }
}

#[test]
fn every_kernel_and_thread_count_trains_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let plain = ["--epochs", "1", "--eta", "2"];
    let improved = [
        "--epochs",
        "1",
        "--optimizer",
        "adam",
        "--eta",
        "0.002",
        "--lambda",
        "0.001",
        "--dropout",
        "0.2",
        "--batch-size",
        "32",
        "--activation",
        "tanh",
    ];
    for layers in ["784,10", "784,30,10", "784,64,33,10"] {
        for settings in [&plain[..], &improved[..]] {
            let args = [&["--layers", layers][..], settings].concat();
            let mut first: Option<(String, String)> = None;
            for kernel in Kernel::supported() {
                for threads in ["1", "2", "3"] {
                    let path = dir.path().join("m.safetensors");
                    let hash = trained(&args, kernel, threads, &path);
                    let here = format!("{kernel} on {threads} thread(s)");
                    match &first {
                        None => first = Some((hash, here)),
                        Some((want, there)) => {
                            assert_eq!(&hash, want, "{args:?}: {here} differs from {there}")
                        }
                    }
                }
            }
        }
    }
}
