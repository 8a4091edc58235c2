//! The identity (a linear layer).

use super::ElementwiseActivation;
use crate::kernel::float::Float;

/// `σ(z) = z`, with `σ'(z) = 1`.
pub struct Identity;

impl ElementwiseActivation for Identity {
    fn sigma<F: Float>(z: F) -> F {
        z
    }
    fn sigma_prime<F: Float>(_z: F) -> F {
        F::one()
    }
    fn sigma_prime_of_a<F: Float>(_a: F) -> F {
        F::one()
    }
}
