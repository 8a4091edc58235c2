//! Two f32 kernels for the products of small mini-batches, where a blocked GEMM spends most of its
//! time packing operands it then uses once (see the measurements in [`super`]):
//!
//! - [`dots`]: `C ← α A B + β C` as dot products of the rows of `A` with the columns of `B`, both
//!   contiguous; the forward pass `Z = X Wᵀ` with 10 examples is 10·n such dots of length 784.
//! - [`scaled_rows`]: `C ← α A B + β C` as sums of scaled rows of `B` when the inner dimension `k`
//!   is small; the update `W ← W − (η/m) Δᵀ X` adds `m` scaled rows of `X` to each row of `W`.
//!
//! Both need AVX2 and FMA, detected at run time ([`available`]); the caller falls back to the
//! blocked kernel otherwise. Each output element is computed the same way wherever it sits in the
//! matrix (edge or not), so dividing a product between threads does not change a single bit.
//! Out of scope: f64 (it runs on the blocked kernel) and other instruction sets.

use ndarray::{ArrayView2, ArrayViewMut2};

/// Whether this machine can run the kernels of this module.
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether [`dots`] applies: rows of `a` and columns of `b` contiguous.
pub(super) fn dots_fit<F>(a: &ArrayView2<'_, F>, b: &ArrayView2<'_, F>) -> bool {
    (a.strides()[1] == 1 || a.ncols() <= 1) && (b.strides()[0] == 1 || b.nrows() <= 1)
}

/// The largest inner dimension `k` [`scaled_rows`] takes (its coefficients live on the stack).
pub(super) const MAX_K: usize = 64;

/// Whether [`scaled_rows`] applies: `k ≤` [`MAX_K`], rows of `b` and `c` contiguous.
pub(super) fn scaled_rows_fit<F>(b: &ArrayView2<'_, F>, c: &ArrayViewMut2<'_, F>) -> bool {
    b.nrows() <= MAX_K
        && (b.strides()[1] == 1 || b.ncols() <= 1)
        && (c.strides()[1] == 1 || c.ncols() <= 1)
}

/// `c_ij ← α (a_i · b_j) + β c_ij` (`β = 0` ignores the old `c`, even NaN).
/// Panics unless [`available`] and [`dots_fit`] hold and the shapes agree.
pub(super) fn dots(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
) {
    assert!(available() && dots_fit(&a, &b));
    assert!(a.ncols() == b.nrows() && c.dim() == (a.nrows(), b.ncols()));
    if c.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: AVX2 and FMA are present (asserted); every pointer the kernel forms is `row·stride +
    // p` with `row` below the view's rows and `p` below `k`, inside the views (shapes asserted).
    unsafe {
        x86::dots(alpha, &a, &b, beta, &mut c)
    }
}

/// `c_i ← β c_i + Σ_p (α a_ip) b_p` for every row `i` (`β = 0` ignores the old `c`, even NaN).
/// Panics unless [`available`] and [`scaled_rows_fit`] hold and the shapes agree.
pub(super) fn scaled_rows(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
) {
    assert!(available() && scaled_rows_fit(&b, &c));
    assert!(a.ncols() == b.nrows() && c.dim() == (a.nrows(), b.ncols()));
    if c.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `dots`: features asserted, all offsets inside the asserted shapes.
    unsafe {
        x86::scaled_rows(alpha, &a, &b, beta, &mut c)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::MAX_K;
    use ndarray::{ArrayView2, ArrayViewMut2};
    use std::arch::x86_64::*;

    /// Rows of `a` per block of [`dots`] (two rows share each load of `b`).
    const DOT_ROWS: usize = 2;
    /// Columns of `b` per block of [`dots`]: 2 × 6 accumulators of 8 lanes fill 12 of the 16
    /// registers, leaving room for the loads.
    const DOT_COLS: usize = 6;

    /// Sum of the 8 lanes, always in the same order.
    #[inline(always)]
    unsafe fn lane_sum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }

    /// `β c`, with `β = 0` meaning "ignore `c`" (even NaN) and `β = 1` "keep it as it is".
    #[inline(always)]
    fn scaled_old(beta: f32, c: f32) -> f32 {
        if beta == 0.0 {
            0.0
        } else if beta == 1.0 {
            c
        } else {
            beta * c
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dots(
        alpha: f32,
        a: &ArrayView2<'_, f32>,
        b: &ArrayView2<'_, f32>,
        beta: f32,
        c: &mut ArrayViewMut2<'_, f32>,
    ) {
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        let (ars, bcs) = (a.strides()[0], b.strides()[1]);
        let (crs, ccs) = (c.strides()[0], c.strides()[1]);
        let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        let k8 = k - k % 8;
        for i0 in (0..m).step_by(DOT_ROWS) {
            // A block at the edge repeats its last row or column; the repeats are not stored.
            let row = |r: usize| ap.offset((i0 + r).min(m - 1) as isize * ars);
            let rows = [row(0), row(1)];
            for j0 in (0..n).step_by(DOT_COLS) {
                let col = |q: usize| bp.offset((j0 + q).min(n - 1) as isize * bcs);
                let cols = [col(0), col(1), col(2), col(3), col(4), col(5)];
                let mut acc = [[_mm256_setzero_ps(); DOT_COLS]; DOT_ROWS];
                let mut p = 0;
                while p < k8 {
                    let x = [
                        _mm256_loadu_ps(rows[0].add(p)),
                        _mm256_loadu_ps(rows[1].add(p)),
                    ];
                    for q in 0..DOT_COLS {
                        let w = _mm256_loadu_ps(cols[q].add(p));
                        acc[0][q] = _mm256_fmadd_ps(x[0], w, acc[0][q]);
                        acc[1][q] = _mm256_fmadd_ps(x[1], w, acc[1][q]);
                    }
                    p += 8;
                }
                for r in 0..DOT_ROWS.min(m - i0) {
                    for q in 0..DOT_COLS.min(n - j0) {
                        let mut s = lane_sum(acc[r][q]);
                        for p in k8..k {
                            s = (*rows[r].add(p)).mul_add(*cols[q].add(p), s);
                        }
                        let out = cp.offset((i0 + r) as isize * crs + (j0 + q) as isize * ccs);
                        *out = scaled_old(beta, *out) + alpha * s;
                    }
                }
            }
        }
    }

    /// Rows of `c` per block of [`scaled_rows`] (they share each load of `b`).
    const ROWS: usize = 4;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn scaled_rows(
        alpha: f32,
        a: &ArrayView2<'_, f32>,
        b: &ArrayView2<'_, f32>,
        beta: f32,
        c: &mut ArrayViewMut2<'_, f32>,
    ) {
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        let (brs, crs) = (b.strides()[0], c.strides()[0]);
        let (bp, cp) = (b.as_ptr(), c.as_mut_ptr());
        // α a_ip, four rows of c side by side for each p: coef[p][r].
        let mut coef = [[0f32; ROWS]; MAX_K];
        let coef = &mut coef[..k];
        for i0 in (0..m).step_by(ROWS) {
            let rows = ROWS.min(m - i0);
            for (p, cf) in coef.iter_mut().enumerate() {
                for (r, x) in cf.iter_mut().enumerate() {
                    *x = if r < rows {
                        alpha * a[[i0 + r, p]]
                    } else {
                        0.0
                    };
                }
            }
            // Rows past the edge point at the last real row and are never stored.
            let out = |r: usize| cp.offset((i0 + r.min(rows - 1)) as isize * crs);
            let outs = [out(0), out(1), out(2), out(3)];
            let start = |o: *mut f32| {
                if beta == 0.0 {
                    _mm256_setzero_ps()
                } else if beta == 1.0 {
                    _mm256_loadu_ps(o)
                } else {
                    _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(o))
                }
            };
            let mut j = 0;
            while j + 16 <= n {
                let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
                for r in 0..ROWS {
                    acc[r] = [start(outs[r].add(j)), start(outs[r].add(j + 8))];
                }
                for (p, cf) in coef.iter().enumerate() {
                    let bp = bp.offset(p as isize * brs).add(j);
                    let x = [_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8))];
                    for r in 0..ROWS {
                        let f = _mm256_broadcast_ss(&cf[r]);
                        acc[r][0] = _mm256_fmadd_ps(f, x[0], acc[r][0]);
                        acc[r][1] = _mm256_fmadd_ps(f, x[1], acc[r][1]);
                    }
                }
                for r in 0..rows {
                    _mm256_storeu_ps(outs[r].add(j), acc[r][0]);
                    _mm256_storeu_ps(outs[r].add(j + 8), acc[r][1]);
                }
                j += 16;
            }
            // The last columns one at a time, with the same operations per element.
            for j in j..n {
                for (r, &o) in outs.iter().enumerate().take(rows) {
                    let o = o.add(j);
                    let mut s = scaled_old(beta, *o);
                    for (p, cf) in coef.iter().enumerate() {
                        s = cf[r].mul_add(*bp.offset(p as isize * brs).add(j), s);
                    }
                    *o = s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn check(
        kernel: fn(f32, ArrayView2<'_, f32>, ArrayView2<'_, f32>, f32, ArrayViewMut2<'_, f32>),
        b_column_major: bool,
        max_k: usize,
    ) {
        // Odd sizes on purpose: edges of the 2×6 and 4×16 blocks, k not a multiple of 8.
        let shapes = [
            (1, 1, 1),
            (2, 8, 6),
            (3, 13, 7),
            (10, 784, 30),
            (5, 30, 17),
            (13, 10, 37),
            (4, 64, 16),
        ];
        for (m, k, n) in shapes.into_iter().filter(|s| s.1 <= max_k) {
            for (alpha, beta) in [(1.0, 0.0), (-0.3, 1.0), (0.5, 2.0)] {
                let a = pseudo_random(m, k, 1, false);
                let b = pseudo_random(k, n, 2, b_column_major);
                let mut c = pseudo_random(m, n, 3, false);
                if beta == 0.0 {
                    c.fill(f32::NAN); // β = 0 must ignore C entirely
                }
                let want = expected(alpha, &a, &b, beta, &c);
                kernel(alpha, a.view(), b.view(), beta, c.view_mut());
                for (got, want) in c.iter().zip(&want) {
                    let err = (f64::from(*got) - want).abs();
                    assert!(
                        err < 1e-5 * (1.0 + k as f64).sqrt(),
                        "{m}×{k}×{n} α={alpha} β={beta}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn dots_compute_alpha_a_b_plus_beta_c() {
        if available() {
            check(dots, true, usize::MAX);
        }
    }

    #[test]
    fn scaled_rows_compute_alpha_a_b_plus_beta_c() {
        if available() {
            check(scaled_rows, false, MAX_K);
        }
    }

    #[test]
    fn each_kernel_takes_only_its_layouts() {
        let row_major = pseudo_random(8, 8, 1, false);
        let column_major = pseudo_random(8, 8, 1, true);
        assert!(dots_fit(&row_major.view(), &column_major.view()));
        assert!(!dots_fit(&column_major.view(), &column_major.view()));
        assert!(!dots_fit(&row_major.view(), &row_major.view()));
        let mut out = pseudo_random(8, 8, 1, false);
        assert!(scaled_rows_fit(&row_major.view(), &out.view_mut()));
        assert!(!scaled_rows_fit(&column_major.view(), &out.view_mut()));
        let tall = pseudo_random(MAX_K + 1, 8, 1, false);
        assert!(!scaled_rows_fit(&tall.view(), &out.view_mut()));
    }
}
