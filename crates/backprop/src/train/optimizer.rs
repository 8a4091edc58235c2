//! How a mean gradient moves the parameters: plain gradient descent (the lecture's), momentum,
//! Nesterov momentum, and Adam. Each keeps its state (velocities, moments) beside the network.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::gradient::{descend, Gradient};
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use ndarray::{Array1, Array2, Zip};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The update rule, applied to every weight and bias `θ` with its mean gradient `g`.
///
/// In JSON (checkpoints, model files): `{"rule": "momentum", "mu": 0.9}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "lowercase")]
pub enum Optimizer {
    /// `θ ← θ − η g` (the lecture's step; default).
    #[default]
    Sgd,
    /// Classic momentum: `v ← μ v − η g`, `θ ← θ + v`.
    Momentum {
        /// μ, the friction (0 is plain SGD).
        mu: f64,
    },
    /// Nesterov momentum, in the form that needs no second gradient:
    /// `v' ← μ v − η g`, `θ ← θ − μ v + (1 + μ) v'`.
    Nesterov {
        /// μ, the friction.
        mu: f64,
    },
    /// Adam: `m ← β₁ m + (1 − β₁) g`, `s ← β₂ s + (1 − β₂) g²`,
    /// `θ ← θ − η m̂ / (√ŝ + ε)` with `m̂ = m / (1 − β₁ᵗ)`, `ŝ = s / (1 − β₂ᵗ)`, `t` the step.
    Adam {
        /// β₁, the decay of the first moment (0.9 usual).
        beta1: f64,
        /// β₂, the decay of the second moment (0.999 usual).
        beta2: f64,
        /// ε, added to the denominator (1e-8 usual).
        epsilon: f64,
    },
}

/// The rules by name, without their constants (what `--optimizer` chooses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// [`Optimizer::Sgd`].
    Sgd,
    /// [`Optimizer::Momentum`].
    Momentum,
    /// [`Optimizer::Nesterov`].
    Nesterov,
    /// [`Optimizer::Adam`].
    Adam,
}

impl Rule {
    /// Every rule, in a fixed order.
    pub const ALL: [Rule; 4] = [Rule::Sgd, Rule::Momentum, Rule::Nesterov, Rule::Adam];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Sgd => "sgd",
            Rule::Momentum => "momentum",
            Rule::Nesterov => "nesterov",
            Rule::Adam => "adam",
        }
    }
}

/// A rule by name (`"sgd"`, `"momentum"`, `"nesterov"`, `"adam"`), or [`Error::UnknownName`]
/// listing them.
impl std::str::FromStr for Rule {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| Error::unknown_name("optimizer", name, &Self::ALL.map(Self::name)))
    }
}

impl Optimizer {
    /// The usual momentum μ.
    pub const DEFAULT_MU: f64 = 0.9;
    /// Adam's usual β₁.
    pub const DEFAULT_BETA1: f64 = 0.9;
    /// Adam's usual β₂.
    pub const DEFAULT_BETA2: f64 = 0.999;
    /// Adam's usual ε.
    pub const DEFAULT_EPSILON: f64 = 1e-8;
    /// The smallest ε accepted: below it ε rounds to 0 in f32 and the update divides by zero.
    pub const MIN_EPSILON: f64 = 1e-30;

    /// Adam with its usual constants.
    pub fn adam() -> Self {
        Optimizer::Adam {
            beta1: Self::DEFAULT_BETA1,
            beta2: Self::DEFAULT_BETA2,
            epsilon: Self::DEFAULT_EPSILON,
        }
    }

    /// The rule `rule` with these constants (`mu` for the momentum rules, the others for Adam).
    pub fn from_rule(rule: Rule, mu: f64, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        match rule {
            Rule::Sgd => Optimizer::Sgd,
            Rule::Momentum => Optimizer::Momentum { mu },
            Rule::Nesterov => Optimizer::Nesterov { mu },
            Rule::Adam => Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            },
        }
    }

    /// The rule, without its constants.
    pub fn rule(&self) -> Rule {
        match self {
            Optimizer::Sgd => Rule::Sgd,
            Optimizer::Momentum { .. } => Rule::Momentum,
            Optimizer::Nesterov { .. } => Rule::Nesterov,
            Optimizer::Adam { .. } => Rule::Adam,
        }
    }
}

/// `plain SGD`, `momentum μ = 0.9`, `Nesterov μ = 0.9`, `Adam β₁ = 0.9, β₂ = 0.999, ε = 1e-8`.
impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Optimizer::Sgd => write!(f, "plain SGD"),
            Optimizer::Momentum { mu } => write!(f, "momentum μ = {mu}"),
            Optimizer::Nesterov { mu } => write!(f, "Nesterov μ = {mu}"),
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => write!(f, "Adam β₁ = {beta1}, β₂ = {beta2}, ε = {epsilon:e}"),
        }
    }
}

/// What an optimizer remembers between steps: one buffer per parameter tensor for the velocity
/// or first moment, another for Adam's second moment, and the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<F: Float = f32> {
    /// `v` (momentum, Nesterov) or `m` (Adam) of every `W^(l)`; zero at the start.
    pub first_w: Layers<Array2<F>>,
    /// The same for every `b^(l)`.
    pub first_b: Layers<Array1<F>>,
    /// Adam's `s` of every `W^(l)`.
    pub second_w: Layers<Array2<F>>,
    /// Adam's `s` of every `b^(l)`.
    pub second_b: Layers<Array1<F>>,
    /// Steps taken so far, `t`.
    pub step: u64,
}

impl<F: Float> OptimizerState<F> {
    /// A zero state shaped like `net` (Adam's second moments stay empty for other rules).
    pub fn new(net: &Network<F>, optimizer: &Optimizer) -> Self {
        let zeros = Gradient::zeros(net);
        let adam = matches!(optimizer, Optimizer::Adam { .. });
        let (second_w, second_b) = if adam {
            (zeros.nabla_w.clone(), zeros.nabla_b.clone())
        } else {
            (Layers::from_vec(Vec::new()), Layers::from_vec(Vec::new()))
        };
        OptimizerState {
            first_w: zeros.nabla_w,
            first_b: zeros.nabla_b,
            second_w,
            second_b,
            step: 0,
        }
    }
}

/// Values below this are set to 0 by the rules with a state (momentum, Nesterov, Adam): every
/// gradient they read and every velocity, moment and weight they write. With an L2 penalty, a
/// weight that the data never moves (a pixel that is 0 in every image) is pulled toward 0 by
/// Adam's normalised steps and ends near 10⁻²⁷, its gradient `(λ/n) w` near 10⁻³³; from there
/// `g²` underflows and the moments become subnormal. Counted in a 784-100-10 ReLU/softmax run
/// with Adam, η = 0.001, m = 200 and scikit-learn's default `alpha` on Fashion-MNIST: from epoch 3
/// on, 6 million of the 24 million element updates of each epoch squared a gradient that
/// underflowed, and from epoch 5 a quarter of the first moments and 0.4% of `W^(2)` were
/// subnormal. Intel CPUs take a microcode assist (about 150 cycles) for such operations, which
/// is how an epoch there went from 0.29 s to 1.2 s. A weight of 2⁻⁶⁴ (5·10⁻²⁰) changes no sum of
/// an `f32` network; setting it to 0 is exact on every CPU and kernel (scalar code, one
/// comparison), so results stay the same bits everywhere. Plain SGD, whose weights the penalty
/// shrinks by `1 − ηλ/n` a step and which never get there, is left alone.
pub const TINY: f64 = 5.421010862427522e-20; // 2⁻⁶⁴

/// Adam squares a gradient only from this size up (2⁻⁵⁶), so that `(1 − β₂) g²` stays a normal
/// number; below it `g²` counts as 0.
const TINY_ROOT: f64 = 1.3877787807814457e-17; // 2⁻⁵⁶

/// Adam's second moments below this (2⁻¹⁰⁰) are set to 0.
const TINY_SQUARE: f64 = 7.888609052210118e-31; // 2⁻¹⁰⁰

/// `x`, or 0 when `|x|` is below `tiny`.
#[inline(always)]
fn flush<F: Float>(x: F, tiny: F) -> F {
    if x.abs() < tiny {
        F::zero()
    } else {
        x
    }
}

/// One parameter tensor's update, elementwise.
fn update<F: Float, D: ndarray::Dimension>(
    optimizer: &Optimizer,
    eta: F,
    t: u64,
    theta: &mut ndarray::Array<F, D>,
    g: &ndarray::Array<F, D>,
    first: &mut ndarray::Array<F, D>,
    second: Option<&mut ndarray::Array<F, D>>,
) {
    let (tiny, tiny_root, tiny_square) = (F::cast(TINY), F::cast(TINY_ROOT), F::cast(TINY_SQUARE));
    match *optimizer {
        Optimizer::Sgd => descend(theta, g, eta),
        Optimizer::Momentum { mu } => {
            let mu = F::cast(mu);
            Zip::from(theta).and(first).and(g).for_each(|w, v, &g| {
                let g = flush(g, tiny);
                *v = flush(mu * *v - eta * g, tiny);
                *w = flush(*w + *v, tiny);
            });
        }
        Optimizer::Nesterov { mu } => {
            let mu = F::cast(mu);
            Zip::from(theta).and(first).and(g).for_each(|w, v, &g| {
                let g = flush(g, tiny);
                let v_new = flush(mu * *v - eta * g, tiny);
                *w = flush(*w + (-mu * *v + (F::one() + mu) * v_new), tiny);
                *v = v_new;
            });
        }
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => {
            let second = second.expect("Adam keeps second moments");
            let (c1, c2) = (1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32));
            let (b1, b2, eps) = (F::cast(beta1), F::cast(beta2), F::cast(epsilon));
            let (c1, c2) = (F::cast(c1), F::cast(c2));
            Zip::from(theta)
                .and(first)
                .and(second)
                .and(g)
                .for_each(|w, m, s, &g| {
                    let g = flush(g, tiny);
                    let g_squared = if g.abs() < tiny_root {
                        F::zero()
                    } else {
                        g * g
                    };
                    *m = flush(b1 * *m + (F::one() - b1) * g, tiny);
                    *s = flush(b2 * *s + (F::one() - b2) * g_squared, tiny_square);
                    let (m_hat, s_hat) = (*m / c1, *s / c2);
                    *w = flush(*w - eta * m_hat / (s_hat.sqrt() + eps), tiny);
                });
        }
    }
}

impl<F: Float> Network<F> {
    /// Moves every weight and bias against its mean gradient by the rule of `optimizer`, with
    /// learning rate η; `state` carries velocities and moments from step to step.
    pub fn optimizer_step(
        &mut self,
        gradient: &Gradient<F>,
        eta: F,
        optimizer: &Optimizer,
        state: &mut OptimizerState<F>,
    ) {
        state.step += 1;
        let t = state.step;
        let adam = matches!(optimizer, Optimizer::Adam { .. });
        for l in 2..=self.num_layers() {
            let second_w = adam.then(|| &mut state.second_w[l]);
            update(
                optimizer,
                eta,
                t,
                self.weights_mut(l),
                &gradient.nabla_w[l],
                &mut state.first_w[l],
                second_w,
            );
            let second_b = adam.then(|| &mut state.second_b[l]);
            update(
                optimizer,
                eta,
                t,
                self.biases_mut(l),
                &gradient.nabla_b[l],
                &mut state.first_b[l],
                second_b,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    /// A weight the data never moves, under an L2 penalty: the estimator's setting of issue 26
    /// (`(λ/n) = alpha / batch_size = 5·10⁻⁷`). No rule may leave a subnormal number in the
    /// weights or its state: each costs a microcode assist per operation on Intel CPUs.
    #[test]
    fn a_decaying_weight_never_becomes_subnormal() {
        let rules = [
            Optimizer::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            },
            Optimizer::Momentum { mu: 0.9 },
            Optimizer::Nesterov { mu: 0.9 },
        ];
        let normal_or_zero = |x: f32| x == 0.0 || x.abs() >= f32::MIN_POSITIVE;
        for rule in rules {
            let eta = if matches!(rule, Optimizer::Adam { .. }) {
                0.001
            } else {
                0.1
            };
            let mut w = Array1::from_vec(vec![0.05f32, -0.03, 1e-3]);
            let (mut first, mut second) = (Array1::zeros(3), Array1::zeros(3));
            for t in 1..=20_000u64 {
                let g = w.mapv(|w| 5e-7f32 * w);
                let adam = matches!(rule, Optimizer::Adam { .. });
                update(
                    &rule,
                    eta,
                    t,
                    &mut w,
                    &g,
                    &mut first,
                    adam.then_some(&mut second),
                );
                for &x in w.iter().chain(&first).chain(&second) {
                    assert!(normal_or_zero(x), "{rule:?}, step {t}: {x:e}");
                }
            }
        }
    }
}
