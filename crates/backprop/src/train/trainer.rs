//! Training by stochastic gradient descent over mini-batches (the lecture's step 6), epoch by
//! epoch, with the usual improvements: momentum, Adam, L2/L1, dropout, learning-rate schedules,
//! early stopping on a validation split, and checkpoints to stop and resume.
//!
//! Every random choice is drawn from a stream named by the seed and its position (the shuffle of
//! epoch `e`, the dropout masks of mini-batch `k` of epoch `e`), so a run stopped after any
//! mini-batch and resumed from its [`Trainer`] state gives the same bits as a run never stopped.

use crate::error::{Error, Result, Stuck};
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::kernel::threads;
use crate::lecture::batch::Workspace;
use crate::lecture::init;
use crate::lecture::network::Network;
use crate::train::distributed::{self, Alone, Collective};
use crate::train::optimizer::{Optimizer, OptimizerState};
use crate::train::report::EpochReport;
use crate::train::schedule::Decision;
use crate::train::settings::TrainSettings;
use crate::train::stuck;
use rand::seq::SliceRandom;
use std::ops::ControlFlow;
use std::time::Instant;

/// Mini-batch inputs of fewer values than this are gathered by one thread: splitting the
/// 7,840 pixels of a mini-batch of 10 digits took 784-30-10 from 1.03–1.08× to 1.18–1.20× on two
/// threads (`BENCHMARKS.md`, "Kernel notes"); at 4 digits and below the difference was within the
/// machine's noise.
const GATHER_MIN_ELEMENTS: usize = 4096;

/// Watches training: called after each mini-batch and each epoch, on the thread that trains. It
/// is `Send` so that training can run on a thread of its own (the server and Python do).
pub trait Observer: Send {
    /// After mini-batch `done` of `total` in the current epoch; `Break` stops training right
    /// there (the [`Trainer`] state is then ready to be saved and resumed).
    fn batch_done(&mut self, _done: usize, _total: usize) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After each epoch; `Break` stops training after this epoch.
    fn epoch_done(&mut self, _report: &EpochReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// An observer that watches nothing.
impl Observer for () {}

/// The best network seen on the validation split.
#[derive(Clone, Debug, PartialEq)]
pub struct Best<F: Float> {
    /// Its epoch.
    pub epoch: usize,
    /// Its validation accuracy.
    pub accuracy: f64,
    /// The network after that epoch.
    pub network: Network<F>,
}

/// Why [`Trainer::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every epoch ran.
    Finished,
    /// Early stopping, or η below η₀/128 (halve-on-plateau): the network is the best one on
    /// validation. Or a schedule that brought η to 0 (an exponential or step factor so small
    /// that η underflows): training could no longer move, the network is the last one.
    Stopped,
    /// The observer asked to stop (e.g. Ctrl-C) after a mini-batch or an epoch.
    Interrupted,
}

/// Training in progress: the network, the optimizer's memory and where training stands.
/// A checkpoint ([`crate::train::checkpoint`]) saves all of it; of the reports, the confusion
/// matrices are left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Trainer<F: Float = f32> {
    /// The settings.
    pub settings: TrainSettings,
    /// The network being trained.
    pub network: Network<F>,
    /// Velocities and moments.
    pub optimizer_state: OptimizerState<F>,
    /// Epochs completed.
    pub epoch: usize,
    /// Mini-batches completed in the epoch under way (0 between epochs).
    pub batch: usize,
    /// Summed cost of those mini-batches, and their training seconds.
    pub partial: (f64, f64),
    /// η now.
    pub eta: f64,
    /// Epochs since the validation accuracy last improved.
    pub epochs_without_improvement: usize,
    /// The best network on validation so far.
    pub best: Option<Best<F>>,
    /// One report per completed epoch.
    pub reports: Vec<EpochReport>,
    /// The [`distributed::data_fingerprint`] of the training data (with the validation split)
    /// of the trainer's first run, kept by checkpoints so that a resumed run can refuse other
    /// data ([`Trainer::check_same_data`]). `None` before the first run.
    pub data_fingerprint: Option<u64>,
}

impl<F: Float> Trainer<F> {
    /// A 64-bit checksum of the trainer's state: every weight, bias and optimizer buffer, the
    /// step count, where training stands and η. Equal on ranks that hold the same bits.
    pub fn checksum(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let (network, state) = (&self.network, &self.optimizer_state);
        let mut h = DefaultHasher::new();
        (self.epoch, self.batch, self.eta.to_bits()).hash(&mut h);
        let mut add = |values: &mut dyn Iterator<Item = &F>| {
            values.for_each(|v| v.as_f64().to_bits().hash(&mut h));
        };
        for (_, w) in network.all_weights().iter() {
            add(&mut w.iter());
        }
        for (_, b) in network.all_biases().iter() {
            add(&mut b.iter());
        }
        for (_, w) in state.first_w.iter().chain(state.second_w.iter()) {
            add(&mut w.iter());
        }
        for (_, b) in state.first_b.iter().chain(state.second_b.iter()) {
            add(&mut b.iter());
        }
        state.step.hash(&mut h);
        h.finish()
    }
}

impl<F: Float> Trainer<F> {
    /// A trainer at epoch 0.
    pub fn new(network: Network<F>, settings: TrainSettings) -> Result<Self> {
        settings.validate()?;
        let optimizer_state = OptimizerState::new(&network, &settings.optimizer);
        let eta = settings.eta;
        Ok(Trainer {
            settings,
            network,
            optimizer_state,
            epoch: 0,
            batch: 0,
            partial: (0.0, 0.0),
            eta,
            epochs_without_improvement: 0,
            best: None,
            reports: Vec::new(),
            data_fingerprint: None,
        })
    }

    /// Refuses to resume on other data than the first run trained on (a file changed since the
    /// checkpoint, another `--scale`, another split): the result would be neither run. A trainer
    /// that has not run yet, or a checkpoint written before fingerprints, accepts any data.
    pub fn check_same_data(&self, train: &Dataset, validation: Option<&Dataset>) -> Result<()> {
        let now = distributed::data_fingerprint(&[Some(train), validation]);
        match self.data_fingerprint {
            Some(then) if then != now => Err(Error::InvalidSetting(format!(
                "the data are not those this training ran on: it trained on {} examples with fingerprint {then:016x}, these are {} examples with fingerprint {now:016x}; resume with the same data, scale and split, or start a new run",
                then >> 32,
                now >> 32
            ))),
            _ => Ok(()),
        }
    }

    /// The mean cost of the training examples seen so far in the epoch under way (each taken
    /// when its mini-batch was processed, as in [`EpochReport::train_cost`], without the
    /// penalty), for a training set of `n` examples; `None` between epochs.
    pub fn running_cost(&self, n: usize) -> Option<f64> {
        let seen = (self.batch * self.settings.batch_size).min(n);
        (seen > 0).then(|| self.partial.0 / seen as f64)
    }

    /// Mini-batches per epoch for a training set of `n` examples.
    pub fn batches_per_epoch(&self, n: usize) -> usize {
        n.div_ceil(self.settings.batch_size.max(1))
    }

    /// The order of the training examples in epoch `epoch` (from 1): a seeded shuffle.
    fn order(&self, epoch: usize, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut init::rng(self.settings.seed, 1 + epoch as u64));
        order
    }

    /// Trains until `settings.epochs` epochs are done, training stops early, or `observer`
    /// interrupts. `validation` (taken from the training data, never the test data) drives early
    /// stopping and halve-on-plateau; `test` is only reported.
    pub fn run(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome> {
        self.run_saving(train, validation, test, observer, &mut |_| Ok(()))
    }

    /// [`Trainer::run`], calling `save` with the whole state after every epoch and when
    /// interrupted (e.g. to write a checkpoint with [`crate::train::checkpoint::save`]). After
    /// an epoch, `save` comes before the observer's [`Observer::epoch_done`], so a front can
    /// publish the network there and the observer see the network of the epoch it is told about.
    pub fn run_saving(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
        save: &mut dyn FnMut(&Trainer<F>) -> Result<()>,
    ) -> Result<Outcome> {
        self.run_distributed(train, validation, test, observer, save, &mut Alone)
    }

    /// [`Trainer::run_saving`] as one of the ranks of `collective`, which all call it with the
    /// same arguments: each mini-batch is divided between the ranks and their shares of the
    /// gradient added (see [`crate::train::distributed`]). Only rank 0 calls `save`. When any
    /// rank's observer asks to stop, every rank stops after the same mini-batch or epoch. With one
    /// rank this is [`Trainer::run_saving`], bit for bit.
    ///
    /// An error returned on one rank only (a failed `save`, say) leaves the others waiting in the
    /// next sum: the front must then end the whole job (MPI's `MPI_Abort`).
    pub fn run_distributed(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
        save: &mut dyn FnMut(&Trainer<F>) -> Result<()>,
        collective: &mut dyn Collective<F>,
    ) -> Result<Outcome> {
        self.check_can_run(train, validation, test)?;
        if self.data_fingerprint.is_none() {
            // Once per trainer: a pass over the data costs little once, much on every call.
            self.data_fingerprint = Some(distributed::data_fingerprint(&[Some(train), validation]));
        }
        let shared = collective.size() > 1;
        if shared {
            self.check_ranks_agree(train, validation, test, collective)?;
        }
        let root = collective.rank() == 0;
        let mut save = |trainer: &Trainer<F>| if root { save(trainer) } else { Ok(()) };
        let mut ws = Workspace::new(&self.network, self.settings.batch_size.min(train.len()));
        while self.epoch < self.settings.epochs {
            let flow = self.run_epoch(train, &mut ws, observer, collective)?;
            if flow.is_break() {
                let cost_so_far = self.running_cost(train.len()).unwrap_or(0.0);
                self.check_finite(self.epoch + 1, cost_so_far)?;
                save(self)?;
                return Ok(Outcome::Interrupted);
            }
            let report = self.finish_epoch(train, validation, test)?;
            self.reports.push(report);
            if shared {
                distributed::check_same(
                    collective,
                    self.checksum(),
                    &format!("the weights after epoch {}", self.epoch),
                    "the all-reduce gave the ranks different sums",
                )?;
            }
            save(self)?;
            let report = self.reports.last().expect("pushed above");
            let mut flow = observer.epoch_done(report);
            if shared {
                flow = agree_on(collective, flow)?;
            }
            if self.should_stop() {
                self.restore_best();
                return Ok(Outcome::Stopped);
            }
            if flow.is_break() {
                return Ok(Outcome::Interrupted);
            }
        }
        if self.settings.early_stop.is_some() {
            self.restore_best();
        }
        Ok(Outcome::Finished)
    }

    /// Refuses to start what cannot run: bad settings, data that do not fit the network, a state
    /// past the end of its epoch or of training, a penalty that would flip the weights' sign.
    fn check_can_run(
        &self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
    ) -> Result<()> {
        self.settings.validate()?;
        for data in [Some(train), validation, test].into_iter().flatten() {
            data.check_fits(&self.network)?;
        }
        if train.is_empty() {
            return Err(Error::InvalidSetting("the training set is empty".into()));
        }
        let batches = train.len().div_ceil(self.settings.batch_size);
        if self.batch >= batches {
            return Err(Error::InvalidSetting(format!(
                "the state says {} mini-batches of this epoch are done, but an epoch of {} examples has {batches} in all, so at most {} can be done before it ends",
                self.batch,
                train.len(),
                batches - 1
            )));
        }
        if self.epoch >= self.settings.epochs {
            return Err(Error::InvalidSetting(format!(
                "nothing to train: {} of {} epochs are done",
                self.epoch, self.settings.epochs
            )));
        }
        self.settings
            .regularization
            .check_decay(self.eta.max(self.settings.eta), train.len())?;
        if self.settings.needs_validation() && validation.is_none_or(Dataset::is_empty) {
            return Err(Error::InvalidSetting(
                "early stopping and halve-on-plateau need a validation split".into(),
            ));
        }
        Ok(())
    }

    /// Before the first mini-batch: every rank must have the same settings and data and hold the
    /// same state.
    fn check_ranks_agree(
        &self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
        collective: &mut dyn Collective<F>,
    ) -> Result<()> {
        distributed::check_same(
            collective,
            distributed::settings_fingerprint(&self.settings),
            "the training settings",
            "every rank must be given the same flags",
        )?;
        distributed::check_same(
            collective,
            distributed::data_fingerprint(&[Some(train), validation, test]),
            "the data sets",
            "every rank must read the same files with the same flags",
        )?;
        distributed::check_same(
            collective,
            self.checksum(),
            "the networks before training",
            "every rank must start from the same seed or checkpoint",
        )
    }

    /// The mini-batches of the current epoch from `self.batch` on; `Break` if interrupted.
    fn run_epoch(
        &mut self,
        train: &Dataset,
        ws: &mut Workspace<F>,
        observer: &mut dyn Observer,
        collective: &mut dyn Collective<F>,
    ) -> Result<ControlFlow<()>> {
        let epoch = self.epoch + 1;
        let start = Instant::now();
        let order = self.order(epoch, train.len());
        let total = order.len().div_ceil(self.settings.batch_size);
        let eta = F::cast(self.eta);
        let mut buffers = (Vec::new(), Vec::new());
        let mut stop_asked = false;
        let batches = order.chunks(self.settings.batch_size);
        let mut next = batches.clone().skip(self.batch + 1);
        for (k, batch) in batches.enumerate().skip(self.batch) {
            // The next mini-batch's inputs start on their way from memory while this one trains.
            train.prefetch(next.next().unwrap_or_default());
            let cost = if collective.size() == 1 {
                self.step_alone(train, ws, batch, (epoch, k), eta)
            } else {
                let shared: (&mut dyn Collective<F>, _, _) = (collective, &mut buffers, stop_asked);
                match self.step_shared(train, ws, batch, (epoch, k), eta, shared)? {
                    Some(cost) => cost,
                    None => break, // a rank asked to stop after the previous mini-batch
                }
            };
            self.partial.0 += cost.as_f64();
            self.batch = k + 1;
            stop_asked = observer.batch_done(k + 1, total).is_break() && k + 1 < total;
            if stop_asked && collective.size() == 1 {
                break;
            }
        }
        self.partial.1 += start.elapsed().as_secs_f64();
        Ok(if self.batch < total {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }

    /// One mini-batch (`batch`, its examples' indices) on one process: steps 2–6 and the update.
    /// Returns the summed cost of the mini-batch.
    fn step_alone(
        &mut self,
        train: &Dataset,
        ws: &mut Workspace<F>,
        batch: &[usize],
        at: (usize, usize),
        eta: F,
    ) -> F {
        ws.set_batch_size(batch.len());
        self.forward(train, ws, batch, at);
        if self.settings.optimizer == Optimizer::Sgd && self.settings.regularization.is_none() {
            // Plain SGD: the update rides on the BP4 product (same step, one pass fewer).
            self.optimizer_state.step += 1;
            self.network.backward_batch_descend(ws, eta)
        } else {
            let cost = self.network.backward_batch(ws);
            self.update(train.len(), ws, eta);
            cost
        }
    }

    /// One mini-batch shared by the ranks of `collective`: steps 2–5 on this rank's part, the sum
    /// of the parts' gradients and costs over the ranks (step 6), and the update every rank
    /// applies alike. `stop_asked` tells the others that this rank's observer asked to stop after
    /// the previous mini-batch; if any rank did, nothing is updated and `None` is returned.
    /// Otherwise returns the summed cost of the whole mini-batch.
    fn step_shared(
        &mut self,
        train: &Dataset,
        ws: &mut Workspace<F>,
        batch: &[usize],
        at: (usize, usize),
        eta: F,
        (collective, (parts, sums), stop_asked): Shared<'_, F>,
    ) -> Result<Option<F>> {
        let rows = distributed::part(batch.len(), collective.size(), collective.rank());
        let cost = if rows.is_empty() {
            ws.gradient_mut().set_zero(); // fewer examples than ranks: nothing to add here
            F::zero()
        } else {
            ws.set_batch_part(rows.clone(), batch.len());
            self.forward(train, ws, &batch[rows], at);
            self.network.backward_batch(ws) // (1/m) Σ over this part
        };
        parts.clear();
        ws.gradient().append_to(parts);
        parts.extend([cost, if stop_asked { F::one() } else { F::zero() }]);
        sums.resize(parts.len(), F::zero());
        collective.sum(parts, sums)?; // MPI_Allreduce: the mean gradient of step 6 on every rank
        let (cost, stops) = match ws.gradient_mut().read_from(sums) {
            &[cost, stops] => (cost, stops),
            rest => unreachable!("{} values after the gradient", rest.len()),
        };
        if stops > F::zero() {
            return Ok(None);
        }
        self.update(train.len(), ws, eta);
        Ok(Some(cost))
    }

    /// Step 2 for the `examples` loaded into `ws` (the mini-batch `k` of epoch `e`, `at = (e, k)`),
    /// with the dropout masks of that mini-batch when training with dropout.
    fn forward(
        &self,
        train: &Dataset,
        ws: &mut Workspace<F>,
        examples: &[usize],
        at: (usize, usize),
    ) {
        // Each thread gathers its block of the mini-batch's examples.
        threads::by_rows(ws.inputs_mut(), GATHER_MIN_ELEMENTS, &|x, rows| {
            train.inputs_into(&examples[rows], x)
        });
        train.targets_into(examples, ws.targets_mut());
        if self.settings.dropout > 0.0 {
            let (epoch, k) = at;
            let mut rng = init::rng(
                self.settings.seed ^ 0xD809,
                ((epoch as u64) << 32) | k as u64,
            );
            self.network
                .forward_batch_dropout(ws, self.settings.dropout, &mut rng);
        } else {
            self.network.forward_batch(ws);
        }
    }

    /// The update by the mean gradient in `ws`, with the penalty's gradient added first.
    fn update(&mut self, n: usize, ws: &mut Workspace<F>, eta: F) {
        self.settings
            .regularization
            .add_gradient(&self.network, n, ws.gradient_mut());
        self.network.optimizer_step(
            ws.gradient(),
            eta,
            &self.settings.optimizer,
            &mut self.optimizer_state,
        );
    }

    /// Closes the epoch: its report, the divergence check, the best network and the schedule.
    fn finish_epoch(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        test: Option<&Dataset>,
    ) -> Result<EpochReport> {
        self.epoch += 1;
        let (cost_sum, train_seconds) = std::mem::take(&mut self.partial);
        self.batch = 0;
        let penalty = self
            .settings
            .regularization
            .cost(&self.network, train.len());
        let train_cost = cost_sum / train.len() as f64 + penalty;
        self.check_finite(self.epoch, train_cost)?;
        if let Some(class) = self.network.stuck_at(train)? {
            return Err(Error::Diverged {
                epoch: self.epoch,
                cost: train_cost,
                layer: None,
                eta: self.eta,
                stuck_at: Some(Stuck {
                    class,
                    examples: stuck::SAMPLE.min(train.len()),
                    no_gradient: stuck::NO_GRADIENT,
                }),
            });
        }
        let validation = validation.map(|v| self.network.evaluate(v)).transpose()?;
        if let Some(v) = &validation {
            if self.best.as_ref().is_none_or(|b| v.accuracy() > b.accuracy) {
                self.best = Some(Best {
                    epoch: self.epoch,
                    accuracy: v.accuracy(),
                    network: self.network.clone(),
                });
                self.epochs_without_improvement = 0;
            } else {
                self.epochs_without_improvement += 1;
            }
        }
        let report = EpochReport {
            epoch: self.epoch,
            train_cost,
            train_seconds,
            eta: self.eta,
            validation,
            test: test.map(|t| self.network.evaluate(t)).transpose()?,
        };
        match self.settings.schedule.next(
            self.epoch,
            self.eta,
            self.settings.eta,
            self.epochs_without_improvement,
        ) {
            Decision::Continue(eta) => self.eta = eta,
            Decision::Stop => self.eta = 0.0,
        }
        Ok(report)
    }

    /// The divergence check, in `epoch`: the (mean training) cost and every weight
    /// and bias must be finite. The logarithmic costs floor `a`, so a network gone to NaN can
    /// still show a finite cost: the parameters are what tell. Nothing is saved after a failed
    /// check, so no file is replaced by a diverged network.
    fn check_finite(&self, epoch: usize, cost: f64) -> Result<()> {
        let layer = self.network.first_non_finite_layer();
        if layer.is_some() || !cost.is_finite() {
            return Err(Error::Diverged {
                epoch,
                cost,
                layer,
                eta: self.eta,
                stuck_at: None,
            });
        }
        Ok(())
    }

    fn should_stop(&self) -> bool {
        let patience_out = self
            .settings
            .early_stop
            .is_some_and(|n| self.epochs_without_improvement >= n);
        patience_out || self.eta == 0.0
    }

    fn restore_best(&mut self) {
        if let Some(best) = &self.best {
            self.network = best.network.clone();
        }
    }
}

/// What a rank brings to a shared mini-batch: the job, its buffers for this rank's part and for
/// the sums, and whether its observer asked to stop after the previous mini-batch.
type Shared<'a, F> = (&'a mut dyn Collective<F>, &'a mut (Vec<F>, Vec<F>), bool);

/// `flow` if every rank's observer agrees; `Break` on every rank if any asked to stop.
fn agree_on<F: Float>(
    collective: &mut dyn Collective<F>,
    flow: ControlFlow<()>,
) -> Result<ControlFlow<()>> {
    let mut stops = [F::zero()];
    collective.sum(
        &[if flow.is_break() { F::one() } else { F::zero() }],
        &mut stops,
    )?;
    Ok(if stops[0] > F::zero() {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    })
}

impl<F: Float> Network<F> {
    /// Trains by the settings `settings` and returns one report per epoch. See [`Network::train_with`].
    pub fn train(
        &mut self,
        train: &Dataset,
        test: Option<&Dataset>,
        settings: &TrainSettings,
    ) -> Result<Vec<EpochReport>> {
        self.train_with(train, test, settings, &mut ())
    }

    /// Trains by SGD: each epoch shuffles the training set (seeded), splits it into mini-batches
    /// of `m` examples, and for each mini-batch computes the mean gradient by the matrix path and
    /// moves `W ← W − η ∇W`, `b ← b − η ∇b` (or the rule of `settings.optimizer`). Stops with
    /// [`Error::Diverged`] when the cost or a weight or bias becomes NaN or infinite (the
    /// network is then unusable; callers keep their saved copy). For validation splits and checkpoints use [`Trainer`].
    pub fn train_with(
        &mut self,
        train: &Dataset,
        test: Option<&Dataset>,
        settings: &TrainSettings,
        observer: &mut dyn Observer,
    ) -> Result<Vec<EpochReport>> {
        let mut trainer = Trainer::new(self.clone(), settings.clone())?;
        let result = trainer.run(train, None, test, observer);
        *self = trainer.network;
        result.map(|_| trainer.reports)
    }
}
