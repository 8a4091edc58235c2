//! The mini-batch matrix path: the reference path ([`crate::lecture::reference`]) for a whole
//! mini-batch, formula by formula, one matrix product per layer and direction, returning the mean
//! gradient of step 6.
//!
//! A mini-batch of `m` examples is held one example per row, so the lecture's column form
//! `z = W a + b` becomes, for all examples at once, `Z^(l) = A^(l-1) (W^(l))ᵀ + 1 (b^(l))ᵀ` with
//! `A^(l-1)` of shape `(m, n_(l-1))` and `Z^(l)` of shape `(m, n_l)`. Each formula of the
//! reference path has its mirror here, named alike with a `_batch` suffix:
//!
//! | step | reference (one example) | matrix (one row per example) |
//! |---|---|---|
//! | 2 | `weighted_input`, `activation` | [`Network::forward_batch`] |
//! | 3, BP1 | [`Cost::output_error`](crate::Cost::output_error) | [`Network::output_error_batch`] |
//! | 4, BP2 | [`hidden_error`](crate::lecture::reference::hidden_error) | [`Network::hidden_error_batch`]: `Δ^(l) = (Δ^(l+1) W^(l+1)) ∘ σ'(Z^(l))` |
//! | 5, BP3 | [`bias_gradient`](crate::lecture::reference::bias_gradient) | [`Network::bias_gradient_batch`]: `∇b^(l) = (1/m) Σ_rows Δ^(l)` |
//! | 5, BP4 | [`weight_gradient`](crate::lecture::reference::weight_gradient) | [`Network::weight_gradient_batch`]: `∇W^(l) = (1/m) (Δ^(l))ᵀ A^(l-1)` |
//!
//! All buffers live in a [`Workspace`] made once for the largest mini-batch, which also knows the
//! size `m` of the mini-batch it holds: nothing is allocated per mini-batch. `Z^(l)` is not kept:
//! `σ` is applied in place and `σ'` is computed from `A`.
//!
//! A workspace may also hold one contiguous part of a mini-batch that several processes share
//! ([`Workspace::set_batch_part`], used by [`crate::train::distributed`]): the passes then run on
//! its rows only and BP3/BP4 still divide by the whole mini-batch's `m`, so adding the parts' gradients
//! gives the mean of step 6.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::kernel::matmul::{self, Split};
use crate::lecture::gradient::{descend, Gradient};
use crate::lecture::init::Rng;
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::RngExt;
use std::ops::Range;

/// Work buffers of the matrix path for mini-batches of up to `capacity` examples, and the size
/// `m` of the mini-batch they hold now.
#[derive(Clone, Debug)]
pub struct Workspace<F: Float = f32> {
    /// The number of examples held now (the first rows of each buffer): the whole mini-batch, or
    /// this process's part of it.
    m: usize,
    /// The held examples are `first..first + m` of a mini-batch of `whole` examples (`0..m` of
    /// `m` unless it is shared, see [`Workspace::set_batch_part`]).
    first: usize,
    /// The size of the whole mini-batch, the `m` that BP3 and BP4 divide by.
    whole: usize,
    /// `A^(1) = X`, `(capacity, n_1)`.
    x: Array2<F>,
    /// `Y`, `(capacity, n_L)`: one-hot targets.
    y: Array2<F>,
    /// `A^(l)`, `(capacity, n_l)` for `l = 2..=L`.
    a: Layers<Array2<F>>,
    /// `Δ^(l)`, `(capacity, n_l)` for `l = 2..=L`.
    delta: Layers<Array2<F>>,
    /// The mean gradient of the last mini-batch.
    gradient: Gradient<F>,
    /// With dropout: `M ∘ σ'(Z^(l))` of each hidden layer (see [`Network::forward_batch_dropout`]).
    dropout: Option<Layers<Array2<F>>>,
}

impl<F: Float> Workspace<F> {
    /// Buffers for `net` and mini-batches of up to `capacity` examples; `m` starts at `capacity`.
    pub fn new(net: &Network<F>, capacity: usize) -> Self {
        let sizes = net.sizes();
        let per_layer = || {
            Layers::from_vec(
                sizes[1..]
                    .iter()
                    .map(|&n| Array2::zeros((capacity, n)))
                    .collect(),
            )
        };
        Workspace {
            m: capacity,
            first: 0,
            whole: capacity,
            x: Array2::zeros((capacity, sizes[0])),
            y: Array2::zeros((capacity, net.output_size())),
            a: per_layer(),
            delta: per_layer(),
            gradient: Gradient::zeros(net),
            dropout: None,
        }
    }

    /// The largest mini-batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.x.nrows()
    }

    /// `m`, the size of the mini-batch held now (of the whole one, when a part is held).
    pub fn batch_size(&self) -> usize {
        self.whole
    }

    /// Starts a mini-batch of `m` examples: the next [`inputs_mut`](Self::inputs_mut),
    /// [`targets_mut`](Self::targets_mut) and the passes use the first `m` rows. Panics if `m`
    /// is 0 or above the capacity (a logic error of the caller).
    pub fn set_batch_size(&mut self, m: usize) {
        self.set_batch_part(0..m, m);
    }

    /// Starts the part `rows` of a mini-batch of `m` examples that several processes share: the
    /// next inputs, targets and passes use `rows.len()` rows, the dropout masks are those of these
    /// rows in the whole mini-batch, and the gradient is `(1/m) Σ` over these rows only, so that
    /// the parts' gradients add up to the mean of step 6. Panics if `rows` is empty, does not lie
    /// in `0..m`, or exceeds the capacity (logic errors of the caller).
    pub fn set_batch_part(&mut self, rows: Range<usize>, m: usize) {
        assert!(
            !rows.is_empty() && rows.end <= m && rows.len() <= self.capacity(),
            "rows {rows:?} of a mini-batch of {m} examples do not fit a workspace for 1..={}",
            self.capacity()
        );
        self.m = rows.len();
        self.first = rows.start;
        self.whole = m;
    }

    /// `A^(1) = X` of the current mini-batch, `(m, n_1)`, to be filled with inputs.
    pub fn inputs_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.x.slice_mut(s![..self.m, ..])
    }

    /// `Y` of the current mini-batch, `(m, n_L)`, to be filled with targets.
    pub fn targets_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.y.slice_mut(s![..self.m, ..])
    }

    /// `Y` of the current mini-batch, `(m, n_L)`.
    pub fn targets(&self) -> ArrayView2<'_, F> {
        self.y.slice(s![..self.m, ..])
    }

    /// `A^(L)` of the current mini-batch, `(m, n_L)`, after [`Network::forward_batch`].
    pub fn output(&self) -> ArrayView2<'_, F> {
        self.a_rows(self.a.num_layers())
    }

    /// The mean gradient computed by the last [`Network::backward_batch`].
    pub fn gradient(&self) -> &Gradient<F> {
        &self.gradient
    }

    /// The same, to add penalty terms to it.
    pub fn gradient_mut(&mut self) -> &mut Gradient<F> {
        &mut self.gradient
    }

    /// `A^(l)` of the current mini-batch, `(m, n_l)`, for `l` in `1..=L`.
    pub(crate) fn a_rows(&self, l: usize) -> ArrayView2<'_, F> {
        let a = if l == 1 { &self.x } else { &self.a[l] };
        a.slice(s![..self.m, ..])
    }

    /// The operands of BP4 for layer `l`: `Δ^(l)` `(m, n_l)`, `A^(l-1)` `(m, n_(l-1))`, and the
    /// `∇W^(l)` buffer `(n_l, n_(l-1))`.
    fn bp4_operands(
        &mut self,
        l: usize,
    ) -> (ArrayView2<'_, F>, ArrayView2<'_, F>, ArrayViewMut2<'_, F>) {
        let m = self.m;
        let a_prev = if l == 2 { &self.x } else { &self.a[l - 1] };
        (
            self.delta[l].slice(s![..m, ..]),
            a_prev.slice(s![..m, ..]),
            self.gradient.nabla_w[l].view_mut(),
        )
    }
}

impl<F: Float> Network<F> {
    /// Step 2 for the current mini-batch of `ws`: `A^(l) = σ(A^(l-1) (W^(l))ᵀ + 1 (b^(l))ᵀ)`
    /// for `l = 2..=L`, `(m, n_(l-1))·(n_(l-1), n_l)`.
    pub fn forward_batch(&self, ws: &mut Workspace<F>) {
        ws.dropout = None;
        self.forward_layers(ws, None);
    }

    /// Step 2 with inverted dropout on the hidden layers, for training: each hidden neuron of each
    /// example is dropped (`a = 0`) with probability `p` and the kept ones are scaled by
    /// `1/(1 − p)`, so that no scaling is needed at evaluation. [`Network::backward_batch`] then
    /// sends `δ` only through the kept neurons.
    pub fn forward_batch_dropout(&self, ws: &mut Workspace<F>, p: f64, rng: &mut Rng) {
        let (m, keep) = (ws.m, F::cast(1.0 / (1.0 - p)));
        let (before, after) = (ws.first, ws.whole - ws.first - ws.m);
        let mut masks = ws
            .dropout
            .take()
            .unwrap_or_else(|| ws.a.map(|a| Array2::zeros(a.dim())));
        for (_, mask) in masks.iter_mut().filter(|(l, _)| *l < self.num_layers()) {
            // The draws of the rows held elsewhere are skipped, so a part gets the masks its
            // rows would get in the whole mini-batch.
            let n_l = mask.ncols();
            skip_draws(rng, before * n_l);
            mask.slice_mut(s![..m, ..]).mapv_inplace(|_| {
                if rng.random::<f64>() < p {
                    F::zero()
                } else {
                    keep
                }
            });
            skip_draws(rng, after * n_l);
        }
        self.forward_layers(ws, Some(&mut masks));
        ws.dropout = Some(masks);
    }

    fn forward_layers(&self, ws: &mut Workspace<F>, mut masks: Option<&mut Layers<Array2<F>>>) {
        let Workspace { m, x, a, .. } = ws;
        let m = *m;
        for l in 2..=self.num_layers() {
            let (a_prev, a_l) = if l == 2 {
                (&*x, &mut a[2])
            } else {
                a.pair_mut(l - 1)
            };
            let a_prev = a_prev.slice(s![..m, ..]); // (m, n_(l-1))
            let mut z = a_l.slice_mut(s![..m, ..]); // (m, n_l)
            let (b, sigma) = (self.biases(l), self.activation(l));
            // Each thread, on its own neurons `j` of layer l: every row of Z ← bᵀ, the product,
            // then σ (softmax needs whole rows: it comes after).
            let bias = |mut z: ArrayViewMut2<'_, F>, j: Range<usize>| {
                z.assign(&b.slice(s![j]).insert_axis(Axis(0)))
            };
            let elementwise = sigma.is_elementwise();
            let sigma_of = |z: ArrayViewMut2<'_, F>, _: Range<usize>| {
                if elementwise {
                    sigma.sigma_rows_in_place(z)
                }
            };
            matmul::gemm_with(
                F::one(),
                a_prev,
                self.weights(l).t(),
                F::one(),
                z.view_mut(),
                Split::Columns, // by neurons of layer l
                &bias,
                &sigma_of,
            ); // Z^(l) = A^(l-1) (W^(l))ᵀ + 1 (b^(l))ᵀ, A^(l) = σ(Z^(l))
            if !elementwise {
                sigma.sigma_rows_in_place(z.view_mut());
            }
            if let (Some(masks), true) = (masks.as_deref_mut(), l < self.num_layers()) {
                sigma.apply_dropout(z, masks[l].slice_mut(s![..m, ..]));
            }
        }
    }

    /// Steps 3–5 and 6 for the current mini-batch, after [`Network::forward_batch`]: `Δ^(L)` by
    /// BP1, `Δ^(l)` by BP2, and the mean of BP3 and BP4 over the batch, left in
    /// [`Workspace::gradient`]. Returns the summed cost `Σ_x C_(x,y)` of the batch.
    pub fn backward_batch(&self, ws: &mut Workspace<F>) -> F {
        let cost = self.output_error_batch(ws); // step 3: Δ^(L) (BP1)
        for l in (2..=self.num_layers()).rev() {
            if l > 2 {
                self.hidden_error_batch(ws, l - 1); // step 4: Δ^(l-1) (BP2)
            }
            self.bias_gradient_batch(ws, l); // step 5: ∇b^(l) (BP3)
            self.weight_gradient_batch(ws, l); // step 5: ∇W^(l) (BP4)
        }
        cost
    }

    /// [`Network::backward_batch`] fused with the lecture's update (plain gradient descent, see
    /// [`descend`]): BP4 is accumulated straight into the weights,
    /// `W^(l) ← W^(l) − (η/m) (Δ^(l))ᵀ A^(l-1)`, one product with `β = 1` and one pass over `W`
    /// fewer than forming `∇W` and then descending. BP2 for layer `l − 1` reads `W^(l)` before it
    /// changes. Equal to the two steps up to rounding (a test binds them). Returns the summed
    /// cost of the batch.
    pub fn backward_batch_descend(&mut self, ws: &mut Workspace<F>, eta: F) -> F {
        let cost = self.output_error_batch(ws);
        let step = -eta / F::cast(ws.whole as f64);
        for l in (2..=self.num_layers()).rev() {
            if l > 2 {
                self.hidden_error_batch(ws, l - 1); // BP2, from W^(l) before its update
            }
            self.bias_gradient_batch(ws, l); // BP3
            descend(self.biases_mut(l), &ws.gradient.nabla_b[l], eta);
            let (delta_l, a_prev, _) = ws.bp4_operands(l);
            bp4_product(
                delta_l,
                a_prev,
                step,
                F::one(),
                self.weights_mut(l).view_mut(),
            ); // BP4 into W^(l)
        }
        cost
    }

    /// Step 3, **BP1** for the mini-batch: `Δ^(L) = ∇_a C ∘ σ'(Z^(L))`, row by row, with σ'
    /// computed from `A^(L)`. Returns the summed cost `Σ_x C_(x,y)`.
    pub fn output_error_batch(&self, ws: &mut Workspace<F>) -> F {
        let (big_l, m) = (self.num_layers(), ws.m);
        let Workspace { y, a, delta, .. } = ws;
        let (a_out, y) = (a[big_l].slice(s![..m, ..]), y.slice(s![..m, ..]));
        let cost = self.cost().value(a_out, y);
        self.cost().output_error_batch(
            self.activation(big_l),
            a_out,
            y,
            delta[big_l].slice_mut(s![..m, ..]),
        );
        cost
    }

    /// Step 4, **BP2** for the mini-batch: the error of hidden layer `l` (`2..L`) from the next,
    /// `Δ^(l) = (Δ^(l+1) W^(l+1)) ∘ σ'(Z^(l))`, `(m, n_(l+1))·(n_(l+1), n_l)`; with dropout `σ'`
    /// becomes `M ∘ σ'`.
    pub fn hidden_error_batch(&self, ws: &mut Workspace<F>, l: usize) {
        let m = ws.m;
        let Workspace {
            a, delta, dropout, ..
        } = ws;
        let (delta_l, delta_next) = delta.pair_mut_rev(l + 1);
        let mut delta_l = delta_l.slice_mut(s![..m, ..]); // (m, n_l)
        let (a_l, sigma) = (a[l].slice(s![..m, ..]), self.activation(l));
        // Each thread, on its own neurons `j` of layer l, after the product: ∘ σ'(Z^(l)).
        let sigma_prime = |d: ArrayViewMut2<'_, F>, j: Range<usize>| {
            if dropout.is_none() {
                sigma.times_sigma_prime_of_a(d, a_l.slice(s![.., j]))
            }
        };
        matmul::gemm_with(
            F::one(),
            delta_next.slice(s![..m, ..]), // (m, n_(l+1))
            self.weights(l + 1).view(),    // (n_(l+1), n_l)
            F::zero(),
            delta_l.view_mut(),
            Split::Columns, // by neurons of layer l
            &|_, _| {},
            &sigma_prime,
        );
        if let Some(masks) = dropout {
            delta_l *= &masks[l].slice(s![..m, ..]); // M ∘ σ'(Z)
        }
    }

    /// Step 5, **BP3** averaged over the mini-batch: `∇b^(l) = (1/m) Σ_rows Δ^(l)` (of a
    /// part, its rows' share of that mean).
    pub fn bias_gradient_batch(&self, ws: &mut Workspace<F>, l: usize) {
        let m = ws.m;
        let inv_m = F::one() / F::cast(ws.whole as f64);
        let mut nabla_b = ws.gradient.nabla_b[l].view_mut();
        nabla_b.fill(F::zero());
        for row in ws.delta[l].slice(s![..m, ..]).rows() {
            nabla_b += &row;
        }
        nabla_b *= inv_m;
    }

    /// Step 5, **BP4** averaged over the mini-batch: `∇W^(l) = (1/m) (Δ^(l))ᵀ A^(l-1)`,
    /// `(n_l, m)·(m, n_(l-1))` (of a part, its rows' share of that mean).
    pub fn weight_gradient_batch(&self, ws: &mut Workspace<F>, l: usize) {
        let inv_m = F::one() / F::cast(ws.whole as f64);
        let (delta_l, a_prev, nabla_w) = ws.bp4_operands(l);
        bp4_product(delta_l, a_prev, inv_m, F::zero(), nabla_w);
    }

    /// The mean gradient of a mini-batch by the matrix path: `xs (m, n_1)` and `ys (m, n_L)`
    /// hold one example per row. Returns the gradient, which lives in `ws`.
    pub fn mean_gradient<'w>(
        &self,
        xs: ArrayView2<'_, F>,
        ys: ArrayView2<'_, F>,
        ws: &'w mut Workspace<F>,
    ) -> Result<&'w Gradient<F>> {
        let m = xs.nrows();
        self.check_input(xs.ncols())?;
        if ys.dim() != (m, self.output_size()) || m > ws.capacity() || m == 0 {
            return Err(Error::Shape(format!(
                "a mini-batch of {m} inputs needs targets ({m}, {}) and a workspace for at least {m}; got {:?} and {}",
                self.output_size(),
                ys.dim(),
                ws.capacity()
            )));
        }
        ws.set_batch_size(m);
        ws.inputs_mut().assign(&xs);
        ws.targets_mut().assign(&ys);
        self.forward_batch(ws);
        self.backward_batch(ws);
        Ok(ws.gradient())
    }
}

/// Draws and discards `n` numbers of `rng` (the dropout draws of rows held by other processes).
fn skip_draws(rng: &mut Rng, n: usize) {
    for _ in 0..n {
        let _: f64 = rng.random();
    }
}

/// The one BP4 product, shared by the gradient and the fused update:
/// `target ← β target + α (Δ^(l))ᵀ A^(l-1)`, `(n_l, m)·(m, n_(l-1))`, split by neurons of layer
/// `l` as in the forward pass.
fn bp4_product<F: Float>(
    delta_l: ArrayView2<'_, F>,
    a_prev: ArrayView2<'_, F>,
    alpha: F,
    beta: F,
    target: ArrayViewMut2<'_, F>,
) {
    matmul::gemm(alpha, delta_l.t(), a_prev, beta, target, Split::Rows);
}
