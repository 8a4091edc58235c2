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
