//! The two forms of product for `f32` with AVX2 and FMA: 8 lanes, 16 registers.
//!
//! - [`dots`]: blocks of 2 rows of `a` × 3 columns of `b`, each dot in two registers (12
//!   accumulators): element `p` goes to lane `p % 16` of the pair, as to the one register of the
//!   AVX-512 kernel, the last `k % 16` through masked loads that add zeros to the other lanes,
//!   and the 16 lanes are added in the AVX-512 kernel's tree. So both give the same bits.
//! - [`rows`]: blocks of 4 rows × 16 columns of `c` (8 accumulators), each element starting from
//!   `β c` and taking `(α a_ip) b_pj` by a fused multiply-add for `p = 0, 1, …` in order; the last
//!   `n % 16` columns one at a time by the same operations.
//!
//! A block at an edge has fewer rows (same operations per element), and repeats its last column
//! (dots, never stored) or takes the last columns one by one (rows), so an element is computed
//! the same way wherever it sits: how a product is divided between threads cannot
//! change a bit of it.

use super::{coefficients, columns_per_block, pack_panels, scaled_old, Scratch, PACK_MIN_K};
use ndarray::{ArrayView2, ArrayViewMut2};
use std::arch::x86_64::*;

/// Sum of the 16 lanes of `(lo, hi)` (lanes 0–7 and 8–15), in the AVX-512 kernel's order:
/// the upper 8 onto the lower 8, then halves again.
///
/// # Safety
/// The CPU must have AVX (and SSE3, which AVX implies). Called only from [`dots`], whose
/// `avx2` feature implies both.
#[inline(always)]
unsafe fn lane_sum(lo: __m256, hi: __m256) -> f32 {
    // SAFETY: register-to-register intrinsics only (no memory is read or written); the CPU
    // features they need are the caller's obligation above.
    unsafe {
        let v = _mm256_add_ps(lo, hi);
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

/// The mask of the first `n` of 8 lanes for `_mm256_maskload_ps` (`n ≥ 8`: all, `n = 0`: none).
///
/// # Safety
/// The CPU must have AVX.
#[inline(always)]
unsafe fn first_lanes(n: usize) -> __m256i {
    let n = n.min(8) as i32;
    // SAFETY: register-only intrinsics; AVX (and AVX2 for the compare) are the caller's.
    unsafe {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
}

/// Rows of `a` per block of [`dots`] (they share each load of `b`).
const DOT_ROWS: usize = 2;
/// Columns of `b` per block of [`dots`]: 2 × 3 dots of two registers fill 12 of the 16.
const DOT_COLS: usize = 3;

/// The dot form; see [`super::dots_fit`] for the layouts it takes.
///
/// # Safety
/// AVX2 and FMA must be present, the views must satisfy [`super::dots_fit`] and their shapes
/// agree (`a (m, k)`, `b (k, n)`, `c (m, n)`), `c` non-empty. (`c` is a mutable view, so the
/// borrow checker already keeps it apart from `a` and `b`.)
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
    let block = columns_per_block(k, DOT_COLS);
    for jb in (0..n).step_by(block) {
        let j_end = (jb + block).min(n);
        for i0 in (0..m).step_by(DOT_ROWS) {
            // SAFETY: called below only with `i0 + r < m`, so the offset is the start of row
            // `i0 + r` of `a`, inside the view.
            let row = |r: usize| unsafe { ap.offset((i0 + r) as isize * ars) };
            for j0 in (jb..j_end).step_by(DOT_COLS) {
                // Columns past the edge repeat the last one and are never stored.
                // SAFETY: `(j0 + q).min(n - 1) < n` (`n ≥ 1`: `c` is not empty), so the offset is
                // the start of a column of `b`, inside the view.
                let cols: [*const f32; DOT_COLS] = std::array::from_fn(|q| unsafe {
                    bp.offset((j0 + q).min(n - 1) as isize * bcs)
                });
                let rows = [row(0), row(1.min(m - i0 - 1))];
                // SAFETY: `i0 < m` and `j0 < n`: element `(i0, j0)` of `c`.
                let out = unsafe { cp.offset(i0 as isize * crs + j0 as isize * ccs) };
                let shape = (k, DOT_COLS.min(j_end - j0), (crs, ccs));
                // The last block of rows may have 1 (each dot is computed alike in either).
                // SAFETY: AVX2 and FMA are present (our own contract). Each row and column
                // pointer starts `k` contiguous `f32` of `a` or `b` (`dots_fit`: unit stride, or
                // `k ≤ 1`). The block's elements of `c`, `R ≤ m - i0` rows by
                // `cols_here ≤ n - j0` columns from `out`, lie inside `c`, which overlaps
                // neither operand.
                unsafe {
                    match m - i0 {
                        1 => dot_block::<1>([rows[0]], &cols, shape, out, alpha, beta),
                        _ => dot_block::<2>(rows, &cols, shape, out, alpha, beta),
                    }
                }
            }
        }
    }
}

/// The `R × 3` dots of `rows` with `cols` over `k` elements, as 16 partial sums in two
/// registers (element `p` to lane `p % 16`; the last `k % 16` through masked loads that add
/// zeros), each stored as `c ← β c + α·(sum of the lanes)` for the first `cols_here` columns at
/// `out`.
///
/// # Safety
/// AVX2 and FMA must be present. Every `rows[r]` and `cols[q]` must be valid for reading `k`
/// consecutive `f32`; for `r < R` and `q < cols_here`, `out + r·crs + q·ccs` must be valid for
/// reading and writing and overlap no row or column.
#[inline(always)]
unsafe fn dot_block<const R: usize>(
    rows: [*const f32; R],
    cols: &[*const f32; DOT_COLS],
    (k, cols_here, (crs, ccs)): (usize, usize, (isize, isize)),
    out: *mut f32,
    alpha: f32,
    beta: f32,
) {
    // SAFETY: AVX2 and FMA are present (caller's obligation); `_mm256_setzero_ps` touches no
    // memory.
    let mut acc = unsafe { [[[_mm256_setzero_ps(); 2]; DOT_COLS]; R] };
    let k16 = k - k % 16;
    let mut p = 0;
    while p < k16 {
        // SAFETY: `p + 16 ≤ k16 ≤ k`: both halves lie within the `k` readable elements of each
        // row and column (caller's obligation); AVX2 and FMA are present.
        unsafe {
            dot_step::<R, false>(&mut acc, &rows, cols, p, 0, _mm256_setzero_si256());
            dot_step::<R, false>(&mut acc, &rows, cols, p + 8, 1, _mm256_setzero_si256());
        }
        p += 16;
    }
    if k16 < k {
        // SAFETY: the lanes of each mask end at `k`: the first `min(k - k16, 8)` from `k16`,
        // then the rest from `k16 + 8` (none when `k - k16 ≤ 8`, and then that half is not
        // even formed as a read); masked-off lanes are not read and cannot fault.
        unsafe {
            let rest = k - k16;
            dot_step::<R, true>(&mut acc, &rows, cols, k16, 0, first_lanes(rest));
            if rest > 8 {
                dot_step::<R, true>(&mut acc, &rows, cols, k16 + 8, 1, first_lanes(rest - 8));
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (q, &[lo, hi]) in acc_r.iter().enumerate().take(cols_here) {
            // SAFETY: `r < R` and `q < cols_here`, so `o` is an element of `c` the caller lets
            // us read and write, apart from the operands. AVX is present for `lane_sum`.
            unsafe {
                let o = out.offset(r as isize * crs + q as isize * ccs);
                *o = scaled_old(beta, *o) + alpha * lane_sum(lo, hi);
            }
        }
    }
}

/// One half (`half` 0: lanes 0–7, 1: lanes 8–15) of a 16-element step of [`dot_block`]: the 8
/// elements from `p` on, or (`MASKED`) those of `mask`, the other lanes adding zeros.
///
/// # Safety
/// AVX2 and FMA must be present; for every `rows[r]` and `cols[q]`, the elements `p + l` for
/// `l < 8` (or, when `MASKED`, for the lanes `l` set in `mask`) must be valid for reading.
#[inline(always)]
unsafe fn dot_step<const R: usize, const MASKED: bool>(
    acc: &mut [[[__m256; 2]; DOT_COLS]; R],
    rows: &[*const f32; R],
    cols: &[*const f32; DOT_COLS],
    p: usize,
    half: usize,
    mask: __m256i,
) {
    // SAFETY: `wrapping_add(p)` forms the address of element `p`; the loads read the 8 lanes
    // from there, or only those of `mask` (masked-off lanes do not fault), all readable by the
    // caller's obligation; no alignment is needed; AVX2 and FMA are present.
    unsafe {
        let load = |ptr: *const f32| {
            if MASKED {
                _mm256_maskload_ps(ptr, mask)
            } else {
                _mm256_loadu_ps(ptr)
            }
        };
        let mut x = [_mm256_setzero_ps(); R];
        for r in 0..R {
            x[r] = load(rows[r].wrapping_add(p));
        }
        for q in 0..DOT_COLS {
            let w = load(cols[q].wrapping_add(p));
            for r in 0..R {
                acc[r][q][half] = _mm256_fmadd_ps(x[r], w, acc[r][q][half]);
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
/// As for [`dots`], with [`super::rows_fit`] instead of [`super::dots_fit`]: AVX2 and FMA
/// present, rows of `b` and `c` contiguous, shapes that agree, `c` non-empty. When `k = 0`,
/// nothing of `b` is read and its layout does not matter.
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
            // SAFETY: `i0 + r.min(rows - 1) < m`: the start of a row of `c`, inside the view.
            let outs: [*mut f32; ROWS] = std::array::from_fn(|r| unsafe {
                cp.offset((i0 + r.min(rows - 1)) as isize * crs)
            });
            let outs = &outs[..rows];
            let mut j = jb;
            while j + COLS <= j_end {
                // Formed with `wrapping_add`: when `k = 0`, `b` may have no memory at all
                // (nothing is read through the pointer then).
                let (b_j, b_rs) = if pack {
                    // SAFETY: `j - jb` is a multiple of `COLS` below `j_end - jb`, so the offset
                    // is the start of a panel inside `panels` (`COLS · k` floats each).
                    (unsafe { panels.as_ptr().add((j - jb) * k) }, COLS as isize)
                } else {
                    (bp.wrapping_add(j), brs)
                };
                // The last block of rows has 1 to 4 (each element is computed alike in any).
                // SAFETY: AVX2 and FMA are present (our contract). `outs` holds `rows` distinct
                // rows of `c`, each with columns `j..j + 16 ≤ j_end ≤ n` (unit stride: `n ≥ 16`
                // here, so `rows_fit` means `c`'s rows are contiguous). For `p < k`,
                // `b_j + p·b_rs` starts 16 readable floats: row `p` of `b` at column `j`
                // (contiguous by `rows_fit`) or of the packed panel. `c` overlaps neither `b`
                // (borrow rules) nor `panels` (our own buffer).
                unsafe {
                    match rows {
                        1 => row_block::<1>(outs, coef, b_j, b_rs, j, beta),
                        2 => row_block::<2>(outs, coef, b_j, b_rs, j, beta),
                        3 => row_block::<3>(outs, coef, b_j, b_rs, j, beta),
                        _ => row_block::<4>(outs, coef, b_j, b_rs, j, beta),
                    }
                }
                j += COLS;
            }
            // The last columns one at a time, with the same operations per element.
            for j in j..j_end {
                for (r, &o) in outs.iter().enumerate() {
                    // SAFETY: `j < n` is a column of row `i0 + r` of `c` and, for `p < k`, of row
                    // `p` of `b` (`coef` has `k` entries); with a unit column stride, or `n = 1`
                    // and `j = 0`, the offsets `j` land on those elements. `c` and `b` do not
                    // overlap.
                    unsafe {
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
    scratch.put_back();
}

/// `β c` for 8 lanes at `o` (`β = 0`: zeros, whatever `c` holds).
///
/// # Safety
/// AVX must be present; unless `β = 0`, `o` must be valid for reading 8 consecutive `f32`.
#[inline(always)]
unsafe fn start(o: *mut f32, beta: f32) -> __m256 {
    // SAFETY: the load happens only for `β ≠ 0`, when the caller vouches for 8 readable floats
    // at `o` (no alignment needed: `loadu`); AVX is present (caller's obligation).
    unsafe {
        if beta == 0.0 {
            _mm256_setzero_ps()
        } else if beta == 1.0 {
            _mm256_loadu_ps(o)
        } else {
            _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(o))
        }
    }
}

/// One `R × 16` block of the row form at column `j` of `c`, `b_j` pointing at that column of
/// `b` (rows `brs` apart): each element starts from `β c` and takes `coef[p][r] · b_pj` by a
/// fused multiply-add for `p = 0, 1, …`.
///
/// # Safety
/// AVX2 and FMA must be present; `outs` must have at least `R` entries, for `r < R` each
/// `outs[r] + j` valid for reading and writing 16 consecutive `f32`, and no two of them the
/// same row; for `p < coef.len()`, `b_j + p·brs` valid for reading 16 consecutive `f32`, none
/// of them in the rows of `outs`.
#[inline(always)]
unsafe fn row_block<const R: usize>(
    outs: &[*mut f32],
    coef: &[[f32; ROWS]],
    b_j: *const f32,
    brs: isize,
    j: usize,
    beta: f32,
) {
    // SAFETY: AVX is present (caller's obligation); no memory is touched.
    let mut acc = unsafe { [[_mm256_setzero_ps(); 2]; R] };
    for r in 0..R {
        // SAFETY: `outs[r] + j` and `+ j + 8` start the two 8-float halves of the 16 floats the
        // caller lets us read there.
        acc[r] = unsafe { [start(outs[r].add(j), beta), start(outs[r].add(j + 8), beta)] };
    }
    for (p, cf) in coef.iter().enumerate() {
        // SAFETY: `p < coef.len()`, so `b_p` starts 16 readable floats (caller's obligation),
        // read as two unaligned halves; AVX2 and FMA are present.
        unsafe {
            let b_p = b_j.offset(p as isize * brs);
            let x = [_mm256_loadu_ps(b_p), _mm256_loadu_ps(b_p.add(8))];
            for r in 0..R {
                let f = _mm256_broadcast_ss(&cf[r]);
                acc[r][0] = _mm256_fmadd_ps(f, x[0], acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(f, x[1], acc[r][1]);
            }
        }
    }
    for r in 0..R {
        // SAFETY: the 16 floats of row `r` of `c` from column `j`, writable by the caller's
        // obligation and apart from `b`; `storeu` needs no alignment.
        unsafe {
            _mm256_storeu_ps(outs[r].add(j), acc[r][0]);
            _mm256_storeu_ps(outs[r].add(j + 8), acc[r][1]);
        }
    }
}
