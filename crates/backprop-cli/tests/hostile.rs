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
    backprop::model_file::load(&path).unwrap();
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
    backprop::model_file::save(&wide, &model, &Default::default()).unwrap();
    let png = dir.path().join("c.png");
    let out = run(&["evaluate", "--model", s(&model), "--confusion", s(&png)]);
    assert!(out.contains("(classes 0–99 of 400)"), "{out}");
    let (w, h) = image::image_dimensions(&png).unwrap();
    assert!(w <= 1400 && h <= 1400, "{w} × {h}");
    // 1,000 neurons of 28 × 28 weights: 400 tiles drawn.
    let many: backprop::Network = backprop::Network::new(&[784, 1000, 10]).unwrap();
    let model = dir.path().join("many.st");
    backprop::model_file::save(&many, &model, &Default::default()).unwrap();
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
