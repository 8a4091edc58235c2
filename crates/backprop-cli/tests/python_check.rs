//! A saved model read by NumPy + safetensors gives exactly the accuracy `backprop evaluate` reports.
//! `.ci/run` installs numpy and safetensors; without them this test fails and says so.

use assert_cmd::Command;
use std::path::Path;

#[test]
fn numpy_recomputes_the_accuracy_of_evaluate() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let bp = || Command::cargo_bin("backprop").unwrap();
    bp().args(["train", "--epochs", "3", "--quiet", "--seed", "5", "--save"])
        .arg(&model)
        .assert()
        .success();
    let out = bp()
        .args(["evaluate", "--json", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = std::process::Command::new("python3")
        .arg(here.join("tests/check_model.py"))
        .arg(&model)
        .arg(here.join("../../data/mnist-10k"))
        .output()
        .expect("python3 is needed for this test");
    assert!(
        python.status.success(),
        "the NumPy check failed (pip install numpy safetensors): {}",
        String::from_utf8_lossy(&python.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&python.stdout).unwrap();
    assert_eq!(theirs["total"], ours["total"]);
    assert_eq!(
        theirs["correct"], ours["correct"],
        "NumPy and backprop disagree"
    );
}
