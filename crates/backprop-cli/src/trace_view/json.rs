//! The trace as one JSON object: the library's shape ([`backprop::json::trace`]: `cost`,
//! `label`, `target`, `sizes`, the activations and cost, `layers` with `z`, `a`, `delta`,
//! `nabla_b`, `nabla_w` and `dc_da`), plus where the network and the example came from
//! (`network`, `example`).

use super::Traced;
use serde_json::Value;

/// The trace as a JSON value.
pub fn render(t: &Traced) -> Value {
    let mut value = backprop::json::trace(&t.net, &t.trace, Some(t.label));
    value["network"] = Value::from(t.network.english());
    value["example"] = Value::from(t.example.english());
    value
}
