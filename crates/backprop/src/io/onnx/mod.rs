//! Export to ONNX: a trained network as an ONNX model that ONNX Runtime (Python, C++, C#, Java,
//! JavaScript in browsers, phones) runs without this library.
//!
//! The model is opset 13 (IR version 7): one input `input`, `float32` of shape `[N, n_1]` with
//! `N` symbolic, one output `output` of shape `[N, n_L]` holding `a^(L)`, one example per row.
//! Layer `l = 2..=L` is `Gemm(a^(l-1), W^(l), b^(l), transB=1)` followed by its σ (`Sigmoid`,
//! `Tanh`, `Relu`, `Softmax(axis=-1)`, or no node for the identity); `W^(l)` is stored in the
//! lecture's orientation `(n_l, n_(l-1))` under the safetensors name `layers.{l}.weight` (see
//! [`graph`]). The model's `metadata_props` hold the same entries as a model file's metadata
//! ([`model_file::standard_metadata`] plus the caller's, e.g. `training`), and its `doc_string`
//! says what the network is ([`describe`]).
//!
//! ```
//! use backprop::Network;
//! let net: Network = Network::new(&[784, 30, 10]).unwrap();
//! let bytes = backprop::io::onnx::to_onnx(&net, &Default::default()).unwrap();
//! assert!(bytes.len() > 4 * 23_860); // the 23,860 parameters, as float32
//! ```
//!
//! Out of scope: importing ONNX models, training graphs, dropout (an exported network is for
//! inference), float types other than `float32` (`f64` parameters are rounded to `f32`), and
//! the cost (ONNX runs `a^(L)`; the cost is named in the metadata only).
//!
//! This folder uses only the library's public API, so it can move as a unit.

pub mod graph;
pub mod proto;
#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::io::model_file;
use crate::kernel::float::Float;
use crate::lecture::network::Network;
use prost::Message;
use proto::{GraphProto, ModelProto, OperatorSetIdProto, StringStringEntryProto};
use std::collections::BTreeMap;
use std::path::Path;

pub use graph::{BATCH, INPUT, OUTPUT};

/// The version of the default operator set (`ai.onnx`) the graph uses.
pub const OPSET: i64 = 13;
/// The ONNX IR version written: 7, the one that came with opset 13 (ONNX 1.8).
pub const IR_VERSION: i64 = 7;
/// The model's `producer_name`.
pub const PRODUCER: &str = "backprop";
/// The file extension of ONNX models.
pub const EXTENSION: &str = "onnx";

/// What the network is, in one line: `784-30-10 fully connected network, sigmoid hidden,
/// softmax output, log-likelihood cost, trained by backprop`.
pub fn describe<F: Float>(net: &Network<F>) -> String {
    let arch = net.architecture();
    let hidden = if arch.sizes.len() > 2 {
        format!("{} hidden, ", arch.hidden)
    } else {
        String::new() // no hidden layer: its σ is never used
    };
    format!(
        "{} fully connected network, {hidden}{} output, {} cost, trained by backprop",
        describe_sizes(&arch.sizes),
        arch.output,
        arch.cost
    )
}

/// The ONNX model of `net`, with `extra` metadata entries (the standard ones of
/// [`model_file::standard_metadata`] win over `extra`'s, as in a model file). Refuses a
/// parameter that is not a finite `float32`.
pub fn to_model<F: Float>(
    net: &Network<F>,
    extra: &BTreeMap<String, String>,
) -> Result<ModelProto> {
    let layers = graph::layers(net)?;
    let sizes = net.sizes();
    let graph = GraphProto {
        name: Some(format!("backprop {}", describe_sizes(sizes))),
        node: layers.nodes,
        initializer: layers.initializers,
        input: vec![graph::batch_of(INPUT, sizes[0])],
        output: vec![graph::batch_of(OUTPUT, net.output_size())],
        ..Default::default()
    };
    let mut metadata = extra.clone();
    metadata.extend(model_file::standard_metadata(net));
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some(PRODUCER.into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some(describe(net)),
        graph: Some(graph),
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key: Some(key),
                value: Some(value),
            })
            .collect(),
        ..Default::default()
    })
}

/// The bytes of the ONNX model of `net` (see [`to_model`]).
pub fn to_onnx<F: Float>(net: &Network<F>, extra: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    Ok(to_model(net, extra)?.encode_to_vec())
}

/// Saves the ONNX model of `net` to `path` with [`crate::io::file::write_atomically`].
pub fn save<F: Float>(
    net: &Network<F>,
    path: &Path,
    extra: &BTreeMap<String, String>,
) -> Result<()> {
    crate::io::file::write_atomically(path, &to_onnx(net, extra)?)
}

/// The most layers [`describe_sizes`] lists in full.
pub const MAX_LISTED_LAYERS: usize = 12;

/// `784-30-10`; past [`MAX_LISTED_LAYERS`] layers the first and last three only:
/// `1-1-1-…-1-1-1 (20001 layers)`, so that a deep network's description stays one short line.
pub fn describe_sizes(sizes: &[usize]) -> String {
    let text = |s: &[usize]| s.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    if sizes.len() <= MAX_LISTED_LAYERS {
        return text(sizes);
    }
    let (first, last) = (&sizes[..3], &sizes[sizes.len() - 3..]);
    format!("{}-…-{} ({} layers)", text(first), text(last), sizes.len())
}
