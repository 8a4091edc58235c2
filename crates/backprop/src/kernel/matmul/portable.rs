//! The two forms of product in plain Rust, for any [`Float`]: what `f64`, CPUs without AVX2 and
//! `BACKPROP_KERNEL=portable` run. The compiler vectorises the 8 partial sums of [`dots`] and the
//! row updates of [`rows`] for whatever the target offers; no `unsafe`.
//!
//! Each element is computed by one fixed sequence (see [`super`] for the two forms), with a
//! separate multiply and add (a fused multiply-add is a slow library call on CPUs without it).

use super::scaled_old;
use crate::kernel::float::Float;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Partial sums of [`dot`]: element `p` of the vectors goes to sum `p % LANES`.
const LANES: usize = 8;

/// `x · y` as [`LANES`] partial sums over whole chunks, added in a fixed tree, then the tail.
fn dot<F: Float>(x: &[F], y: &[F]) -> F {
    let whole = x.len() - x.len() % LANES;
    let mut acc = [F::zero(); LANES];
    for (xs, ys) in x[..whole]
        .chunks_exact(LANES)
        .zip(y[..whole].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (&xp, &yp) in x[whole..].iter().zip(&y[whole..]) {
        s += xp * yp;
    }
    s
}

/// The dot form, `c_ij ← β c_ij + α (a_i · b_j)`: rows of `a` and columns of `b` contiguous
/// ([`super::dots_fit`]).
pub(super) fn dots<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    let b = b.t();
    for (i, a_i) in a.rows().into_iter().enumerate() {
        let a_i = a_i.to_slice().expect("rows of a are contiguous");
        for (j, b_j) in b.rows().into_iter().enumerate() {
            let b_j = b_j.to_slice().expect("columns of b are contiguous");
            let c_ij = &mut c[[i, j]];
            *c_ij = scaled_old(beta, *c_ij) + alpha * dot(a_i, b_j);
        }
    }
}

/// The row form, `c_i ← β c_i + Σ_p (α a_ip) b_p` with `p` in order: rows of `b` and `c`
/// contiguous ([`super::rows_fit`]).
pub(super) fn rows<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    for (a_i, c_i) in a.rows().into_iter().zip(c.rows_mut()) {
        let c_i = c_i.into_slice().expect("rows of c are contiguous");
        c_i.iter_mut().for_each(|x| *x = scaled_old(beta, *x));
        for (&a_ip, b_p) in a_i.iter().zip(b.rows()) {
            let coef = alpha * a_ip;
            let b_p = b_p.to_slice().expect("rows of b are contiguous");
            for (x, &y) in c_i.iter_mut().zip(b_p) {
                *x += coef * y;
            }
        }
    }
}
