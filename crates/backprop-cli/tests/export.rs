//! `backprop export` (issue 13): the ONNX file decodes into the expected graph, the format
//! follows the extension, and errors are one line that leave an existing file untouched.

mod common;

use backprop::io::onnx::proto::ModelProto;
use common::{fails, stdout as run};
use prost::Message;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// One epoch of a 784-8-10 network (tanh hidden, softmax output) on the embedded digits.
fn saved_model(dir: &Path) -> PathBuf {
    let path = dir.join("m.safetensors");
    run(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--layers",
        "784,8,10",
        "--activation",
        "tanh",
        "--output-activation",
        "softmax",
        "--cost",
        "log-likelihood",
        "--save",
        s(&path),
    ]);
    path
}

#[test]
fn export_writes_an_onnx_model_of_the_saved_network() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path());
    let out = dir.path().join("m.onnx");
    let said = run(&["export", "--model", s(&model), "--out", s(&out)]);
    assert!(said.contains("784-8-10") && said.contains("ONNX"), "{said}");
    let onnx = ModelProto::decode(&std::fs::read(&out).unwrap()[..]).unwrap();
    let nodes = &onnx.graph.as_ref().unwrap().node;
    let ops: Vec<&str> = nodes
        .iter()
        .map(|n| n.op_type.as_deref().unwrap())
        .collect();
    assert_eq!(ops, ["Gemm", "Tanh", "Gemm", "Softmax"]);
    let saved = backprop::io::model_file::load(&model).unwrap();
    for (key, value) in &saved.metadata {
        let prop = onnx
            .metadata_props
            .iter()
            .find(|p| p.key.as_ref() == Some(key));
        assert_eq!(prop.and_then(|p| p.value.as_ref()), Some(value), "{key}");
    }
    assert!(saved.metadata.contains_key("training"));
    // Uppercase works too, and .safetensors writes the same model file again.
    run(&[
        "export",
        "--model",
        s(&model),
        "--out",
        s(&dir.path().join("M.ONNX")),
    ]);
    let copy = dir.path().join("copy.safetensors");
    run(&["export", "--model", s(&model), "--out", s(&copy)]);
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&model).unwrap()
    );
}

#[test]
fn an_unknown_extension_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path());
    for out in ["m.pt", "m", "m.onnx.bak", ".onnx"] {
        let out = dir.path().join(out);
        fails(
            &["export", "--model", s(&model), "--out", s(&out)],
            2,
            ".onnx, .safetensors",
        );
        assert!(!out.exists());
    }
}

#[test]
fn a_missing_or_damaged_model_is_one_line_and_leaves_the_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.onnx");
    std::fs::write(&out, b"precious").unwrap();
    let missing = dir.path().join("missing.safetensors");
    fails(
        &["export", "--model", s(&missing), "--out", s(&out)],
        2,
        "missing.safetensors",
    );
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"\x10\0\0\0\0\0\0\0{\"a\":").unwrap();
    fails(
        &["export", "--model", s(&garbage), "--out", s(&out)],
        2,
        "not a safetensors",
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 2, "no temporary file left");
}

#[test]
fn the_output_is_replaced_atomically_and_never_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_model(dir.path());
    let before = std::fs::read(&model).unwrap();
    fails(
        &["export", "--model", s(&model), "--out", s(&model)],
        2,
        "same file",
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
    let out = dir.path().join("m.onnx");
    std::fs::write(&out, b"old").unwrap();
    run(&["export", "--model", s(&model), "--out", s(&out)]);
    assert!(ModelProto::decode(&std::fs::read(&out).unwrap()[..]).is_ok());
    fails(
        &[
            "export",
            "--model",
            s(&model),
            "--out",
            s(&dir.path().join("no/such/m.onnx")),
        ],
        2,
        "does not exist",
    );
    let directory = dir.path().join("d.onnx");
    std::fs::create_dir(&directory).unwrap();
    fails(
        &["export", "--model", s(&model), "--out", s(&directory)],
        1,
        "a directory",
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 3, "no temporary file left");
}
