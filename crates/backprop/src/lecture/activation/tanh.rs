//! The hyperbolic tangent.

use super::ElementwiseActivation;
use crate::kernel::float::Float;
use crate::kernel::math;

/// `σ(z) = tanh z`, with `σ'(z) = 1 − tanh² z`.
pub struct Tanh;

impl ElementwiseActivation for Tanh {
    fn sigma<F: Float>(z: F) -> F {
        math::tanh(z)
    }
    fn sigma_prime<F: Float>(z: F) -> F {
        let t = math::tanh(z);
        F::one() - t * t
    }
    fn sigma_prime_of_a<F: Float>(a: F) -> F {
        F::one() - a * a
    }
}
