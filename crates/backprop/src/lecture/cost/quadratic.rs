//! The lecture's quadratic cost.

use super::ElementwiseCost;
use crate::kernel::float::Float;

/// `C = ‖a − y‖² / 2`, so `∂C/∂a_i = a_i − y_i` (Lemma 1) and BP1 becomes BP1':
/// `δ^(L) = (a^(L) − y) ∘ σ'(z^(L))`.
pub struct Quadratic;

impl ElementwiseCost for Quadratic {
    const NEEDS_UNIT_INTERVAL: bool = false;
    fn c<F: Float>(a: F, y: F) -> F {
        let d = a - y;
        d * d / F::cast(2.0)
    }
    fn dc_da<F: Float>(a: F, y: F) -> F {
        a - y
    }
}
