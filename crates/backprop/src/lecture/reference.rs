//! The per-example reference path: the lecture's five steps for one `(x, y)`, one function per
//! formula.
//!
//! This path is written for reading and checking, not for speed (it allocates every vector);
//! training uses the mini-batch matrix path ([`crate::lecture::network::Network::forward_batch`] and
//! [`crate::lecture::network::Network::backward_batch`]), which a test binds to this one.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::kernel::matmul;
use crate::lecture::activation::Activation;
use crate::lecture::gradient::Gradient;
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// Step 2, the weighted input `z^(l) = W^(l) a^(l-1) + b^(l)`.
/// Shapes: `w (n_l, n_(l-1))`, `a_prev (n_(l-1))`, `b (n_l)` → `z (n_l)`.
pub fn weighted_input<F: Float>(
    w: ArrayView2<'_, F>,
    a_prev: ArrayView1<'_, F>,
    b: ArrayView1<'_, F>,
) -> Array1<F> {
    let mut z = b.to_owned();
    let column_z = z.view_mut().insert_axis(ndarray::Axis(1)); // (n_l, 1)
    matmul::gemm(
        F::one(),
        w,
        a_prev.insert_axis(ndarray::Axis(1)),
        F::one(),
        column_z,
        matmul::Split::Rows,
    );
    z
}

/// Step 2, the activation `a^(l) = σ(z^(l))`.
pub fn activation<F: Float>(sigma: Activation, z: ArrayView1<'_, F>) -> Array1<F> {
    let mut a = Array1::zeros(z.len());
    sigma.sigma(z, a.view_mut());
    a
}

/// **BP2**, the error of a hidden layer from the next one:
/// `δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ∘ σ'(z^(l))`, i.e. `δ_j^(l) = σ'(z_j^(l)) Σ_i w_ji^(l+1) δ_i^(l+1)`.
/// Shapes: `w_next (n_(l+1), n_l)`, `delta_next (n_(l+1))`, `z (n_l)` → `δ (n_l)`.
pub fn hidden_error<F: Float>(
    w_next: ArrayView2<'_, F>,
    delta_next: ArrayView1<'_, F>,
    z: ArrayView1<'_, F>,
    sigma: Activation,
) -> Array1<F> {
    let mut delta = carried_error(w_next, delta_next);
    let sigma_prime = |z: F| sigma.sigma_prime(z).expect("hidden layers are elementwise");
    ndarray::Zip::from(&mut delta)
        .and(&z)
        .for_each(|d, &z| *d *= sigma_prime(z));
    delta
}

/// BP2's first factor, the error carried back to layer `l`: `(W^(l+1))ᵀ δ^(l+1)`, i.e.
/// `Σ_i w_ij^(l+1) δ_i^(l+1)` for neuron `j` of layer `l`. Shapes: `w_next (n_(l+1), n_l)`,
/// `delta_next (n_(l+1))` → `(n_l)`.
pub fn carried_error<F: Float>(
    w_next: ArrayView2<'_, F>,
    delta_next: ArrayView1<'_, F>,
) -> Array1<F> {
    let mut carried = Array1::zeros(w_next.ncols());
    matmul::mat_vec(w_next.t(), delta_next, carried.view_mut()); // (n_l, n_(l+1)) · (n_(l+1))
    carried
}

/// A neuron is *saturated* when `σ'(z) <` this: its `δ`, and so every gradient of its weights,
/// is nearly zero whatever the error after it (BP2), and it learns slowly.
pub const SATURATED_BELOW: f64 = 0.01;

/// `σ'(z_j)` for every neuron of a layer with an elementwise σ; `None` for softmax, whose
/// derivative is a Jacobian, not one number per neuron.
pub fn sigma_prime_all<F: Float>(sigma: Activation, z: ArrayView1<'_, F>) -> Option<Array1<F>> {
    z.iter().map(|&z| sigma.sigma_prime(z)).collect()
}

/// **BP3**, the bias gradient `∂C/∂b_i^(l) = δ_i^(l)`.
pub fn bias_gradient<F: Float>(delta: ArrayView1<'_, F>) -> Array1<F> {
    delta.to_owned()
}

/// **BP4**, the weight gradient `∂C/∂w_ji^(l) = δ_i^(l) a_j^(l-1)`, i.e. `∇_{W^(l)} C = δ^(l) (a^(l-1))ᵀ`.
/// Shapes: `delta (n_l)`, `a_prev (n_(l-1))` → `(n_l, n_(l-1))`, the shape of `W^(l)`.
pub fn weight_gradient<F: Float>(delta: ArrayView1<'_, F>, a_prev: ArrayView1<'_, F>) -> Array2<F> {
    let mut nabla_w = Array2::zeros((delta.len(), a_prev.len()));
    matmul::outer(delta, a_prev, nabla_w.view_mut());
    nabla_w
}

/// Everything the five steps compute for one example, kept for inspection.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace<F: Float = f32> {
    /// Step 1, the input `a^(1) = x`.
    pub input: Array1<F>,
    /// The target `y`.
    pub target: Array1<F>,
    /// Step 2, `z^(l)` for `l = 2..=L`.
    pub z: Layers<Array1<F>>,
    /// Step 2, `a^(l)` for `l = 2..=L` (layer 1 is [`Trace::input`]; see [`Trace::a`]).
    pub a: Layers<Array1<F>>,
    /// Steps 3–4, `δ^(l)` for `l = 2..=L`.
    pub delta: Layers<Array1<F>>,
    /// Step 5, `∇b^(l)` (BP3) and `∇W^(l)` (BP4).
    pub gradient: Gradient<F>,
    /// The cost `C_(x,y)`.
    pub cost: F,
}

impl<F: Float> Trace<F> {
    /// `a^(l)` for any `l` in `1..=L` (layer 1 is the input).
    pub fn a(&self, l: usize) -> ArrayView1<'_, F> {
        if l == 1 {
            self.input.view()
        } else {
            self.a[l].view()
        }
    }
}

impl<F: Float> Network<F> {
    /// The network's output `a^(L) = α(x)` for one input `x` of length `n_1` (steps 1–2).
    /// Refuses with [`Error::NotFinite`] when some `a^(l)` is NaN or infinite (weights so large
    /// that `z` overflows): such an output is no class.
    pub fn feedforward(&self, x: ArrayView1<'_, F>) -> Result<Array1<F>> {
        self.check_input(x.len())?;
        let mut a = x.to_owned();
        for l in 2..=self.num_layers() {
            let z = weighted_input(self.weights(l).view(), a.view(), self.biases(l).view());
            a = activation(self.activation(l), z.view());
            if !a.iter().all(|v| v.is_finite()) {
                return Err(Error::NotFinite {
                    layer: l,
                    example: None,
                });
            }
        }
        Ok(a)
    }

    /// The five steps of the lecture for one example, keeping every `z`, `a` and `δ`.
    /// `x` has length `n_1` and `y` length `n_L`.
    pub fn trace(&self, x: ArrayView1<'_, F>, y: ArrayView1<'_, F>) -> Result<Trace<F>> {
        self.check_input(x.len())?;
        let n_out = self.output_size();
        if y.len() != n_out {
            return Err(Error::Shape(format!(
                "the target has {} values but the output layer has {n_out} neurons",
                y.len()
            )));
        }
        let big_l = self.num_layers();
        // Steps 1–2: input, then the forward pass z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = σ(z^(l)).
        let (mut zs, mut activations) = (Vec::new(), Vec::new());
        for l in 2..=big_l {
            let a_prev = activations.last().map_or(x, |a: &Array1<F>| a.view());
            let z = weighted_input(self.weights(l).view(), a_prev, self.biases(l).view());
            activations.push(activation(self.activation(l), z.view()));
            zs.push(z);
        }
        let (z, a) = (Layers::from_vec(zs), Layers::from_vec(activations));
        // Step 3: the output error δ^(L) (BP1).
        let mut delta_out = Array1::zeros(n_out);
        self.cost().output_error(
            self.activation(big_l),
            z[big_l].view(),
            a[big_l].view(),
            y,
            delta_out.view_mut(),
        );
        // Step 4: the backward pass δ^(l) for l = L−1 … 2 (BP2).
        let mut deltas = vec![delta_out];
        for l in (2..big_l).rev() {
            let next = deltas.last().expect("δ^(l+1) is computed first");
            deltas.push(hidden_error(
                self.weights(l + 1).view(),
                next.view(),
                z[l].view(),
                self.activation(l),
            ));
        }
        deltas.reverse();
        let delta = Layers::from_vec(deltas);
        // Step 5: the gradients ∇b^(l) = δ^(l) (BP3) and ∇W^(l) = δ^(l) (a^(l-1))ᵀ (BP4).
        let a_prev = |l: usize| if l == 2 { x } else { a[l - 1].view() };
        let gradient = Gradient {
            nabla_b: delta.map(|d| bias_gradient(d.view())),
            nabla_w: Layers::from_vec(
                (2..=big_l)
                    .map(|l| weight_gradient(delta[l].view(), a_prev(l)))
                    .collect(),
            ),
        };
        let cost = self.cost().value(a[big_l].view(), y);
        Ok(Trace {
            input: x.to_owned(),
            target: y.to_owned(),
            z,
            a,
            delta,
            gradient,
            cost,
        })
    }

    /// `∇b` and `∇W` of `C_(x,y)` for one example: steps 1–5 of the lecture (see [`Network::trace`]).
    pub fn backprop(&self, x: ArrayView1<'_, F>, y: ArrayView1<'_, F>) -> Result<Gradient<F>> {
        Ok(self.trace(x, y)?.gradient)
    }

    /// Step 6 by the reference path: the mean of the per-example gradients over a mini-batch,
    /// `∇C_V = (1/|V|) Σ_(x,y)∈V ∇C_(x,y)`. `xs (m, n_1)` and `ys (m, n_L)` hold one example per row.
    pub fn mean_gradient_per_example(
        &self,
        xs: ArrayView2<'_, F>,
        ys: ArrayView2<'_, F>,
    ) -> Result<Gradient<F>> {
        let mut sum = Gradient::zeros(self);
        for (x, y) in xs.rows().into_iter().zip(ys.rows()) {
            sum.add(&self.backprop(x, y)?);
        }
        sum.scale(F::one() / F::cast(xs.nrows().max(1) as f64));
        Ok(sum)
    }
}
