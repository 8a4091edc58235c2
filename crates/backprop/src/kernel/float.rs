//! The number type of a network: `f32` for training, `f64` for checking.
//!
//! Every function of the crate is generic over [`Float`], so the same lines of code train in
//! `f32` and are checked against finite differences in `f64`.

use ndarray::{ArrayView2, ArrayViewMut2};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point type a network can be computed in: implemented for `f32` and `f64`.
///
/// Out of scope: half precision and integer types.
pub trait Float:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Rounds an `f64` (a constant such as η or `1/m`) to this type.
    fn cast(x: f64) -> Self;
    /// Widens (or keeps) the value as an `f64`, for reports and comparisons.
    fn as_f64(self) -> f64;
    /// `self · b + c` as the matrix kernels compute a term: for `f32` one fused multiply-add
    /// (`mul_add`, exact on every target, as the AVX2 and AVX-512 kernels' `vfmadd`), so that
    /// the portable kernel gives their bits; for `f64`, which only the portable kernel computes,
    /// a multiply then an add (the same on every IEEE machine, and fast on CPUs without FMA).
    fn madd(self, b: Self, c: Self) -> Self;
    /// `eˣ` by the crate's one implementation (see the module `kernel::math`).
    fn exp_fixed(self) -> Self;
    /// `ln x` by the crate's one implementation (see the module `kernel::math`).
    fn ln_fixed(self) -> Self;
    /// `tanh x` by the crate's one implementation (see the module `kernel::math`).
    fn tanh_fixed(self) -> Self;
    /// The same matrix as `f32` when `Self` is `f32`, else `None` (the crate's hand-written
    /// matrix kernels are for `f32` only).
    fn as_f32_view(_m: ArrayView2<'_, Self>) -> Option<ArrayView2<'_, f32>> {
        None
    }
    /// [`Float::as_f32_view`] for a matrix to write to.
    fn as_f32_view_mut(_m: ArrayViewMut2<'_, Self>) -> Option<ArrayViewMut2<'_, f32>> {
        None
    }
    /// The same slice as `f32` when `Self` is `f32`, else `None`.
    fn as_f32_slice_mut(_s: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}

impl Float for f32 {
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn madd(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn exp_fixed(self) -> Self {
        crate::kernel::exp::exp_f32(self)
    }
    fn ln_fixed(self) -> Self {
        libm::logf(self)
    }
    fn tanh_fixed(self) -> Self {
        libm::tanhf(self)
    }
    fn as_f32_view(m: ArrayView2<'_, Self>) -> Option<ArrayView2<'_, f32>> {
        Some(m)
    }
    fn as_f32_view_mut(m: ArrayViewMut2<'_, Self>) -> Option<ArrayViewMut2<'_, f32>> {
        Some(m)
    }
    fn as_f32_slice_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
}

impl Float for f64 {
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn madd(self, b: Self, c: Self) -> Self {
        self * b + c
    }
    fn exp_fixed(self) -> Self {
        libm::exp(self)
    }
    fn ln_fixed(self) -> Self {
        libm::log(self)
    }
    fn tanh_fixed(self) -> Self {
        libm::tanh(self)
    }
}
