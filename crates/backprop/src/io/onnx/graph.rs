//! The ONNX graph of a network: per layer `l = 2..=L`, `z^(l) = Gemm(a^(l-1), W^(l), b^(l),
//! transB=1)` and `a^(l) = σ(z^(l))`.
//!
//! `W^(l)` is stored as the initializer `layers.{l}.weight` in the lecture's orientation
//! `(n_l, n_(l-1))` and `b^(l)` as `layers.{l}.bias` `(n_l)`, the names of the safetensors file;
//! `transB=1` makes Gemm compute `A Wᵀ + b` for a batch `A` of shape `(N, n_(l-1))`, one example
//! per row. An identity σ adds no node. Out of scope: dropout (inference only), other float types
//! than `float32`, and external data files (a network's parameters are at most 1 GiB, below
//! protobuf's 2 GiB).

use super::proto::{
    attribute_proto::AttributeType,
    tensor_proto::DataType,
    tensor_shape_proto::{dimension, Dimension},
    type_proto, AttributeProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};
use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::activation::Activation;
use crate::lecture::network::Network;

/// The name of the graph's input `a^(1)`, shape `[N, n_1]`.
pub const INPUT: &str = "input";
/// The name of the graph's output `a^(L)`, shape `[N, n_L]`.
pub const OUTPUT: &str = "output";
/// The symbolic batch dimension of the input and output.
pub const BATCH: &str = "N";

/// The nodes and initializers of a network's graph, in layer order.
pub(super) struct Layers {
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
}

/// Every layer's Gemm and activation, reading [`INPUT`] and writing [`OUTPUT`]; refuses a
/// parameter that is not a finite `float32` (NaN, ∞, or an `f64` beyond ±3.4·10³⁸).
pub(super) fn layers<F: Float>(net: &Network<F>) -> Result<Layers> {
    let mut graph = Layers {
        nodes: Vec::new(),
        initializers: Vec::new(),
    };
    let mut a = INPUT.to_string(); // a^(l-1), the name of the previous layer's output
    for l in 2..=net.num_layers() {
        let a_next = if l == net.num_layers() {
            OUTPUT.to_string()
        } else {
            format!("layers.{l}.a")
        };
        a = layer(net, l, &a, a_next, &mut graph)?;
    }
    Ok(graph)
}

/// Layer `l`: its two initializers, its Gemm and its activation node; returns `a^(l)`'s name.
fn layer<F: Float>(
    net: &Network<F>,
    l: usize,
    a_prev: &str,
    a: String,
    g: &mut Layers,
) -> Result<String> {
    let (w, b) = (net.weights(l), net.biases(l)); // W: (n_l, n_(l-1)), b: (n_l)
    let (w_name, b_name) = (format!("layers.{l}.weight"), format!("layers.{l}.bias"));
    g.initializers
        .push(tensor(&w_name, &[w.nrows(), w.ncols()], w.iter())?);
    g.initializers.push(tensor(&b_name, &[b.len()], b.iter())?);
    let sigma = net.activation(l);
    let z = match sigma {
        Activation::Identity => a.clone(), // a = z: Gemm writes a^(l) itself
        _ => format!("layers.{l}.z"),
    };
    let transpose_w = int_attribute("transB", 1);
    g.nodes.push(node(
        format!("layers.{l}.gemm"),
        "Gemm",
        vec![a_prev.into(), w_name, b_name],
        z.clone(),
        vec![transpose_w],
    ));
    if let Some((op, attributes)) = activation_op(sigma) {
        let name = format!("layers.{l}.{}", sigma.name());
        g.nodes.push(node(name, op, vec![z], a.clone(), attributes));
    }
    Ok(a)
}

/// The ONNX operator of σ with its attributes; `None` for the identity.
pub fn activation_op(sigma: Activation) -> Option<(&'static str, Vec<AttributeProto>)> {
    match sigma {
        Activation::Sigmoid => Some(("Sigmoid", vec![])),
        Activation::Tanh => Some(("Tanh", vec![])),
        Activation::Relu => Some(("Relu", vec![])),
        Activation::Identity => None,
        // Softmax-13 normalises along one axis: the neurons of each example (row).
        Activation::Softmax => Some(("Softmax", vec![int_attribute("axis", -1)])),
    }
}

fn node(
    name: String,
    op: &str,
    inputs: Vec<String>,
    output: String,
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        name: Some(name),
        op_type: Some(op.into()),
        input: inputs,
        output: vec![output],
        attribute,
        ..Default::default()
    }
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

/// A `float32` tensor of this shape, its values little-endian in `raw_data` (`f64` rounded to
/// nearest); a value that is not a finite `float32` is refused.
fn tensor<'a, F: Float + 'a>(
    name: &str,
    shape: &[usize],
    values: impl Iterator<Item = &'a F>,
) -> Result<TensorProto> {
    let mut raw = Vec::with_capacity(4 * shape.iter().product::<usize>());
    for (i, v) in values.enumerate() {
        let x = v.as_f64() as f32;
        if !x.is_finite() {
            return Err(Error::InvalidNetwork(format!(
                "tensor `{name}` holds {} at flat index {i}: ONNX needs finite float32 values",
                v.as_f64()
            )));
        }
        raw.extend(x.to_le_bytes());
    }
    Ok(TensorProto {
        name: Some(name.into()),
        dims: shape.iter().map(|&n| n as i64).collect(),
        data_type: Some(DataType::Float as i32),
        raw_data: Some(raw),
        ..Default::default()
    })
}

/// A graph input or output: `float32` of shape `[N, n]`, `N` symbolic.
pub(super) fn batch_of(name: &str, n: usize) -> ValueInfoProto {
    let dims = [
        dimension::Value::DimParam(BATCH.into()),
        dimension::Value::DimValue(n as i64),
    ];
    let shape = TensorShapeProto {
        dim: dims
            .into_iter()
            .map(|d| Dimension {
                value: Some(d),
                ..Default::default()
            })
            .collect(),
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(shape),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
