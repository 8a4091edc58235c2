//! The `backprop` binary: what a user sees, and every bad input refused in one line.

mod common;

use common::{backprop, fails, stdout};
use std::path::{Path, PathBuf};

fn idx_bytes(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    sizes.iter().for_each(|s| v.extend(s.to_be_bytes()));
    v.extend(data);
    v
}

/// A directory with the four standard IDX files (raw), 2×2 images; `tweak` may replace one.
fn idx_dir(tweak: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["train", "t10k"] {
        let images = idx_bytes(0x803, &[3, 2, 2], &[0, 255, 128, 7, 1, 2, 3, 4, 9, 9, 9, 9]);
        std::fs::write(
            dir.path().join(format!("{prefix}-images-idx3-ubyte")),
            images,
        )
        .unwrap();
        std::fs::write(
            dir.path().join(format!("{prefix}-labels-idx1-ubyte")),
            idx_bytes(0x801, &[3], &[0, 1, 2]),
        )
        .unwrap();
    }
    tweak(dir.path());
    dir
}

fn train_model(dir: &Path) -> PathBuf {
    let model = dir.join("model.safetensors");
    backprop()
        .args(["train", "--epochs", "2", "--quiet", "--save"])
        .arg(&model)
        .assert()
        .success();
    model
}

#[test]
fn train_prints_the_books_epoch_lines_and_writes_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.jsonl");
    let out = backprop()
        .args(["train", "--epochs", "2", "--metrics"])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("Epoch 1: ") && l.contains(" / 2000")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Epoch 2: ") && stdout.contains("Final: "),
        "{stdout}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for key in [
        "epoch",
        "train_seconds",
        "train_cost",
        "test_cost",
        "test_correct",
        "test_total",
        "test_accuracy",
    ] {
        assert!(lines[1].get(key).is_some(), "metrics lack {key}");
    }
    assert_eq!(lines[1]["epoch"], 2);
    assert_eq!(lines[1]["test_total"], 2000);
    assert!(lines[1]["test_accuracy"].as_f64().unwrap() > 0.5);
}

#[test]
fn a_saved_model_evaluates_predicts_and_describes_itself() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path());
    let out = backprop()
        .args(["evaluate", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Accuracy: ")
            && text.contains(" / 2000 (")
            && text.contains("Confusion matrix"),
        "{text}"
    );
    let json = backprop()
        .args(["evaluate", "--json", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let e: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(e["total"], 2000);
    let confusion = e["confusion"].as_array().unwrap();
    let sum: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, 2000);
    let p = backprop()
        .args(["predict", "--json", "--index", "3", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let p: serde_json::Value = serde_json::from_slice(&p.stdout).unwrap();
    assert_eq!(p["activations"].as_array().unwrap().len(), 10);
    assert!(p["class"].as_u64().unwrap() < 10 && p["label"].as_u64().is_some());
    let info = backprop()
        .args(["info", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(
        info.contains("784-30-10")
            && info.contains("layers.3.weight (10, 30)")
            && info.contains("\"eta\":3.0"),
        "{info}"
    );
}

#[test]
fn predict_reads_an_image_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path());
    // A dark "1" on a light 56×40 background: resized, grayscale, inverted like MNIST.
    let img = image::GrayImage::from_fn(40, 56, |x, _| {
        image::Luma([if (18..22).contains(&x) { 0 } else { 255 }])
    });
    let png = dir.path().join("one.png");
    img.save(&png).unwrap();
    let out = backprop()
        .args(["predict", "--json", "--model"])
        .arg(&model)
        .arg("--image")
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["activations"].as_array().unwrap().len(), 10);
    fails(
        &[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--image",
            "/nonexistent.png",
        ],
        2,
        "cannot read the image",
    );
}

#[test]
fn trains_on_an_idx_directory_and_a_csv_file() {
    let dir = idx_dir(|_| {});
    backprop()
        .args([
            "train",
            "--layers",
            "4,3,3",
            "--epochs",
            "1",
            "--batch-size",
            "2",
            "--data",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let csv = dir.path().join("d.csv");
    let rows: String = (0..30)
        .map(|i| {
            format!(
                "{},{},{}\n",
                i % 2,
                i as f64 * 0.1,
                (i % 2) as f64 + 0.05 * i as f64
            )
        })
        .collect();
    std::fs::write(&csv, format!("label,a,b\n{rows}")).unwrap();
    let out = backprop()
        .args(["train", "--layers", "2,4,2", "--epochs", "2", "--data"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout).unwrap().contains(" / 6 "),
        "20% of 30 rows are held out"
    );
}

#[test]
fn bad_flags_are_refused_in_one_line() {
    fails(&["train", "--layers", "784,0,10"], 2, "0 neurons");
    fails(&["train", "--layers", "784,x,10"], 2, "`x`");
    fails(&["train", "--layers", "784"], 2, "two layers");
    for eta in ["0", "-1", "nan", "inf"] {
        fails(&["train", "--eta", eta], 2, "--eta");
    }
    fails(&["train", "--batch-size", "0"], 2, "--batch-size");
    fails(&["train", "--epochs", "0"], 2, "--epochs");
    fails(&["train", "--activation", "softmax"], 2, "--activation");
    fails(
        &[
            "train",
            "--cost",
            "cross-entropy",
            "--output-activation",
            "identity",
        ],
        2,
        "cross-entropy",
    );
    fails(&["train", "--data", "nowhere"], 2, "nowhere");
}

#[test]
fn bad_data_is_refused_in_one_line() {
    fails(
        &["train", "--data", "/nonexistent/file.csv"],
        2,
        "No such file",
    );
    fails(&["train", "--layers", "100,10"], 2, "784");
    fails(
        &["train", "--layers", "784,30,5"],
        2,
        "label 9 is out of range",
    );
    let corrupt = idx_dir(|d| {
        std::fs::write(
            d.join("train-images-idx3-ubyte.gz"),
            [0x1f, 0x8b, 8, 0, 1, 2, 3],
        )
        .unwrap()
    });
    fails(
        &[
            "train",
            "--layers",
            "4,3",
            "--data",
            corrupt.path().to_str().unwrap(),
        ],
        2,
        "gzip",
    );
    let magic = idx_dir(|d| {
        std::fs::write(
            d.join("train-labels-idx1-ubyte"),
            idx_bytes(0x803, &[3], &[0, 1, 2]),
        )
        .unwrap()
    });
    fails(
        &[
            "train",
            "--layers",
            "4,3",
            "--data",
            magic.path().to_str().unwrap(),
        ],
        2,
        "magic",
    );
    let counts = idx_dir(|d| {
        std::fs::write(
            d.join("t10k-labels-idx1-ubyte"),
            idx_bytes(0x801, &[2], &[0, 1]),
        )
        .unwrap()
    });
    fails(
        &[
            "train",
            "--layers",
            "4,3",
            "--data",
            counts.path().to_str().unwrap(),
        ],
        2,
        "3 images but 2 labels",
    );
    let truncated = idx_dir(|d| {
        std::fs::write(
            d.join("train-images-idx3-ubyte"),
            idx_bytes(0x803, &[3, 2, 2], &[1, 2]),
        )
        .unwrap()
    });
    fails(
        &[
            "train",
            "--layers",
            "4,3",
            "--data",
            truncated.path().to_str().unwrap(),
        ],
        2,
        "need 12 bytes",
    );
    let dir = tempfile::tempdir().unwrap();
    let ragged = dir.path().join("r.csv");
    std::fs::write(&ragged, "1,2,3\n0,1\n").unwrap();
    fails(
        &[
            "train",
            "--layers",
            "2,2",
            "--data",
            ragged.to_str().unwrap(),
        ],
        2,
        "line 2",
    );
    let text = dir.path().join("t.csv");
    std::fs::write(&text, "1,2,3\n0,1,zz\n").unwrap();
    fails(
        &["train", "--layers", "2,2", "--data", text.to_str().unwrap()],
        2,
        "`zz` is not a number",
    );
}

#[test]
fn bad_model_files_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path());
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fails(
        &["evaluate", "--model", truncated.to_str().unwrap()],
        2,
        "safetensors",
    );
    let text = dir.path().join("text.safetensors");
    std::fs::write(&text, "hello, world").unwrap();
    fails(
        &["info", "--model", text.to_str().unwrap()],
        2,
        "not a safetensors file",
    );
    let mut lying = bytes.clone();
    let at = lying.windows(10).position(|w| w == b"784,30,10\"").unwrap();
    lying[at + 4] = b'2'; // sizes 784,20,10 while the tensors are 784,30,10
    let lie = dir.path().join("lie.safetensors");
    std::fs::write(&lie, lying).unwrap();
    fails(&["evaluate", "--model", lie.to_str().unwrap()], 2, "shape");
    fails(
        &["evaluate", "--model", "/nonexistent.safetensors"],
        2,
        "No such file",
    );
    fails(
        &[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--index",
            "2000",
        ],
        2,
        "out of range",
    );
}

#[test]
fn divergence_stops_and_keeps_the_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("keep.safetensors");
    std::fs::write(&model, b"precious").unwrap();
    let args = [
        "train",
        "--activation",
        "identity",
        "--output-activation",
        "identity",
        "--eta",
        "1e6",
        "--epochs",
        "2",
        "--quiet",
        "--save",
        model.to_str().unwrap(),
    ];
    fails(&args, 1, "smaller learning rate");
    assert_eq!(std::fs::read(&model).unwrap(), b"precious");
}

/// Output into a closed pipe (`backprop evaluate | head -1`) ends quietly, without a panic.
#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("backprop"))
        .args(["evaluate", "--model"])
        .arg(&model)
        .env("RUST_BACKTRACE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the first line is written
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// `train … | head -1`: the reader goes away, training goes on silently and `--save` is written
/// (found by attacking `--distributed`: it used to end at once with status 0 and no model).
#[test]
fn a_closed_pipe_does_not_stop_training_before_it_saves() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("backprop"))
        .args(["train", "--epochs", "2", "--layers", "784,8,10", "--save"])
        .arg(&model)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(
        backprop::io::model_file::load(&model)
            .unwrap()
            .network
            .sizes(),
        [784, 8, 10]
    );
}

/// Adam's default η is its usual 0.001, not the lecture's 3 (with which Adam saturated every
/// output and ended at chance); an --eta given is kept.
#[test]
fn the_default_eta_follows_the_update_rule() {
    let banner = |args: &[&str]| {
        let out = stdout(&[&["train", "--epochs", "1", "--layers", "784,10"][..], args].concat());
        out.lines().nth(1).unwrap().to_string()
    };
    assert!(banner(&[]).contains("η = 3,"), "{}", banner(&[]));
    assert!(banner(&["--optimizer", "momentum"]).contains("η = 3,"));
    assert!(banner(&["--optimizer", "adam"]).contains("η = 0.001,"));
    assert!(banner(&["--optimizer", "adam", "--eta", "0.01"]).contains("η = 0.01,"));
}

/// Adam at the lecture's η = 3 saturates every output (the cost stays finite at 0.5 and the
/// network answers one class): that is divergence, with exit 1 and the model kept, not a run
/// that ends quietly at chance (issue 26).
#[test]
fn a_run_stuck_in_saturation_is_reported_as_divergence() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("keep.safetensors");
    std::fs::write(&model, b"precious").unwrap();
    let args = [
        "train",
        "--optimizer",
        "adam",
        "--eta",
        "3",
        "--epochs",
        "3",
        "--quiet",
        "--save",
        model.to_str().unwrap(),
    ];
    fails(&args, 1, "answers class 0 for every one");
    assert_eq!(std::fs::read(&model).unwrap(), b"precious");
}

/// A schedule that brings η to 0 ends training with a line that says so (it ended silently).
#[test]
fn a_schedule_that_underflows_eta_says_why_training_stopped() {
    let out = stdout(&[
        "train",
        "--layers",
        "784,5,10",
        "--epochs",
        "4",
        "--eta-schedule",
        "exponential:1e-300",
    ]);
    assert!(
        out.contains("Stopped after epoch 2: the η schedule brought η to 0"),
        "{out}"
    );
    assert!(!out.contains("Epoch 3:"), "{out}");
}
