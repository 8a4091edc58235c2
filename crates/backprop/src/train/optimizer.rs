//! How a mean gradient moves the parameters: plain gradient descent (the lecture's), momentum,
//! Nesterov momentum, and Adam. Each keeps its state (velocities, moments) beside the network.

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
    match *optimizer {
        Optimizer::Sgd => descend(theta, g, eta),
        Optimizer::Momentum { mu } => {
            let mu = F::cast(mu);
            Zip::from(theta).and(first).and(g).for_each(|w, v, &g| {
                *v = mu * *v - eta * g;
                *w += *v;
            });
        }
        Optimizer::Nesterov { mu } => {
            let mu = F::cast(mu);
            Zip::from(theta).and(first).and(g).for_each(|w, v, &g| {
                let v_new = mu * *v - eta * g;
                *w += -mu * *v + (F::one() + mu) * v_new;
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
                    *m = b1 * *m + (F::one() - b1) * g;
                    *s = b2 * *s + (F::one() - b2) * g * g;
                    let (m_hat, s_hat) = (*m / c1, *s / c2);
                    *w -= eta * m_hat / (s_hat.sqrt() + eps);
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
