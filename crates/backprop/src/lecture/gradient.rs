//! `Gradient`: `∇_b C` and `∇_W C` for every layer, shaped like the network.

use crate::kernel::float::Float;
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use ndarray::{Array, Array1, Array2, Dimension, Zip};

/// `∇b^(l)` (length `n_l`) and `∇W^(l)` (shape `(n_l, n_(l-1))`) for `l = 2..=L`: the gradient of
/// one example (steps 1–5) or the mean over a mini-batch (step 6).
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient<F: Float = f32> {
    /// `∇_{W^(l)} C`, indexed `2..=L`.
    pub nabla_w: Layers<Array2<F>>,
    /// `∇_{b^(l)} C`, indexed `2..=L`.
    pub nabla_b: Layers<Array1<F>>,
}

impl<F: Float> Gradient<F> {
    /// A zero gradient shaped like `net`.
    pub fn zeros(net: &Network<F>) -> Self {
        Gradient {
            nabla_w: net.all_weights().map(|w| Array2::zeros(w.dim())),
            nabla_b: net.all_biases().map(|b| Array1::zeros(b.len())),
        }
    }

    /// `self ← self + other`.
    pub fn add(&mut self, other: &Gradient<F>) {
        for ((_, w), (_, o)) in self.nabla_w.iter_mut().zip(other.nabla_w.iter()) {
            *w += o;
        }
        for ((_, b), (_, o)) in self.nabla_b.iter_mut().zip(other.nabla_b.iter()) {
            *b += o;
        }
    }

    /// `self ← factor · self` (with `1/|V|`, the mean of step 6).
    pub fn scale(&mut self, factor: F) {
        self.nabla_w.iter_mut().for_each(|(_, w)| *w *= factor);
        self.nabla_b.iter_mut().for_each(|(_, b)| *b *= factor);
    }

    /// `self ← 0`.
    pub fn set_zero(&mut self) {
        self.nabla_w.iter_mut().for_each(|(_, w)| w.fill(F::zero()));
        self.nabla_b.iter_mut().for_each(|(_, b)| b.fill(F::zero()));
    }

    /// Appends every entry to `out`: `∇W^(2)`, `∇b^(2)`, `∇W^(3)`, … row by row (one buffer to
    /// send to other processes).
    pub fn append_to(&self, out: &mut Vec<F>) {
        for ((_, w), (_, b)) in self.nabla_w.iter().zip(self.nabla_b.iter()) {
            append_entries(w, out);
            append_entries(b, out);
        }
    }

    /// Reads every entry back from `values`, in the order of [`append_to`](Self::append_to);
    /// returns the values left over. Panics if there are too few (a logic error of the caller).
    pub fn read_from<'v>(&mut self, values: &'v [F]) -> &'v [F] {
        let mut rest = values;
        for ((_, w), (_, b)) in self.nabla_w.iter_mut().zip(self.nabla_b.iter_mut()) {
            rest = fill_from(w, rest);
            rest = fill_from(b, rest);
        }
        rest
    }

    /// `max |g − h| / max |g|` over every entry of every layer: how far `other` is from `self`,
    /// relative to the size of `self` (0 when both are zero; infinite if any entry is NaN).
    pub fn relative_difference(&self, other: &Gradient<F>) -> f64 {
        let (mut diff, mut size) = (0f64, 0f64);
        let mut visit = |g: F, h: F| {
            let d = (g.as_f64() - h.as_f64()).abs();
            diff = if d.is_nan() {
                f64::INFINITY
            } else {
                diff.max(d)
            };
            size = size.max(g.as_f64().abs());
        };
        for ((_, a), (_, b)) in self.nabla_w.iter().zip(other.nabla_w.iter()) {
            Zip::from(a).and(b).for_each(|&g, &h| visit(g, h));
        }
        for ((_, a), (_, b)) in self.nabla_b.iter().zip(other.nabla_b.iter()) {
            Zip::from(a).and(b).for_each(|&g, &h| visit(g, h));
        }
        if diff == 0.0 {
            0.0
        } else {
            diff / size
        }
    }
}

/// Appends the entries of `a` to `out`, row by row (one copy when `a` is in standard layout).
fn append_entries<F: Float, D: Dimension>(a: &Array<F, D>, out: &mut Vec<F>) {
    match a.as_slice() {
        Some(entries) => out.extend_from_slice(entries),
        None => out.extend(a.iter()),
    }
}

/// Fills `a` row by row from the first `a.len()` of `values`; returns the rest.
fn fill_from<'v, F: Float, D: Dimension>(a: &mut Array<F, D>, values: &'v [F]) -> &'v [F] {
    let (these, rest) = values.split_at(a.len());
    match a.as_slice_mut() {
        Some(entries) => entries.copy_from_slice(these),
        None => a.iter_mut().zip(these).for_each(|(entry, &v)| *entry = v),
    }
    rest
}

/// The lecture's update, plain gradient descent, for one parameter tensor `θ` (a `W^(l)` or a
/// `b^(l)`) and its mean gradient `g` over the mini-batch: `θ ← θ − η g`. Every path that does
/// plain SGD calls this ([`crate::Optimizer::Sgd`], and the biases of
/// [`Network::backward_batch_descend`], whose weights get the same step folded into BP4).
pub fn descend<F: Float, D: Dimension>(theta: &mut Array<F, D>, g: &Array<F, D>, eta: F) {
    theta.scaled_add(-eta, g);
}
