//! Hostile inputs, round three (issue 22): divergence that hides, files that change under a
//! run, images that lie about their size, runs that are killed. Every test here failed before
//! its fix. Nothing allocates more than a few megabytes.

mod common;

use backprop::{Activation, Cost, Network};
use common::{fails, stdout as run};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// One epoch of a 784-10 network on the embedded digits, saved as `m.st` in `dir`.
fn quick_model(dir: &Path) -> PathBuf {
    let model = dir.join("m.st");
    run(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--layers",
        "784,10",
        "--save",
        s(&model),
    ]);
    model
}

/// A ReLU network 784-10-10 whose weights are finite but so large that `z` overflows.
fn huge_model(dir: &Path) -> PathBuf {
    let mut net: Network = Network::builder(&[784, 10, 10])
        .hidden(Activation::Relu)
        .output(Activation::Softmax)
        .cost(Cost::LogLikelihood)
        .build()
        .unwrap();
    net.weights_mut(2).fill(3e38);
    net.weights_mut(3).fill(3e38);
    let path = dir.join("huge.st");
    backprop::io::model_file::save(&net, &path, &Default::default()).unwrap();
    path
}

#[test]
fn divergence_of_the_parameters_is_caught_though_the_cost_stays_finite() {
    let dir = tempfile::tempdir().unwrap();
    let (model, checkpoint) = (dir.path().join("m.st"), dir.path().join("c.st"));
    std::fs::write(&model, "the user's old model").unwrap();
    for (activation, eta) in [("identity", "1000"), ("identity", "1e8"), ("relu", "1e20")] {
        fails(
            &[
                "train",
                "--quiet",
                "--epochs",
                "2",
                "--activation",
                activation,
                "--output-activation",
                "softmax",
                "--cost",
                "log-likelihood",
                "--eta",
                eta,
                "--save",
                s(&model),
                "--checkpoint",
                s(&checkpoint),
            ],
            1,
            "training diverged in epoch 1: the weights or biases of layer",
        );
        assert_eq!(std::fs::read(&model).unwrap(), b"the user's old model");
        assert!(!checkpoint.exists(), "no NaN checkpoint");
    }
}

#[test]
fn an_output_that_is_not_finite_is_an_error_not_a_class() {
    let dir = tempfile::tempdir().unwrap();
    let model = huge_model(dir.path());
    let m = s(&model);
    fails(
        &["predict", "--model", m, "--index", "0"],
        1,
        "the activations a^(2) are not finite",
    );
    fails(
        &["evaluate", "--model", m],
        1,
        "are not finite (NaN or infinite) for example 0",
    );
    // Found by attacking it: a ReLU output layer turns the NaN of an overflowed hidden layer
    // into 0, which looked finite to a check of a^(L) alone.
    let mut net: Network = Network::builder(&[784, 30, 10])
        .hidden(Activation::Relu)
        .output(Activation::Relu)
        .build()
        .unwrap();
    net.weights_mut(2).fill(3e38);
    let hidden = dir.path().join("hidden.st");
    backprop::io::model_file::save(&net, &hidden, &Default::default()).unwrap();
    let h = s(&hidden);
    let refused = "the activations a^(2) are not finite";
    fails(&["evaluate", "--model", h], 1, refused);
    fails(&["evaluate", "--model", h, "--json"], 1, refused);
    fails(&["predict", "--model", h, "--index", "3"], 1, refused);
}

/// Every byte offset of the tensor data of a small model file.
fn data_offsets(bytes: &[u8]) -> std::ops::Range<usize> {
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    8 + header..bytes.len()
}

#[test]
fn a_flipped_bit_in_a_model_file_is_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.st");
    run(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--layers",
        "784,10,10",
        "--save",
        s(&model),
    ]);
    let good = std::fs::read(&model).unwrap();
    let info = run(&["info", "--model", s(&model)]);
    assert!(info.contains("tensor_crc32"), "{info}");
    let damaged = dir.path().join("d.st");
    let range = data_offsets(&good);
    let step = (range.len() / 50).max(1);
    for (k, offset) in range.step_by(step).enumerate() {
        let mut bytes = good.clone();
        bytes[offset] ^= 1 << (k % 8);
        std::fs::write(&damaged, &bytes).unwrap();
        for command in ["evaluate", "info"] {
            fails(
                &[command, "--model", s(&damaged)],
                2,
                "does not match its checksum",
            );
        }
    }
    // A file written before checksums (no entry) still loads, with a note in `info`.
    let net = backprop::io::model_file::load(&model).unwrap().network;
    let mut metadata = backprop::io::model_file::standard_metadata(&net);
    metadata.insert("note".into(), "old".into());
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = (2..=net.num_layers())
        .flat_map(|l| {
            let (w, b) = (net.weights(l), net.biases(l));
            [
                (
                    format!("layers.{l}.weight"),
                    vec![w.nrows(), w.ncols()],
                    w.iter().copied().collect(),
                ),
                (format!("layers.{l}.bias"), vec![b.len()], b.to_vec()),
            ]
        })
        .collect();
    let mut bytes = backprop::io::model_file::tensors_to_bytes(&tensors, metadata).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let start = text.find("\"tensor_crc32\"").unwrap();
    // Rename the entry in place (same length): the file then has no checksums.
    bytes[start + 1..start + 13].copy_from_slice(b"tensor_crc99");
    let old = dir.path().join("old.st");
    std::fs::write(&old, &bytes).unwrap();
    let info = run(&["info", "--model", s(&old)]);
    assert!(info.contains("no checksums"), "{info}");
    run(&["evaluate", "--model", s(&old)]);
}

/// A 1-pixel-high grey PNG `width` pixels wide (16,000,000 of them compress to a few KB).
fn wide_png(dir: &Path, width: u32) -> PathBuf {
    let path = dir.join(format!("wide-{width}.png"));
    image::GrayImage::new(width, 1).save(&path).unwrap();
    path
}

#[test]
fn an_image_that_declares_too_many_pixels_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let model = quick_model(dir.path());
    for width in [16_000_000, 16_385] {
        let png = wide_png(dir.path(), width);
        assert!(std::fs::metadata(&png).unwrap().len() < 100_000);
        for command in ["predict", "trace"] {
            fails(
                &[command, "--model", s(&model), "--image", s(&png)],
                2,
                "the image is too large (at most 16384 pixels a side",
            );
        }
    }
    let fits = wide_png(dir.path(), 16_384);
    run(&["predict", "--model", s(&model), "--image", s(&fits)]);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_an_input_is_refused_instead_of_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let model = quick_model(dir.path());
    let (png, csv) = (dir.path().join("x.png"), dir.path().join("x.csv"));
    assert!(std::process::Command::new("mkfifo")
        .args([&png, &csv])
        .status()
        .unwrap()
        .success());
    fails(
        &["predict", "--model", s(&model), "--image", s(&png)],
        2,
        "not a regular file",
    );
    fails(
        &["train", "--quiet", "--data", s(&csv)],
        2,
        "not a regular file",
    );
    fails(
        &["evaluate", "--model", s(&model), "--data", s(&csv)],
        2,
        "not a regular file",
    );
    // One file of an IDX directory that is a FIFO is named as such, not reported missing.
    let idx = dir.path().join("idx");
    std::fs::create_dir(&idx).unwrap();
    for name in [
        "t10k-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(idx.join(name), b"").unwrap();
    }
    let fifo = idx.join("train-images-idx3-ubyte");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    fails(
        &["evaluate", "--model", s(&model), "--data", s(&idx)],
        2,
        "train-images-idx3-ubyte: not a regular file",
    );
}

/// A small CSV data set: `n` rows of a label (0 or 1) and 4 features.
fn csv(dir: &Path, name: &str, n: usize, shift: f64) -> PathBuf {
    let path = dir.join(name);
    let rows: String = (0..n)
        .map(|i| {
            let k = i % 2;
            let changed = if i == 7 { shift } else { 0.0 };
            format!(
                "{k},{k},{},{},{}\n",
                i % 3,
                1 - k,
                (i % 5) as f64 / 5.0 + changed
            )
        })
        .collect();
    std::fs::write(&path, rows).unwrap();
    path
}

const SMALL: [&str; 8] = [
    "train",
    "--quiet",
    "--layers",
    "4,3,2",
    "--batch-size",
    "5",
    "--eta",
    "0.5",
];

#[test]
fn a_finished_checkpoint_can_still_be_saved_and_changed_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = csv(dir.path(), "d.csv", 60, 0.0);
    let (checkpoint, plain, resumed) = (
        dir.path().join("c.st"),
        dir.path().join("plain.st"),
        dir.path().join("resumed.st"),
    );
    let flags = [&SMALL[..], &["--data", s(&data), "--epochs", "3"]].concat();
    run(&[
        &flags[..],
        &["--save", s(&plain), "--checkpoint", s(&checkpoint)],
    ]
    .concat());
    // Every epoch is done: the checkpoint's network is written, the same bits as --save gave.
    run(&[
        "train",
        "--quiet",
        "--resume",
        s(&checkpoint),
        "--save",
        s(&resumed),
    ]);
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&resumed).unwrap()
    );
    fails(
        &["train", "--quiet", "--resume", s(&checkpoint)],
        2,
        "or --save M to write its network",
    );
    // The data file changes under the checkpoint: refused, naming both fingerprints.
    csv(dir.path(), "d.csv", 60, 0.5);
    fails(
        &[
            "train",
            "--quiet",
            "--resume",
            s(&checkpoint),
            "--epochs",
            "4",
        ],
        2,
        "the data are not those this training ran on: it trained on 48 examples with fingerprint",
    );
    csv(dir.path(), "d.csv", 60, 0.0);
    run(&[
        "train",
        "--quiet",
        "--resume",
        s(&checkpoint),
        "--epochs",
        "4",
    ]);
}

#[test]
fn long_runs_keep_the_checkpoint_and_plot_bounded_and_append_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let data = csv(dir.path(), "d.csv", 10, 0.0);
    let (checkpoint, metrics, plot) = (
        dir.path().join("c.st"),
        dir.path().join("m.csv"),
        dir.path().join("p.svg"),
    );
    let epochs = 2100;
    run(&[
        &SMALL[..],
        &[
            "--data",
            s(&data),
            "--epochs",
            &epochs.to_string(),
            "--checkpoint",
            s(&checkpoint),
        ],
        &["--metrics", s(&metrics), "--plot", s(&plot)],
    ]
    .concat());
    let lines = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(lines.lines().count(), epochs, "one line per epoch");
    let (trainer, _) = backprop::train::checkpoint::load(&checkpoint).unwrap();
    assert_eq!(trainer.epoch, epochs);
    assert!(trainer.reports.len() <= backprop::train::checkpoint::MAX_REPORTS);
    assert_eq!(trainer.reports.last().unwrap().epoch, epochs);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
    // Resuming from the thinned checkpoint continues exactly as the run never stopped.
    let (a, b) = (dir.path().join("a.st"), dir.path().join("b.st"));
    run(&[
        "train",
        "--quiet",
        "--resume",
        s(&checkpoint),
        "--epochs",
        "2102",
        "--save",
        s(&a),
    ]);
    run(&[
        &SMALL[..],
        &["--data", s(&data), "--epochs", "2102", "--save", s(&b)],
    ]
    .concat());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[cfg(target_os = "linux")]
#[test]
fn temporary_files_of_dead_processes_are_removed_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    // A process id that does not run: far above any pid_max.
    let stale = dir.path().join(".backprop-2147483646-0.tmp");
    std::fs::write(&stale, "half a model").unwrap();
    let alive = dir
        .path()
        .join(format!(".backprop-{}-0.tmp", std::process::id()));
    std::fs::write(&alive, "being written").unwrap();
    quick_model(dir.path()); // a write into the directory
    assert!(!stale.exists(), "the dead process's file is removed");
    assert!(alive.exists(), "a running process's file is kept");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_training_with_a_checkpoint_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("c.st");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("backprop"))
        .args([
            "train", "--quiet", "--epochs", "100000", "--layers", "784,10",
        ])
        .args(["--checkpoint", s(&checkpoint)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first checkpoint, then terminate.
    let start = std::time::Instant::now();
    while !checkpoint.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("checkpoint written to"), "{stderr}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["c.st"], "no temporary file left");
    backprop::train::checkpoint::load(&checkpoint).unwrap();
}
