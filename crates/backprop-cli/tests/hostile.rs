//! Hostile inputs, round two (issue 16): each case an attacker of the command found, through the
//! binary. Every test here failed before the fix. Nothing allocates more than a few megabytes:
//! bounds are checked, not the machine.

mod common;

use common::{backprop, fails, stdout as run};
use std::path::{Path, PathBuf};

/// The quickest training run: one epoch of a 784-10 network on the embedded digits.
const QUICK: [&str; 6] = ["train", "--quiet", "--epochs", "1", "--layers", "784,10"];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A quick run with `args` added.
fn quick(args: &[&str]) -> String {
    run(&[&QUICK[..], args].concat())
}

fn saved_model(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    quick(&["--save", s(&path)]);
    path
}

// 1. Saving must not destroy what the path points to.

#[cfg(unix)]
#[test]
fn save_follows_symlinks_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = saved_model(dir.path(), "real.st");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("link.st");
    std::os::unix::fs::symlink("real.st", &link).unwrap();
    let before = std::fs::read(&real).unwrap();
    run(&[&QUICK[..], &["--seed", "1", "--save", s(&link)]].concat());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_ne!(
        std::fs::read(&real).unwrap(),
        before,
        "the target is updated"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "permissions kept");
    // Pictures too.
    let svg = dir.path().join("curves.svg");
    std::fs::write(&svg, "old").unwrap();
    let svg_link = dir.path().join("plot.svg");
    std::os::unix::fs::symlink("curves.svg", &svg_link).unwrap();
    quick(&["--plot", s(&svg_link)]);
    assert!(std::fs::symlink_metadata(&svg_link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "no temporary file left: {names:?}");
}

#[test]
fn a_name_at_the_file_system_limit_can_be_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n".repeat(250) + ".st"); // 253 bytes: legal (NAME_MAX 255)
    quick(&["--save", s(&path)]);
    backprop::io::model_file::load(&path).unwrap();
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_before_training() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let (fifo, svg) = (dir.path().join("f.st"), dir.path().join("f.svg"));
    assert!(std::process::Command::new("mkfifo")
        .args([&fifo, &svg])
        .status()
        .unwrap()
        .success());
    for flag in ["--save", "--checkpoint", "--metrics"] {
        fails(&[&QUICK[..], &[flag, s(&fifo)]].concat(), 1, "a FIFO");
    }
    fails(&[&QUICK[..], &["--plot", s(&svg)]].concat(), 1, "a FIFO");
    for path in [fifo, svg] {
        let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
        assert!(kind.is_fifo(), "still a FIFO");
    }
}

/// A character device is written through, never replaced: `/dev/null` stays a device. The test
/// uses its own device node (1, 3 is the null device) in a temporary directory, never the
/// system's `/dev/null`; it is skipped where `mknod` is not allowed (not root).
#[cfg(unix)]
#[test]
fn a_character_device_is_written_through() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let null = dir.path().join("null");
    let made = std::process::Command::new("mknod")
        .args(["-m", "666"])
        .arg(&null)
        .args(["c", "1", "3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mknod is not allowed here");
        return;
    }
    quick(&["--save", s(&null), "--checkpoint", s(&null)]);
    let kind = std::fs::symlink_metadata(&null).unwrap().file_type();
    assert!(kind.is_char_device(), "still a character device");
}

#[test]
fn an_unwritable_save_path_is_refused_before_the_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let file = saved_model(dir.path(), "m.st");
    let below_a_file = format!("{}/x.st", s(&file));
    let out = backprop()
        .args(["train", "--epochs", "1", "--layers", "784,10", "--save"])
        .arg(&below_a_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "no epoch ran"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--save"));
}

// 2. Aborts ("memory allocation of N bytes failed") become one-line errors naming the size.

#[test]
fn networks_too_large_to_allocate_are_refused_naming_their_size() {
    for args in [
        &["train", "--layers", "784,2000000000,10"][..],
        &["train", "--layers", "784,100000,100000,10"],
        &["train", "--layers", "784,4294967297,10"],
        &["trace", "--layers", "4,2000000000,2"],
        &["gradcheck", "--layers", "4,2000000000,2"],
        &["trace", "--layers", "1000000000,2"],
    ] {
        fails(args, 2, "parameters (");
    }
}

#[test]
fn pictures_cap_their_size_and_say_what_they_drew() {
    let dir = tempfile::tempdir().unwrap();
    // 400 output classes: 4,920 × 4,920 pixels before (every class a 12-pixel cell).
    let wide: backprop::Network = backprop::Network::new(&[784, 16, 400]).unwrap();
    let model = dir.path().join("wide.st");
    backprop::io::model_file::save(&wide, &model, &Default::default()).unwrap();
    let png = dir.path().join("c.png");
    let out = run(&["evaluate", "--model", s(&model), "--confusion", s(&png)]);
    assert!(out.contains("(classes 0–99 of 400)"), "{out}");
    let (w, h) = image::image_dimensions(&png).unwrap();
    assert!(w <= 1400 && h <= 1400, "{w} × {h}");
    // 1,000 neurons of 28 × 28 weights: 400 tiles drawn.
    let many: backprop::Network = backprop::Network::new(&[784, 1000, 10]).unwrap();
    let model = dir.path().join("many.st");
    backprop::io::model_file::save(&many, &model, &Default::default()).unwrap();
    let tiles = dir.path().join("w.png");
    let out = run(&["show-weights", "--model", s(&model), "--out", s(&tiles)]);
    assert!(out.contains("400 tiles (neurons 0–399 of 1000)"), "{out}");
    let (w, h) = image::image_dimensions(&tiles).unwrap();
    assert!(u64::from(w) * u64::from(h) <= 40_000_000, "{w} × {h}");
}

// 3. Unbounded memory or time.

#[test]
fn examples_and_threads_are_bounded() {
    fails(
        &["gradcheck", "--layers", "4,3,2", "--examples", "1000000000"],
        2,
        "at most 1000",
    );
    // 1,000 examples of 100 million inputs would be 800 GB of inputs (the network is 800 MB).
    fails(
        &["gradcheck", "--layers", "100000000,1", "--examples", "1000"],
        2,
        "800.0 GB of inputs",
    );
    fails(&["train", "--threads", "100000"], 2, "at most 256");
    let out = backprop()
        .args(QUICK)
        .args(["--threads", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 3 {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("3 threads on"), "{stderr}");
    }
}

/// Runs `gzip -c` on `bytes`.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

/// An IDX file: magic, sizes, data.
fn idx(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    sizes.iter().for_each(|s| v.extend(s.to_be_bytes()));
    v.extend(data);
    v
}

/// A directory of the four standard IDX files: `train` and `test` 28 × 28 images (all labels 1);
/// `images` replaces the training images file (name and bytes) when given.
fn idx_dir(dir: &Path, train: u32, test: u32, images: Option<(&str, Vec<u8>)>) -> PathBuf {
    let d = dir.join("idx");
    std::fs::create_dir_all(&d).unwrap();
    let pixels = |n: u32| vec![7u8; n as usize * 784];
    let (name, bytes) = images.unwrap_or((
        "train-images-idx3-ubyte",
        idx(0x803, &[train, 28, 28], &pixels(train)),
    ));
    std::fs::write(d.join(name), bytes).unwrap();
    let labels = |n: u32| idx(0x801, &[n], &vec![1u8; n as usize]);
    std::fs::write(d.join("train-labels-idx1-ubyte"), labels(train)).unwrap();
    let test_images = idx(0x803, &[test, 28, 28], &pixels(test));
    std::fs::write(d.join("t10k-images-idx3-ubyte"), test_images).unwrap();
    std::fs::write(d.join("t10k-labels-idx1-ubyte"), labels(test)).unwrap();
    d
}

#[test]
fn streams_are_read_only_as_far_as_their_header_says() {
    for args in [
        &["info", "--model", "/dev/zero"][..],
        &["info", "--model", "/dev/urandom"],
        &["train", "--resume", "/dev/zero"],
    ] {
        let out = backprop()
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not a safetensors file"), "{stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    // A gzip bomb: a header needing 1,568 bytes, then 20 MB of zeros (20 KB gzipped).
    let mut bomb = idx(0x803, &[2, 28, 28], &[0; 1568]);
    bomb.resize(20_000_000, 0);
    let d = idx_dir(
        dir.path(),
        2,
        2,
        Some(("train-images-idx3-ubyte.gz", gzip(&bomb))),
    );
    fails(
        &[&QUICK[..], &["--data", s(&d)]].concat(),
        2,
        "but more follow",
    );
    // A header declaring 2^40 bytes is refused before reading any.
    let huge = idx(0x803, &[1 << 16, 1 << 12, 1 << 12], &[]);
    let d = idx_dir(
        &dir.path().join("b"),
        2,
        2,
        Some(("train-images-idx3-ubyte.gz", gzip(&huge))),
    );
    fails(
        &[&QUICK[..], &["--data", s(&d)]].concat(),
        2,
        "MAX_IDX_BYTES",
    );
    // Random bytes named .gz.
    let d = idx_dir(
        &dir.path().join("c"),
        2,
        2,
        Some((
            "train-images-idx3-ubyte.gz",
            b"\x00\x01random bytes".to_vec(),
        )),
    );
    fails(&[&QUICK[..], &["--data", s(&d)]].concat(), 2, "not gzip");
}

// 4. Exit 0 on bad input, silent no-ops.

#[test]
fn empty_splits_and_nan_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path(), "m.st");
    let d = idx_dir(dir.path(), 2, 0, None);
    fails(
        &["evaluate", "--model", s(&model), "--data", s(&d)],
        2,
        "the test split has no examples",
    );
    let mut net: backprop::Network = backprop::Network::new(&[784, 10]).unwrap();
    net.weights_mut(2)[[3, 5]] = f32::NAN;
    let bytes = backprop::io::model_file::to_bytes(&net, &Default::default()).unwrap();
    let nan = dir.path().join("nan.st");
    std::fs::write(&nan, bytes).unwrap();
    fails(&["evaluate", "--model", s(&nan)], 2, "NaN");
    fails(&["predict", "--model", s(&nan), "--index", "0"], 2, "NaN");
}

#[test]
fn impossible_checkpoints_and_ignored_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("c.st");
    quick(&["--checkpoint", s(&ckpt)]);
    let (mut trainer, meta) = backprop::train::checkpoint::load(&ckpt).unwrap();
    trainer.settings.epochs = 5;
    let edited = dir.path().join("e.st");
    let mut save = |epoch: usize, batch: usize| {
        (trainer.epoch, trainer.batch) = (epoch, batch);
        backprop::train::checkpoint::save(&trainer, &edited, &meta).unwrap();
    };
    save(1, 99_999_999);
    fails(&["train", "--resume", s(&edited)], 2, "mini-batches");
    save(usize::MAX, 0);
    fails(&["train", "--resume", s(&edited)], 2, "beyond");
    fails(&["train", "--resume", s(&ckpt)], 2, "nothing is left");
    fails(
        &[
            "train",
            "--resume",
            s(&ckpt),
            "--epochs",
            "2",
            "--layers",
            "784,5,10",
            "--eta",
            "1",
        ],
        2,
        "--layers, --eta cannot apply",
    );
    fails(
        &["train", "--nesterov", "--optimizer", "sgd"],
        2,
        "--nesterov contradicts --optimizer sgd",
    );
    fails(
        &["train", "--momentum", "0.5", "--optimizer", "adam"],
        2,
        "--momentum",
    );
}

#[test]
fn one_file_cannot_be_two_of_the_inputs_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    let rows: String = (0..20)
        .map(|i| format!("{},{i},{}\n", i % 2, 20 - i))
        .collect();
    std::fs::write(&csv, &rows).unwrap();
    let small = ["train", "--quiet", "--epochs", "1", "--layers", "2,2"];
    fails(
        &[&small[..], &["--data", s(&csv), "--metrics", s(&csv)]].concat(),
        2,
        "same file",
    );
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        rows,
        "the data is intact"
    );
    let x = dir.path().join("x.st");
    fails(
        &[&QUICK[..], &["--save", s(&x), "--metrics", s(&x)]].concat(),
        2,
        "same file",
    );
    quick(&["--checkpoint", s(&x)]);
    fails(
        &["train", "--resume", s(&x), "--epochs", "2", "--save", s(&x)],
        2,
        "same file",
    );
}

// 5. Errors that name the problem.

#[test]
fn messages_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path(), "m.st");
    fails(&["predict", "--model", s(&model)], 2, "--index");
    fails(&["predict"], 2, "--model");
    fails(&["show-weights", "--model", s(&model)], 2, "--out");
    let out = backprop()
        .args(["train", "--optimizer", "adam", "--epsilon", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--epsilon") && !stderr.contains("learning rate"),
        "{stderr}"
    );
    fails(
        &[&QUICK[..], &["--lambda", "1e30"]].concat(),
        2,
        "decay factor",
    );
    let csv = dir.path().join("big.csv");
    let rows: String = (0..10).map(|i| format!("{},{i}e37,1\n", i % 2)).collect();
    std::fs::write(&csv, rows).unwrap();
    let small = ["train", "--quiet", "--epochs", "1", "--layers", "2,2"];
    fails(
        &[&small[..], &["--data", s(&csv), "--scale", "10"]].concat(),
        2,
        "not a finite input feature",
    );
    let csv = dir.path().join("small.csv");
    let rows: String = (0..10).map(|i| format!("{},{i},1\n", i % 2)).collect();
    std::fs::write(&csv, rows).unwrap();
    let m2 = dir.path().join("m2.st");
    run(&[&small[..], &["--data", s(&csv), "--save", s(&m2)]].concat());
    fails(
        &[
            "gradcheck",
            "--model",
            s(&m2),
            "--data",
            s(&csv),
            "--examples",
            "5",
        ],
        2,
        "has only 2 examples",
    );
}

#[cfg(unix)]
#[test]
fn a_full_stdout_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path(), "m.st");
    let saved = dir.path().join("full.st");
    let train = [
        "train",
        "--epochs",
        "1",
        "--layers",
        "784,8,10",
        "--save",
        s(&saved),
    ];
    // `train` still writes what it was asked to, then reports the failure to print.
    for args in [&["evaluate", "--model", s(&model)][..], &["--help"], &train] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("backprop"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("stdout") && !stderr.contains("internal error"),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
    assert!(saved.exists());
}

// 6. Loose ends.

#[cfg(unix)]
#[test]
fn picture_and_model_write_failures_exit_alike() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path(), "m.st");
    let (png, st) = (dir.path().join("c.png"), dir.path().join("full.st"));
    std::os::unix::fs::symlink("/dev/full", &png).unwrap();
    std::os::unix::fs::symlink("/dev/full", &st).unwrap();
    fails(
        &["evaluate", "--model", s(&model), "--confusion", s(&png)],
        1,
        "c.png",
    );
    fails(&[&QUICK[..], &["--save", s(&st)]].concat(), 1, "full.st");
    for link in [png, st] {
        assert!(std::fs::symlink_metadata(link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary file"
    );
}

#[test]
fn the_same_seed_gives_the_same_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        saved_model(dir.path(), "a.st"),
        saved_model(dir.path(), "b.st"),
    );
    assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
}

#[test]
fn a_resumed_run_reports_the_best_epoch_of_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("c.st");
    // Seed 3, η 2: epoch 1 gives 1762 / 2000, epoch 2 1676: the best epoch is in the first part.
    let args = [
        "train",
        "--seed",
        "3",
        "--layers",
        "784,10",
        "--output-activation",
        "softmax",
        "--cost",
        "log-likelihood",
        "--eta",
        "2",
    ];
    let straight = run(&[&args[..], &["--epochs", "2"]].concat());
    assert!(straight.contains("at epoch 1;"), "{straight}");
    run(&[&args[..], &["--epochs", "1", "--checkpoint", s(&ckpt)]].concat());
    let resumed = run(&["train", "--resume", s(&ckpt), "--epochs", "2"]);
    let best = |text: &str| {
        let line = text.lines().find(|l| l.starts_with("Final:")).unwrap();
        line.split("; ").take(2).collect::<Vec<_>>().join("; ")
    };
    assert_eq!(best(&resumed), best(&straight));
}

/// A disk that fills up mid-write, simulated by a file-size limit of 4 KB (`ulimit -f 8`) with
/// `SIGXFSZ` ignored, so that writes fail with "File too large": pictures, like models, leave no
/// temporary file behind and exit 1.
#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_temporary_picture() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path(), "m.st");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("backprop");
    let limited = |args: &[&str]| {
        std::process::Command::new("sh")
            .args(["-c", "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\""])
            .arg(&bin)
            .args(args)
            .output()
            .unwrap()
    };
    let confusion = out_dir.join("c.svg");
    let tiles = out_dir.join("w.png");
    let plot = out_dir.join("p.svg");
    for args in [
        &[
            "evaluate",
            "--model",
            s(&model),
            "--confusion",
            s(&confusion),
        ][..],
        &["show-weights", "--model", s(&model), "--out", s(&tiles)],
        &[&QUICK[..], &["--plot", s(&plot)]].concat(),
    ] {
        let out = limited(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("too large"), "{stderr}");
        let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}
