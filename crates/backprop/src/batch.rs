//! The mini-batch matrix path: steps 2–5 for a whole mini-batch, one matrix product per layer and
//! direction, returning the mean gradient of step 6.
//!
//! A mini-batch of `m` examples is held one example per row, so the lecture's column form
//! `z = W a + b` becomes, for all examples at once, `Z^(l) = A^(l-1) (W^(l))ᵀ + 1 (b^(l))ᵀ` with
//! `A^(l-1)` of shape `(m, n_(l-1))` and `Z^(l)` of shape `(m, n_l)`; BP2 becomes
//! `Δ^(l) = (Δ^(l+1) W^(l+1)) ∘ σ'(Z^(l))` and BP4 `∇W^(l) = (1/m) (Δ^(l))ᵀ A^(l-1)`.
//!
//! All buffers live in a [`Workspace`] made once for the largest mini-batch: nothing is allocated
//! per mini-batch. `Z^(l)` is not kept: `σ` is applied in place and `σ'` is computed from `A`.

use crate::matmul::{self, Split};
use crate::{threads, Error, Float, Gradient, Layers, Network, Result};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::RngExt;

/// Work buffers of the matrix path for mini-batches of up to `capacity` examples.
#[derive(Clone, Debug)]
pub struct Workspace<F: Float = f32> {
    /// `A^(1) = X`, `(capacity, n_1)`.
    pub(crate) x: Array2<F>,
    /// `Y`, `(capacity, n_L)`: one-hot targets.
    pub(crate) y: Array2<F>,
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
    /// Buffers for `net` and mini-batches of up to `capacity` examples.
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
            x: Array2::zeros((capacity, sizes[0])),
            y: Array2::zeros((capacity, sizes[sizes.len() - 1])),
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

    /// The first `m` rows of `A^(1) = X`, to be filled with inputs.
    pub fn inputs_mut(&mut self, m: usize) -> ArrayViewMut2<'_, F> {
        self.x.slice_mut(s![..m, ..])
    }

    /// The first `m` rows of `Y`, to be filled with targets.
    pub fn targets_mut(&mut self, m: usize) -> ArrayViewMut2<'_, F> {
        self.y.slice_mut(s![..m, ..])
    }

    /// The first `m` rows of `A^(L)` after [`Network::forward_batch`].
    pub fn output(&self, m: usize) -> ArrayView2<'_, F> {
        let big_l = self.a.num_layers();
        self.a[big_l].slice(s![..m, ..])
    }

    /// The mean gradient computed by the last [`Network::backward_batch`].
    pub fn gradient(&self) -> &Gradient<F> {
        &self.gradient
    }

    /// `Δ^(l)` and `A^(l-1)` (first `m` rows) and the `∇W^(l)` buffer: the operands of BP4.
    fn bp4_operands(
        &mut self,
        m: usize,
        l: usize,
    ) -> (ArrayView2<'_, F>, ArrayView2<'_, F>, ArrayViewMut2<'_, F>) {
        let a_prev = if l == 2 {
            self.x.slice(s![..m, ..])
        } else {
            self.a[l - 1].slice(s![..m, ..])
        };
        (
            self.delta[l].slice(s![..m, ..]),
            a_prev,
            self.gradient.nabla_w[l].view_mut(),
        )
    }

    /// The same, to add penalty terms to it.
    pub fn gradient_mut(&mut self) -> &mut Gradient<F> {
        &mut self.gradient
    }
}

impl<F: Float> Network<F> {
    /// Step 2 for the first `m` examples in `ws`: `A^(l) = σ(A^(l-1) (W^(l))ᵀ + 1 (b^(l))ᵀ)`.
    pub fn forward_batch(&self, ws: &mut Workspace<F>, m: usize) {
        ws.dropout = None;
        self.forward_layers(ws, m, None);
    }

    /// Step 2 with inverted dropout on the hidden layers, for training: each hidden neuron of each
    /// example is dropped (`a = 0`) with probability `p` and the kept ones are scaled by
    /// `1/(1 − p)`, so that no scaling is needed at evaluation. [`Network::backward_batch`] then
    /// sends `δ` only through the kept neurons.
    pub fn forward_batch_dropout(
        &self,
        ws: &mut Workspace<F>,
        m: usize,
        p: f64,
        rng: &mut crate::init::Rng,
    ) {
        let keep = F::cast(1.0 / (1.0 - p));
        let mut masks = ws
            .dropout
            .take()
            .unwrap_or_else(|| ws.a.map(|a| Array2::zeros(a.dim())));
        for (_, mask) in masks.iter_mut().filter(|(l, _)| *l < self.num_layers()) {
            mask.slice_mut(s![..m, ..]).mapv_inplace(|_| {
                if rng.random::<f64>() < p {
                    F::zero()
                } else {
                    keep
                }
            });
        }
        self.forward_layers(ws, m, Some(&mut masks));
        ws.dropout = Some(masks);
    }

    fn forward_layers(
        &self,
        ws: &mut Workspace<F>,
        m: usize,
        mut masks: Option<&mut Layers<Array2<F>>>,
    ) {
        let Workspace { x, a, .. } = ws;
        for l in 2..=self.num_layers() {
            let (a_prev, a_l) = if l == 2 {
                (&*x, &mut a[2])
            } else {
                a.pair_mut(l - 1)
            };
            let a_prev = a_prev.slice(s![..m, ..]); // (m, n_(l-1))
            let mut z = a_l.slice_mut(s![..m, ..]); // (m, n_l)
            z.assign(&self.biases(l).view().insert_axis(Axis(0))); // every row ← b^(l)
            matmul::gemm(
                F::one(),
                a_prev,
                self.weights(l).t(),
                F::one(),
                z.view_mut(),
                Split::Columns, // by neurons of layer l
            ); // += A Wᵀ
            let sigma = self.activation(l);
            threads::by_rows_of(z.view_mut(), &|z| sigma.sigma_rows_in_place(z)); // A^(l) = σ(Z^(l))
            if let (Some(masks), true) = (masks.as_deref_mut(), l < self.num_layers()) {
                self.activation(l)
                    .apply_dropout(z, masks[l].slice_mut(s![..m, ..]));
            }
        }
    }

    /// Steps 3–5 and 6 for the first `m` examples, after [`Network::forward_batch`]: `Δ^(L)` by
    /// BP1, `Δ^(l)` by BP2, and the mean of BP3 and BP4 over the batch, left in
    /// [`Workspace::gradient`]. Returns the summed cost `Σ_x C_(x,y)` of the batch.
    pub fn backward_batch(&self, ws: &mut Workspace<F>, m: usize) -> F {
        let cost = self.output_error_batch(ws, m);
        let inv_m = F::one() / F::cast(m as f64);
        for l in (2..=self.num_layers()).rev() {
            self.bias_gradient_and_hidden_error_batch(ws, m, l);
            // BP4, averaged: ∇W^(l) = (1/m) (Δ^(l))ᵀ A^(l-1), (n_l, m)·(m, n_(l-1)).
            let (delta_l, a_prev, nabla_w) = ws.bp4_operands(m, l);
            matmul::gemm(inv_m, delta_l.t(), a_prev, F::zero(), nabla_w, Split::Rows);
        }
        cost
    }

    /// [`Network::backward_batch`] followed by plain gradient descent, with BP4 accumulated
    /// straight into the weights: `W^(l) ← W^(l) − (η/m) (Δ^(l))ᵀ A^(l-1)` is one product with
    /// `β = 1`, one pass over `W` fewer than forming `∇W` and then subtracting `η ∇W`. BP2 for
    /// layer `l − 1` reads `W^(l)` before it changes. Equal to the two steps up to rounding (a test
    /// binds them). Returns the summed cost of the batch.
    pub fn backward_batch_descend(&mut self, ws: &mut Workspace<F>, m: usize, eta: F) -> F {
        let cost = self.output_error_batch(ws, m);
        let step = -eta / F::cast(m as f64);
        for l in (2..=self.num_layers()).rev() {
            self.bias_gradient_and_hidden_error_batch(ws, m, l);
            let (delta_l, a_prev, _) = ws.bp4_operands(m, l);
            matmul::gemm(
                step,
                delta_l.t(),
                a_prev,
                F::one(),
                self.weights_mut(l).view_mut(),
                Split::Rows, // by neurons of layer l, as in the forward pass
            );
            self.biases_mut(l).scaled_add(-eta, &ws.gradient.nabla_b[l]);
        }
        cost
    }

    /// Step 3 (BP1): `Δ^(L) = ∇_a C ∘ σ'(Z^(L))`, row by row; returns the summed cost.
    fn output_error_batch(&self, ws: &mut Workspace<F>, m: usize) -> F {
        let big_l = self.num_layers();
        let Workspace { y, a, delta, .. } = ws;
        let (a_out, y) = (a[big_l].slice(s![..m, ..]), y.slice(s![..m, ..]));
        let cost = self.cost().total(a_out, y);
        self.cost().output_error_rows(
            self.activation(big_l),
            a_out,
            y,
            delta[big_l].slice_mut(s![..m, ..]),
        );
        cost
    }

    /// For layer `l`: BP3 averaged, `∇b^(l) = (1/m) Σ_rows Δ^(l)`, and step 4 (BP2),
    /// `Δ^(l-1) = (Δ^(l) W^(l)) ∘ σ'(Z^(l-1))` (`(m, n_l)·(n_l, n_(l-1))`; with dropout `σ'`
    /// becomes `M ∘ σ'`).
    fn bias_gradient_and_hidden_error_batch(&self, ws: &mut Workspace<F>, m: usize, l: usize) {
        let Workspace {
            a,
            delta,
            gradient,
            dropout,
            ..
        } = ws;
        let inv_m = F::one() / F::cast(m as f64);
        column_mean(
            delta[l].slice(s![..m, ..]),
            inv_m,
            gradient.nabla_b[l].view_mut(),
        );
        if l == 2 {
            return;
        }
        let a_prev = a[l - 1].slice(s![..m, ..]);
        let (delta_prev, delta_l) = delta.pair_mut_rev(l);
        let mut delta_prev = delta_prev.slice_mut(s![..m, ..]);
        matmul::gemm(
            F::one(),
            delta_l.slice(s![..m, ..]),
            self.weights(l).view(),
            F::zero(),
            delta_prev.view_mut(),
            Split::Columns, // by neurons of layer l − 1
        );
        match dropout {
            Some(masks) => delta_prev *= &masks[l - 1].slice(s![..m, ..]), // M ∘ σ'(Z)
            None => {
                let sigma = self.activation(l - 1);
                threads::by_rows(delta_prev, a_prev, &|d, a| {
                    sigma.times_sigma_prime_of_a(d, a)
                });
            }
        }
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
        if ys.dim() != (m, ws.y.ncols()) || m > ws.capacity() || m == 0 {
            return Err(Error::Shape(format!(
                "a mini-batch of {m} inputs needs targets ({m}, {}) and a workspace for at least {m}; got {:?} and {}",
                ws.y.ncols(),
                ys.dim(),
                ws.capacity()
            )));
        }
        ws.inputs_mut(m).assign(&xs);
        ws.targets_mut(m).assign(&ys);
        self.forward_batch(ws, m);
        self.backward_batch(ws, m);
        Ok(ws.gradient())
    }
}

/// `out ← factor · Σ_rows d`, without allocating.
fn column_mean<F: Float>(d: ArrayView2<'_, F>, factor: F, mut out: ndarray::ArrayViewMut1<'_, F>) {
    out.fill(F::zero());
    for row in d.rows() {
        out += &row;
    }
    out *= factor;
}
