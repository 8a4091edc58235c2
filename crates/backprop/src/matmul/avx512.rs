//! The two forms of product for `f32` with AVX-512 F: 16 lanes, 32 registers, masks for edges.
//!
//! - [`dots`]: blocks of 4 rows of `a` × 6 columns of `b` (24 accumulators); element `p` of a dot
//!   goes to lane `p % 16` (the last `k % 16` through a masked load that adds zeros to the other
//!   lanes), and the lanes are added in a fixed tree.
//! - [`rows`]: blocks of 8 rows × 32 columns of `c` (16 accumulators), each element starting from
//!   `β c` and taking `(α a_ip) b_pj` by a fused multiply-add for `p = 0, 1, …` in order; the last
//!   columns through masked loads and stores, by the same operations.
//!
//! A block at an edge repeats its last row or column (or masks it) and never stores the repeats,
//! so an element is computed the same way wherever it sits: how a product is divided between
//! threads cannot change a bit of it. Only AVX-512 F is used: VL/BW/DQ would add nothing here.

use super::{columns_per_block, scaled_old};
use ndarray::{ArrayView2, ArrayViewMut2};
use std::arch::x86_64::*;

/// Sum of the 16 lanes, always in the same order: the upper 8 onto the lower 8, then halves again.
#[inline(always)]
unsafe fn lane_sum(v: __m512) -> f32 {
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    let s = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// The mask of the first `n` of 16 lanes (`n ≥ 16`: all).
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    if n >= 16 {
        0xFFFF
    } else {
        ((1u32 << n) - 1) as __mmask16
    }
}

/// Rows of `a` per block of [`dots`] (they share each load of `b`).
const DOT_ROWS: usize = 4;
/// Columns of `b` per block of [`dots`]: 4 × 6 accumulators fill 24 of the 32 registers.
const DOT_COLS: usize = 6;

/// The dot form; see [`super::dots_fit`] for the layouts it takes.
///
/// # Safety
/// AVX-512 F must be present, the views must satisfy [`super::dots_fit`] and their shapes agree
/// (`a (m, k)`, `b (k, n)`, `c (m, n)`), `c` non-empty.
#[target_feature(enable = "avx512f,avx2,fma")]
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
    let k16 = k - k % 16;
    let tail = first_lanes(k % 16);
    let block = columns_per_block(k, DOT_COLS);
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
        for i0 in (0..m).step_by(DOT_ROWS) {
            let row = |r: usize| ap.offset((i0 + r).min(m - 1) as isize * ars);
            let rows = [row(0), row(1), row(2), row(3)];
            for j0 in (jb..j_end).step_by(DOT_COLS) {
                let col = |q: usize| bp.offset((j0 + q).min(n - 1) as isize * bcs);
                let cols = [col(0), col(1), col(2), col(3), col(4), col(5)];
                let mut acc = [[_mm512_setzero_ps(); DOT_COLS]; DOT_ROWS];
                let mut step = |p: usize, mask: __mmask16| {
                    let x = [
                        _mm512_maskz_loadu_ps(mask, rows[0].add(p)),
                        _mm512_maskz_loadu_ps(mask, rows[1].add(p)),
                        _mm512_maskz_loadu_ps(mask, rows[2].add(p)),
                        _mm512_maskz_loadu_ps(mask, rows[3].add(p)),
                    ];
                    for q in 0..DOT_COLS {
                        let w = _mm512_maskz_loadu_ps(mask, cols[q].add(p));
                        for r in 0..DOT_ROWS {
                            acc[r][q] = _mm512_fmadd_ps(x[r], w, acc[r][q]);
                        }
                    }
                };
                let mut p = 0;
                while p < k16 {
                    step(p, 0xFFFF);
                    p += 16;
                }
                if tail != 0 {
                    step(k16, tail);
                }
                for (r, acc_r) in acc.iter().enumerate().take(m - i0) {
                    for (q, &acc_rq) in acc_r.iter().enumerate().take(j_end - j0) {
                        let s = lane_sum(acc_rq);
                        let out = cp.offset((i0 + r) as isize * crs + (j0 + q) as isize * ccs);
                        *out = scaled_old(beta, *out) + alpha * s;
                    }
                }
            }
        }
    }
}

/// Rows of `c` per block of [`rows`] (they share each load of `b`).
const ROWS: usize = 8;
/// Columns of `c` per block of [`rows`]: two vectors.
const COLS: usize = 32;

/// The row form; see [`super::rows_fit`] for the layouts it takes.
///
/// # Safety
/// As for [`dots`], with [`super::rows_fit`] instead of [`super::dots_fit`].
#[target_feature(enable = "avx512f,avx2,fma")]
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
            // Rows past the edge point at the last real row and are never stored; columns past it are
            // masked (their pointers are formed with `wrapping_add` and never dereferenced).
            let outs: [*mut f32; ROWS] =
                std::array::from_fn(|r| cp.offset((i0 + r.min(rows - 1)) as isize * crs));
            for j in (jb..j_end).step_by(COLS) {
                let masks = [
                    first_lanes(j_end - j),
                    first_lanes((j_end - j).saturating_sub(16)),
                ];
                let start = |o: *mut f32, mask: __mmask16| {
                    if beta == 0.0 {
                        _mm512_setzero_ps()
                    } else if beta == 1.0 {
                        _mm512_maskz_loadu_ps(mask, o)
                    } else {
                        _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, o))
                    }
                };
                let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
                for r in 0..ROWS {
                    let o = outs[r].add(j);
                    acc[r] = [start(o, masks[0]), start(o.wrapping_add(16), masks[1])];
                }
                for (p, cf) in coef.iter().enumerate() {
                    let bp = bp.offset(p as isize * brs).add(j);
                    let x = [
                        _mm512_maskz_loadu_ps(masks[0], bp),
                        _mm512_maskz_loadu_ps(masks[1], bp.wrapping_add(16)),
                    ];
                    for r in 0..ROWS {
                        let f = _mm512_set1_ps(cf[r]);
                        acc[r][0] = _mm512_fmadd_ps(f, x[0], acc[r][0]);
                        acc[r][1] = _mm512_fmadd_ps(f, x[1], acc[r][1]);
                    }
                }
                for r in 0..rows {
                    let o = outs[r].add(j);
                    _mm512_mask_storeu_ps(o, masks[0], acc[r][0]);
                    _mm512_mask_storeu_ps(o.wrapping_add(16), masks[1], acc[r][1]);
                }
            }
        }
    }
}
