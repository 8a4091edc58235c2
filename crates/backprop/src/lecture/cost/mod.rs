//! Cost functions `C_(x,y)`, each beside its gradient `∂C/∂a` (one small file each), and BP1.
//!
//! Every cost here is a sum over output neurons, `C = Σ_i c(a_i, y_i)`, so one example's cost and
//! `∂C/∂a` are computed neuron by neuron. The lecture's cost is [`Cost::Quadratic`].
//!
//! **Adding a cost** is a two-file change: its own file (a unit type implementing
//! [`ElementwiseCost`], `c` beside `∂c/∂a`) and one line in the `costs!` registry below.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::activation::{softmax_backward, Activation};
use ndarray::{ArrayView, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Dimension, Zip};
use serde::{Deserialize, Serialize};

/// A cost that is a sum over output neurons: `C = Σ_i c(a_i, y_i)`.
pub trait ElementwiseCost {
    /// Whether the cost takes logarithms of `a` and `1 − a`, so that it is defined only for
    /// outputs in (0, 1).
    const NEEDS_UNIT_INTERVAL: bool = true;
    /// One neuron's term `c(a_i, y_i)` of the cost.
    fn c<F: Float>(a: F, y: F) -> F;
    /// `∂C/∂a_i`.
    fn dc_da<F: Float>(a: F, y: F) -> F;
    /// Whether BP1 with this output activation simplifies to `δ^(L) = a^(L) − y` (σ' cancels).
    fn cancels_sigma_prime(_output: Activation) -> bool {
        false
    }
}

/// The registry of costs: `Variant = module::Type, "name";` declares the module and generates
/// [`Cost`], its list, its names and its dispatch.
macro_rules! costs {
    ($($(#[$doc:meta])* $variant:ident = $module:ident::$ty:ident, $name:literal;)*) => {
        $(mod $module;
        pub use $module::$ty;)*

        /// The cost a network is trained to minimise.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Cost {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Cost {
            /// Every cost, in a fixed order.
            pub const ALL: [Cost; [$($name,)*].len()] = [$(Cost::$variant,)*];

            /// The name used on the command line and in model files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Cost::$variant => $name,)*
                }
            }

            fn needs_unit_interval(self) -> bool {
                match self {
                    $(Cost::$variant => <$ty>::NEEDS_UNIT_INTERVAL,)*
                }
            }

            /// Whether BP1 for this cost and output activation simplifies to
            /// `δ^(L) = a^(L) − y` (cross-entropy with sigmoid, log-likelihood with softmax).
            pub fn cancels_sigma_prime(self, output: Activation) -> bool {
                match self {
                    $(Cost::$variant => <$ty>::cancels_sigma_prime(output),)*
                }
            }

            /// `C_(x,y)` for one example (`a`, `y` of length `n_L`), or `Σ_x C_(x,y)` over a
            /// mini-batch held one example per row (`a`, `y` of shape `(m, n_L)`): every cost
            /// here is a sum over output neurons, so both are the same sum.
            pub fn value<F: Float, D: Dimension>(
                self,
                a: ArrayView<'_, F, D>,
                y: ArrayView<'_, F, D>,
            ) -> F {
                match self {
                    $(Cost::$variant => value::<$ty, F, D>(a, y),)*
                }
            }

            /// `∂C/∂a` for one example or a mini-batch (one example per row) (for the quadratic
            /// cost, Lemma 1: `a^(L) − y`).
            pub fn gradient_a<F: Float, D: Dimension>(
                self,
                a: ArrayView<'_, F, D>,
                y: ArrayView<'_, F, D>,
                dc_da: ndarray::ArrayViewMut<'_, F, D>,
            ) {
                match self {
                    $(Cost::$variant => gradient_a::<$ty, F, D>(a, y, dc_da),)*
                }
            }
        }
    };
}

costs! {
    /// `‖a − y‖² / 2`, the lecture's cost (default).
    #[default]
    Quadratic = quadratic::Quadratic, "quadratic";
    /// `−Σ [y ln a + (1 − y) ln(1 − a)]`, for sigmoid (or softmax) outputs.
    CrossEntropy = cross_entropy::CrossEntropy, "cross-entropy";
    /// `−ln a_y`, for softmax (or sigmoid) outputs.
    LogLikelihood = log_likelihood::LogLikelihood, "log-likelihood";
}

/// `δ ← a − y`: BP1 where σ' cancels.
fn a_minus_y<F: Float, D: Dimension>(
    a: ArrayView<'_, F, D>,
    y: ArrayView<'_, F, D>,
    mut delta: ndarray::ArrayViewMut<'_, F, D>,
) {
    Zip::from(&mut delta)
        .and(&a)
        .and(&y)
        .for_each(|d, &a, &y| *d = a - y);
}

fn value<C: ElementwiseCost, F: Float, D: Dimension>(
    a: ArrayView<'_, F, D>,
    y: ArrayView<'_, F, D>,
) -> F {
    Zip::from(&a)
        .and(&y)
        .fold(F::zero(), |s, &a, &y| s + C::c(a, y))
}

fn gradient_a<C: ElementwiseCost, F: Float, D: Dimension>(
    a: ArrayView<'_, F, D>,
    y: ArrayView<'_, F, D>,
    mut dc_da: ndarray::ArrayViewMut<'_, F, D>,
) {
    Zip::from(&mut dc_da)
        .and(&a)
        .and(&y)
        .for_each(|g, &a, &y| *g = C::dc_da(a, y));
}

/// A cost by name (`"quadratic"`, …), or [`Error::UnknownName`] listing them.
impl std::str::FromStr for Cost {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        Self::from_name(name)
            .ok_or_else(|| Error::unknown_name("cost", name, &Self::ALL.map(Self::name)))
    }
}

impl Cost {
    /// The cost with this [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Refuses an output activation for which this cost is undefined (a logarithm of a value
    /// that may be ≤ 0 or ≥ 1).
    pub fn check_output(self, output: Activation) -> Result<()> {
        if !self.needs_unit_interval() || output.is_unit_interval() {
            Ok(())
        } else {
            Err(Error::InvalidNetwork(format!(
                "the {self} cost needs outputs in (0, 1): use a sigmoid or softmax output layer, not {output}"
            )))
        }
    }

    /// Refuses a target row `y` this cost is not defined for with this output activation: the
    /// logarithmic costs need every `y_i` in `[0, 1]`, and the log-likelihood with a softmax
    /// output needs `Σ y_i = 1` (to 1e-3), since its BP1 `a − y` assumes it. Returns why not.
    /// One-hot rows always pass.
    pub fn check_target(self, output: Activation, y: &[f32]) -> std::result::Result<(), String> {
        if !self.needs_unit_interval() {
            return Ok(());
        }
        if let Some(v) = y.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(format!(
                "a target value {v} outside [0, 1], which the {self} cost is not defined for"
            ));
        }
        let sum: f64 = y.iter().map(|&v| f64::from(v)).sum();
        if output == Activation::Softmax
            && self.cancels_sigma_prime(output)
            && (sum - 1.0).abs() > 1e-3
        {
            return Err(format!(
                "target values that sum to {sum}, but the {self} cost with a softmax output needs them to sum to 1 (a probability for each class)"
            ));
        }
        Ok(())
    }

    /// **BP1**, the output error `δ^(L) = ∇_a C ∘ σ'(z^(L))` (for the quadratic cost BP1':
    /// `δ^(L) = (a^(L) − y) ∘ σ'(z^(L))`); for a softmax output `∘ σ'` becomes the product with
    /// its Jacobian, and where σ' cancels ([`Cost::cancels_sigma_prime`]) `δ^(L) = a^(L) − y`.
    pub fn output_error<F: Float>(
        self,
        output: Activation,
        z: ArrayView1<'_, F>,
        a: ArrayView1<'_, F>,
        y: ArrayView1<'_, F>,
        mut delta: ArrayViewMut1<'_, F>,
    ) {
        if self.cancels_sigma_prime(output) {
            return a_minus_y(a, y, delta);
        }
        self.gradient_a(a, y, delta.view_mut());
        match output {
            Activation::Softmax => softmax_backward(a, delta),
            _ => Zip::from(&mut delta).and(&z).for_each(|d, &z| {
                *d *= output.sigma_prime(z).unwrap_or_else(F::one);
            }),
        }
    }

    /// BP1 for a mini-batch, one example per row, with σ' computed from `A = σ(Z)`.
    pub(crate) fn output_error_batch<F: Float>(
        self,
        output: Activation,
        a: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        mut delta: ArrayViewMut2<'_, F>,
    ) {
        if self.cancels_sigma_prime(output) {
            return a_minus_y(a, y, delta);
        }
        self.gradient_a(a, y, delta.view_mut());
        match output {
            Activation::Softmax => {
                for (d, a) in delta.rows_mut().into_iter().zip(a.rows()) {
                    softmax_backward(a, d);
                }
            }
            _ => output.times_sigma_prime_of_a(delta, a),
        }
    }
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    /// `∂C/∂a` of every cost matches a central difference of `C`, in f64.
    #[test]
    fn gradient_a_is_the_derivative_of_the_cost() {
        let y = arr1(&[0.0f64, 1.0, 0.0]);
        let a = arr1(&[0.2f64, 0.7, 0.4]);
        for cost in Cost::ALL {
            let mut g = arr1(&[0.0f64; 3]);
            cost.gradient_a(a.view(), y.view(), g.view_mut());
            for i in 0..3 {
                let h = 1e-6;
                let (mut up, mut down) = (a.clone(), a.clone());
                up[i] += h;
                down[i] -= h;
                let numeric = (cost.value(up.view(), y.view()) - cost.value(down.view(), y.view()))
                    / (2.0 * h);
                assert!(
                    (numeric - g[i]).abs() < 1e-7,
                    "{cost} neuron {i}: {numeric} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn quadratic_cost_is_half_the_squared_distance() {
        let c = Cost::Quadratic.value(arr1(&[0.5f64, 0.0]).view(), arr1(&[1.0, 1.0]).view());
        assert_eq!(c, (0.25 + 1.0) / 2.0);
    }

    #[test]
    fn logarithmic_costs_refuse_outputs_outside_the_unit_interval() {
        assert!(Cost::CrossEntropy
            .check_output(Activation::Identity)
            .is_err());
        assert!(Cost::LogLikelihood.check_output(Activation::Relu).is_err());
        assert!(Cost::LogLikelihood
            .check_output(Activation::Softmax)
            .is_ok());
        assert!(Cost::Quadratic.check_output(Activation::Tanh).is_ok());
    }
}
