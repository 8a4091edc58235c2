//! Activation functions σ, each beside its derivative σ′ (one small file each).
//!
//! The lecture's σ is the logistic sigmoid; BP2 holds for any σ, so the hidden and output layers
//! may each use any of [`Activation`]'s variants (softmax only at the output).

mod identity;
mod relu;
mod sigmoid;
mod softmax;
mod tanh;

pub use identity::Identity;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax::{softmax, softmax_backward, softmax_in_place};
pub use tanh::Tanh;

use crate::kernel::float::Float;
use ndarray::{ArrayView1, ArrayViewMut1, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

/// An activation that acts on each neuron alone: `a_i = σ(z_i)`.
pub trait Elementwise {
    /// `σ(z)`.
    fn sigma<F: Float>(z: F) -> F;
    /// `σ'(z)`, the derivative, used by BP1 and BP2.
    fn sigma_prime<F: Float>(z: F) -> F;
    /// The same `σ'(z)` written in terms of `a = σ(z)`; the matrix path keeps `a` and not `z`.
    fn sigma_prime_of_a<F: Float>(a: F) -> F;
}

/// The activation of a layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `1 / (1 + e^(−z))`, the lecture's σ (default).
    #[default]
    Sigmoid,
    /// `tanh z`.
    Tanh,
    /// `max(0, z)`.
    Relu,
    /// `z`.
    Identity,
    /// `e^(z_i) / Σ_k e^(z_k)`: output layer only.
    Softmax,
}

/// Runs `$body` with `$t` bound to the [`Elementwise`] type of `$act` (softmax is handled apart).
macro_rules! with_elementwise {
    ($act:expr, $t:ident => $body:expr, softmax => $soft:expr) => {
        match $act {
            Activation::Sigmoid => {
                type $t = Sigmoid;
                $body
            }
            Activation::Tanh => {
                type $t = Tanh;
                $body
            }
            Activation::Relu => {
                type $t = Relu;
                $body
            }
            Activation::Identity => {
                type $t = Identity;
                $body
            }
            Activation::Softmax => $soft,
        }
    };
}

impl Activation {
    /// Every activation, in a fixed order (for tests and `--help`).
    pub const ALL: [Activation; 5] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::Identity,
        Activation::Softmax,
    ];

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Identity => "identity",
            Activation::Softmax => "softmax",
        }
    }

    /// The activation with this [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether every `a` lies strictly between 0 and 1 (what the cross-entropy cost needs).
    pub fn is_unit_interval(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Softmax)
    }

    /// `a = σ(z)` for one layer (step 2 of the lecture).
    pub fn sigma<F: Float>(self, z: ArrayView1<'_, F>, mut a: ArrayViewMut1<'_, F>) {
        with_elementwise!(self, S => Zip::from(&mut a).and(&z).for_each(|a, &z| *a = S::sigma(z)),
            softmax => softmax(z, a))
    }

    /// `σ'(z)` for one neuron. Softmax has no per-neuron derivative (its Jacobian is handled by
    /// [`softmax_backward`]), so it returns `None`.
    pub fn sigma_prime<F: Float>(self, z: F) -> Option<F> {
        with_elementwise!(self, S => Some(S::sigma_prime(z)), softmax => None)
    }

    /// `A ← σ(A)` row by row, in place, for a mini-batch with one example per row.
    pub(crate) fn sigma_rows_in_place<F: Float>(self, mut z: ArrayViewMut2<'_, F>) {
        with_elementwise!(self, S => z.mapv_inplace(S::sigma), softmax => z.rows_mut().into_iter().for_each(softmax_in_place))
    }

    /// `D ← D ∘ σ'(Z)` for a mini-batch, with σ' computed from the activations `A = σ(Z)`.
    /// Softmax is not elementwise and is left to BP1; calling this on it is a logic error.
    pub(crate) fn times_sigma_prime_of_a<F: Float>(
        self,
        mut d: ArrayViewMut2<'_, F>,
        a: ndarray::ArrayView2<'_, F>,
    ) {
        with_elementwise!(self, S => Zip::from(&mut d).and(&a).for_each(|d, &a| *d *= S::sigma_prime_of_a(a)),
            softmax => unreachable!("softmax is an output activation; BP1 handles its Jacobian"))
    }
}

impl Activation {
    /// Inverted dropout on a hidden layer: `D` holds the mask `M` (0, or `1/(1 − p)` for a kept
    /// neuron) on entry; on return `A ← A ∘ M` and `D ← M ∘ σ'(Z)`, the factor BP2 then uses in
    /// place of `σ'(Z)`.
    pub(crate) fn apply_dropout<F: Float>(
        self,
        mut a: ArrayViewMut2<'_, F>,
        mut d: ArrayViewMut2<'_, F>,
    ) {
        with_elementwise!(self, S => Zip::from(&mut a).and(&mut d).for_each(|a, d| {
                let sigma_prime = S::sigma_prime_of_a(*a);
                *a *= *d;
                *d *= sigma_prime;
            }),
            softmax => unreachable!("dropout applies to hidden layers, never softmax"))
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// σ' of every elementwise activation matches a central difference of σ, in f64.
    #[test]
    fn sigma_prime_is_the_derivative_of_sigma() {
        for act in [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::Identity,
        ] {
            for &z in &[-3.0f64, -0.7, 0.3, 2.5] {
                let h = 1e-6;
                let zs = ndarray::arr1(&[z - h, z + h]);
                let mut a = ndarray::Array1::zeros(2);
                act.sigma(zs.view(), a.view_mut());
                let numeric = (a[1] - a[0]) / (2.0 * h);
                let exact = act.sigma_prime(z).unwrap();
                assert!(
                    (numeric - exact).abs() < 1e-8,
                    "{act} at {z}: {numeric} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn softmax_sums_to_one_and_does_not_overflow() {
        let z = ndarray::arr1(&[1000.0f64, 1001.0, 999.0]);
        let mut a = ndarray::Array1::zeros(3);
        Activation::Softmax.sigma(z.view(), a.view_mut());
        assert!((a.sum() - 1.0).abs() < 1e-15);
        assert!(a[1] > a[0] && a[0] > a[2]);
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(Activation::from_name(act.name()), Some(act));
        }
        assert_eq!(Activation::from_name("swish"), None);
    }
}
