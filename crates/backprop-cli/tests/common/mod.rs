//! Helpers shared by the tests of the binary.

#![allow(dead_code)]

use assert_cmd::Command;

/// The `backprop` binary, with backtraces on: errors must still be one line.
pub fn backprop() -> Command {
    let mut cmd = Command::cargo_bin("backprop").unwrap();
    cmd.env("RUST_BACKTRACE", "1");
    // English whatever the machine's locale (tests/lang.rs checks the Russian).
    cmd.env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    cmd
}

/// Runs the command, expects success, returns stdout.
pub fn stdout(args: &[&str]) -> String {
    let out = backprop().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the command, expects failure with `code`, one line on stderr mentioning `needle`.
pub fn fails(args: &[&str], code: i32, needle: &str) {
    let out = backprop().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: `{needle}` not in: {stderr}"
    );
}

/// Runs a prepared command, expects success, returns stdout.
pub fn succeeds(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
