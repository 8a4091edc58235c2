//! The one matrix product of the crate: every `W a`, `Wᵀ δ` and `δ aᵀ` goes through [`gemm`].
//!
//! Keeping a single seam means the kernel behind it can be chosen by measurement without touching
//! the lecture-shaped code. The kernel is `matrixmultiply` (through `ndarray::linalg`), with its
//! `avx512` feature switched on explicitly in `Cargo.toml` (ndarray leaves it off; it is detected at
//! run time, so machines without AVX-512 use the AVX2/FMA kernel).
//!
//! How it was chosen (`cargo bench --bench minibatch`, one mini-batch forward + backward, AMD EPYC
//! with AVX2, one thread, both cores busy): against `gemm` 0.18 (the kernel of candle) the shapes
//! of mini-batch 10 ran within ±10% either way (`X Wᵀ` 10×784×30: 19.3 µs vs 20.7 µs; `Δᵀ A`
//! 30×10×784: 16.6 µs vs 9.4 µs; large products 10–20% slower with `gemm`). Unpacked AVX2 kernels
//! written for the mini-batch layouts (dot products of rows, sums of scaled rows) were also tried:
//! configuration A took 77 µs against 66 µs with `matrixmultiply`, so they were not kept.
//!
//! Threads: products large enough to pay for it (see [`PARALLEL_MIN_FLOP`]) are split by rows of
//! the output between [`threads`] scoped threads. Every output element is still computed by the
//! same kernel over the same `k` in the same order, so the result is bit-identical whatever the
//! number of threads (a test proves it).

use crate::Float;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Products below this many floating-point operations (`2·m·k·n`) run on one thread: starting
/// threads costs more than it saves. Measured in `BENCHMARKS.md`.
pub const PARALLEL_MIN_FLOP: usize = 8_000_000;

/// Sets how many threads a large matrix product may use (1 = no threads; 0 is taken as 1).
/// Results do not depend on it.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The number of threads a large matrix product may use (see [`set_threads`]).
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// `C ← α·A·B + β·C`, with `A (m, k)`, `B (k, n)`, `C (m, n)`; any strides (transposed views are
/// fine). When `β = 0`, `C` is overwritten (its old values, even NaN, are ignored).
pub(crate) fn gemm<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    debug_assert_eq!(a.ncols(), b.nrows());
    debug_assert_eq!((a.nrows(), b.ncols()), c.dim());
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if threads() <= 1 || 2 * m * k * n < PARALLEL_MIN_FLOP {
        ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
        return;
    }
    // Each thread packs the operand it shares with the others; split the output along the
    // dimension whose shared operand is the smaller one (rows share B (k, n), columns share A (m, k)).
    if n > m {
        split_gemm(alpha, b.t(), a.t(), beta, c.reversed_axes()); // Cᵀ = Bᵀ Aᵀ, split by rows of Cᵀ
    } else {
        split_gemm(alpha, a, b, beta, c);
    }
}

/// `C ← α A B + β C` with the rows of `C` (and `A`) split between [`threads`] scoped threads.
fn split_gemm<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    let rows = a.nrows().div_ceil(threads().min(a.nrows()));
    std::thread::scope(|scope| {
        let mut rest_a = a;
        let mut rest_c = c.view_mut();
        while rest_a.nrows() > rows {
            let (a_part, a_tail) = rest_a.split_at(Axis(0), rows);
            let (c_part, c_tail) = rest_c.split_at(Axis(0), rows);
            scope.spawn(move || {
                let mut c_part = c_part;
                ndarray::linalg::general_mat_mul(alpha, &a_part, &b, beta, &mut c_part);
            });
            rest_a = a_tail;
            rest_c = c_tail;
        }
        ndarray::linalg::general_mat_mul(alpha, &rest_a, &b, beta, &mut rest_c);
    });
}

/// `z ← W·a` for one column vector: the per-example product, through the same [`gemm`].
pub(crate) fn mat_vec<F: Float>(
    w: ArrayView2<'_, F>,
    a: ndarray::ArrayView1<'_, F>,
    mut z: ndarray::ArrayViewMut1<'_, F>,
) {
    let a = a.insert_axis(Axis(1)); // (n_in, 1)
    let z = z.view_mut().insert_axis(Axis(1)); // (n_out, 1)
    gemm(F::one(), w, a, F::zero(), z);
}

/// `M ← u·vᵀ` (the outer product of BP4), through the same [`gemm`].
pub(crate) fn outer<F: Float>(
    u: ndarray::ArrayView1<'_, F>,
    v: ndarray::ArrayView1<'_, F>,
    m: ArrayViewMut2<'_, F>,
) {
    let u = u.insert_axis(Axis(1)); // (n_out, 1)
    let v = v.insert_axis(Axis(0)); // (1, n_in)
    gemm(F::one(), u, v, F::zero(), m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn pseudo_random(rows: usize, cols: usize, salt: u64) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            let h =
                (i as u64 * 7919 + j as u64 * 104_729 + salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            ((h >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
    }

    #[test]
    fn threaded_product_is_bit_identical_to_single_thread() {
        // Split by rows (m ≥ n) and by columns (n > m).
        for (m, k, n) in [(300, 500, 200), (128, 300, 700)] {
            let a = pseudo_random(m, k, 1);
            let b = pseudo_random(k, n, 2);
            let mut one = Array2::<f32>::zeros((m, n));
            let mut two = Array2::<f32>::zeros((m, n));
            set_threads(1);
            gemm(1.0, a.view(), b.view(), 0.0, one.view_mut());
            set_threads(3);
            gemm(1.0, a.view(), b.view(), 0.0, two.view_mut());
            set_threads(1);
            assert_eq!(one, two);
            let naive = a.dot(&b);
            let max_diff = (&one - &naive).iter().fold(0f32, |m, d| m.max(d.abs()));
            assert!(max_diff < 1e-3, "{max_diff}");
        }
    }
}
