//! The one matrix product of the crate: every `W a`, `Wᵀ δ` and `δ aᵀ` goes through [`gemm`].
//!
//! Keeping a single seam means the kernel behind it can be chosen by measurement without touching
//! the lecture-shaped code. Two kinds of kernel sit behind it ([`Kernel`], chosen per product):
//!
//! - `matrixmultiply` (through `ndarray::linalg`), a packed, blocked GEMM, with its `avx512`
//!   feature switched on explicitly in `Cargo.toml` (detected at run time). It serves every type
//!   and shape, and all products of large mini-batches (configuration C: 128 examples).
//! - [`small`]: two f32 kernels for mini-batches of up to [`SMALL_SIDE`] examples (AVX2 + FMA,
//!   detected at run time): dot products of contiguous rows for `Z = X Wᵀ`, and sums of scaled rows
//!   for `W ← W − (η/m) Δᵀ X`. A blocked GEMM packs both operands of such a product and then uses
//!   them once: for `X Wᵀ` with 10 examples 30% of its time went to packing and 8% to edge tiles.
//!
//! How they were chosen (a scratch crate timing each product alone, AMD EPYC Zen 3 with AVX2, one
//! thread, medians of 7): `X Wᵀ` 10×784×30 took 23.3 µs with `matrixmultiply`, 17.9–20.2 µs with
//! `gemm` 0.18 (candle's kernel) and 8.2–8.7 µs as dot products; 10×784×100: 72.9, 62.5 and 28.8 µs.
//! The update 30×10×784 took 18.7, 11.5 and 10.4–12.3 µs (sums of scaled rows); 100×10×784: 58.8,
//! 36.1–50.4 and 34.6–40.1 µs. A whole mini-batch of configuration A (forward, backward, update)
//! went from 50 µs to 28 µs, B from 143 µs to 85 µs. For large products `gemm` was 10–20% slower
//! than `matrixmultiply`.
//!
//! Threads: products of at least [`PARALLEL_MIN_FLOP`] have the rows or the columns of their output
//! divided between the threads of [`crate::threads`], as the caller says ([`Split`]): the matrix
//! path always splits by the neurons of a layer. Each part runs on the kernel chosen for the whole
//! product, and both kinds compute each element the same way wherever it sits, so results are
//! bit-identical whatever the number of threads (tests prove it).

mod small;

use crate::{threads, Float};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Products below this many floating-point operations (`2·m·k·n`) run on one thread: dividing
/// them costs more than it saves. Configuration A's products (0.47 MFLOP) ran slower on two
/// threads than on one (0.267 against 0.219 s/epoch); B's (1.6 MFLOP) ran faster (0.452 against
/// 0.546).
pub const PARALLEL_MIN_FLOP: usize = 1_000_000;

/// Which side of the output `C (m, n)` threads divide between them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Split {
    /// Blocks of rows of `C` (and of `A`); every thread reads all of `B`.
    Rows,
    /// Blocks of columns of `C` (and of `B`); every thread reads all of `A`.
    Columns,
}

/// The kernel a product runs on, chosen once per product (before any division between threads,
/// so that every part of one product runs on the same kernel).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
    /// `matrixmultiply`'s packed, blocked GEMM: any type, shape and strides.
    Blocked,
    /// [`small::dots`]: a side of at most [`SMALL_SIDE`] (the mini-batch), f32.
    Dots,
    /// [`small::scaled_rows`]: an inner dimension of at most [`SMALL_SIDE`], f32.
    ScaledRows,
}

/// Products with a side (or inner dimension) this small go to the kernels of [`small`].
const SMALL_SIDE: usize = 16;

/// `C ← α·A·B + β·C`, with `A (m, k)`, `B (k, n)`, `C (m, n)`; any strides (transposed views are
/// fine). When `β = 0`, `C` is overwritten (its old values, even NaN, are ignored). With more than
/// one thread, a large product has the rows or columns of `C` divided between them (`split`).
pub(crate) fn gemm<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    c: ArrayViewMut2<'_, F>,
    split: Split,
) {
    debug_assert_eq!(a.ncols(), b.nrows());
    debug_assert_eq!((a.nrows(), b.ncols()), c.dim());
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let kernel = choose(&a, &b, &c);
    let threads = threads::threads();
    if threads <= 1 || 2 * m * k * n < PARALLEL_MIN_FLOP {
        run(kernel, alpha, a, b, beta, c);
        return;
    }
    let (axis, len) = match split {
        Split::Rows => (Axis(0), m),
        Split::Columns => (Axis(1), n),
    };
    divided(
        kernel,
        axis,
        threads.min(len.div_ceil(BLOCK)),
        alpha,
        a,
        b,
        beta,
        c,
    );
}

/// The kernel for this product on this machine (see [`Kernel`]).
fn choose<F: Float>(
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    c: &ArrayViewMut2<'_, F>,
) -> Kernel {
    let is_f32 = F::as_f32_view(a.view()).is_some();
    if !is_f32 || !small::available() {
        Kernel::Blocked
    } else if a.ncols() <= SMALL_SIDE && small::scaled_rows_fit(b, c) {
        Kernel::ScaledRows
    } else if a.nrows().min(b.ncols()) <= SMALL_SIDE && small::dots_fit(a, b) {
        Kernel::Dots
    } else {
        Kernel::Blocked
    }
}

/// Blocks of rows or columns handed to threads are multiples of this (the kernel's tile size).
const BLOCK: usize = 8;

/// [`run`] with `C` divided along `axis` (rows, with `A`; or columns, with `B`) into `parts`
/// blocks, two halves at a time.
#[allow(clippy::too_many_arguments)]
fn divided<F: Float>(
    kernel: Kernel,
    axis: Axis,
    parts: usize,
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    c: ArrayViewMut2<'_, F>,
) {
    if parts <= 1 {
        run(kernel, alpha, a, b, beta, c);
        return;
    }
    let first = parts / 2;
    let len = c.len_of(axis);
    let at = (len * first / parts).next_multiple_of(BLOCK).min(len);
    let (c0, c1) = c.split_at(axis, at);
    let ((a0, b0), (a1, b1)) = if axis == Axis(0) {
        let (a0, a1) = a.split_at(axis, at);
        ((a0, b), (a1, b))
    } else {
        let (b0, b1) = b.split_at(axis, at);
        ((a, b0), (a, b1))
    };
    threads::join(
        || divided(kernel, axis, first, alpha, a0, b0, beta, c0),
        || divided(kernel, axis, parts - first, alpha, a1, b1, beta, c1),
    );
}

/// One product on the calling thread, on `kernel`.
fn run<F: Float>(
    kernel: Kernel,
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    if kernel != Kernel::Blocked {
        // `choose` picked a kernel of `small`, so F is f32 and these views are the same ones.
        let views = (
            F::as_f32_view(a.view()),
            F::as_f32_view(b.view()),
            F::as_f32_view_mut(c.view_mut()),
        );
        if let (Some(a), Some(b), Some(c)) = views {
            let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32); // exact for f32
            match kernel {
                Kernel::Dots => small::dots(alpha, a, b, beta, c),
                _ => small::scaled_rows(alpha, a, b, beta, c),
            }
            return;
        }
    }
    ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
}

/// `z ← W·a` for one column vector: the per-example product, through the same [`gemm`].
pub(crate) fn mat_vec<F: Float>(
    w: ArrayView2<'_, F>,
    a: ndarray::ArrayView1<'_, F>,
    mut z: ndarray::ArrayViewMut1<'_, F>,
) {
    let a = a.insert_axis(Axis(1)); // (n_in, 1)
    let z = z.view_mut().insert_axis(Axis(1)); // (n_out, 1)
    gemm(F::one(), w, a, F::zero(), z, Split::Rows);
}

/// `M ← u·vᵀ` (the outer product of BP4), through the same [`gemm`].
pub(crate) fn outer<F: Float>(
    u: ndarray::ArrayView1<'_, F>,
    v: ndarray::ArrayView1<'_, F>,
    m: ArrayViewMut2<'_, F>,
) {
    let u = u.insert_axis(Axis(1)); // (n_out, 1)
    let v = v.insert_axis(Axis(0)); // (1, n_in)
    gemm(F::one(), u, v, F::zero(), m, Split::Rows);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set_threads;
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
        let small = |k| {
            if small::available() {
                k
            } else {
                Kernel::Blocked
            }
        };
        // (m, k, n, B stored transposed, split, the kernel expected)
        for (m, k, n, b_transposed, split, expected) in [
            (300, 500, 200, false, Split::Rows, Kernel::Blocked),
            (300, 500, 200, false, Split::Columns, Kernel::Blocked),
            (128, 300, 700, false, Split::Columns, Kernel::Blocked),
            // Z = X Wᵀ and W ← W − η/m Δᵀ X of configuration B
            (10, 784, 100, true, Split::Columns, small(Kernel::Dots)),
            (100, 10, 784, false, Split::Rows, small(Kernel::ScaledRows)),
        ] {
            let a = pseudo_random(m, k, 1);
            let b_stored = if b_transposed {
                pseudo_random(n, k, 2).reversed_axes()
            } else {
                pseudo_random(k, n, 2)
            };
            let b = b_stored.view();
            let mut one = Array2::<f32>::zeros((m, n));
            let mut two = Array2::<f32>::zeros((m, n));
            assert_eq!(choose(&a.view(), &b, &one.view_mut()), expected);
            set_threads(1);
            gemm(1.0, a.view(), b, 0.0, one.view_mut(), split);
            for threads in [2, 3] {
                set_threads(threads);
                gemm(1.0, a.view(), b, 0.0, two.view_mut(), split);
                assert_eq!(one, two, "{m}×{k}×{n} {split:?}, {threads} threads");
            }
            set_threads(1);
            let naive = a.dot(&b);
            let max_diff = (&one - &naive).iter().fold(0f32, |m, d| m.max(d.abs()));
            assert!(max_diff < 1e-3, "{max_diff}");
        }
    }
}
