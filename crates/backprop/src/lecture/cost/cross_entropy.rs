//! The cross-entropy cost, for outputs in (0, 1).

use super::ElementwiseCost;
use crate::kernel::float::Float;
use crate::kernel::math;
use crate::lecture::activation::Activation;

/// `C = −Σ_i [y_i ln a_i + (1 − y_i) ln(1 − a_i)]`, so `∂C/∂a_i = (a_i − y_i) / (a_i (1 − a_i))`.
/// With a sigmoid output the `σ'(z) = a(1 − a)` of BP1 cancels and `δ^(L) = a^(L) − y`: the
/// output error no longer slows down when the neuron saturates.
pub struct CrossEntropy;

impl ElementwiseCost for CrossEntropy {
    fn c<F: Float>(a: F, y: F) -> F {
        // 0 · ln 0 is taken as 0, as in the limit.
        let on = if y > F::zero() { y * math::ln(a) } else { F::zero() };
        let off = if y < F::one() {
            (F::one() - y) * math::ln(F::one() - a)
        } else {
            F::zero()
        };
        -(on + off)
    }
    fn dc_da<F: Float>(a: F, y: F) -> F {
        (a - y) / (a * (F::one() - a))
    }
    fn cancels_sigma_prime(output: Activation) -> bool {
        output == Activation::Sigmoid
    }
}
