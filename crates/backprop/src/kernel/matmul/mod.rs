//! The one matrix product of the crate: every `W a`, `Wᵀ δ` and `δ aᵀ` goes through [`gemm`].
//!
//! Keeping a single seam means the kernels behind it can change without touching the
//! lecture-shaped code. The kernels are the crate's own, so that it owns their arithmetic: every
//! element of a product is computed by one fixed sequence of operations, whatever its place in the
//! matrix, the size of the product or the number of threads. Results are therefore bit-identical
//! for any [`crate::kernel::threads::set_threads`] on every CPU, by construction rather than by luck (a blocked
//! GEMM such as `matrixmultiply` rounds the edge tiles of its own private tile size differently,
//! which made the results depend on where a thread's share began on AVX-512 machines).
//!
//! Two forms cover the products of back-propagation without repacking the weights:
//!
//! - the **dot form** (`dots`), `c_ij = β c_ij + α (a_i · b_j)`, when the rows of `A` and the
//!   columns of `B` are contiguous: the forward pass `Z = A Wᵀ` (rows of `W` are columns of
//!   `Wᵀ`) and the per-example `W a`. Each dot is split into partial sums, one per vector lane
//!   (element `p` to lane `p % lanes`), added in a fixed tree at the end.
//! - the **row form** (`rows`), `c_i = β c_i + Σ_p (α a_ip) b_p` with `p` in order, one fused
//!   multiply-add per term, when the rows of `B` and `C` are contiguous: BP2 `Δ W`, the
//!   update `W ← W − (η/m) Δᵀ A` and `∇W = (1/m) Δᵀ A` (BP4).
//!
//! Each form exists for three instruction sets ([`Kernel`]): AVX-512 (16 lanes), AVX2 + FMA
//! (8 lanes) and portable Rust (8 partial sums, separate multiply and add; also every `f64`
//! product). The kernel is chosen once per process ([`kernel_in_use`]); results may differ between
//! kernels in the last bits, never between thread counts or runs on one kernel.
//!
//! Both forms go through `B` in blocks of columns that fit a quarter of the L2 cache (its size read
//! at run time, [`crate::kernel::cache`]). The dot
//! form reads its operands where they lie (no packing: the weights are not copied for every
//! product); the row form copies its block of `B` into contiguous panels when `k > 32`, so that
//! rows a whole number of pages apart do not evict each other. The measured speed of each product
//! on each kernel, and the machine it was measured on, are in `BENCHMARKS.md` at the repository
//! root ("Kernel notes"): figures go stale, so they are kept there, not here.
//!
//! Out of scope: kernels for other instruction sets (NEON, SVE: aarch64 runs the portable kernels),
//! and `f64` intrinsics (`f64` is the checking type, not the training type).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod kernel;
mod portable;

pub use kernel::{cpu_features, kernel_in_use, set_kernel, Kernel, KERNEL_ENV};

use crate::kernel::float::Float;
use crate::kernel::threads;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use std::ops::Range;

/// Products below this many floating-point operations (`2·m·k·n`) run on one thread: handing a
/// share to another thread costs about 0.2 µs and moves its operands between the cores' caches,
/// which a small product does not repay. Measured with the team (`examples/scaling.rs`, Zen 4):
/// 784-30-10 with `m = 1` (products of 47 kFLOP) ran at 0.88× on two threads when they were
/// split, and 784-100-10 with `m = 1` (157 kFLOP) at 1.15–1.30×; the figures are in
/// `BENCHMARKS.md` ("Kernel notes").
pub const PARALLEL_MIN_FLOP: usize = 100_000;

/// Which side of the output `C (m, n)` threads divide between them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Split {
    /// Blocks of rows of `C` (and of `A`); every thread reads all of `B`.
    Rows,
    /// Blocks of columns of `C` (and of `B`); every thread reads all of `A`.
    Columns,
}

/// The form of a product, chosen from the layouts of its operands (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// [`dots_fit`]: rows of `A`, columns of `B` contiguous.
    Dots,
    /// [`rows_fit`]: rows of `B` and `C` contiguous.
    Rows,
}

/// The row form is preferred for an inner dimension up to this (a dot of a few terms wastes
/// most of a vector).
const SHORT_K: usize = 16;

/// Whether the dot form applies: rows of `a` and columns of `b` contiguous.
fn dots_fit<F>(a: &ArrayView2<'_, F>, b: &ArrayView2<'_, F>) -> bool {
    (a.strides()[1] == 1 || a.ncols() <= 1) && (b.strides()[0] == 1 || b.nrows() <= 1)
}

/// Whether the row form applies: rows of `b` and `c` contiguous.
fn rows_fit<F>(b: &ArrayView2<'_, F>, c: &ArrayViewMut2<'_, F>) -> bool {
    (b.strides()[1] == 1 || b.ncols() <= 1) && (c.strides()[1] == 1 || c.ncols() <= 1)
}

/// The form for these operands, `None` when neither applies.
fn choose<F>(
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    c: &ArrayViewMut2<'_, F>,
) -> Option<Form> {
    let (dots, rows) = (dots_fit(a, b), rows_fit(b, c));
    if rows && (a.ncols() <= SHORT_K || !dots) {
        Some(Form::Rows)
    } else if dots {
        Some(Form::Dots)
    } else {
        None
    }
}

/// What a thread does to its share of `C` just before or just after computing it (a prefill of
/// the biases, `σ`, `∘ σ'`): called with the share and its rows (for [`Split::Rows`]) or columns
/// (for [`Split::Columns`]) of `C`, while the share is still in that thread's cache. Without
/// threads, it is called once with all of `C`.
pub(crate) type Step<'f, F> = &'f (dyn Fn(ArrayViewMut2<'_, F>, Range<usize>) + Sync);

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
    let none = Steps::none();
    gemm_with(alpha, a, b, beta, c, split, none.before, none.after);
}

/// [`gemm`] with a step on each share of `C` before and after its product (see [`Step`]): one
/// handing-over of work to the threads instead of three.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_with<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    c: ArrayViewMut2<'_, F>,
    split: Split,
    before: Step<'_, F>,
    after: Step<'_, F>,
) {
    assert_eq!(a.ncols(), b.nrows(), "inner dimensions of a product");
    assert_eq!((a.nrows(), b.ncols()), c.dim(), "shape of a product");
    let steps = Steps { before, after };
    gemm_on(kernel::kernel_in_use(), alpha, a, b, beta, c, split, &steps);
}

/// The steps of [`gemm_with`].
struct Steps<'f, F> {
    before: Step<'f, F>,
    after: Step<'f, F>,
}

impl<F> Steps<'_, F> {
    /// No steps: the product alone.
    fn none() -> Self {
        Steps {
            before: &|_, _| {},
            after: &|_, _| {},
        }
    }
}

/// [`gemm_with`] on a given kernel (`f64` always runs on [`Kernel::Portable`]).
#[allow(clippy::too_many_arguments)]
fn gemm_on<F: Float>(
    kernel: Kernel,
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
    split: Split,
    steps: &Steps<'_, F>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if c.is_empty() {
        return;
    }
    let (axis, len) = match split {
        Split::Rows => (Axis(0), m),
        Split::Columns => (Axis(1), n),
    };
    let Some(form) = choose(&a, &b, &c) else {
        // Neither form fits: B is copied row by row, and C too if its rows are not contiguous.
        let b = b.as_standard_layout();
        if rows_fit(&b.view(), &c) {
            return gemm_on(kernel, alpha, a, b.view(), beta, c, split, steps);
        }
        (steps.before)(c.view_mut(), 0..len);
        let mut t = Array2::from_shape_fn(c.dim(), |ij| c[ij]);
        gemm_on(
            kernel,
            alpha,
            a,
            b.view(),
            beta,
            t.view_mut(),
            split,
            &Steps::none(),
        );
        c.assign(&t);
        (steps.after)(c, 0..len);
        return;
    };
    let threads = threads::threads();
    let parts = if threads <= 1 || 2 * m * k * n < PARALLEL_MIN_FLOP {
        1
    } else {
        threads.min(len.div_ceil(split_align(form, axis)))
    };
    if form == Form::Rows {
        Scratch::reserve_for((m, k, n));
    }
    let share = Share {
        kernel,
        form,
        axis,
        alpha,
        beta,
        steps,
        whole: (m, k, n),
    };
    share.divided(parts, 0, a, b, c);
}

/// Threads' shares of a product start at multiples of this many rows or columns: whole blocks of
/// the kernels where that matters (16 columns of the row form's vectors; 8 otherwise, which still
/// lets a layer of 30 neurons be shared). A choice for speed only: where a share starts changes
/// no bit of the result.
fn split_align(form: Form, axis: Axis) -> usize {
    if form == Form::Rows && axis == Axis(1) {
        16
    } else {
        8
    }
}

/// What every share of a divided product has in common.
struct Share<'s, 'f, F> {
    kernel: Kernel,
    form: Form,
    /// Rows (with `A`) or columns (with `B`) of `C`.
    axis: Axis,
    alpha: F,
    beta: F,
    steps: &'s Steps<'f, F>,
    /// `(m, k, n)` of the whole product.
    whole: (usize, usize, usize),
}

impl<F: Float> Share<'_, '_, F> {
    /// `C` (its rows or columns from `first` on, of the whole product) divided along the axis into
    /// `parts` shares, two halves at a time, each computed with its steps by one thread.
    fn divided(
        &self,
        parts: usize,
        first: usize,
        a: ArrayView2<'_, F>,
        b: ArrayView2<'_, F>,
        mut c: ArrayViewMut2<'_, F>,
    ) {
        let axis = self.axis;
        let len = c.len_of(axis);
        if parts <= 1 {
            if self.form == Form::Rows && first > 0 {
                Scratch::reserve_for(self.whole); // on a thread of the team
            }
            let at = first..first + len;
            (self.steps.before)(c.view_mut(), at.clone());
            run(
                self.kernel,
                self.form,
                self.alpha,
                a,
                b,
                self.beta,
                c.view_mut(),
            );
            (self.steps.after)(c, at);
            return;
        }
        let half = parts / 2;
        let at = (len * half / parts)
            .next_multiple_of(split_align(self.form, axis))
            .min(len);
        let (c0, c1) = c.split_at(axis, at);
        let ((a0, b0), (a1, b1)) = if axis == Axis(0) {
            let (a0, a1) = a.split_at(axis, at);
            ((a0, b), (a1, b))
        } else {
            let (b0, b1) = b.split_at(axis, at);
            ((a, b0), (a, b1))
        };
        threads::join(
            || self.divided(half, first, a0, b0, c0),
            || self.divided(parts - half, first + at, a1, b1, c1),
        );
    }
}

/// One product on the calling thread, in `form`, on `kernel` (for `f32`; anything else runs on
/// the portable kernels).
fn run<F: Float>(
    kernel: Kernel,
    form: Form,
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    if c.is_empty() {
        return;
    }
    if form == Form::Dots && prefers_transposed(kernel, c.dim()) {
        // Cᵀ = Bᵀ Aᵀ is the same dots (a product of two numbers does not depend on their
        // order), with the longer side of C in the kernel's block rows.
        return run(kernel, form, alpha, b.t(), a.t(), beta, c.reversed_axes());
    }
    let views = (
        F::as_f32_view(a.view()),
        F::as_f32_view(b.view()),
        F::as_f32_view_mut(c.view_mut()),
    );
    if let (Some(a), Some(b), Some(c)) = views {
        let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32); // exact for f32
        if simd(kernel, form, alpha, a, b, beta, c) {
            return;
        }
    }
    match form {
        Form::Dots => portable::dots(alpha, a, b, beta, c),
        Form::Rows => portable::rows(alpha, a, b, beta, c),
    }
}

/// Runs an `f32` product on an x86-64 kernel; `false` for [`Kernel::Portable`] (and off x86-64).
fn simd(
    kernel: Kernel,
    form: Form,
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // Checked here, once per product, so that no path can run an instruction the CPU lacks
        // or hand a kernel operands its pointer arithmetic was not written for.
        assert!(kernel.is_supported(), "{kernel} kernel on a CPU without it");
        let fits = match form {
            Form::Dots => dots_fit(&a, &b),
            // Nothing of an empty B (`k = 0`) is read: then only the rows of C must be contiguous.
            Form::Rows => rows_fit(&b, &c) || (b.is_empty() && rows_fit(&c.view(), &c)),
        };
        let shapes = a.ncols() == b.nrows() && (a.nrows(), b.ncols()) == c.dim();
        assert!(
            fits && shapes && !c.is_empty(),
            "{form:?} form on these operands"
        );
        // SAFETY: the CPU has the features the kernel's `#[target_feature]` enables, the
        // layouts fit the form, the shapes agree and C is not empty (all asserted above); C is
        // a mutable view, so it overlaps neither A nor B.
        unsafe {
            match (kernel, form) {
                (Kernel::Avx512, Form::Dots) => avx512::dots(alpha, a, b, beta, c),
                (Kernel::Avx512, Form::Rows) => avx512::rows(alpha, a, b, beta, c),
                (Kernel::Avx2, Form::Dots) => avx2::dots(alpha, a, b, beta, c),
                (Kernel::Avx2, Form::Rows) => avx2::rows(alpha, a, b, beta, c),
                (Kernel::Portable, _) => return false,
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (kernel, form, alpha, a, b, beta, c);
        false
    }
}

/// Whether the dot form of `C (m, n)` wastes less as `Cᵀ`: the kernels' blocks take 6 columns
/// (the last block repeats one to fill them) and any number of rows up to their height.
fn prefers_transposed(kernel: Kernel, (m, n): (usize, usize)) -> bool {
    let padded = |m: usize, n: usize| m * n.next_multiple_of(6);
    kernel != Kernel::Portable && padded(n, m) < padded(m, n)
}

/// Columns of `B` (and `C`) per cache block: a quarter of this CPU's L2 cache
/// ([`caches`](crate::kernel::cache::caches)) holds `k` floats of each, in whole blocks of `cols`
/// (at least one). On Zen 4 (1 MiB of L2), blocks of an eighth, a quarter and half of it gave
/// configuration C the same speed within the machine's noise (`BENCHMARKS.md`, "Kernel notes");
/// a quarter leaves room for the rows of `A` and `C` on CPUs with less.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
fn columns_per_block(k: usize, cols: usize) -> usize {
    let l2_share = crate::kernel::cache::caches().l2 / 4;
    (l2_share / (4 * k.max(1))).max(cols).next_multiple_of(cols)
}

/// The row form copies its block of `B` into panels when the inner dimension is longer than this:
/// `k` rows of `B` a whole number of pages apart (a layer of 1024 neurons) fall into one set of
/// the L1 and L2 caches and evict each other (what that cost BP2 of configuration C is in
/// `BENCHMARKS.md`, "Kernel notes").
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
const PACK_MIN_K: usize = 32;

/// Columns `j0..j1` of `B` (at `bp`, rows `brs` apart, `k` rows), copied as panels of `W`
/// columns: panel `t` holds `B[p, j0 + W·t ..][..W]` for `p = 0..k` one after the other, the
/// columns past `j1` zero. Only where the values lie changes, not what is computed with them.
///
/// # Safety
/// `j0 ≤ j1`, and `bp` must point at a matrix of `k` rows, `brs` elements apart, valid for
/// reading: in each row, columns `j0..j1` at consecutive addresses (column stride 1; any stride
/// when `j1 ≤ 1`, as only column 0 is read), none of it inside `out`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
unsafe fn pack_panels<const W: usize>(
    bp: *const f32,
    brs: isize,
    k: usize,
    (j0, j1): (usize, usize),
    out: &mut Vec<f32>,
) {
    out.clear();
    out.resize((j1 - j0).next_multiple_of(W) * k, 0.0);
    for (panel, j) in out.chunks_exact_mut(W * k).zip((j0..j1).step_by(W)) {
        let width = W.min(j1 - j);
        for (p, dst) in panel.chunks_exact_mut(W).enumerate() {
            // SAFETY: row `p < k`, columns `j..j + width` within `j0..j1`: `width` initialised,
            // aligned `f32` at consecutive addresses (caller's obligation), only read while
            // `out`, a separate buffer, is written.
            let src =
                unsafe { std::slice::from_raw_parts(bp.offset(p as isize * brs).add(j), width) };
            if width == W {
                dst.copy_from_slice(src);
            } else {
                dst[..width].copy_from_slice(src);
            }
        }
    }
}

/// `α a_ip` for every block of `R` rows of `a (m, k)`, side by side, in `out`: the coefficients
/// of block `i / R` for `p` are `coef[(i / R)·k + p][i % R]` (rows past `m` are zero). Computed
/// once per product, before the row form goes through the blocks of columns.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
fn coefficients<'o, const R: usize>(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    out: &'o mut Vec<f32>,
) -> &'o [[f32; R]] {
    let (m, k) = a.dim();
    out.clear();
    out.resize(m.div_ceil(R) * k * R, 0.0);
    let coef = out.as_chunks_mut::<R>().0;
    for (i, a_i) in a.rows().into_iter().enumerate() {
        let block = &mut coef[(i / R) * k..][..k];
        for (cf, &a_ip) in block.iter_mut().zip(a_i) {
            cf[i % R] = alpha * a_ip;
        }
    }
    out.as_chunks::<R>().0
}

/// The buffers of the row form, its coefficients and panels, kept by each thread from product
/// to product so that no product allocates: they grow to the largest product the thread has
/// run (for configuration C, 1024 × 128 coefficients and one block of panels, about 0.8 MiB)
/// and stay.
#[derive(Default)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
struct Scratch {
    coef: Vec<f32>,
    panels: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = const {
        std::cell::Cell::new(Scratch { coef: Vec::new(), panels: Vec::new() })
    };
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels
impl Scratch {
    /// This thread's buffers, lent until [`Scratch::put_back`].
    fn take() -> Scratch {
        SCRATCH.take()
    }

    /// Gives the buffers back to this thread for its next product.
    fn put_back(self) {
        SCRATCH.set(self);
    }

    /// Makes this thread's buffers large enough for any share of a row-form product of
    /// `(m, k, n)`, whichever share the thread runs, so that a thread that has run one share of
    /// a product allocates for no other share of it.
    fn reserve_for((m, k, n): (usize, usize, usize)) {
        let mut scratch = Scratch::take();
        let coef = (m + 16) * k; // blocks of up to 16 rows, the last one padded
        let panels = (n.min(columns_per_block(k, 64)) + 64) * k; // panels of up to 64 columns
        scratch
            .coef
            .reserve(coef.saturating_sub(scratch.coef.len()));
        scratch
            .panels
            .reserve(panels.saturating_sub(scratch.panels.len()));
        scratch.put_back();
    }
}

/// `β c`, with `β = 0` meaning "ignore `c`" (even NaN) and `β = 1` "keep it as it is".
#[inline(always)]
fn scaled_old<F: Float>(beta: F, c: F) -> F {
    if beta == F::zero() {
        F::zero()
    } else if beta == F::one() {
        c
    } else {
        beta * c
    }
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
    use crate::kernel::threads::set_threads;
    use ndarray::{Array2, ShapeBuilder};

    fn pseudo_random(rows: usize, cols: usize, salt: u64, column_major: bool) -> Array2<f32> {
        let f = |(i, j): (usize, usize)| {
            let h =
                (i as u64 * 7919 + j as u64 * 104_729 + salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            ((h >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        Array2::from_shape_fn((rows, cols).set_f(column_major), f)
    }

    /// `α A B + β C` in f64, the reference.
    fn expected(
        alpha: f32,
        a: &Array2<f32>,
        b: &Array2<f32>,
        beta: f32,
        c: &Array2<f32>,
    ) -> Array2<f64> {
        let (a, b) = (a.mapv(f64::from), b.mapv(f64::from));
        let c = if beta == 0.0 {
            c.mapv(|_| 0.0)
        } else {
            c.mapv(|x| f64::from(beta) * f64::from(x))
        };
        c + f64::from(alpha) * a.dot(&b)
    }

    /// Odd sizes on purpose: edges of every kernel's blocks, `k` not a multiple of 8 or 16, a
    /// long `k` (several cache blocks of columns), tiny and empty inner dimensions (also with
    /// more columns than one vector block, where the kernels form pointers into an empty `B`).
    const SHAPES: [(usize, usize, usize); 11] = [
        (1, 1, 1),
        (2, 8, 6),
        (3, 13, 7),
        (10, 784, 30),
        (5, 30, 17),
        (13, 10, 37),
        (4, 64, 16),
        (9, 17, 33),
        (7, 1100, 70),
        (6, 0, 5),
        (3, 0, 40),
    ];

    /// A: row-major; B: column-major for the dot form, row-major for the row form.
    fn operands(form: Form, (m, k, n): (usize, usize, usize)) -> (Array2<f32>, Array2<f32>) {
        (
            pseudo_random(m, k, 1, false),
            pseudo_random(k, n, 2, form == Form::Dots),
        )
    }

    #[test]
    fn every_kernel_and_form_computes_alpha_a_b_plus_beta_c() {
        set_threads(1);
        for kernel in Kernel::supported() {
            for form in [Form::Dots, Form::Rows] {
                for shape in SHAPES {
                    for (alpha, beta) in [(1.0, 0.0), (-0.3, 1.0), (0.5, 2.0)] {
                        let (a, b) = operands(form, shape);
                        let mut c = pseudo_random(shape.0, shape.2, 3, false);
                        if beta == 0.0 {
                            c.fill(f32::NAN); // β = 0 must ignore C entirely
                        }
                        let want = expected(alpha, &a, &b, beta, &c);
                        run(kernel, form, alpha, a.view(), b.view(), beta, c.view_mut());
                        for (got, want) in c.iter().zip(&want) {
                            let err = (f64::from(*got) - want).abs();
                            assert!(
                                err < 1e-5 * (1.0 + shape.1 as f64).sqrt(),
                                "{kernel} {form:?} {shape:?} α={alpha} β={beta}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Determinism by construction: a block of C computed on its own (as a thread's share is)
    /// has the same bits as the same block inside the whole product, wherever the block starts
    /// and ends, on every kernel, in both forms and both orientations of the dot form.
    #[test]
    fn an_element_does_not_depend_on_where_the_product_is_cut() {
        for kernel in Kernel::supported() {
            for form in [Form::Dots, Form::Rows] {
                for shape @ (m, _, n) in [(13, 37, 41), (40, 100, 9), (9, 100, 40), (33, 64, 70)] {
                    let (a, b) = operands(form, shape);
                    let mut whole = pseudo_random(m, n, 3, false);
                    let start = whole.clone();
                    run(kernel, form, 0.7, a.view(), b.view(), 1.0, whole.view_mut());
                    for (r0, r1, c0, c1) in [
                        (0, 1, 0, n),
                        (1, m, 0, n),
                        (5, 6, 3, 4),
                        (0, m, 1, n - 2),
                        (3, m - 1, 7, n),
                    ] {
                        let mut part = start.slice(ndarray::s![r0..r1, c0..c1]).to_owned();
                        let (a, b) = (
                            a.slice(ndarray::s![r0..r1, ..]),
                            b.slice(ndarray::s![.., c0..c1]),
                        );
                        run(kernel, form, 0.7, a, b, 1.0, part.view_mut());
                        assert_eq!(
                            part,
                            whole.slice(ndarray::s![r0..r1, c0..c1]),
                            "{kernel} {form:?} {shape:?} [{r0}..{r1}, {c0}..{c1}]"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn threaded_product_is_bit_identical_to_single_thread_on_every_kernel() {
        // (m, k, n, B stored transposed, split, the form expected)
        let cases = [
            (300, 500, 200, true, Split::Columns, Form::Dots),
            (128, 300, 700, false, Split::Columns, Form::Rows),
            (300, 64, 200, false, Split::Rows, Form::Rows),
            // Z = X Wᵀ and W ← W − η/m Δᵀ X of configuration B
            (10, 784, 100, true, Split::Columns, Form::Dots),
            (100, 10, 784, false, Split::Rows, Form::Rows),
        ];
        for kernel in Kernel::supported() {
            for (m, k, n, b_transposed, split, form) in cases {
                let a = pseudo_random(m, k, 1, false);
                let b_stored = pseudo_random(k, n, 2, b_transposed);
                let b = b_stored.view();
                let mut one = Array2::<f32>::zeros((m, n));
                let mut two = Array2::<f32>::zeros((m, n));
                assert_eq!(choose(&a.view(), &b, &one.view_mut()), Some(form));
                set_threads(1);
                gemm_on(
                    kernel,
                    1.0,
                    a.view(),
                    b,
                    0.0,
                    one.view_mut(),
                    split,
                    &Steps::none(),
                );
                for threads in [2, 3] {
                    set_threads(threads);
                    gemm_on(
                        kernel,
                        1.0,
                        a.view(),
                        b,
                        0.0,
                        two.view_mut(),
                        split,
                        &Steps::none(),
                    );
                    assert_eq!(
                        one, two,
                        "{kernel} {m}×{k}×{n} {split:?}, {threads} threads"
                    );
                }
                set_threads(1);
                let naive = a.dot(&b);
                let max_diff = (&one - &naive).iter().fold(0f32, |m, d| m.max(d.abs()));
                assert!(max_diff < 1e-3, "{kernel}: {max_diff}");
            }
        }
    }

    #[test]
    fn layouts_that_fit_neither_form_are_copied_and_f64_runs() {
        set_threads(1);
        // A column-major, B row-major, C column-major: neither form fits as given.
        let a = pseudo_random(7, 20, 1, true);
        let b = pseudo_random(20, 9, 2, false);
        let c_start = pseudo_random(7, 9, 3, true);
        let mut c = c_start.clone();
        assert_eq!(choose(&a.view(), &b.view(), &c.view_mut()), None);
        for kernel in Kernel::supported() {
            c.assign(&c_start);
            gemm_on(
                kernel,
                2.0,
                a.view(),
                b.view(),
                0.5,
                c.view_mut(),
                Split::Rows,
                &Steps::none(),
            );
            let want = expected(2.0, &a, &b, 0.5, &c_start);
            let err = c
                .iter()
                .zip(&want)
                .map(|(g, w)| (f64::from(*g) - w).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-4, "{kernel}: {err}");
        }
        let (a64, b64) = (a.mapv(f64::from), b.mapv(f64::from));
        let mut c64 = Array2::<f64>::zeros((7, 9));
        gemm(
            1.0,
            a64.view(),
            b64.view(),
            0.0,
            c64.view_mut(),
            Split::Rows,
        );
        let err = (&c64 - &a64.dot(&b64))
            .iter()
            .fold(0f64, |m, d| m.max(d.abs()));
        assert!(err < 1e-12, "{err}");
    }

    /// The promise of reproducibility: every kernel computes every element by the same IEEE-754
    /// operations, so they agree bit for bit. Odd edges in every dimension, both forms, both
    /// orientations of the dot form (`m < n` is computed transposed by some kernels), β = 0 and 1.
    #[test]
    fn every_kernel_gives_the_same_bits() {
        set_threads(1);
        const SIZES: [usize; 9] = [1, 7, 15, 16, 17, 33, 100, 784, 1024];
        let kernels = Kernel::supported();
        let mut checked = 0;
        for m in SIZES {
            for k in SIZES {
                for n in SIZES {
                    if m * k * n > 1 << 21 && !(m == 1 || n == 1) {
                        continue; // the long edges are covered with a thin other side
                    }
                    for form in [Form::Dots, Form::Rows] {
                        let (a, b) = operands(form, (m, k, n));
                        for (alpha, beta) in [(1.0, 0.0), (-0.3, 1.0)] {
                            let start = pseudo_random(m, n, 3, false);
                            let results: Vec<Array2<f32>> = kernels
                                .iter()
                                .map(|&kernel| {
                                    let mut c = start.clone();
                                    run(
                                        kernel,
                                        form,
                                        alpha,
                                        a.view(),
                                        b.view(),
                                        beta,
                                        c.view_mut(),
                                    );
                                    c
                                })
                                .collect();
                            for (kernel, c) in kernels.iter().zip(&results).skip(1) {
                                let same = c
                                    .iter()
                                    .zip(&results[0])
                                    .all(|(x, y)| x.to_bits() == y.to_bits());
                                assert!(
                                    same,
                                    "{kernel} differs from {} in {form:?} {m}×{k}×{n} β={beta}",
                                    kernels[0]
                                );
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 500, "{checked} products compared");
    }

    #[test]
    fn each_form_takes_only_its_layouts() {
        let row_major = pseudo_random(8, 8, 1, false);
        let column_major = pseudo_random(8, 8, 1, true);
        assert!(dots_fit(&row_major.view(), &column_major.view()));
        assert!(!dots_fit(&column_major.view(), &column_major.view()));
        assert!(!dots_fit(&row_major.view(), &row_major.view()));
        let mut out = pseudo_random(8, 8, 1, false);
        assert!(rows_fit(&row_major.view(), &out.view_mut()));
        assert!(!rows_fit(&column_major.view(), &out.view_mut()));
    }
}
