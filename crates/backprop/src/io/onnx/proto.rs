//! The message types of ONNX's `onnx.proto` (`ModelProto`, `GraphProto`, `NodeProto`,
//! `TensorProto`, …), as `prost` structs: encode with `prost::Message::encode_to_vec`, decode
//! with `prost::Message::decode`.
//!
//! `proto/onnx.proto` is the official file of ONNX v1.22.0 (github.com/onnx/onnx, commit
//! 2bb50465, Apache-2.0: `proto/LICENSE`), vendored unchanged. `proto/onnx.rs` was generated from
//! it once by `regenerate.sh` (protox + prost-build, no `protoc`) and is committed, so a build
//! needs neither a protobuf compiler nor a build script; a test checks that it was made from the
//! vendored `.proto`. Do not edit `proto/onnx.rs` by hand.

#![allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]

include!("proto/onnx.rs");
