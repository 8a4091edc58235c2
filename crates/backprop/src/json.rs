//! The JSON shapes that every front (the command-line tool, the Python package) shows: a trace of
//! the five steps, an evaluation, a gradient check. The fronts add only what they alone know
//! (where the network and the example came from).

use crate::kernel::float::Float;
use crate::lecture::network::Network;
use crate::lecture::reference::Trace;
use crate::train::evaluate::Evaluation;
use crate::train::gradcheck::{ErrorStats, GradCheck};
use ndarray::{Array1, Array2};
use serde_json::{json, Value};

fn vector<F: Float>(v: &Array1<F>) -> Value {
    json!(v.iter().map(|x| x.as_f64()).collect::<Vec<f64>>())
}

/// Row by row, shape `(rows, cols)` like `W^(l)`.
fn matrix<F: Float>(m: &Array2<F>) -> Value {
    let rows: Vec<Vec<f64>> = m
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|x| x.as_f64()).collect())
        .collect();
    json!(rows)
}

/// The trace of `net` on one example, every value at full precision (shortest round-trip `f64`):
/// `{"cost": C, "label": k, "target": y, "sizes": [...], "activation", "output_activation",
/// "cost_function", "layers": [{"l": 1, "a": [...]}, {"l": 2, "z": [...], "a": [...],
/// "delta": [...], "nabla_b": [...], "nabla_w": [[...], ...]}, ...]}`, `nabla_w` of shape
/// `(n_l, n_(l-1))` like `W^(l)`, and in the output layer `dc_da` (`∂C/∂a^(L)`). `label` is the
/// class of a one-hot target, `null` for any other target.
pub fn trace<F: Float>(net: &Network<F>, trace: &Trace<F>, label: Option<usize>) -> Value {
    let arch = net.architecture();
    let big_l = net.num_layers();
    let mut dc_da = Array1::zeros(net.output_size());
    net.cost()
        .gradient_a(trace.a[big_l].view(), trace.target.view(), dc_da.view_mut());
    let mut layers = vec![json!({ "l": 1, "a": vector(&trace.input) })];
    for l in 2..=big_l {
        let mut layer = json!({
            "l": l,
            "z": vector(&trace.z[l]),
            "a": vector(&trace.a[l]),
            "delta": vector(&trace.delta[l]),
            "nabla_b": vector(&trace.gradient.nabla_b[l]),
            "nabla_w": matrix(&trace.gradient.nabla_w[l]),
        });
        if l == big_l {
            layer["dc_da"] = vector(&dc_da);
        }
        layers.push(layer);
    }
    json!({
        "cost": trace.cost.as_f64(),
        "label": label,
        "target": vector(&trace.target),
        "sizes": net.sizes(),
        "activation": arch.hidden.name(),
        "output_activation": arch.output.name(),
        "cost_function": arch.cost.name(),
        "layers": layers,
    })
}

/// The class `k` of a one-hot target `y` (`y_k = 1`, every other entry 0), or `None`.
pub fn one_hot_label<F: Float>(y: &Array1<F>) -> Option<usize> {
    let ones: Vec<usize> = (0..y.len()).filter(|&i| y[i] == F::one()).collect();
    let zeros = y.iter().filter(|&&v| v == F::zero()).count();
    (ones.len() == 1 && zeros + 1 == y.len()).then(|| ones[0])
}

/// `{"correct", "total", "accuracy", "cost", "confusion": [[...], ...]}`, the confusion matrix
/// with one row per label.
pub fn evaluation(e: &Evaluation) -> Value {
    let confusion: Vec<Vec<usize>> = e.confusion.rows().into_iter().map(|r| r.to_vec()).collect();
    json!({
        "correct": e.correct,
        "total": e.total,
        "accuracy": e.accuracy(),
        "cost": e.cost,
        "confusion": confusion,
    })
}

/// `{"checked", "max", "mean", "worst": {"row", "col", "backprop", "numeric"} | null}`.
pub fn error_stats(s: &ErrorStats) -> Value {
    json!({
        "checked": s.checked,
        "max": s.max,
        "mean": s.mean,
        "worst": s.worst.as_ref().map(|w| json!({
            "row": w.row, "col": w.col, "backprop": w.backprop, "numeric": w.numeric,
        })),
    })
}

/// `[{"l", "weights": stats, "biases": stats}, ...]`, one entry per layer `2..=L`.
pub fn grad_check_layers(check: &GradCheck) -> Value {
    let layers: Vec<Value> = check
        .layers
        .iter()
        .map(|c| json!({ "l": c.l, "weights": error_stats(&c.weights), "biases": error_stats(&c.biases) }))
        .collect();
    json!(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_targets_have_a_label_and_others_none() {
        assert_eq!(one_hot_label(&ndarray::arr1(&[0.0, 1.0, 0.0])), Some(1));
        assert_eq!(one_hot_label(&ndarray::arr1(&[0.0, 0.5, 0.5])), None);
        assert_eq!(one_hot_label(&ndarray::arr1(&[1.0, 1.0])), None);
        assert_eq!(one_hot_label(&ndarray::arr1(&[0.0f32, 0.0])), None);
    }

    #[test]
    fn the_trace_has_the_lecture_layers_and_shapes() {
        let net = Network::<f64>::new(&[3, 4, 2]).unwrap();
        let x = ndarray::arr1(&[0.1, 0.2, 0.3]);
        let y = ndarray::arr1(&[0.0, 1.0]);
        let t = net.trace(x.view(), y.view()).unwrap();
        let v = trace(&net, &t, one_hot_label(&y));
        assert_eq!(v["label"], 1);
        assert_eq!(v["layers"][0]["l"], 1);
        assert_eq!(v["layers"][2]["nabla_w"].as_array().unwrap().len(), 2);
        assert_eq!(v["layers"][2]["nabla_w"][0].as_array().unwrap().len(), 4);
        assert!(v["layers"][2]["dc_da"].is_array() && v["layers"][1]["dc_da"].is_null());
    }
}
