//! Weight decay: L2 and L1 penalties on the weights (biases are not penalised).
//!
//! With `n` the size of the training set, the regularised cost is
//! `C = C₀ + (λ/2n) Σ w² + (λ₁/n) Σ |w|`, so each weight's gradient gains `(λ/n) w + (λ₁/n) sgn w`.
//! For plain SGD this is the textbook update `W ← (1 − ηλ/n) W − η ∇W C₀` (and
//! `− (ηλ₁/n) sgn W` for L1).

use crate::kernel::float::Float;
use crate::lecture::gradient::Gradient;
use crate::lecture::network::Network;

/// The penalty strengths λ (L2) and λ₁ (L1); zero for none (the default).
///
/// In JSON: `{"lambda": λ, "l1": λ₁}` (the command line's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Regularization {
    /// λ of the L2 penalty `(λ/2n) Σ w²`.
    #[serde(rename = "lambda")]
    pub l2: f64,
    /// λ₁ of the L1 penalty `(λ₁/n) Σ |w|`.
    pub l1: f64,
}

impl Regularization {
    /// Whether there is any penalty.
    pub fn is_none(&self) -> bool {
        self.l2 == 0.0 && self.l1 == 0.0
    }

    /// Refuses an L2 penalty whose decay factor `1 − ηλ/n` is not positive: such a step
    /// overshoots zero and flips (and, repeated, blows up) every weight, which would otherwise be
    /// reported only as a diverged cost.
    pub fn check_decay(&self, eta: f64, n: usize) -> crate::error::Result<()> {
        let step = eta * self.l2 / n.max(1) as f64;
        if step < 1.0 {
            return Ok(());
        }
        Err(crate::error::Error::InvalidSetting(format!(
            "the L2 decay factor 1 − ηλ/n = 1 − {eta}·{}/{n} = {:.4e} is not positive: λ must be below n/η = {:.4e}",
            self.l2,
            1.0 - step,
            n as f64 / eta
        )))
    }

    /// The penalty `(λ/2n) Σ w² + (λ₁/n) Σ |w|` over every weight of `net`.
    pub fn cost<F: Float>(&self, net: &Network<F>, n: usize) -> f64 {
        if self.is_none() {
            return 0.0;
        }
        let (mut squares, mut absolute) = (0f64, 0f64);
        for (_, w) in net.all_weights().iter() {
            w.iter().for_each(|&v| {
                let v = v.as_f64();
                squares += v * v;
                absolute += v.abs();
            });
        }
        self.l2 / (2.0 * n as f64) * squares + self.l1 / n as f64 * absolute
    }

    /// `∇W ← ∇W + (λ/n) W + (λ₁/n) sgn W` for every layer.
    pub fn add_gradient<F: Float>(&self, net: &Network<F>, n: usize, gradient: &mut Gradient<F>) {
        if self.is_none() {
            return;
        }
        let (l2, l1) = (F::cast(self.l2 / n as f64), F::cast(self.l1 / n as f64));
        for (l, nabla_w) in gradient.nabla_w.iter_mut() {
            ndarray::Zip::from(nabla_w)
                .and(net.weights(l))
                .for_each(|g, &w| {
                    *g += l2 * w + l1 * w.signum();
                });
        }
    }
}
