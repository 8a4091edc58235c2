//! What one epoch did: the report [`crate::Trainer`] returns and keeps, and the one-line JSON
//! object of `backprop train --metrics` built from it.

use crate::train::evaluate::Evaluation;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What one epoch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch number, from 1.
    pub epoch: usize,
    /// The mean cost of the training examples, each taken when its mini-batch was processed
    /// (before that mini-batch's update, so it costs no extra pass), plus the L2/L1 penalty of
    /// the weights at the end of the epoch.
    pub train_cost: f64,
    /// Seconds spent training (shuffling, mini-batches, updates); evaluation excluded.
    pub train_seconds: f64,
    /// η used in this epoch.
    pub eta: f64,
    /// Cost and accuracy on the validation split, when there is one.
    pub validation: Option<Evaluation>,
    /// Cost and accuracy on the test data, when given.
    pub test: Option<Evaluation>,
}

impl EpochReport {
    /// The `--metrics` line of this epoch: `epoch`, `train_seconds`, `train_cost`, `test_cost`,
    /// `test_correct`, `test_total`, `test_accuracy`, `eta` and `validation_accuracy` (null
    /// where there is no such split).
    pub fn metrics(&self) -> Value {
        let test = self.test.as_ref();
        json!({
            "epoch": self.epoch,
            "train_seconds": self.train_seconds,
            "train_cost": self.train_cost,
            "test_cost": test.map(|t| t.cost),
            "test_correct": test.map(|t| t.correct),
            "test_total": test.map(|t| t.total),
            "test_accuracy": test.map(Evaluation::accuracy),
            "eta": self.eta,
            "validation_accuracy": self.validation.as_ref().map(Evaluation::accuracy),
        })
    }
}
