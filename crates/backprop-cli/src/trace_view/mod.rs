//! The five steps of the lecture for one example, laid out for reading: each step is a formula
//! and rows of named vectors and matrices in the lecture's notation (`a^(1)`, `z^(l)`, `a^(l)`,
//! `δ^(l)`, `∇b^(l)`, `∇W^(l)`). The terminal view ([`text`]) and the Markdown view
//! ([`markdown`]) render the same [`Step`]s; [`json`] writes the trace itself, full precision.

pub mod json;
pub mod markdown;
pub mod text;

use crate::lang::tr;
use crate::lang::Phrase;
use backprop::{Activation, Cost, Network, Trace};
use ndarray::{Array1, ArrayView1, ArrayView2};

/// One traced example: the network, the trace of the five steps, and what they were run on.
pub struct Traced {
    pub net: Network<f64>,
    pub trace: Trace<f64>,
    /// The class `k` of the one-hot target `y`.
    pub label: usize,
    /// `∂C/∂a^(L)`, the cost's gradient with respect to the output (BP1's first factor).
    pub dc_da: Array1<f64>,
    /// What the network is, e.g. `784-30-10 (sigmoid/sigmoid, quadratic cost) from m.safetensors`.
    pub network: Phrase,
    /// Where the example came from, e.g. `test example 0 of mnist-10k`.
    pub example: Phrase,
}

impl Traced {
    /// Runs the five steps of `net` on `x` with the one-hot target of `label`.
    pub fn new(
        net: Network<f64>,
        x: ArrayView1<'_, f64>,
        label: usize,
        network: Phrase,
        example: Phrase,
    ) -> backprop::Result<Traced> {
        let n_out = net.output_size();
        let y = net.target(label)?;
        let trace = net.trace(x, y.view())?;
        let big_l = net.num_layers();
        let mut dc_da = Array1::zeros(n_out);
        net.cost()
            .gradient_a(trace.a[big_l].view(), y.view(), dc_da.view_mut());
        Ok(Traced {
            net,
            trace,
            label,
            dc_da,
            network,
            example,
        })
    }

    /// `L`.
    pub fn big_l(&self) -> usize {
        self.net.num_layers()
    }
}

/// A symbol or formula, written for a terminal and in LaTeX.
#[derive(Clone, Debug, PartialEq)]
pub struct Notation {
    pub text: String,
    pub latex: String,
}

fn notation(text: impl Into<String>, latex: impl Into<String>) -> Notation {
    Notation {
        text: text.into(),
        latex: latex.into(),
    }
}

/// The values of a row.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    Vector(ArrayView1<'a, f64>),
    /// Shape `(n_l, n_(l-1))`, like `W^(l)`.
    Matrix(ArrayView2<'a, f64>),
}

impl Value<'_> {
    /// Every entry, row by row.
    pub fn entries(&self) -> Vec<f64> {
        match self {
            Value::Vector(v) => v.to_vec(),
            Value::Matrix(m) => m.iter().copied().collect(),
        }
    }
    /// `30` or `30×784`.
    pub fn shape(&self) -> String {
        match self {
            Value::Vector(v) => v.len().to_string(),
            Value::Matrix(m) => format!("{}×{}", m.nrows(), m.ncols()),
        }
    }
}

/// A named vector or matrix; `influence` marks a `δ`, whose largest entries are the neurons that
/// move the cost most.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    pub name: Notation,
    pub value: Value<'a>,
    pub influence: bool,
}

/// One of the five steps: a title, its formula, remarks, and the values it computes.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    pub number: usize,
    /// The step's name in the current language (the lecture's words).
    pub title: String,
    pub formula: Notation,
    pub notes: Vec<Notation>,
    pub rows: Vec<Row<'a>>,
}

fn row<'a>(text: String, latex: String, value: Value<'a>) -> Row<'a> {
    Row {
        name: notation(text, latex),
        value,
        influence: false,
    }
}

/// Steps 1–5 of one traced example.
pub fn steps(t: &Traced) -> Vec<Step<'_>> {
    vec![
        step_input(t),
        step_forward(t),
        step_output_error(t),
        step_backward(t),
        step_gradients(t),
    ]
}

fn step_input(t: &Traced) -> Step<'_> {
    Step {
        number: 1,
        title: tr!("trace.step1"),
        formula: notation("a^(1) = x", "a^{(1)} = x"),
        notes: vec![],
        rows: vec![row(
            "a^(1)".into(),
            "a^{(1)}".into(),
            Value::Vector(t.trace.a(1)),
        )],
    }
}

fn step_forward(t: &Traced) -> Step<'_> {
    let big_l = t.big_l();
    let arch = t.net.architecture();
    let mut rows = Vec::new();
    for l in 2..=big_l {
        rows.push(row(
            format!("z^({l})"),
            format!("z^{{({l})}}"),
            Value::Vector(t.trace.z[l].view()),
        ));
        rows.push(row(
            format!("a^({l})"),
            format!("a^{{({l})}}"),
            Value::Vector(t.trace.a[l].view()),
        ));
    }
    Step {
        number: 2,
        title: tr!("trace.step2"),
        formula: notation(
            format!(
                "z^(l) = W^(l) a^(l-1) + b^(l),  a^(l) = σ(z^(l)),  {}",
                layer_range(2, big_l, false)
            ),
            format!(
                r"z^{{(l)}} = W^{{(l)}} a^{{(l-1)}} + b^{{(l)}}, \quad a^{{(l)}} = \sigma(z^{{(l)}}), \quad {}",
                layer_range(2, big_l, true)
            ),
        ),
        notes: vec![notation(
            tr!(
                "trace.sigma",
                sigma = "σ",
                hidden = arch.hidden,
                output = arch.output
            ),
            tr!(
                "trace.sigma",
                sigma = r"$\sigma$",
                hidden = arch.hidden,
                output = arch.output
            ),
        )],
        rows,
    }
}

fn step_output_error(t: &Traced) -> Step<'_> {
    let big_l = t.big_l();
    let (cost, output) = (t.net.cost(), t.net.activation(big_l));
    let dc_da = if cost == Cost::Quadratic {
        row(
            format!("∂C/∂a^({big_l}) = a^({big_l}) − y"),
            format!(r"\partial C / \partial a^{{({big_l})}} = a^{{({big_l})}} - y"),
            Value::Vector(t.dc_da.view()),
        )
    } else {
        row(
            format!("∂C/∂a^({big_l})"),
            format!(r"\partial C / \partial a^{{({big_l})}}"),
            Value::Vector(t.dc_da.view()),
        )
    };
    let mut delta = row(
        format!("δ^({big_l})"),
        format!(r"\delta^{{({big_l})}}"),
        Value::Vector(t.trace.delta[big_l].view()),
    );
    delta.influence = true;
    let mut notes = vec![notation(
        tr!("trace.target", y = "y", label = t.label),
        tr!("trace.target", y = "$y$", label = t.label),
    )];
    if cost.cancels_sigma_prime(output) {
        let (text, latex) = (
            format!("δ^({big_l}) = a^({big_l}) − y"),
            format!(r"$\delta^{{({big_l})}} = a^{{({big_l})}} - y$"),
        );
        notes.push(notation(
            tr!(
                "trace.cancels",
                cost = cost,
                output = output,
                sigma = "σ'",
                delta = text
            ),
            tr!(
                "trace.cancels",
                cost = cost,
                output = output,
                sigma = r"$\sigma'$",
                delta = latex
            ),
        ));
    } else if output == Activation::Softmax {
        notes.push(notation(
            tr!("trace.jacobian", product = "∘ σ'(z)"),
            tr!("trace.jacobian", product = r"$\odot\, \sigma'(z)$"),
        ));
    }
    Step {
        number: 3,
        title: tr!("trace.step3"),
        formula: bp1_formula(cost, big_l),
        notes,
        rows: vec![
            row("y".into(), "y".into(), Value::Vector(t.trace.target.view())),
            dc_da,
            delta,
        ],
    }
}

fn bp1_formula(cost: Cost, big_l: usize) -> Notation {
    if cost == Cost::Quadratic {
        notation(
            format!(
                "δ^({big_l}) = (a^({big_l}) − y) ∘ σ'(z^({big_l}))   ({})",
                tr!("trace.bp1_quadratic")
            ),
            format!(r"\delta^{{({big_l})}} = (a^{{({big_l})}} - y) \odot \sigma'(z^{{({big_l})}})"),
        )
    } else {
        notation(
            format!("δ^({big_l}) = ∂C/∂a^({big_l}) ∘ σ'(z^({big_l}))"),
            format!(
                r"\delta^{{({big_l})}} = \frac{{\partial C}}{{\partial a^{{({big_l})}}}} \odot \sigma'(z^{{({big_l})}})"
            ),
        )
    }
}

fn step_backward(t: &Traced) -> Step<'_> {
    let big_l = t.big_l();
    let rows = (2..big_l)
        .rev()
        .map(|l| Row {
            influence: true,
            ..row(
                format!("δ^({l})"),
                format!(r"\delta^{{({l})}}"),
                Value::Vector(t.trace.delta[l].view()),
            )
        })
        .collect();
    let notes = if big_l == 2 {
        vec![notation(tr!("trace.no_hidden"), tr!("trace.no_hidden"))]
    } else {
        vec![]
    };
    Step {
        number: 4,
        title: tr!("trace.step4"),
        formula: notation(
            format!(
                "δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ∘ σ'(z^(l)),  {}",
                layer_range(big_l - 1, 2, false)
            ),
            format!(
                r"\delta^{{(l)}} = \left( (W^{{(l+1)}})^T \delta^{{(l+1)}} \right) \odot \sigma'(z^{{(l)}}), \quad {}",
                layer_range(big_l - 1, 2, true)
            ),
        ),
        notes,
        rows,
    }
}

fn step_gradients(t: &Traced) -> Step<'_> {
    let mut rows = Vec::new();
    for l in 2..=t.big_l() {
        rows.push(row(
            format!("∇b^({l})"),
            format!(r"\nabla_{{b^{{({l})}}}} C"),
            Value::Vector(t.trace.gradient.nabla_b[l].view()),
        ));
        rows.push(row(
            format!("∇W^({l})"),
            format!(r"\nabla_{{W^{{({l})}}}} C"),
            Value::Matrix(t.trace.gradient.nabla_w[l].view()),
        ));
    }
    Step {
        number: 5,
        title: tr!("trace.step5"),
        formula: notation(
            format!(
                "∇b^(l) = δ^(l) (BP3),  ∇W^(l) = δ^(l) (a^(l-1))ᵀ (BP4),  {}",
                layer_range(2, t.big_l(), false)
            ),
            format!(
                r"\nabla_{{b^{{(l)}}}} C = \delta^{{(l)}} \;\text{{(BP3)}}, \quad \nabla_{{W^{{(l)}}}} C = \delta^{{(l)}} (a^{{(l-1)}})^T \;\text{{(BP4)}}, \quad {}",
                layer_range(2, t.big_l(), true)
            ),
        ),
        notes: vec![notation(
            tr!(
                "trace.shape",
                nabla = "∇W^(l)",
                w = "W^(l)",
                shape = "(n_l, n_(l-1))",
                i = "i",
                l = "l"
            ),
            tr!(
                "trace.shape",
                nabla = r"$\nabla_{W^{(l)}} C$",
                w = "$W^{(l)}$",
                shape = "$(n_l, n_{l-1})$",
                i = "$i$",
                l = "$l$"
            ),
        )],
        rows,
    }
}

/// The layers `from` to `to` (either way): `l = 2`, `l = 2, 3`, or with more between them
/// `l = 2 … 4` (plain) and `l = 2, \dots, 4` (LaTeX).
fn layer_range(from: usize, to: usize, latex: bool) -> String {
    match from.abs_diff(to) {
        0 => format!("l = {from}"),
        1 => format!("l = {from}, {to}"),
        _ if latex => format!(r"l = {from}, \dots, {to}"),
        _ => format!("l = {from} … {to}"),
    }
}

/// The cost of the example, as a formula.
pub fn cost_formula(cost: Cost, big_l: usize, label: usize) -> Notation {
    match cost {
        Cost::Quadratic => notation(
            format!("C = ‖a^({big_l}) − y‖² / 2"),
            format!(r"C = \tfrac12 \lVert a^{{({big_l})}} - y \rVert^2"),
        ),
        Cost::CrossEntropy => notation(
            format!("C = −Σ_i [y_i ln a_i^({big_l}) + (1 − y_i) ln(1 − a_i^({big_l}))]"),
            format!(
                r"C = -\sum_i \left[ y_i \ln a_i^{{({big_l})}} + (1 - y_i) \ln (1 - a_i^{{({big_l})}}) \right]"
            ),
        ),
        Cost::LogLikelihood => notation(
            format!("C = −ln a_{label}^({big_l})"),
            format!(r"C = -\ln a_{{{label}}}^{{({big_l})}}"),
        ),
    }
}

/// The indices of the `k` entries of largest magnitude, largest first (NaN counts as largest).
pub fn largest(values: &[f64], k: usize) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v.abs() };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| key(values[j]).total_cmp(&key(values[i])).then(i.cmp(&j)));
    order.truncate(k);
    order
}

/// A number for reading: 4 decimals between 0.01 and 10⁵, else 4 significant digits in e-notation.
pub fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (0.01..1e5).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// `(norm, min, max)` of the entries (the Euclidean or Frobenius norm).
pub fn summary(entries: &[f64]) -> (f64, f64, f64) {
    let norm = entries.iter().map(|v| v * v).sum::<f64>().sqrt();
    let min = entries.iter().copied().fold(f64::INFINITY, f64::min);
    let max = entries.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (norm, min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_ranks_by_magnitude() {
        assert_eq!(largest(&[0.1, -3.0, 2.0, 0.0], 2), vec![1, 2]);
        assert_eq!(largest(&[1.0, f64::NAN], 1), vec![1]);
        assert_eq!(largest(&[1.0], 5), vec![0]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.5), "0.5000");
        assert_eq!(num(-1.23456e-5), "-1.235e-5");
        assert_eq!(summary(&[3.0, -4.0]), (5.0, -4.0, 3.0));
    }

    #[test]
    fn steps_follow_the_lecture() {
        let net = Network::builder(&[3, 2, 2]).seed(1).build::<f64>().unwrap();
        let x = ndarray::array![0.1, 0.5, 0.9];
        let t = Traced::new(net, x.view(), 1, "net".into(), "ex".into()).unwrap();
        let steps = steps(&t);
        let names: Vec<Vec<&str>> = steps
            .iter()
            .map(|s| s.rows.iter().map(|r| r.name.text.as_str()).collect())
            .collect();
        assert_eq!(names[0], ["a^(1)"]);
        assert_eq!(names[1], ["z^(2)", "a^(2)", "z^(3)", "a^(3)"]);
        assert_eq!(names[2], ["y", "∂C/∂a^(3) = a^(3) − y", "δ^(3)"]);
        assert_eq!(names[3], ["δ^(2)"]);
        assert_eq!(names[4], ["∇b^(2)", "∇W^(2)", "∇b^(3)", "∇W^(3)"]);
        // Lemma 1: ∂C/∂a = a − y for the quadratic cost.
        assert_eq!(t.dc_da, &t.trace.a[3] - &t.trace.target);
    }
}
