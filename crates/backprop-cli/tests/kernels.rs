//! `BACKPROP_KERNEL` and `backprop info` without a model: which matrix kernel runs, and a
//! one-line error for one that cannot.

mod common;

use backprop::Kernel;
use common::{backprop, succeeds};

#[test]
fn info_without_a_model_names_the_cpu_features_and_the_kernel_in_use() {
    let out = succeeds(backprop().arg("info").env_remove("BACKPROP_KERNEL"));
    assert!(out.contains("CPU features: avx512f "), "{out}");
    assert!(
        out.contains(&format!("Kernel in use: {} (the widest", Kernel::best())),
        "{out}"
    );
    for kernel in Kernel::supported() {
        assert!(out.contains(kernel.name()), "{out}");
    }
}

#[test]
fn every_kernel_this_cpu_runs_can_be_forced_and_trains_alike_on_any_threads() {
    for kernel in Kernel::supported() {
        let info = succeeds(backprop().arg("info").env("BACKPROP_KERNEL", kernel.name()));
        assert!(
            info.contains(&format!(
                "Kernel in use: {kernel} (forced by BACKPROP_KERNEL)"
            )),
            "{info}"
        );
        let train = |threads: &str| {
            let out = succeeds(
                backprop()
                    .args(["train", "--layers", "784,40,10", "--epochs", "2"])
                    .args(["--batch-size", "64", "--eta", "1", "--quiet", "--threads"])
                    .arg(threads)
                    .env("BACKPROP_KERNEL", kernel.name()),
            );
            out.lines()
                .find(|l| l.starts_with("Final:"))
                .map(|l| l.split("; ").take(2).collect::<Vec<_>>().join("; "))
                .unwrap_or_else(|| panic!("no Final line: {out}"))
        };
        assert_eq!(train("1"), train("2"), "{kernel}");
    }
}

#[test]
fn an_unknown_or_unsupported_kernel_is_a_one_line_error() {
    let out = backprop()
        .args(["train", "--epochs", "1"])
        .env("BACKPROP_KERNEL", "sse9")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("avx512, avx2, portable"), "{stderr}");
    assert!(out.stdout.is_empty(), "no work is done");
    for kernel in Kernel::ALL.into_iter().filter(|k| !k.is_supported()) {
        let out = backprop()
            .arg("info")
            .env("BACKPROP_KERNEL", kernel.name())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(kernel.missing_features()[0]), "{stderr}");
    }
}
