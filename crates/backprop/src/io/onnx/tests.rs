//! The exported bytes decode back, with the same prost types, into the expected graph; a small
//! interpreter of the decoded graph (Gemm and the four activations, written here from the ONNX
//! operator definitions) reproduces `Network::feedforward`.

use super::proto::{
    tensor_proto::DataType, tensor_shape_proto::dimension::Value as Dim, type_proto, ModelProto,
    NodeProto, TensorProto, ValueInfoProto,
};
use super::*;
use crate::lecture::activation::Activation;
use crate::lecture::cost::Cost;
use ndarray::{Array1, Array2};

fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).expect("the exported bytes decode as a ModelProto")
}

fn net<F: Float>(sizes: &[usize], hidden: Activation, output: Activation) -> Network<F> {
    let cost = match output {
        Activation::Softmax => Cost::LogLikelihood,
        _ => Cost::Quadratic,
    };
    Network::builder(sizes)
        .hidden(hidden)
        .output(output)
        .cost(cost)
        .seed(3)
        .build()
        .unwrap()
}

fn graph(model: &ModelProto) -> &GraphProto {
    model.graph.as_ref().unwrap()
}

fn ops(model: &ModelProto) -> Vec<&str> {
    graph(model)
        .node
        .iter()
        .map(|n| n.op_type.as_deref().unwrap())
        .collect()
}

/// `(name, elem_type, [dims])` with a symbolic dimension as its name.
fn signature(v: &ValueInfoProto) -> (String, i32, Vec<String>) {
    let Some(type_proto::Value::TensorType(t)) = &v.r#type.as_ref().unwrap().value else {
        panic!("not a tensor type");
    };
    let dims = t.shape.as_ref().unwrap().dim.iter();
    let dims = dims
        .map(|d| match d.value.as_ref().unwrap() {
            Dim::DimValue(n) => n.to_string(),
            Dim::DimParam(p) => p.clone(),
        })
        .collect();
    (v.name.clone().unwrap(), t.elem_type.unwrap(), dims)
}

fn values(t: &TensorProto) -> Vec<f32> {
    assert_eq!(t.data_type, Some(DataType::Float as i32));
    let raw = t.raw_data.as_ref().unwrap();
    raw.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn int_attribute(node: &NodeProto, name: &str) -> Option<i64> {
    let a = node
        .attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name));
    a.and_then(|a| a.i)
}

#[test]
fn the_graph_is_gemm_then_sigma_per_layer() {
    let net: Network = net(&[5, 4, 3], Activation::Sigmoid, Activation::Softmax);
    let extra = BTreeMap::from([("training".to_string(), "{\"eta\":3}".to_string())]);
    let model = decode(&to_onnx(&net, &extra).unwrap());
    assert_eq!(model.ir_version, Some(7));
    let opset = &model.opset_import;
    assert_eq!(opset.len(), 1);
    assert_eq!(
        (opset[0].domain.as_deref(), opset[0].version),
        (Some(""), Some(13))
    );
    assert_eq!(model.producer_name.as_deref(), Some("backprop"));
    assert_eq!(
        model.doc_string.as_deref(),
        Some("5-4-3 fully connected network, sigmoid hidden, softmax output, log-likelihood cost, trained by backprop")
    );
    let g = graph(&model);
    let float = DataType::Float as i32;
    assert_eq!(g.input.len(), 1);
    assert_eq!(
        signature(&g.input[0]),
        ("input".into(), float, vec!["N".into(), "5".into()])
    );
    assert_eq!(g.output.len(), 1);
    assert_eq!(
        signature(&g.output[0]),
        ("output".into(), float, vec!["N".into(), "3".into()])
    );
    assert_eq!(ops(&model), ["Gemm", "Sigmoid", "Gemm", "Softmax"]);
    let n = &g.node;
    assert_eq!(n[0].input, ["input", "layers.2.weight", "layers.2.bias"]);
    assert_eq!(n[1].input, n[0].output);
    assert_eq!(
        n[2].input,
        [&n[1].output[0], "layers.3.weight", "layers.3.bias"]
    );
    assert_eq!(n[3].input, n[2].output);
    assert_eq!(n[3].output, ["output"]);
    for gemm in [&n[0], &n[2]] {
        assert_eq!(int_attribute(gemm, "transB"), Some(1));
        assert_eq!(int_attribute(gemm, "transA"), None);
    }
    assert_eq!(int_attribute(&n[3], "axis"), Some(-1));
    // Initializers: W^(l) in the lecture's orientation (n_l, n_(l-1)), row-major, and b^(l).
    let init = &g.initializer;
    assert_eq!(init.len(), 4);
    for l in 2..=3 {
        let (w, b) = (&init[2 * (l - 2)], &init[2 * (l - 2) + 1]);
        assert_eq!(
            w.name.as_deref(),
            Some(format!("layers.{l}.weight").as_str())
        );
        assert_eq!(b.name.as_deref(), Some(format!("layers.{l}.bias").as_str()));
        let (rows, cols) = net.weights(l).dim();
        assert_eq!(w.dims, [rows as i64, cols as i64]);
        assert_eq!(b.dims, [rows as i64]);
        assert_eq!(
            values(w),
            net.weights(l).iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(values(b), net.biases(l).to_vec());
    }
    // Metadata: the model file's entries, the caller's included.
    let props: BTreeMap<String, String> = model
        .metadata_props
        .iter()
        .map(|p| (p.key.clone().unwrap(), p.value.clone().unwrap()))
        .collect();
    let mut expected = model_file::standard_metadata(&net);
    expected.insert("training".into(), "{\"eta\":3}".into());
    assert_eq!(props, expected);
    assert_eq!(props["sizes"], "5,4,3");
}

#[test]
fn every_activation_pair_has_its_nodes() {
    for hidden in &Activation::HIDDEN {
        for output in Activation::ALL {
            let net: Network = net(&[3, 4, 4, 2], *hidden, output);
            let model = decode(&to_onnx(&net, &BTreeMap::new()).unwrap());
            let mut expected = Vec::new();
            for sigma in [*hidden, *hidden, output] {
                expected.push("Gemm");
                expected.extend(graph::activation_op(sigma).map(|(op, _)| op));
            }
            assert_eq!(ops(&model), expected, "{hidden} × {output}");
            let last = graph(&model).node.last().unwrap();
            assert_eq!(last.output, ["output"], "{hidden} × {output}");
        }
    }
}

#[test]
fn a_network_without_hidden_layers_says_so() {
    let net: Network = net(&[784, 10], Activation::Sigmoid, Activation::Identity);
    let model = decode(&to_onnx(&net, &BTreeMap::new()).unwrap());
    assert_eq!(ops(&model), ["Gemm"]);
    assert_eq!(graph(&model).node[0].output, ["output"]);
    assert_eq!(
        model.doc_string.as_deref(),
        Some(
            "784-10 fully connected network, identity output, quadratic cost, trained by backprop"
        )
    );
}

/// The decoded graph, run by this interpreter on a batch (one example per row), gives
/// `feedforward`'s `a^(L)` for every example; `f64` networks are rounded to `f32` once.
#[test]
fn the_decoded_graph_computes_the_forward_pass() {
    for output in Activation::ALL {
        let net: Network<f64> = net(&[6, 5, 4, 3], Activation::Tanh, output);
        let model = decode(&to_onnx(&net, &BTreeMap::new()).unwrap());
        let x = Array2::from_shape_fn((7, 6), |(i, j)| ((i * 6 + j) as f64 * 0.37).sin());
        let y = run(&model, x.mapv(|v| v as f32));
        for (i, row) in x.rows().into_iter().enumerate() {
            let a = net.feedforward(row).unwrap();
            for (k, &a_k) in a.iter().enumerate() {
                let diff = (y[[i, k]] as f64 - a_k).abs();
                assert!(diff < 1e-5, "{output}: example {i} neuron {k}: {diff}");
            }
        }
    }
}

/// Runs the graph's nodes in order on `input` (Gemm with transB, Sigmoid, Tanh, Relu, Softmax
/// over the last axis), in f32 as ONNX Runtime does.
fn run(model: &ModelProto, input: Array2<f32>) -> Array2<f32> {
    let g = graph(model);
    let mut tensors: BTreeMap<String, Array2<f32>> = BTreeMap::from([("input".into(), input)]);
    let init = |name: &str| {
        g.initializer
            .iter()
            .find(|t| t.name.as_deref() == Some(name))
    };
    for node in &g.node {
        let a = &tensors[&node.input[0]];
        let out = match node.op_type.as_deref().unwrap() {
            "Gemm" => {
                let (w, b) = (init(&node.input[1]).unwrap(), init(&node.input[2]).unwrap());
                let (r, c) = (w.dims[0] as usize, w.dims[1] as usize);
                let w = Array2::from_shape_vec((r, c), values(w)).unwrap();
                a.dot(&w.t()) + &Array1::from_vec(values(b))
            }
            "Sigmoid" => a.mapv(|z| 1.0 / (1.0 + (-z).exp())),
            "Tanh" => a.mapv(f32::tanh),
            "Relu" => a.mapv(|z| z.max(0.0)),
            "Softmax" => {
                let mut s = a.clone();
                for mut row in s.rows_mut() {
                    let max = row.fold(f32::MIN, |m, &z| m.max(z));
                    row.mapv_inplace(|z| (z - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|e| e / sum);
                }
                s
            }
            op => panic!("unexpected op {op}"),
        };
        tensors.insert(node.output[0].clone(), out);
    }
    tensors.remove("output").unwrap()
}

#[test]
fn deep_networks_are_described_in_one_short_line() {
    assert_eq!(describe_sizes(&[784, 30, 10]), "784-30-10");
    assert_eq!(describe_sizes(&[1; 12]), "1-1-1-1-1-1-1-1-1-1-1-1");
    assert_eq!(describe_sizes(&[5; 20001]), "5-5-5-…-5-5-5 (20001 layers)");
}

#[test]
fn f64_beyond_float32_is_refused() {
    let mut net: Network<f64> = Network::new(&[2, 2]).unwrap();
    net.weights_mut(2)[[1, 0]] = 1e300;
    let err = to_onnx(&net, &BTreeMap::new()).unwrap_err().to_string();
    assert!(
        err.contains("layers.2.weight") && err.contains("flat index 2"),
        "{err}"
    );
    net.weights_mut(2)[[1, 0]] = f64::NAN;
    assert!(to_onnx(&net, &BTreeMap::new()).is_err());
}

#[test]
fn the_same_network_gives_the_same_bytes() {
    let net: Network = net(&[4, 3, 2], Activation::Relu, Activation::Sigmoid);
    let extra = BTreeMap::from([("b".to_string(), "2".to_string()), ("a".into(), "1".into())]);
    assert_eq!(
        to_onnx(&net, &extra).unwrap(),
        to_onnx(&net, &extra).unwrap()
    );
}

/// `proto/onnx.rs` was generated from the vendored `proto/onnx.proto` (its first line records
/// the FNV-1a 64 hash of the .proto); after replacing the .proto, run `regenerate.sh`.
#[test]
fn the_generated_types_match_the_vendored_proto() {
    let proto = include_bytes!("proto/onnx.proto");
    let hash = proto.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    let first_line = include_str!("proto/onnx.rs").lines().next().unwrap();
    assert!(
        first_line.contains(&format!("FNV-1a 64: {hash:#018x}")),
        "proto/onnx.rs is stale; run crates/backprop/src/io/onnx/regenerate.sh: {first_line}"
    );
}
