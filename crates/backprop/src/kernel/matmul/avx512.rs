//! The two forms of product for `f32` with AVX-512 F: 16 lanes, 32 registers, masks for edges.
//!
//! - [`dots`]: blocks of 4 rows of `a` × 6 columns of `b` (24 accumulators); element `p` of a dot
//!   goes to lane `p % 16` (the last `k % 16` through a masked load that adds zeros to the other
//!   lanes), and the lanes are added in a fixed tree.
//! - [`rows`]: blocks of 8 rows × 32 columns of `c` (16 accumulators), each element starting from
//!   `β c` and taking `(α a_ip) b_pj` by a fused multiply-add for `p = 0, 1, …` in order; the last
//!   columns through masked loads and stores, by the same operations.
//!
//! A block at an edge has fewer rows (same operations per element), and repeats its last column
//! (dots, never stored) or masks the missing ones (rows), so an element is computed the same way
//! wherever it sits: how a product is divided between
//! threads cannot change a bit of it. Only AVX-512 F is used: VL/BW/DQ would add nothing here.

use super::{coefficients, columns_per_block, pack_panels, scaled_old, Scratch, PACK_MIN_K};
use ndarray::{ArrayView2, ArrayViewMut2};
use std::arch::x86_64::*;

/// Sum of the 16 lanes, always in the same order: the upper 8 onto the lower 8, then halves again.
///
/// # Safety
/// The CPU must have AVX-512 F (which implies AVX and SSE3). Called only from [`dots`], which
/// enables it.
#[inline(always)]
unsafe fn lane_sum(v: __m512) -> f32 {
    // SAFETY: register-to-register intrinsics only (no memory is read or written); the CPU
    // features they need are the caller's obligation above.
    unsafe {
        let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
        let s = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
        let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
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
/// AVX-512 F (and AVX2, FMA) must be present, the views must satisfy [`super::dots_fit`] and
/// their shapes agree (`a (m, k)`, `b (k, n)`, `c (m, n)`), `c` non-empty. (`c` is a mutable
/// view, so the borrow checker already keeps it apart from `a` and `b`.)
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
    let block = columns_per_block(k, DOT_COLS);
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
        for i0 in (0..m).step_by(DOT_ROWS) {
            // SAFETY: called below only with `r < m - i0`, so the offset is the start of row
            // `i0 + r` of `a`, inside the view.
            let row = |r: usize| unsafe { ap.offset((i0 + r) as isize * ars) };
            for j0 in (jb..j_end).step_by(DOT_COLS) {
                // Columns past the edge repeat the last one and are never stored.
                // SAFETY: `(j0 + q).min(n - 1) < n` (`n ≥ 1`: `c` is not empty), so the offset is
                // the start of a column of `b`, inside the view.
                let cols: [*const f32; DOT_COLS] = std::array::from_fn(|q| unsafe {
                    bp.offset((j0 + q).min(n - 1) as isize * bcs)
                });
                // SAFETY: `i0 < m` and `j0 < n`: element `(i0, j0)` of `c`.
                let out = unsafe { cp.offset(i0 as isize * crs + j0 as isize * ccs) };
                let (cols_here, c_strides) = (DOT_COLS.min(j_end - j0), (crs, ccs));
                // The last block of rows has 1 to 4 (each dot is computed alike in any of them).
                // SAFETY: AVX-512 F is present (our own contract). Each row and column pointer
                // starts `k` contiguous `f32` of `a` or `b` (`dots_fit`: unit stride, or
                // `k ≤ 1`). The block's elements of `c`, `R ≤ m - i0` rows by
                // `cols_here ≤ n - j0` columns from `out`, lie inside `c`, which overlaps
                // neither operand.
                unsafe {
                    match m - i0 {
                        1 => dot_block::<1>(
                            [row(0)],
                            &cols,
                            k,
                            out,
                            cols_here,
                            c_strides,
                            alpha,
                            beta,
                        ),
                        2 => dot_block::<2>(
                            [row(0), row(1)],
                            &cols,
                            k,
                            out,
                            cols_here,
                            c_strides,
                            alpha,
                            beta,
                        ),
                        3 => dot_block::<3>(
                            [row(0), row(1), row(2)],
                            &cols,
                            k,
                            out,
                            cols_here,
                            c_strides,
                            alpha,
                            beta,
                        ),
                        _ => dot_block::<4>(
                            [row(0), row(1), row(2), row(3)],
                            &cols,
                            k,
                            out,
                            cols_here,
                            c_strides,
                            alpha,
                            beta,
                        ),
                    }
                }
            }
        }
    }
}

/// The `R × 6` dots of `rows` with `cols` over `k` elements, as 16-lane partial sums (element
/// `p` goes to lane `p % 16`, the last `k % 16` through a masked load that adds zeros), each
/// stored as `c ← β c + α·(sum of the lanes)` for the first `cols_here` columns at `out`.
///
/// # Safety
/// AVX-512 F must be present. Every `rows[r]` and `cols[q]` must be valid for reading `k`
/// consecutive `f32`; for `r < R` and `q < cols_here`, `out + r·crs + q·ccs` must be valid for
/// reading and writing and overlap no row or column.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn dot_block<const R: usize>(
    rows: [*const f32; R],
    cols: &[*const f32; DOT_COLS],
    k: usize,
    out: *mut f32,
    cols_here: usize,
    (crs, ccs): (isize, isize),
    alpha: f32,
    beta: f32,
) {
    // SAFETY: AVX-512 F is present (caller's obligation); no memory is touched.
    let mut acc = unsafe { [[_mm512_setzero_ps(); DOT_COLS]; R] };
    let k16 = k - k % 16;
    let mut p = 0;
    while p < k16 {
        // SAFETY: all 16 lanes from `p`, and `p + 16 ≤ k16 ≤ k`: within the `k` readable
        // elements of each row and column (caller's obligation).
        unsafe { dot_step::<R>(&mut acc, &rows, cols, p, 0xFFFF) };
        p += 16;
    }
    if k16 < k {
        // SAFETY: the first `k - k16` lanes from `k16` end at `k`; the masked-off lanes are
        // neither read nor able to fault.
        unsafe { dot_step::<R>(&mut acc, &rows, cols, k16, first_lanes(k - k16)) };
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (q, &acc_rq) in acc_r.iter().enumerate().take(cols_here) {
            // SAFETY: `r < R` and `q < cols_here`, so `o` is an element of `c` the caller lets
            // us read and write, apart from the operands; AVX-512 F is present for `lane_sum`.
            unsafe {
                let o = out.offset(r as isize * crs + q as isize * ccs);
                *o = scaled_old(beta, *o) + alpha * lane_sum(acc_rq);
            }
        }
    }
}

/// One step of [`dot_block`]: 16 elements (those of `mask`) from `p` on.
///
/// # Safety
/// AVX-512 F must be present; for every `rows[r]` and `cols[q]`, the elements `p + l` for the
/// lanes `l` set in `mask` must be valid for reading (`p` itself within the row or column, or
/// one past its end).
#[inline(always)]
unsafe fn dot_step<const R: usize>(
    acc: &mut [[__m512; DOT_COLS]; R],
    rows: &[*const f32; R],
    cols: &[*const f32; DOT_COLS],
    p: usize,
    mask: __mmask16,
) {
    // SAFETY: `add(p)` stays within (or one past) each row and column, and the masked loads
    // read only the lanes of `mask`, readable by the caller's obligation (AVX-512 suppresses
    // faults on the others); no alignment is needed; AVX-512 F is present.
    unsafe {
        let mut x = [_mm512_setzero_ps(); R];
        for r in 0..R {
            x[r] = _mm512_maskz_loadu_ps(mask, rows[r].add(p));
        }
        for q in 0..DOT_COLS {
            let w = _mm512_maskz_loadu_ps(mask, cols[q].add(p));
            for r in 0..R {
                acc[r][q] = _mm512_fmadd_ps(x[r], w, acc[r][q]);
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
/// As for [`dots`], with [`super::rows_fit`] instead of [`super::dots_fit`]: AVX-512 F
/// present, rows of `b` and `c` contiguous, shapes that agree, `c` non-empty. When `k = 0`,
/// nothing of `b` is read and its layout does not matter.
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
    let mut scratch = Scratch::take();
    let Scratch { coef, panels } = &mut scratch;
    let coef_all = coefficients::<ROWS>(alpha, &a, coef);
    let block = columns_per_block(k, COLS);
    let pack = k > PACK_MIN_K;
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
        if pack {
            // SAFETY: `bp` is `b`: `k` rows `brs` apart, each with `n ≥ j_end` columns at
            // consecutive addresses (`rows_fit`; or `n = 1`, when only column 0 is read).
            unsafe { pack_panels::<COLS>(bp, brs, k, (jb, j_end), panels) };
        }
        for i0 in (0..m).step_by(ROWS) {
            let rows = ROWS.min(m - i0);
            let coef = &coef_all[(i0 / ROWS) * k..][..k];
            // SAFETY: called below only with `r < rows ≤ m - i0`: the start of a row of `c`.
            let out = |r: usize| unsafe { cp.offset((i0 + r) as isize * crs) };
            for j in (jb..j_end).step_by(COLS) {
                // Columns past the edge are masked (their pointers are formed with
                // `wrapping_add` and never dereferenced).
                let masks = [
                    first_lanes(j_end - j),
                    first_lanes((j_end - j).saturating_sub(16)),
                ];
                // Formed with `wrapping_add`: when `k = 0`, `b` may have no memory at all
                // (nothing is read through the pointer then).
                let (b_j, brs) = if pack {
                    // SAFETY: `j - jb` is a multiple of `COLS` below `j_end - jb`, so the offset
                    // is the start of a panel inside `panels` (`COLS · k` floats each).
                    (unsafe { panels.as_ptr().add((j - jb) * k) }, COLS as isize)
                } else {
                    (bp.wrapping_add(j), brs)
                };
                // SAFETY: `j < j_end ≤ n`: column `j` of a row of `c`.
                let outs: [*mut f32; ROWS] =
                    std::array::from_fn(|r| unsafe { out(r.min(rows - 1)).add(j) });
                let outs = &outs[..rows];
                // The last block of rows has 1 to 8 (each element is computed alike in any).
                // SAFETY: AVX-512 F is present (our contract). `outs` holds `rows` distinct rows
                // of `c` at column `j`; the lanes of `masks` cover columns `j..j_end`, which
                // exist, contiguous by `rows_fit` (or `n = 1` and one lane). For `p < k`,
                // `b_j + p·brs` is row `p` of `b` at column `j`, or of the packed panel (32
                // floats a row), with the same columns present. `c` overlaps neither `b`
                // (borrow rules) nor `panels` (our own buffer).
                unsafe {
                    match rows {
                        1 => row_block::<1>(outs, coef, b_j, brs, masks, beta),
                        2 => row_block::<2>(outs, coef, b_j, brs, masks, beta),
                        3 => row_block::<3>(outs, coef, b_j, brs, masks, beta),
                        4 => row_block::<4>(outs, coef, b_j, brs, masks, beta),
                        5 => row_block::<5>(outs, coef, b_j, brs, masks, beta),
                        6 => row_block::<6>(outs, coef, b_j, brs, masks, beta),
                        7 => row_block::<7>(outs, coef, b_j, brs, masks, beta),
                        _ => row_block::<8>(outs, coef, b_j, brs, masks, beta),
                    }
                }
            }
        }
    }
    scratch.put_back();
}

/// `β c` for the lanes of `mask` at `o` (`β = 0`: zeros, whatever `c` holds).
///
/// # Safety
/// AVX-512 F must be present; unless `β = 0`, the lanes of `mask` at `o` must be valid for
/// reading (`o` itself may point past them: masked-off lanes are never accessed).
#[inline(always)]
unsafe fn start(o: *mut f32, mask: __mmask16, beta: f32) -> __m512 {
    // SAFETY: the masked load happens only for `β ≠ 0` and reads only the lanes of `mask`,
    // which the caller vouches for; no alignment is needed; AVX-512 F is present.
    unsafe {
        if beta == 0.0 {
            _mm512_setzero_ps()
        } else if beta == 1.0 {
            _mm512_maskz_loadu_ps(mask, o)
        } else {
            _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, o))
        }
    }
}

/// One `R × 32` block of the row form: each element starts from `β c` and takes
/// `coef[p][r] · b_pj` by a fused multiply-add for `p = 0, 1, …`; `masks` cover the columns
/// that exist.
///
/// # Safety
/// AVX-512 F must be present; `outs` must have at least `R` entries, no two of them the same
/// row. For `r < R`, lane `l` of `masks[0]` at `outs[r] + l` and lane `l` of `masks[1]` at
/// `outs[r] + 16 + l` must be valid for reading and writing; for `p < coef.len()`, the same
/// lanes at `b_j + p·brs` valid for reading, none of them in the rows of `outs`.
#[inline(always)]
unsafe fn row_block<const R: usize>(
    outs: &[*mut f32],
    coef: &[[f32; ROWS]],
    b_j: *const f32,
    brs: isize,
    masks: [__mmask16; 2],
    beta: f32,
) {
    // SAFETY: AVX-512 F is present (caller's obligation); no memory is touched.
    let mut acc = unsafe { [[_mm512_setzero_ps(); 2]; R] };
    for r in 0..R {
        // SAFETY: the lanes of each mask at these two pointers are readable (caller's
        // obligation); the second is formed with `wrapping_add` and, past the edge, has an
        // empty mask.
        acc[r] = unsafe {
            [
                start(outs[r], masks[0], beta),
                start(outs[r].wrapping_add(16), masks[1], beta),
            ]
        };
    }
    for (p, cf) in coef.iter().enumerate() {
        // SAFETY: `p < coef.len()`, so `b_p` is where the caller vouches for the lanes of
        // `masks`; the masked loads read only those lanes; AVX-512 F is present.
        unsafe {
            let b_p = b_j.offset(p as isize * brs);
            let x = [
                _mm512_maskz_loadu_ps(masks[0], b_p),
                _mm512_maskz_loadu_ps(masks[1], b_p.wrapping_add(16)),
            ];
            for r in 0..R {
                let f = _mm512_set1_ps(cf[r]);
                acc[r][0] = _mm512_fmadd_ps(f, x[0], acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(f, x[1], acc[r][1]);
            }
        }
    }
    for r in 0..R {
        // SAFETY: the masked stores write only the lanes of `masks` in row `r` of `c`, writable
        // by the caller's obligation and apart from `b`; no alignment is needed.
        unsafe {
            _mm512_mask_storeu_ps(outs[r], masks[0], acc[r][0]);
            _mm512_mask_storeu_ps(outs[r].wrapping_add(16), masks[1], acc[r][1]);
        }
    }
}
