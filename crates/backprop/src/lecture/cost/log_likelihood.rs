//! The log-likelihood cost, for softmax outputs and one-hot targets.

use super::ElementwiseCost;
use crate::kernel::float::Float;
use crate::lecture::activation::Activation;

/// `C = −ln a_k` for the true class `k`, written for a one-hot `y` as `C = −Σ_i y_i ln a_i`, so
/// `∂C/∂a_i = −y_i / a_i`. With a softmax output BP1 becomes `δ^(L) = a^(L) − y`.
pub struct LogLikelihood;

impl ElementwiseCost for LogLikelihood {
    fn c<F: Float>(a: F, y: F) -> F {
        if y > F::zero() {
            -y * a.ln()
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
