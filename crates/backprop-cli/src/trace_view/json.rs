//! The trace as one JSON object, every value at full precision (shortest round-trip `f64`):
//! `{"cost": C, "label": k, "layers": [{"l": 1, "a": [...]}, {"l": 2, "z": [...], "a": [...],
//! "delta": [...], "nabla_b": [...], "nabla_w": [[...], ...]}, ...]}`, with `nabla_w` of shape
//! `(n_l, n_(l-1))` like `W^(l)`. It also holds the network (`sizes`, `activation`,
//! `output_activation`, `cost_function`), the target `y` and, in the output layer, `dc_da`
//! (`∂C/∂a^(L)`).

use super::Traced;
use ndarray::{Array1, Array2};
use serde_json::{json, Value};

fn vector(v: &Array1<f64>) -> Value {
    json!(v.to_vec())
}

fn matrix(m: &Array2<f64>) -> Value {
    let rows: Vec<Vec<f64>> = m.rows().into_iter().map(|r| r.to_vec()).collect();
    json!(rows)
}

/// The trace as a JSON value.
pub fn render(t: &Traced) -> Value {
    let tr = &t.trace;
    let arch = t.net.architecture();
    let mut layers = vec![json!({ "l": 1, "a": vector(&tr.input) })];
    for l in 2..=t.big_l() {
        let mut layer = json!({
            "l": l,
            "z": vector(&tr.z[l]),
            "a": vector(&tr.a[l]),
            "delta": vector(&tr.delta[l]),
            "nabla_b": vector(&tr.gradient.nabla_b[l]),
            "nabla_w": matrix(&tr.gradient.nabla_w[l]),
        });
        if l == t.big_l() {
            layer["dc_da"] = vector(&t.dc_da);
        }
        layers.push(layer);
    }
    json!({
        "cost": tr.cost,
        "label": t.label,
        "target": vector(&tr.target),
        "sizes": t.net.sizes(),
        "activation": arch.hidden.name(),
        "output_activation": arch.output.name(),
        "cost_function": arch.cost.name(),
        "network": t.network,
        "example": t.example,
        "layers": layers,
    })
}
