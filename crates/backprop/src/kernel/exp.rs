//! `eˣ` in `f32` by a fixed sequence of IEEE-754 operations: the same bits on every machine
//! (see [`crate::kernel::math`] for why, and for its measured accuracy). It sits below the float
//! types, which compute `exp` with it.

/// `eˣ` in `f32`: `x = k ln 2 + r` with `k` the nearest integer to `x log₂e` and
/// `|r| ≤ ln 2 / 2`, `eʳ` by its Taylor polynomial of degree 7 (relative error below 6·10⁻⁹),
/// times `2ᵏ` built from its bits, all in `f64` (so results in the subnormal range need no
/// special case), rounded once to `f32`. Below −104 the result is 0, above 89 it is +∞ (as the
/// exact values round), NaN stays NaN. Only `+`, `−`, `×` and comparisons: the same bits on
/// every IEEE-754 machine, with no branch in the way of vectorising.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    /// 1.5 · 2⁵²: adding it rounds an `f64` of magnitude below 2⁵¹ to an integer (ties to even).
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let xd = f64::from(x).clamp(-104.0, 89.0);
    let t = xd * std::f64::consts::LOG2_E + SHIFT;
    let k = t - SHIFT;
    let r = xd - k * std::f64::consts::LN_2;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // The low bits of `t` hold k (|k| ≤ 151) in two's complement: 2ᵏ has exponent field k + 1023.
    let k_bits = t.to_bits().wrapping_sub(SHIFT.to_bits()) as i64;
    let two_k = f64::from_bits(((k_bits + 1023) as u64) << 52);
    let y = (p * two_k) as f32;
    if x.is_nan() {
        x
    } else {
        y
    }
}
