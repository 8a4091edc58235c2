//! The identity (a linear layer).

use super::Elementwise;
use crate::kernel::float::Float;

/// `σ(z) = z`, with `σ'(z) = 1`.
pub struct Identity;

impl Elementwise for Identity {
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
