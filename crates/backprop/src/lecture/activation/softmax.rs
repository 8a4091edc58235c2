//! Softmax, for the output layer only: each `a_i` depends on the whole `z`.
//!
//! `a_i = e^(z_i) / Σ_k e^(z_k)`; its Jacobian is `∂a_i/∂z_k = a_i (1[i = k] − a_k)`, so BP1 becomes
//! `δ_k = Σ_i ∂C/∂a_i · ∂a_i/∂z_k = a_k (∂C/∂a_k − Σ_i ∂C/∂a_i · a_i)`.

use crate::kernel::float::Float;
use crate::kernel::math;
use ndarray::{ArrayView1, ArrayViewMut1, Zip};

/// `a = softmax(z)`.
pub fn softmax<F: Float>(z: ArrayView1<'_, F>, mut a: ArrayViewMut1<'_, F>) {
    a.assign(&z);
    softmax_in_place(a);
}

/// `z ← softmax(z)`, computed as `e^(z − max z) / Σ e^(z − max z)` so that it cannot overflow.
pub fn softmax_in_place<F: Float>(mut z: ArrayViewMut1<'_, F>) {
    let max = z.fold(F::neg_infinity(), |m, &v| m.max(v));
    let mut sum = F::zero();
    z.mapv_inplace(|v| {
        let e = math::exp(v - max);
        sum += e;
        e
    });
    z.mapv_inplace(|v| v / sum);
}

/// `δ = J_softmax(z)ᵀ · ∂C/∂a`, i.e. `δ_k = a_k (g_k − Σ_i g_i a_i)` with `g = ∂C/∂a` (BP1 for a
/// softmax output). `delta` holds `g` on entry and `δ` on return.
pub fn softmax_backward<F: Float>(a: ArrayView1<'_, F>, mut delta: ArrayViewMut1<'_, F>) {
    let g_dot_a = delta.dot(&a);
    Zip::from(&mut delta)
        .and(&a)
        .for_each(|d, &a| *d = a * (*d - g_dot_a));
}
