//! The logistic sigmoid, the lecture's σ.

use super::ElementwiseActivation;
use crate::kernel::float::Float;
use crate::kernel::math;

/// `σ(z) = 1 / (1 + e^(−z))`, with `σ'(z) = σ(z)(1 − σ(z))`.
pub struct Sigmoid;

impl ElementwiseActivation for Sigmoid {
    const UNIT_INTERVAL: bool = true;
    fn sigma<F: Float>(z: F) -> F {
        F::one() / (F::one() + math::exp(-z))
    }
    fn sigma_prime<F: Float>(z: F) -> F {
        let s = Self::sigma(z);
        s * (F::one() - s)
    }
    fn sigma_prime_of_a<F: Float>(a: F) -> F {
        a * (F::one() - a)
    }
}
