//! The log-likelihood cost, for softmax outputs and one-hot targets.

use super::ElementwiseCost;
use crate::kernel::float::Float;
use crate::kernel::math;
use crate::lecture::activation::Activation;

/// `C = −ln a_k` for the true class `k`, written for a one-hot `y` as `C = −Σ_i y_i ln a_i`, so
/// `∂C/∂a_i = −y_i / a_i`. With a softmax output BP1 becomes `δ^(L) = a^(L) − y`.
///
/// The value takes `a_k` no smaller than the smallest normal float, so an output that underflows
/// to 0 costs `−ln(1.2e-38) ≈ 87` in `f32` (708 in `f64`) rather than `+∞`: the gradient
/// `a − y` stays finite there, and a confidently wrong example is not a diverged training run.
pub struct LogLikelihood;

impl ElementwiseCost for LogLikelihood {
    fn c<F: Float>(a: F, y: F) -> F {
        if y > F::zero() {
            -y * math::ln(a.max(F::min_positive_value()))
        } else {
            F::zero()
        }
    }
    fn dc_da<F: Float>(a: F, y: F) -> F {
        if y > F::zero() {
            -y / a
        } else {
            F::zero()
        }
    }
    fn cancels_sigma_prime(output: Activation) -> bool {
        output == Activation::Softmax
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_that_underflows_costs_a_finite_amount() {
        assert_eq!(LogLikelihood::c(0.0f32, 1.0), -math::ln(f32::MIN_POSITIVE));
        assert!(LogLikelihood::c(0.0f64, 1.0).is_finite());
        assert_eq!(LogLikelihood::c(0.5f64, 1.0), -math::ln(0.5f64));
    }
}
