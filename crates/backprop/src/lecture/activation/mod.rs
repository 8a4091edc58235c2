//! Activation functions σ, each beside its derivative σ′ (one small file each).
//!
//! The lecture's σ is the logistic sigmoid; BP2 holds for any σ, so the hidden and output layers
//! may each use any of [`Activation`]'s variants (softmax only at the output).
//!
//! **Adding an activation** is a two-file change: its own file (a unit type implementing
//! [`ElementwiseActivation`], σ beside σ′) and one line in the `activations!` registry below,
//! which declares the module and makes the [`Activation`] variant, its name, its place in
//! [`Activation::ALL`] and [`Activation::HIDDEN`], and its dispatch. The command line offers
//! every registered activation and the gradient tests cover it (tests check both).

mod softmax;

pub use softmax::{softmax, softmax_backward, softmax_in_place};

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::kernel::wide;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

/// An activation that acts on each neuron alone: `a_i = σ(z_i)`.
pub trait ElementwiseActivation {
    /// Whether every `σ(z)` lies strictly between 0 and 1 (what the cross-entropy cost needs).
    const UNIT_INTERVAL: bool = false;
    /// `σ(z)`.
    fn sigma<F: Float>(z: F) -> F;
    /// `σ'(z)`, the derivative, used by BP1 and BP2.
    fn sigma_prime<F: Float>(z: F) -> F;
    /// The same `σ'(z)` written in terms of `a = σ(z)`; the matrix path keeps `a` and not `z`.
    fn sigma_prime_of_a<F: Float>(a: F) -> F;
}

/// The registry of elementwise activations: `Variant = module::Type, "name";` declares the module
/// and generates [`Activation`] (the listed variants, then `Softmax`), its lists and its dispatch.
macro_rules! activations {
    ($($(#[$doc:meta])* $variant:ident = $module:ident::$ty:ident, $name:literal;)*) => {
        $(mod $module;
        pub use $module::$ty;)*

        /// The activation of a layer.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Activation {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
            /// `e^(z_i) / Σ_k e^(z_k)`: output layer only.
            #[serde(rename = "softmax")]
            Softmax,
        }

        impl Activation {
            /// Every activation, in a fixed order (for the command line, tests and `--help`).
            pub const ALL: [Activation; [$($name,)* "softmax"].len()] =
                [$(Activation::$variant,)* Activation::Softmax];

            /// The activations a hidden layer may use: every elementwise one.
            pub const HIDDEN: [Activation; [$($name,)*].len()] = [$(Activation::$variant,)*];

            /// The name used on the command line and in model files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Activation::$variant => $name,)*
                    Activation::Softmax => "softmax",
                }
            }

            /// Whether every `a` lies strictly between 0 and 1 (what the cross-entropy cost needs).
            pub fn is_unit_interval(self) -> bool {
                match self {
                    $(Activation::$variant => <$ty>::UNIT_INTERVAL,)*
                    Activation::Softmax => true,
                }
            }

            /// `a = σ(z)` for one layer (step 2 of the lecture).
            pub fn sigma<F: Float>(self, z: ArrayView1<'_, F>, a: ArrayViewMut1<'_, F>) {
                match self {
                    $(Activation::$variant => sigma::<$ty, F>(z, a),)*
                    Activation::Softmax => softmax(z, a),
                }
            }

            /// `σ'(z)` for one neuron. Softmax has no per-neuron derivative (its Jacobian is
            /// handled by [`softmax_backward`]), so it returns `None`.
            pub fn sigma_prime<F: Float>(self, z: F) -> Option<F> {
                match self {
                    $(Activation::$variant => Some(<$ty>::sigma_prime(z)),)*
                    Activation::Softmax => None,
                }
            }

            /// `A ← σ(A)` row by row, in place, for a mini-batch with one example per row.
            pub(crate) fn sigma_rows_in_place<F: Float>(self, mut z: ArrayViewMut2<'_, F>) {
                match self {
                    $(Activation::$variant => wide::map_in_place(z, <$ty>::sigma),)*
                    Activation::Softmax => z.rows_mut().into_iter().for_each(softmax_in_place),
                }
            }

            /// `D ← D ∘ σ'(Z)` for a mini-batch, with σ' computed from the activations
            /// `A = σ(Z)`. Softmax is not elementwise and is left to BP1; calling this on it is a
            /// logic error.
            pub(crate) fn times_sigma_prime_of_a<F: Float>(
                self,
                d: ArrayViewMut2<'_, F>,
                a: ArrayView2<'_, F>,
            ) {
                match self {
                    $(Activation::$variant => times_sigma_prime_of_a::<$ty, F>(d, a),)*
                    Activation::Softmax => {
                        unreachable!("softmax is an output activation; BP1 handles its Jacobian")
                    }
                }
            }

            /// Inverted dropout on a hidden layer: `D` holds the mask `M` (0, or `1/(1 − p)` for
            /// a kept neuron) on entry; on return `A ← A ∘ M` and `D ← M ∘ σ'(Z)`, the factor BP2
            /// then uses in place of `σ'(Z)`.
            pub(crate) fn apply_dropout<F: Float>(
                self,
                a: ArrayViewMut2<'_, F>,
                d: ArrayViewMut2<'_, F>,
            ) {
                match self {
                    $(Activation::$variant => apply_dropout::<$ty, F>(a, d),)*
                    Activation::Softmax => {
                        unreachable!("dropout applies to hidden layers, never softmax")
                    }
                }
            }
        }
    };
}

activations! {
    /// `1 / (1 + e^(−z))`, the lecture's σ (default).
    #[default]
    Sigmoid = sigmoid::Sigmoid, "sigmoid";
    /// `tanh z`.
    Tanh = tanh::Tanh, "tanh";
    /// `max(0, z)`.
    Relu = relu::Relu, "relu";
    /// `z`.
    Identity = identity::Identity, "identity";
}

impl Activation {
    /// The activation with this [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The activation of a hidden layer with this name: one of [`Activation::HIDDEN`], else
    /// [`Error::UnknownName`] listing them (or, for softmax, which acts on a whole layer and
    /// serves the output only, the network builder's refusal).
    pub fn parse_hidden(name: &str) -> Result<Self> {
        match Self::from_name(name) {
            Some(Activation::Softmax) => Err(Error::InvalidNetwork(SOFTMAX_HIDDEN.into())),
            Some(a) => Ok(a),
            None => Err(Error::unknown_name(
                "hidden activation",
                name,
                &Self::HIDDEN.map(Self::name),
            )),
        }
    }

    /// Whether σ acts on each neuron alone (every activation but softmax).
    pub fn is_elementwise(self) -> bool {
        Self::HIDDEN.contains(&self)
    }
}

/// Why softmax cannot be σ of a hidden layer (the builder's and the parser's refusal).
pub const SOFTMAX_HIDDEN: &str =
    "softmax cannot be a hidden activation: it serves the output layer only, and hidden layers need an elementwise one (sigmoid, tanh, relu, identity)";

/// Any activation by name (`"sigmoid"`, …, `"softmax"`), or [`Error::UnknownName`] listing them.
impl std::str::FromStr for Activation {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        Self::from_name(name)
            .ok_or_else(|| Error::unknown_name("activation", name, &Self::ALL.map(Self::name)))
    }
}

fn sigma<S: ElementwiseActivation, F: Float>(z: ArrayView1<'_, F>, mut a: ArrayViewMut1<'_, F>) {
    Zip::from(&mut a).and(&z).for_each(|a, &z| *a = S::sigma(z));
}

fn times_sigma_prime_of_a<S: ElementwiseActivation, F: Float>(
    d: ArrayViewMut2<'_, F>,
    a: ArrayView2<'_, F>,
) {
    wide::zip_in_place(d, a, |d, a| d * S::sigma_prime_of_a(a));
}

fn apply_dropout<S: ElementwiseActivation, F: Float>(
    mut a: ArrayViewMut2<'_, F>,
    mut d: ArrayViewMut2<'_, F>,
) {
    Zip::from(&mut a).and(&mut d).for_each(|a, d| {
        let sigma_prime = S::sigma_prime_of_a(*a);
        *a *= *d;
        *d *= sigma_prime;
    });
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
        for act in Activation::HIDDEN {
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
