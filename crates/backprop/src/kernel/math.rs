//! The elementwise functions of the crate: `exp` (σ, softmax), `ln` (the cross-entropy and
//! log-likelihood costs) and `tanh`, computed by one implementation whatever the machine.
//!
//! `f32::exp` and friends call the platform's C library (glibc, musl, macOS, Windows), whose
//! results differ in the last bit between libraries and versions, so the same training gave
//! other bits on another operating system. These are a fixed sequence of IEEE-754 operations
//! compiled into this crate, so every machine computes the same bits:
//! - `exp` in `f32` (σ and softmax, on every activation of every mini-batch) is the crate's own
//!   [`exp_f32`](crate::kernel::exp::exp_f32): branch-free, so the loops of σ vectorise, and faster than glibc's `expf`;
//! - `ln` and `tanh`, and every `f64` function, come from the `libm` crate (musl's functions
//!   in Rust): `ln` is taken for the costs only (`n_L` values an example), `tanh` by tanh
//!   networks only.
//!
//! Their accuracy against the `f64` functions rounded to `f32`, measured by this module's tests
//! over the whole `f32` range (every 61st bit pattern, about 70 million values per function):
//! `exp` and `ln` within 1 ULP, `tanh` within 2 ULP ([`MAX_ULP`]).
//!
//! Out of scope: a faster `tanh` (musl's is about twice glibc's time) and hand-written vector
//! code (the compiler vectorises `exp_f32` where it is inlined).

use crate::kernel::float::Float;

/// The largest error, in units in the last place of the `f32` result, that the tests allow
/// against the `f64` functions rounded to `f32`: `exp`, `ln`, `tanh`.
pub const MAX_ULP: [u32; 3] = [1, 1, 2];

/// `eˣ`.
#[inline(always)]
pub fn exp<F: Float>(x: F) -> F {
    x.exp_fixed()
}

/// `ln x` (NaN below 0, −∞ at 0).
#[inline]
pub fn ln<F: Float>(x: F) -> F {
    x.ln_fixed()
}

/// `tanh x`.
#[inline]
pub fn tanh<F: Float>(x: F) -> F {
    x.tanh_fixed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance between two finite `f32` in representable steps (0 for equal values).
    fn ulps(a: f32, b: f32) -> u32 {
        let key = |x: f32| {
            let i = x.to_bits() as i32;
            if i < 0 {
                i32::MIN - i
            } else {
                i
            }
        };
        key(a).abs_diff(key(b))
    }

    /// The largest ULP error of `f` against `reference` (in `f64`, rounded) over every 61st
    /// `f32` bit pattern where the reference is finite, with the edge values; also checks that
    /// NaN, ±∞ and ±0 come out as the reference says.
    fn worst(f: fn(f32) -> f32, reference: fn(f64) -> f64) -> u32 {
        let mut worst = 0;
        let edges = [
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            88.7,
            -103.9,
            1.0,
            -1.0,
        ];
        let sweep = (0..=u32::MAX).step_by(61).map(f32::from_bits);
        for x in sweep.chain(edges) {
            let want = reference(f64::from(x)) as f32;
            let got = f(x);
            if want.is_nan() || got.is_nan() {
                assert!(want.is_nan() && got.is_nan(), "{x:e}: {got:e} vs {want:e}");
                continue;
            }
            if want.is_infinite() || got.is_infinite() || want == 0.0 {
                assert_eq!(got, want, "{x:e}");
                continue;
            }
            worst = worst.max(ulps(got, want));
        }
        worst
    }

    #[test]
    fn exp_ln_and_tanh_are_within_their_ulp_bounds_over_the_whole_f32_range() {
        let found = [
            worst(exp::<f32>, libm::exp),
            worst(ln::<f32>, libm::log),
            worst(tanh::<f32>, libm::tanh),
        ];
        for ((name, got), bound) in ["exp", "ln", "tanh"].iter().zip(found).zip(MAX_ULP) {
            assert!(got <= bound, "{name}: {got} ULP, more than {bound}");
        }
    }

    #[test]
    fn known_values_are_exact_where_the_functions_are_exact() {
        assert_eq!(exp(0.0f32), 1.0);
        assert_eq!(ln(1.0f32), 0.0);
        assert_eq!(tanh(0.0f32), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(ln(0.0f32), f32::NEG_INFINITY);
        assert!(ln(-1.0f32).is_nan());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(exp(0.0f64), 1.0);
    }
}
