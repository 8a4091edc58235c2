//! Improved training from the command line: resumed runs equal straight ones, Ctrl-C leaves a
//! checkpoint, and the new flags refuse bad values in one line.

mod common;

use common::{backprop, fails, succeeds};
use std::path::Path;

const RECIPE: [&str; 16] = [
    "--layers",
    "784,24,10",
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
    "--dropout",
    "0.2",
    "--lambda",
    "1",
];

fn weights(path: &Path) -> Vec<u32> {
    let net = backprop::io::model_file::load(path).unwrap().network;
    let mut bits = Vec::new();
    for l in 2..=net.num_layers() {
        bits.extend(
            net.weights(l)
                .iter()
                .chain(net.biases(l).iter())
                .map(|v| v.to_bits()),
        );
    }
    bits
}

#[test]
fn three_epochs_and_a_resumed_three_equal_six() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, resumed, straight) = (
        dir.path().join("c.safetensors"),
        dir.path().join("r.safetensors"),
        dir.path().join("s.safetensors"),
    );
    backprop()
        .args(["train", "--quiet", "--epochs", "3", "--batch-size", "50"])
        .args(RECIPE)
        .arg("--checkpoint")
        .arg(&ckpt)
        .assert()
        .success();
    let text = succeeds(
        backprop()
            .args(["train", "--epochs", "6", "--resume"])
            .arg(&ckpt)
            .arg("--save")
            .arg(&resumed),
    );
    assert!(
        text.contains("Resuming after epoch 3")
            && text.contains("Epoch 4: ")
            && text.contains("Epoch 6: ")
            && !text.contains("Epoch 3: "),
        "{text}"
    );
    backprop()
        .args(["train", "--quiet", "--epochs", "6", "--batch-size", "50"])
        .args(RECIPE)
        .arg("--save")
        .arg(&straight)
        .assert()
        .success();
    assert!(
        weights(&resumed) == weights(&straight),
        "3 + 3 epochs differ from 6"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_a_checkpoint_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("c.safetensors");
    let bin = assert_cmd::cargo::cargo_bin("backprop");
    let child = std::process::Command::new(&bin)
        .args(["train", "--quiet", "--epochs", "1000", "--batch-size", "10"])
        .arg("--checkpoint")
        .arg(&ckpt)
        .arg("--save")
        .arg(dir.path().join("m.st"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    // The hint keeps the model file: following it writes the model (issue 16).
    assert!(
        stderr.contains(&format!("--save {}", dir.path().join("m.st").display())),
        "{stderr}"
    );
    let (trainer, _) = backprop::train::checkpoint::load(&ckpt).unwrap();
    assert!(trainer.epoch < 1000 && (trainer.epoch > 0 || trainer.batch > 0));
    assert!(
        !dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp")),
        "no half-written file is left"
    );
}

/// Ctrl-C is heard when every epoch is one mini-batch (it used to be checked only between
/// mini-batches of an epoch, so such a run never stopped); without --checkpoint the fallback
/// file never replaces an existing one; --metrics is rewritten whole after each epoch and keeps
/// the epochs before a resume.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_one_batch_epochs_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backprop-checkpoint.safetensors"),
        "PRECIOUS",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("backprop");
    let child = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .args([
            "train",
            "--quiet",
            "--layers",
            "784,10",
            "--epochs",
            "100000000",
        ])
        .args(["--batch-size", "8000", "--metrics", "m.jsonl"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("backprop-checkpoint-2.safetensors"),
        "{stderr}"
    );
    let kept = std::fs::read_to_string(dir.path().join("backprop-checkpoint.safetensors"));
    assert_eq!(kept.unwrap(), "PRECIOUS");
    let ckpt = dir.path().join("backprop-checkpoint-2.safetensors");
    let (trainer, _) = backprop::train::checkpoint::load(&ckpt).unwrap();
    let lines = |p: &str| {
        std::fs::read_to_string(dir.path().join(p))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(
        lines("m.jsonl"),
        trainer.epoch,
        "one line per finished epoch"
    );
    let total = (trainer.epoch + 2).to_string();
    let resumed = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .args([
            "train",
            "--quiet",
            "--resume",
            "backprop-checkpoint-2.safetensors",
        ])
        .args(["--epochs", &total, "--metrics", "m.jsonl"])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{resumed:?}");
    assert_eq!(
        lines("m.jsonl"),
        trainer.epoch + 2,
        "the resumed run keeps the earlier lines"
    );
}

/// A run that fails leaves an existing --metrics file as it was.
#[test]
fn a_failed_run_keeps_the_old_metrics_file() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.jsonl");
    std::fs::write(&metrics, "OLD\n").unwrap();
    backprop()
        .args([
            "train",
            "--quiet",
            "--layers",
            "784,10",
            "--epochs",
            "2",
            "--cost",
            "cross-entropy", // N(0,1) saturates the outputs: ln 0 diverges in epoch 1
        ])
        .arg("--metrics")
        .arg(&metrics)
        .assert()
        .failure();
    assert_eq!(std::fs::read_to_string(&metrics).unwrap(), "OLD\n");
}

#[test]
fn early_stopping_uses_a_validation_split_from_the_training_data() {
    let text = succeeds(backprop().args([
        "train",
        "--epochs",
        "40",
        "--eta",
        "8",
        "--early-stop",
        "2",
        "--validation",
        "1000",
    ]));
    assert!(
        text.contains("Validation: the last 1000 training examples")
            && text.contains("validation ")
            && text.contains("Kept network: "),
        "{text}"
    );
}

/// Without --validation, early stopping holds out 10% of the training data, as scikit-learn and
/// Keras do, and says so.
#[test]
fn early_stopping_without_validation_holds_out_ten_percent() {
    let text = succeeds(backprop().args(["train", "--epochs", "2", "--early-stop", "1"]));
    assert!(
        text.contains("Validation: the last 800 training examples, held out (10% by default")
            && text.contains("validation "),
        "{text}"
    );
}

#[test]
fn bad_improvement_flags_are_refused() {
    fails(&["train", "--dropout", "1"], 2, "--dropout");
    fails(
        &["train", "--beta1", "0.5"],
        2,
        "--beta1 apply to --optimizer adam, not sgd",
    );
    fails(
        &["train", "--optimizer", "momentum", "--epsilon", "1e-7"],
        2,
        "--epsilon",
    );
    fails(&["train", "--beta1", "-0.5"], 2, "[0, 1)");
    fails(&["train", "--batch-size", "-1"], 2, "--batch-size");
    fails(
        &["train", "--optimizer", "adam", "--epsilon", "1e-46"],
        2,
        "1e-30",
    );
    fails(
        &[
            "train",
            "--layers",
            "784,1",
            "--output-activation",
            "softmax",
        ],
        2,
        "at least 2 neurons",
    );
    fails(&["train", "--momentum", "1.5"], 2, "--momentum");
    fails(&["train", "--lambda", "-1"], 2, "--lambda");
    fails(
        &["train", "--eta-schedule", "sometimes"],
        2,
        "--eta-schedule",
    );
    fails(
        &["train", "--validation", "9000"],
        2,
        "nothing would be left",
    );
    fails(
        &["train", "--resume", "/nonexistent.safetensors"],
        2,
        "No such file",
    );
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    backprop()
        .args(["train", "--quiet", "--epochs", "1", "--save"])
        .arg(&model)
        .assert()
        .success();
    fails(
        &["train", "--resume", model.to_str().unwrap()],
        2,
        "backprop-checkpoint",
    );
}
