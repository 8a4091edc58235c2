//! Stochastic gradient descent over mini-batches (the lecture's step 6), epoch by epoch.

use crate::init;
use crate::{Dataset, Error, Evaluation, Float, Network, Result, Workspace};
use rand::seq::SliceRandom;
use std::ops::ControlFlow;
use std::time::Instant;

/// The settings of plain mini-batch SGD.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Passes over the training set (default 30).
    pub epochs: usize,
    /// `m`, the mini-batch size; the last mini-batch of an epoch may be smaller (default 10).
    pub batch_size: usize,
    /// `η`, the learning rate (default 3.0).
    pub eta: f64,
    /// The seed of the shuffle before each epoch (default 0).
    pub seed: u64,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd {
            epochs: 30,
            batch_size: 10,
            eta: 3.0,
            seed: 0,
        }
    }
}

impl Sgd {
    /// Refuses `epochs = 0`, `batch_size = 0` and an `η` that is not a finite positive number.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::InvalidSetting(
                "the number of epochs must be at least 1".into(),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidSetting(
                "the mini-batch size must be at least 1".into(),
            ));
        }
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(Error::InvalidSetting(format!(
                "the learning rate η must be a finite number > 0, got {}",
                self.eta
            )));
        }
        Ok(())
    }
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch number, from 1.
    pub epoch: usize,
    /// The mean cost of the training examples, each taken when its mini-batch was processed
    /// (before that mini-batch's update), so it costs no extra pass over the data.
    pub train_cost: f64,
    /// Seconds spent training (shuffling, mini-batches, updates); evaluation excluded.
    pub train_seconds: f64,
    /// Cost and accuracy on the test data, when given.
    pub test: Option<Evaluation>,
}

/// Watches training: called after each mini-batch and each epoch.
pub trait Observer {
    /// After mini-batch `done` of `total` in the current epoch.
    fn batch_done(&mut self, _done: usize, _total: usize) {}
    /// After each epoch; `ControlFlow::Break` stops training after this epoch.
    fn epoch_done(&mut self, _report: &EpochReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// An observer that watches nothing.
impl Observer for () {}

impl<F: Float> Network<F> {
    /// Trains by SGD and returns one report per epoch. See [`Network::train_with`].
    pub fn train(
        &mut self,
        train: &Dataset,
        test: Option<&Dataset>,
        sgd: &Sgd,
    ) -> Result<Vec<EpochReport>> {
        self.train_with(train, test, sgd, &mut ())
    }

    /// Trains by SGD: each epoch shuffles the training set (seeded), splits it into mini-batches
    /// of `m` examples, and for each mini-batch computes the mean gradient by the matrix path and
    /// moves `W ← W − η ∇W`, `b ← b − η ∇b`. Stops with [`Error::Diverged`] when the cost becomes
    /// NaN or infinite (the network is then unusable; callers keep their saved copy).
    pub fn train_with(
        &mut self,
        train: &Dataset,
        test: Option<&Dataset>,
        sgd: &Sgd,
        observer: &mut dyn Observer,
    ) -> Result<Vec<EpochReport>> {
        sgd.validate()?;
        train.check_fits(self)?;
        if let Some(test) = test {
            test.check_fits(self)?;
        }
        if train.is_empty() {
            return Err(Error::InvalidSetting("the training set is empty".into()));
        }
        let mut ws = Workspace::new(self, sgd.batch_size.min(train.len()));
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = init::rng(sgd.seed, 1);
        let mut reports = Vec::with_capacity(sgd.epochs);
        for epoch in 1..=sgd.epochs {
            let start = Instant::now();
            order.shuffle(&mut rng);
            let train_cost = self.epoch(train, &order, sgd, &mut ws, observer) / train.len() as f64;
            let train_seconds = start.elapsed().as_secs_f64();
            if !train_cost.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    cost: train_cost,
                    eta: sgd.eta,
                });
            }
            let report = EpochReport {
                epoch,
                train_cost,
                train_seconds,
                test: test.map(|t| self.evaluate(t)),
            };
            let flow = observer.epoch_done(&report);
            reports.push(report);
            if flow.is_break() {
                break;
            }
        }
        Ok(reports)
    }

    /// One pass over the mini-batches of `order`; returns the summed cost.
    fn epoch(
        &mut self,
        train: &Dataset,
        order: &[usize],
        sgd: &Sgd,
        ws: &mut Workspace<F>,
        observer: &mut dyn Observer,
    ) -> f64 {
        let eta = F::cast(sgd.eta);
        let total = order.len().div_ceil(sgd.batch_size);
        let mut cost = 0f64;
        for (i, batch) in order.chunks(sgd.batch_size).enumerate() {
            let m = batch.len();
            train.inputs_into(batch, ws.inputs_mut(m));
            train.targets_into(batch, ws.targets_mut(m));
            self.forward_batch(ws, m);
            cost += self.backward_batch(ws, m).as_f64();
            self.gradient_descent_step(ws.gradient(), eta);
            observer.batch_done(i + 1, total);
        }
        cost
    }
}
