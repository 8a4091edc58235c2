//! `backprop trace` and `backprop gradcheck` through the binary: the JSON trace of a fresh random
//! network is checked against the library's mini-batch matrix path (the training path), against
//! finite differences computed here, and against `gradcheck` on the same example.

mod common;

use backprop::{Network, Workspace};
use common::{fails, stdout};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn vector(v: &Value) -> Array1<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Array1<f64>> = v.as_array().unwrap().iter().map(vector).collect();
    let (n, m) = (rows.len(), rows[0].len());
    Array2::from_shape_fn((n, m), |(i, j)| rows[i][j])
}

/// `max |a − b| / max(max |a|, tiny)`.
fn rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let diff = (a - b).iter().fold(0.0f64, |m, d| m.max(d.abs()));
    diff / a.iter().fold(1e-300f64, |m, v| m.max(v.abs()))
}

fn as_row(v: &Array1<f64>) -> Array2<f64> {
    v.clone().insert_axis(ndarray::Axis(0))
}

/// The mean cost of `net` on one example, for finite differences.
fn cost(net: &Network<f64>, x: &Array1<f64>, y: &Array1<f64>) -> f64 {
    let a = net.feedforward(x.view()).unwrap();
    net.cost().value(a.view(), y.view())
}

/// Central differences `(C(p+h) − C(p−h)) / 2h` for every weight of layer `l`.
fn numeric_nabla_w(net: &Network<f64>, l: usize, x: &Array1<f64>, y: &Array1<f64>) -> Array2<f64> {
    let h = 1e-5;
    let mut probe = net.clone();
    Array2::from_shape_fn(net.weights(l).dim(), |(i, j)| {
        let w = net.weights(l)[[i, j]];
        probe.weights_mut(l)[[i, j]] = w + h;
        let up = cost(&probe, x, y);
        probe.weights_mut(l)[[i, j]] = w - h;
        let down = cost(&probe, x, y);
        probe.weights_mut(l)[[i, j]] = w;
        (up - down) / (2.0 * h)
    })
}

#[test]
fn trace_json_agrees_with_the_training_path_and_finite_differences() {
    let text = stdout(&["trace", "--layers", "4,3,2", "--seed", "7", "--json"]);
    let t: Value = serde_json::from_str(&text).unwrap();
    // The same network, built by the library as `trace` documents it (standard init, seed 7).
    let net: Network<f64> = Network::builder(&[4, 3, 2]).seed(7).build().unwrap();
    let layers = t["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    assert_eq!(layers[0]["l"], 1);
    let x = vector(&layers[0]["a"]);
    let y = vector(&t["target"]);
    assert_eq!(x.len(), 4);
    assert!(x.iter().all(|v| (0.0..1.0).contains(v)), "x_j ~ U[0, 1)");
    let label = t["label"].as_u64().unwrap() as usize;
    assert_eq!(y[label], 1.0);
    assert_eq!(y.sum(), 1.0, "one-hot target");

    // The training path: the mini-batch matrix path on a mini-batch of this one example.
    let mut ws = Workspace::new(&net, 1);
    let batch = net
        .mean_gradient(as_row(&x).view(), as_row(&y).view(), &mut ws)
        .unwrap()
        .clone();
    for (l, layer) in layers.iter().enumerate().skip(1).map(|(i, v)| (i + 1, v)) {
        assert_eq!(layer["l"], l);
        let nabla_w = matrix(&layer["nabla_w"]);
        let nabla_b = vector(&layer["nabla_b"]);
        assert_eq!(nabla_w.dim(), net.weights(l).dim(), "(n_l, n_(l-1))");
        assert!(rel(&batch.nabla_w[l], &nabla_w) < 1e-12, "∇W^({l})");
        assert!(
            rel(&as_row(&batch.nabla_b[l]), &as_row(&nabla_b)) < 1e-12,
            "∇b^({l})"
        );
        // BP3 and BP4 on the printed values: ∇b = δ, ∇W = δ (a^(l-1))ᵀ.
        let delta = vector(&layer["delta"]);
        assert_eq!(nabla_b, delta);
        let a_prev = vector(&layers[l - 2]["a"]);
        let outer = Array2::from_shape_fn(nabla_w.dim(), |(i, j)| delta[i] * a_prev[j]);
        assert!(rel(&outer, &nabla_w) < 1e-15);
        // Finite differences of the cost, computed here.
        let numeric = numeric_nabla_w(&net, l, &x, &y);
        assert!(
            rel(&numeric, &nabla_w) < 1e-7,
            "∇W^({l}) vs finite differences"
        );
    }
    // Step 3 for the quadratic cost: ∂C/∂a = a − y, δ^(L) = (a − y) ∘ σ'(z), σ' = a(1 − a).
    let out = &layers[2];
    let a = vector(&out["a"]);
    assert_eq!(vector(&out["dc_da"]), &a - &y);
    let bp1 = (&a - &y) * &a * a.mapv(|v| 1.0 - v);
    assert!(rel(&as_row(&bp1), &as_row(&vector(&out["delta"]))) < 1e-15);
    let c = t["cost"].as_f64().unwrap();
    assert!((c - 0.5 * (&a - &y).mapv(|d| d * d).sum()).abs() < 1e-15);
    assert!((c - cost(&net, &x, &y)).abs() < 1e-15);
    // The same seed draws the same example.
    assert_eq!(
        stdout(&["trace", "--layers", "4,3,2", "--seed", "7", "--json"]),
        text
    );
}

#[test]
fn trace_json_agrees_with_gradcheck_on_the_same_example() {
    let t: Value = serde_json::from_str(&stdout(&[
        "trace", "--layers", "4,3,2", "--seed", "7", "--json",
    ]))
    .unwrap();
    // gradcheck draws example 0 from the seed exactly as trace does; --init standard as trace's.
    let g: Value = serde_json::from_str(&stdout(&[
        "gradcheck",
        "--layers",
        "4,3,2",
        "--seed",
        "7",
        "--init",
        "standard",
        "--examples",
        "1",
        "--json",
    ]))
    .unwrap();
    assert_eq!(g["ok"], true);
    assert!(g["max_relative_error"].as_f64().unwrap() < 1e-6);
    assert_eq!(g["examples"][0]["label"], t["label"]);
    for (check, layer) in g["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&t["layers"].as_array().unwrap()[1..])
    {
        assert_eq!(check["l"], layer["l"]);
        assert_eq!(check["weights"]["checked"], matrix(&layer["nabla_w"]).len());
        let w = &check["weights"]["worst"];
        let (i, j) = (
            w["row"].as_u64().unwrap() as usize,
            w["col"].as_u64().unwrap() as usize,
        );
        let traced = matrix(&layer["nabla_w"])[[i, j]];
        assert_eq!(
            w["backprop"].as_f64().unwrap(),
            traced,
            "the same BP4 value"
        );
        let numeric = w["numeric"].as_f64().unwrap();
        assert!((numeric - traced).abs() <= 1e-6 * traced.abs().max(1e-5));
        let b = &check["biases"]["worst"];
        let traced = vector(&layer["nabla_b"])[b["row"].as_u64().unwrap() as usize];
        assert_eq!(
            b["backprop"].as_f64().unwrap(),
            traced,
            "the same BP3 value"
        );
    }
}

#[test]
fn trace_prints_the_five_steps_in_the_lectures_notation() {
    let text = stdout(&["trace", "--layers", "4,3,3,2", "--seed", "1"]);
    let steps = [
        "Step 1. Input: a^(1) = x",
        "Step 2. Forward pass: z^(l) = W^(l) a^(l-1) + b^(l)",
        "Step 3. Output error (BP1): δ^(4) = (a^(4) − y) ∘ σ'(z^(4))",
        "Step 4. Backward pass (BP2): δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ∘ σ'(z^(l)),  l = 3, 2",
        "Step 5. Gradients (BP3, BP4)",
        "Cost: C = ‖a^(4) − y‖² / 2 = ",
    ];
    let mut at = 0;
    for step in steps {
        let found = text[at..]
            .find(step)
            .unwrap_or_else(|| panic!("`{step}` not in order in:\n{text}"));
        at += found;
    }
    for name in [
        "z^(2)",
        "a^(4)",
        "∂C/∂a^(4) = a^(4) − y",
        "δ^(3)",
        "δ^(2)",
        "∇b^(2)",
        "∇W^(4)",
    ] {
        assert!(
            text.contains(&format!("  {name} ")),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("most influential (largest |δ_i|): neuron "));
    // --full adds every value: ∇W^(2) is 3×4, one line per row.
    let full = stdout(&["trace", "--layers", "4,3,3,2", "--seed", "1", "--full"]);
    assert!(full.contains("row 2:") && full.lines().count() > text.lines().count() + 10);
    let md = stdout(&[
        "trace", "--layers", "4,3,2", "--seed", "1", "--format", "markdown",
    ]);
    for part in [
        "# Back-propagation of one example",
        "## Step 3. Output error (BP1)",
        r"\delta^{(3)} = (a^{(3)} - y) \odot \sigma'(z^{(3)})",
        r"| $\nabla_{W^{(2)}} C$ | 3×4 |",
        "## Cost",
    ] {
        assert!(md.contains(part), "`{part}` not in:\n{md}");
    }
    // Other costs say what BP1 becomes.
    let ce = stdout(&[
        "trace",
        "--layers",
        "4,3,2",
        "--output-activation",
        "softmax",
        "--cost",
        "log-likelihood",
    ]);
    assert!(
        ce.contains("σ' cancels: δ^(3) = a^(3) − y") && ce.contains("C = −ln a_"),
        "{ce}"
    );
}

#[test]
fn gradcheck_passes_for_every_pair_and_fails_past_its_tolerance() {
    let text = stdout(&["gradcheck", "--layers", "4,3,2", "--seed", "3"]);
    assert!(
        text.contains("OK: every relative error is below the tolerance 1e-6"),
        "{text}"
    );
    let rows = text
        .lines()
        .filter(|l| l.contains("backprop ") && l.contains("numeric "));
    assert_eq!(rows.count(), 2, "one row per layer:\n{text}");
    let all: Value = serde_json::from_str(&stdout(&[
        "gradcheck",
        "--layers",
        "4,3,2",
        "--seed",
        "3",
        "--all-pairs",
        "--json",
    ]))
    .unwrap();
    let pairs = all["pairs"].as_array().unwrap();
    // 4 hidden activations × (5 outputs with the quadratic cost + sigmoid/softmax with the two others).
    assert_eq!(pairs.len(), 4 * (5 + 2 + 2));
    assert!(pairs.iter().all(|p| p["ok"] == true), "{all}");
    fails(
        &["gradcheck", "--layers", "4,3,2", "--tolerance", "1e-30"],
        1,
        "gradient check failed",
    );
}

#[test]
fn trace_and_gradcheck_refuse_bad_input_in_one_line() {
    fails(&["trace"], 2, "give --model PATH or --layers");
    fails(&["gradcheck"], 2, "give --model PATH or --layers");
    fails(
        &["gradcheck", "--all-pairs"],
        2,
        "give --model PATH or --layers",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--model", "m.safetensors"],
        2,
        "cannot be used with",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--label", "2"],
        2,
        "label 2 is out of range",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--plot", "x.jpg"],
        2,
        ".svg or .png",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--plot", "/nonexistent/x.svg"],
        2,
        "does not exist",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--format", "html"],
        2,
        "--format",
    );
    fails(&["trace", "--layers", "4,3,2", "--index", "0"], 2, "784");
    fails(
        &["trace", "--layers", "784,3,10", "--index", "2000"],
        2,
        "out of range",
    );
    fails(
        &["trace", "--layers", "4,3,2", "--image", "/nonexistent.png"],
        2,
        "cannot read the image",
    );
    fails(
        &["trace", "--layers", "5,3,2", "--image", "/nonexistent.png"],
        2,
        "not a square image",
    );
    fails(
        &[
            "trace",
            "--model",
            "/nonexistent.safetensors",
            "--index",
            "0",
        ],
        2,
        "No such file",
    );
    fails(
        &[
            "trace",
            "--layers",
            "4,3,2",
            "--cost",
            "cross-entropy",
            "--output-activation",
            "relu",
        ],
        2,
        "cross-entropy",
    );
    fails(
        &["gradcheck", "--layers", "4,3,2", "--tolerance", "0"],
        2,
        "--tolerance",
    );
    fails(
        &["gradcheck", "--layers", "4,3,2", "--examples", "0"],
        2,
        "--examples",
    );
    fails(
        &[
            "gradcheck",
            "--layers",
            "4,3,2",
            "--all-pairs",
            "--cost",
            "quadratic",
        ],
        2,
        "cannot be used with",
    );
    fails(
        &["gradcheck", "--model", "m.safetensors", "--all-pairs"],
        2,
        "cannot be used with",
    );
}
