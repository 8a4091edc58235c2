//! The rectified linear unit.

use super::ElementwiseActivation;
use crate::kernel::float::Float;

/// `σ(z) = max(0, z)`, with `σ'(z) = 1` for `z > 0` and `0` otherwise (0 at the kink itself).
pub struct Relu;

impl ElementwiseActivation for Relu {
    fn sigma<F: Float>(z: F) -> F {
        if z > F::zero() {
            z
        } else {
            F::zero()
        }
    }
    fn sigma_prime<F: Float>(z: F) -> F {
        if z > F::zero() {
            F::one()
        } else {
            F::zero()
        }
    }
    fn sigma_prime_of_a<F: Float>(a: F) -> F {
        Self::sigma_prime(a) // a > 0 exactly when z > 0
    }
}
