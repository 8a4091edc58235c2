//! The two forms of product in plain Rust, for any [`Float`]: what `f64`, CPUs without AVX2 and
//! `BACKPROP_KERNEL=portable` run. No `unsafe`.
//!
//! For `f32` each element is computed by exactly the operations of the AVX-512 kernel (see
//! [`super`] for the two forms), so every kernel gives the same bits: a dot is 16 partial sums,
//! element `p` to sum `p % 16` by a fused multiply-add ([`Float::madd`]), the sums added in the
//! tree of [`lane_tree`]; the row form takes one fused multiply-add per term, in order. Where
//! the CPU has FMA, the same code is compiled with it enabled ([`with_fma`]); elsewhere
//! `mul_add` is the C library's exact `fmaf`, slower but the same bits. `f64` runs the same
//! sequence with a separate multiply and add.

use super::scaled_old;
use crate::kernel::float::Float;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Partial sums of [`dot`]: element `p` of the vectors goes to sum `p % LANES`, as to the lanes
/// of one AVX-512 register (and of two AVX2 registers).
pub(super) const LANES: usize = 16;

/// The sum of the 16 partial sums, in the AVX-512 kernel's order: the upper 8 onto the lower 8,
/// the upper 4 of those onto the lower 4, then `(u₀ + u₂) + (u₁ + u₃)`.
#[inline(always)]
pub(super) fn lane_tree<F: Float>(v: &[F; LANES]) -> F {
    let t: [F; 8] = std::array::from_fn(|i| v[i] + v[i + 8]);
    let u: [F; 4] = std::array::from_fn(|i| t[i] + t[i + 4]);
    (u[0] + u[2]) + (u[1] + u[3])
}

/// `x · y` as [`LANES`] partial sums (the last `len % 16` terms go to their lanes too, as the
/// vector kernels' masked last step does: the other lanes add `0 · 0`, which changes nothing,
/// since a partial sum is never `−0`), added by [`lane_tree`].
#[inline(always)]
fn dot<F: Float>(x: &[F], y: &[F]) -> F {
    let mut acc = [F::zero(); LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut ys = y.chunks_exact(LANES);
    for (xc, yc) in (&mut xs).zip(&mut ys) {
        for l in 0..LANES {
            acc[l] = xc[l].madd(yc[l], acc[l]);
        }
    }
    for (l, (&xp, &yp)) in xs.remainder().iter().zip(ys.remainder()).enumerate() {
        acc[l] = xp.madd(yp, acc[l]);
    }
    lane_tree(&acc)
}

/// Runs `work` compiled with FMA where the CPU has it, so that `mul_add` is one instruction
/// rather than a call of the C library's exact `fmaf`: the same result, faster.
#[inline(always)]
fn with_fma<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        /// # Safety
        /// The CPU must have FMA.
        #[target_feature(enable = "fma")]
        unsafe fn fma<R>(work: impl FnOnce() -> R) -> R {
            work()
        }
        // SAFETY: the CPU has FMA, the only feature `fma` enables.
        return unsafe { fma(work) };
    }
    work()
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
    with_fma(
        #[inline(always)]
        || {
            let b = b.t();
            for (i, a_i) in a.rows().into_iter().enumerate() {
                let a_i = a_i.to_slice().expect("rows of a are contiguous");
                for (j, b_j) in b.rows().into_iter().enumerate() {
                    let b_j = b_j.to_slice().expect("columns of b are contiguous");
                    let c_ij = &mut c[[i, j]];
                    *c_ij = scaled_old(beta, *c_ij) + alpha * dot(a_i, b_j);
                }
            }
        },
    )
}

/// The row form, `c_i ← β c_i + Σ_p (α a_ip) b_p` with `p` in order, one fused multiply-add a
/// term: rows of `b` and `c` contiguous ([`super::rows_fit`]).
pub(super) fn rows<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    with_fma(
        #[inline(always)]
        || {
            for (a_i, c_i) in a.rows().into_iter().zip(c.rows_mut()) {
                let c_i = c_i.into_slice().expect("rows of c are contiguous");
                c_i.iter_mut().for_each(|x| *x = scaled_old(beta, *x));
                for (&a_ip, b_p) in a_i.iter().zip(b.rows()) {
                    let coef = alpha * a_ip;
                    let b_p = b_p.to_slice().expect("rows of b are contiguous");
                    for (x, &y) in c_i.iter_mut().zip(b_p) {
                        *x = coef.madd(y, *x);
                    }
                }
            }
        },
    )
}
