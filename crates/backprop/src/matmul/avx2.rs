//! The two forms of product for `f32` with AVX2 and FMA: 8 lanes, 16 registers.
//!
//! - [`dots`]: blocks of 2 rows of `a` × 6 columns of `b` (12 accumulators); element `p` of a dot
//!   goes to lane `p % 8`, the lanes are added in a fixed tree, the last `k % 8` products follow
//!   one by one.
//! - [`rows`]: blocks of 4 rows × 16 columns of `c` (8 accumulators), each element starting from
//!   `β c` and taking `(α a_ip) b_pj` by a fused multiply-add for `p = 0, 1, …` in order; the last
//!   `n % 16` columns one at a time by the same operations.
//!
//! A block at an edge repeats its last row or column and never stores the repeats, so an element
//! is computed the same way wherever it sits: how a product is divided between threads cannot
//! change a bit of it.

use super::{columns_per_block, scaled_old};
use ndarray::{ArrayView2, ArrayViewMut2};
use std::arch::x86_64::*;

/// Sum of the 8 lanes, always in the same order.
#[inline(always)]
unsafe fn lane_sum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// Rows of `a` per block of [`dots`] (they share each load of `b`).
const DOT_ROWS: usize = 2;
/// Columns of `b` per block of [`dots`]: 2 × 6 accumulators fill 12 of the 16 registers.
const DOT_COLS: usize = 6;

/// The dot form; see [`super::dots_fit`] for the layouts it takes.
///
/// # Safety
/// AVX2 and FMA must be present, the views must satisfy [`super::dots_fit`] and their shapes
/// agree (`a (m, k)`, `b (k, n)`, `c (m, n)`), `c` non-empty.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn dots(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (ars, bcs) = (a.strides()[0], b.strides()[1]);
    let (crs, ccs) = (c.strides()[0], c.strides()[1]);
    let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    let k8 = k - k % 8;
    let block = columns_per_block(k, DOT_COLS);
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
        for i0 in (0..m).step_by(DOT_ROWS) {
            let row = |r: usize| ap.offset((i0 + r).min(m - 1) as isize * ars);
            let rows = [row(0), row(1)];
            for j0 in (jb..j_end).step_by(DOT_COLS) {
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
                    for q in 0..DOT_COLS.min(j_end - j0) {
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
}

/// Rows of `c` per block of [`rows`] (they share each load of `b`).
const ROWS: usize = 4;
/// Columns of `c` per block of [`rows`]: two vectors.
const COLS: usize = 16;

/// The row form; see [`super::rows_fit`] for the layouts it takes.
///
/// # Safety
/// As for [`dots`], with [`super::rows_fit`] instead of [`super::dots_fit`].
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn rows(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (brs, crs) = (b.strides()[0], c.strides()[0]);
    let (bp, cp) = (b.as_ptr(), c.as_mut_ptr());
    // α a_ip for the rows of one block, side by side for each p: coef[p][r].
    let mut coef = vec![[0f32; ROWS]; k];
    let block = columns_per_block(k, COLS);
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
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
            let mut j = jb;
            while j + COLS <= j_end {
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
                j += COLS;
            }
            // The last columns one at a time, with the same operations per element.
            for j in j..j_end {
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
