//! The table of training options that every front runs (`tests/fronts/train_options.json`),
//! through the command line's flags: `backprop train` on a CSV file of 40 rows (32 to train)
//! must write the settings each case expects into its model file, hold out a validation split
//! when expected (its checkpoint says how many examples), or fail with the case's words.

mod common;

use common::backprop;
use serde_json::Value;
use std::path::Path;

fn table() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fronts/train_options.json"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"].as_array().unwrap().clone()
}

/// Python's keywords as flags: `early_stop` → `--early-stop`, `schedule` → `--eta-schedule`,
/// `true` → the flag alone.
fn flags(given: &Value) -> Vec<String> {
    let mut out = vec![];
    for (key, value) in given.as_object().unwrap() {
        let flag = match key.as_str() {
            "schedule" => "--eta-schedule".to_string(),
            key => format!("--{}", key.replace('_', "-")),
        };
        out.push(flag);
        match value {
            Value::Bool(true) => {}
            Value::String(s) => out.push(s.clone()),
            other => out.push(other.to_string()),
        }
    }
    out
}

/// The metadata entry `key` of a safetensors file, as JSON.
fn metadata(path: &Path, key: &str) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    serde_json::from_str(header["__metadata__"][key].as_str().unwrap()).unwrap()
}

#[test]
fn every_case_of_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    let rows: String = (0..40)
        .map(|i| format!("{},{},{},{},{}\n", i % 2, i % 3, i % 5, i % 7, i % 4))
        .collect();
    std::fs::write(&csv, rows).unwrap();
    let (model, checkpoint) = (
        dir.path().join("m.safetensors"),
        dir.path().join("c.safetensors"),
    );
    for case in table() {
        let given = &case["given"];
        let _ = std::fs::remove_file(&checkpoint);
        let out = backprop()
            .args([
                "train", "--quiet", "--layers", "4,3,2", "--epochs", "2", "--data",
            ])
            .arg(&csv)
            .arg("--save")
            .arg(&model)
            .arg("--checkpoint")
            .arg(&checkpoint)
            .args(flags(given))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if let Some(words) = case.get("error").and_then(Value::as_str) {
            assert!(
                !out.status.success(),
                "{given}: accepted, expected `{words}`"
            );
            assert!(
                stderr.contains(words),
                "{given}: `{words}` not in: {stderr}"
            );
            assert_eq!(stderr.trim_end().lines().count(), 1, "{given}: {stderr}");
            continue;
        }
        assert!(out.status.success(), "{given}: {stderr}");
        let training = metadata(&model, "training");
        for (key, want) in case["settings"].as_object().into_iter().flatten() {
            assert_eq!(&training[key], want, "{given}: {key} in {training}");
        }
        if let Some(want) = case.get("validation").and_then(Value::as_bool) {
            let held = &metadata(&checkpoint, "data")["validation"];
            assert_eq!(held.is_u64(), want, "{given}: validation {held}");
        }
    }
}
