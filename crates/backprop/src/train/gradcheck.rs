//! The gradient check: back-propagation (BP3, BP4) against finite differences, in `f64`.
//!
//! For a parameter `p` the numerical derivative of the mean cost `C(p)` over the given examples is
//! the fourth-order central difference
//! `(−C(p+2h) + 8C(p+h) − 8C(p−h) + C(p−2h)) / 12h`, whose truncation error is `O(h⁴)`; with
//! `h = 10⁻³` both truncation (`h⁴/30 · C⁽⁵⁾`) and rounding (`ε·C/h`) stay near `10⁻¹³`. The relative error of an entry is
//! `|g_bp − g_fd| / max(|g_bp|, |g_fd|, floor)`; gradients smaller than the floor
//! ([`GradCheckOptions::DEFAULT_FLOOR`]) are compared absolutely against it, since no difference quotient resolves them.
//!
//! Not suited for: activations at a kink (ReLU with some `z` within `2h` of 0 gives a one-sided
//! difference there); the check reports it as a large error on the affected entries.

use crate::error::{Error, Result};
use crate::lecture::gradient::Gradient;
use crate::lecture::init;
use crate::lecture::network::Network;
use crate::train::regularization::Regularization;
use ndarray::{ArrayView2, Zip};
use rand::seq::index::sample;

/// Settings of [`gradient_check`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckOptions {
    /// The step `h` (default [`Self::DEFAULT_STEP`]).
    pub step: f64,
    /// Entries smaller than this are compared absolutely (default [`Self::DEFAULT_FLOOR`]).
    pub floor: f64,
    /// Check at most this many weights and this many biases per layer, drawn with [`seed`](Self::seed)
    /// (default: all).
    pub max_per_layer: Option<usize>,
    /// The seed of the subset (default 0).
    pub seed: u64,
    /// L2/L1 penalties included in the cost and in the gradient (default none).
    pub regularization: Regularization,
    /// The training-set size `n` of the penalties `(λ/2n) Σ w²`, `(λ₁/n) Σ |w|` (default 1).
    pub n: usize,
}

impl GradCheckOptions {
    /// The step `h` of the differences: truncation and rounding both near `10⁻¹³` (see the module).
    pub const DEFAULT_STEP: f64 = 1e-3;
    /// The floor of the relative error, the one every front uses: a difference quotient resolves
    /// a derivative only to about `10⁻¹³·C` at `h = 10⁻³`, and costs of saturated log-likelihood
    /// networks reach `C ≈ 10²`, so an absolute error of `10⁻¹¹` must stay below a relative
    /// tolerance of `10⁻⁶`.
    pub const DEFAULT_FLOOR: f64 = 1e-5;
}

impl Default for GradCheckOptions {
    fn default() -> Self {
        GradCheckOptions {
            step: Self::DEFAULT_STEP,
            floor: Self::DEFAULT_FLOOR,
            max_per_layer: None,
            seed: 0,
            regularization: Regularization::default(),
            n: 1,
        }
    }
}

/// The entry with the largest relative error.
#[derive(Clone, Debug, PartialEq)]
pub struct WorstEntry {
    /// Row `i` (the neuron of layer `l`).
    pub row: usize,
    /// Column `j` (the neuron of layer `l − 1`); 0 for a bias.
    pub col: usize,
    /// The derivative by back-propagation.
    pub backprop: f64,
    /// The derivative by finite differences.
    pub numeric: f64,
}

/// Relative errors over the checked entries of one parameter tensor.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ErrorStats {
    /// Entries checked.
    pub checked: usize,
    /// The largest relative error.
    pub max: f64,
    /// The mean relative error.
    pub mean: f64,
    /// Where the largest error is.
    pub worst: Option<WorstEntry>,
}

/// The check of one layer `l`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerCheck {
    /// The layer, `2..=L`.
    pub l: usize,
    /// `∇W^(l)` against finite differences.
    pub weights: ErrorStats,
    /// `∇b^(l)` against finite differences.
    pub biases: ErrorStats,
}

/// The result of [`gradient_check`], one entry per layer.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Layers `2..=L` in order.
    pub layers: Vec<LayerCheck>,
}

impl GradCheck {
    /// The largest relative error of any entry of any layer.
    pub fn max_relative_error(&self) -> f64 {
        self.layers
            .iter()
            .map(|c| c.weights.max.max(c.biases.max))
            .fold(0.0, f64::max)
    }
}

/// Compares the mean gradient of the per-example reference path (BP1–BP4) over the examples
/// `xs (m, n_1)`, `ys (m, n_L)` with finite differences of the mean cost, for every weight and bias
/// (or a seeded subset, see [`GradCheckOptions::max_per_layer`]).
pub fn gradient_check(
    net: &Network<f64>,
    xs: ArrayView2<'_, f64>,
    ys: ArrayView2<'_, f64>,
    options: &GradCheckOptions,
) -> Result<GradCheck> {
    crate::limits::check_gradcheck_examples(xs.nrows(), xs.ncols())?;
    if xs.nrows() == 0 || xs.nrows() != ys.nrows() {
        return Err(Error::Shape(format!(
            "gradient check needs matching, non-empty inputs and targets, got {} and {}",
            xs.nrows(),
            ys.nrows()
        )));
    }
    let mut gradient = net.mean_gradient_per_example(xs, ys)?;
    options
        .regularization
        .add_gradient(net, options.n, &mut gradient);
    compare_with_finite_differences(net, xs, ys, &gradient, options)
}

/// Compares a given mean `gradient` (with any penalty of `options.regularization` included)
/// with finite differences of the mean cost of `net` over `xs`, `ys`: what [`gradient_check`]
/// does with the reference path's gradient, open to any other (a test feeds it a wrong one).
pub fn compare_with_finite_differences(
    net: &Network<f64>,
    xs: ArrayView2<'_, f64>,
    ys: ArrayView2<'_, f64>,
    gradient: &Gradient<f64>,
    options: &GradCheckOptions,
) -> Result<GradCheck> {
    if xs.nrows() == 0
        || xs.nrows() != ys.nrows()
        || xs.ncols() != net.sizes()[0]
        || ys.ncols() != net.output_size()
    {
        return Err(Error::Shape(format!(
            "gradient check needs non-empty inputs of width {} and as many targets of width {}, got {:?} and {:?}",
            net.sizes()[0],
            net.output_size(),
            xs.dim(),
            ys.dim()
        )));
    }
    let penalty = options.regularization;
    let mean_cost = |net: &Network<f64>| -> f64 {
        let total: f64 = Zip::from(xs.rows()).and(ys.rows()).fold(0.0, |sum, x, y| {
            // Widths are checked above; a non-finite a^(L) makes the cost NaN, as it is.
            net.feedforward(x)
                .map_or(f64::NAN, |a| sum + net.cost().value(a.view(), y))
        });
        total / xs.nrows() as f64 + penalty.cost(net, options.n)
    };
    let h = options.step;
    let mut probe = net.clone();
    let numeric = |probe: &mut Network<f64>, get: &dyn Fn(&mut Network<f64>) -> &mut f64| -> f64 {
        let original = *get(probe);
        let mut at = |offset: f64| {
            *get(probe) = original + offset;
            mean_cost(probe)
        };
        let d = (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h);
        *get(probe) = original;
        d
    };
    let mut layers = Vec::new();
    for l in 2..=net.num_layers() {
        let (rows, cols) = net.weights(l).dim();
        let mut weights = Stats::new(options.floor);
        for k in chosen(rows * cols, options, l as u64 * 2) {
            let (i, j) = (k / cols, k % cols);
            let fd = numeric(&mut probe, &|n: &mut Network<f64>| {
                &mut n.weights_mut(l)[[i, j]]
            });
            weights.add(i, j, gradient.nabla_w[l][[i, j]], fd);
        }
        let mut biases = Stats::new(options.floor);
        for i in chosen(rows, options, l as u64 * 2 + 1) {
            let fd = numeric(&mut probe, &|n: &mut Network<f64>| &mut n.biases_mut(l)[i]);
            biases.add(i, 0, gradient.nabla_b[l][i], fd);
        }
        layers.push(LayerCheck {
            l,
            weights: weights.finish(),
            biases: biases.finish(),
        });
    }
    Ok(GradCheck { layers })
}

/// The entries to check: all `n`, or a seeded sample of `max_per_layer` of them.
fn chosen(n: usize, options: &GradCheckOptions, stream: u64) -> Vec<usize> {
    match options.max_per_layer {
        Some(k) if k < n => {
            let mut picked = sample(&mut init::rng(options.seed, 100 + stream), n, k).into_vec();
            picked.sort_unstable();
            picked
        }
        _ => (0..n).collect(),
    }
}

struct Stats {
    floor: f64,
    sum: f64,
    stats: ErrorStats,
}

impl Stats {
    fn new(floor: f64) -> Self {
        Stats {
            floor,
            sum: 0.0,
            stats: ErrorStats::default(),
        }
    }
    fn add(&mut self, row: usize, col: usize, backprop: f64, numeric: f64) {
        let rel = (backprop - numeric).abs() / backprop.abs().max(numeric.abs()).max(self.floor);
        let rel = if rel.is_nan() { f64::INFINITY } else { rel };
        self.sum += rel;
        self.stats.checked += 1;
        if self.stats.worst.is_none() || rel > self.stats.max {
            self.stats.max = rel;
            self.stats.worst = Some(WorstEntry {
                row,
                col,
                backprop,
                numeric,
            });
        }
    }
    fn finish(mut self) -> ErrorStats {
        self.stats.mean = self.sum / self.stats.checked.max(1) as f64;
        self.stats
    }
}
