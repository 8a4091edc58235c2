//! The settings of training: every number and rule the lecture's step 6 and its improvements
//! need, with the lecture's defaults, checked once, written as JSON in checkpoints and model files.

use crate::error::{Error, Result};
use crate::train::optimizer::Optimizer;
use crate::train::regularization::Regularization;
use crate::train::schedule::Schedule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The settings of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Passes over the training set (default 30).
    pub epochs: usize,
    /// `m`, the mini-batch size; the last mini-batch of an epoch may be smaller (default 10).
    pub batch_size: usize,
    /// `η`, the learning rate (default 3.0).
    pub eta: f64,
    /// The seed of the shuffles and dropout masks (default 0).
    pub seed: u64,
    /// The update rule (default plain gradient descent, the lecture's).
    pub optimizer: Optimizer,
    /// L2 / L1 weight penalties (default none); in JSON, its `lambda` and `l1` sit beside the
    /// other settings.
    #[serde(flatten)]
    pub regularization: Regularization,
    /// How η changes between epochs (default constant).
    pub schedule: Schedule,
    /// The probability `p` of dropping a hidden neuron during training (default 0: no dropout).
    pub dropout: f64,
    /// Stop when the validation accuracy has not improved for this many epochs, and keep the
    /// best network (default: never).
    pub early_stop: Option<usize>,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: Self::DEFAULT_EPOCHS,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            eta: Self::DEFAULT_ETA,
            seed: 0,
            optimizer: Optimizer::Sgd,
            regularization: Regularization::default(),
            schedule: Schedule::Constant,
            dropout: 0.0,
            early_stop: None,
        }
    }
}

impl TrainSettings {
    /// The lecture's number of epochs.
    pub const DEFAULT_EPOCHS: usize = 30;
    /// The lecture's mini-batch size `m`.
    pub const DEFAULT_BATCH_SIZE: usize = 10;
    /// The lecture's learning rate η.
    pub const DEFAULT_ETA: f64 = 3.0;
    /// Adam's usual learning rate (Kingma and Ba): Adam steps each weight by about η whatever
    /// the gradient's size, so the lecture's η = 3 throws the network to saturation at once.
    pub const DEFAULT_ADAM_ETA: f64 = 0.001;

    /// The default η for `optimizer`: [`Self::DEFAULT_ADAM_ETA`] for Adam, the lecture's
    /// [`Self::DEFAULT_ETA`] for SGD, momentum and Nesterov (which scale the gradient).
    pub fn default_eta(optimizer: &Optimizer) -> f64 {
        match optimizer {
            Optimizer::Adam { .. } => Self::DEFAULT_ADAM_ETA,
            _ => Self::DEFAULT_ETA,
        }
    }
    /// The fraction of the training data held out for validation when early stopping or
    /// halve-on-plateau is asked for without a validation split (as scikit-learn and Keras do).
    pub const DEFAULT_VALIDATION_FRACTION: f64 = 0.1;

    /// The lecture's plain SGD with these numbers.
    pub fn plain(epochs: usize, batch_size: usize, eta: f64, seed: u64) -> Self {
        TrainSettings {
            epochs,
            batch_size,
            eta,
            seed,
            ..TrainSettings::default()
        }
    }

    /// The `training` metadata entry of a model file, as every front writes it: these settings
    /// as JSON (their serde form) with `data` (what was trained on) and `init` (the
    /// initialisation's name) added, so that a model file says how to train it again.
    pub fn to_metadata(&self, data: &str, init: &str) -> Result<BTreeMap<String, String>> {
        let mut json = serde_json::to_value(self).map_err(|e| {
            Error::InvalidSetting(format!("cannot write the settings as JSON: {e}"))
        })?;
        json["data"] = data.into();
        json["init"] = init.into();
        Ok(BTreeMap::from([("training".to_string(), json.to_string())]))
    }

    /// Refuses settings out of range.
    pub fn validate(&self) -> Result<()> {
        match self.problem() {
            Some((_, message)) => Err(Error::InvalidSetting(message)),
            None => Ok(()),
        }
    }

    /// The first setting out of range, if any: the option's name (its keyword, as
    /// [`crate::train::options`] names options: `eta`, `momentum`, `beta1`…) and what is wrong.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let r = &self.regularization;
        let unit = |v: f64| (0.0..1.0).contains(&v);
        let checks: [(&'static str, bool, String); 7] = [
            (
                "epochs",
                self.epochs >= 1,
                "the number of epochs must be at least 1".into(),
            ),
            (
                "early_stop",
                self.early_stop != Some(0),
                "early stopping needs a patience of at least 1 epoch".into(),
            ),
            (
                "batch_size",
                self.batch_size >= 1,
                "the mini-batch size must be at least 1".into(),
            ),
            (
                "eta",
                self.eta.is_finite() && self.eta > 0.0,
                format!(
                    "the learning rate η must be a finite number > 0, got {}",
                    self.eta
                ),
            ),
            (
                "dropout",
                unit(self.dropout),
                format!(
                    "the dropout probability must be in [0, 1), got {}",
                    self.dropout
                ),
            ),
            (
                "lambda",
                r.l2 >= 0.0 && r.l2.is_finite(),
                format!("λ must be finite and ≥ 0, got {}", r.l2),
            ),
            (
                "l1",
                r.l1 >= 0.0 && r.l1.is_finite(),
                format!("λ₁ must be finite and ≥ 0, got {}", r.l1),
            ),
        ];
        if let Some((name, _, message)) = checks.into_iter().find(|(_, ok, _)| !ok) {
            return Some((name, message));
        }
        match self.optimizer {
            Optimizer::Momentum { mu } | Optimizer::Nesterov { mu } if !unit(mu) => {
                Some(("momentum", format!("the momentum μ must be in [0, 1), got {mu}")))
            }
            Optimizer::Adam { beta1, .. } if !unit(beta1) => {
                Some(("beta1", format!("Adam's β₁ must be in [0, 1), got {beta1}")))
            }
            Optimizer::Adam { beta2, .. } if !unit(beta2) => {
                Some(("beta2", format!("Adam's β₂ must be in [0, 1), got {beta2}")))
            }
            Optimizer::Adam { epsilon, .. }
                if !(epsilon >= Optimizer::MIN_EPSILON && epsilon.is_finite()) =>
            {
                Some(("epsilon", format!("Adam's ε must be finite and at least {:e} (smaller vanishes in f32), got {epsilon}", Optimizer::MIN_EPSILON)))
            }
            _ => None,
        }
    }

    /// Whether a validation split is needed (early stopping, halve-on-plateau).
    pub fn needs_validation(&self) -> bool {
        self.early_stop.is_some() || matches!(self.schedule, Schedule::HalveOnPlateau { .. })
    }
}

/// `plain SGD`, `momentum μ = 0.9, L2 λ = 5, dropout 0.2`, …: the update rule and the
/// improvements in use (the numbers of epochs, `m`, η and the seed are shown apart).
impl fmt::Display for TrainSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.optimizer)?;
        if self.regularization.l2 > 0.0 {
            write!(f, ", L2 λ = {}", self.regularization.l2)?;
        }
        if self.regularization.l1 > 0.0 {
            write!(f, ", L1 λ₁ = {}", self.regularization.l1)?;
        }
        if self.dropout > 0.0 {
            write!(f, ", dropout {}", self.dropout)?;
        }
        if self.schedule != Schedule::Constant {
            write!(f, ", η schedule {}", self.schedule)?;
        }
        if let Some(n) = self.early_stop {
            write!(f, ", early stop after {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON of checkpoints and model files: flat, with the names of the command line.
    #[test]
    fn settings_round_trip_through_json() {
        let settings = TrainSettings {
            optimizer: Optimizer::adam(),
            regularization: Regularization { l2: 5.0, l1: 0.5 },
            schedule: Schedule::Step {
                every: 10,
                factor: 0.5,
            },
            dropout: 0.2,
            early_stop: Some(3),
            ..TrainSettings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["lambda"], 5.0);
        assert_eq!(json["optimizer"]["rule"], "adam");
        assert_eq!(json["optimizer"]["beta2"], 0.999);
        assert_eq!(json["schedule"], "step:10:0.5");
        let back: TrainSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, settings);
        assert_eq!(
            settings.to_string(),
            "Adam β₁ = 0.9, β₂ = 0.999, ε = 1e-8, L2 λ = 5, L1 λ₁ = 0.5, dropout 0.2, η schedule step:10:0.5, early stop after 3"
        );
    }
}
