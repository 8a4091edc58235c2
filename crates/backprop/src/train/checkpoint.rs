//! Checkpoints: everything a [`Trainer`] needs to continue, in one safetensors file.
//!
//! Tensors: the network as in a model file (`layers.{l}.weight`, `layers.{l}.bias`), the
//! optimizer's memory (`optimizer.first.{l}.weight`, … and `optimizer.second.…` for Adam) and the
//! best network on validation so far (`best.layers.{l}.…`). Metadata: the model entries of
//! [`crate::io::model_file`], `format` = `backprop-checkpoint`, `checkpoint_version` = [`VERSION`], `settings` (the
//! [`TrainSettings`] as JSON), `state` (epoch, mini-batch, η, step, at most [`MAX_REPORTS`] of the reports, …; numbers
//! written so that they read back exactly), and
//! any `extra` entries of the caller. Random streams need no state: each is named by the seed and
//! its position (see [`crate::train::trainer::Trainer`]). Written atomically, like model files. `f32` only.

use crate::error::{Error, Result};
use crate::io::model_file::{self, bias_name, weight_name};
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use crate::train::optimizer::Optimizer;
use crate::train::report::EpochReport;
use crate::train::settings::TrainSettings;
use crate::train::trainer::{Best, Trainer};
use ndarray::{Array1, Array2};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` metadata entry of a checkpoint.
pub const FORMAT: &str = "backprop-checkpoint";

/// The value of the `checkpoint_version` metadata entry: 2 since settings, state and reports are
/// written by `serde` (version 1 wrote reports as bare arrays and had no such entry).
pub const VERSION: &str = "2";

type Tensors = Vec<(String, Vec<usize>, Vec<f32>)>;

fn push_layers(out: &mut Tensors, prefix: &str, w: &Layers<Array2<f32>>, b: &Layers<Array1<f32>>) {
    for ((l, w), (_, b)) in w.iter().zip(b.iter()) {
        out.push((
            format!("{prefix}{}", weight_name(l)),
            vec![w.nrows(), w.ncols()],
            w.iter().copied().collect(),
        ));
        out.push((
            format!("{prefix}{}", bias_name(l)),
            vec![b.len()],
            b.to_vec(),
        ));
    }
}

/// Where training stands, apart from the tensors: the `state` metadata entry, as JSON.
#[derive(Serialize, Deserialize)]
struct State {
    epoch: usize,
    batch: usize,
    partial_cost: f64,
    partial_seconds: f64,
    eta: f64,
    step: u64,
    epochs_without_improvement: usize,
    best_epoch: Option<usize>,
    best_accuracy: Option<f64>,
    reports: Vec<EpochReport>,
    /// [`Trainer::data_fingerprint`] as 16 hex digits (absent in checkpoints written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_fingerprint: Option<String>,
}

impl State {
    /// Refuses a state no run can have reached (a hand-edited or damaged file).
    fn check(&self) -> std::result::Result<(), String> {
        let bad = |m: String| Err(format!("state: {m}"));
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return bad(format!(
                "η = {} (0 means training stopped: halve-on-plateau fell below η₀/128; nothing is left to resume)",
                self.eta
            ));
        }
        let last = self.reports.last().map_or(0, |r| r.epoch);
        if last != self.epoch || self.reports.len() > self.epoch {
            return bad(format!(
                "{} epochs are done but {} reports are stored, the last of epoch {last}",
                self.epoch,
                self.reports.len()
            ));
        }
        let seconds_ok = |s: f64| s.is_finite() && s >= 0.0;
        if !(self.partial_cost.is_finite() && seconds_ok(self.partial_seconds)) {
            return bad("the partial cost and seconds must be finite (seconds ≥ 0)".into());
        }
        if self.step > 1 << 53 {
            return bad(format!("step {} is beyond any run", self.step));
        }
        let mut previous = 0;
        for r in &self.reports {
            let counts_ok = [&r.test, &r.validation]
                .into_iter()
                .flatten()
                .all(|e| e.correct <= e.total && e.cost.is_finite());
            if r.epoch <= previous {
                return bad(format!(
                    "the report after epoch {previous} is of epoch {}, not a later one",
                    r.epoch
                ));
            }
            if !counts_ok || !r.train_cost.is_finite() || !seconds_ok(r.train_seconds) {
                return bad(format!(
                    "the report of epoch {} has impossible numbers (more correct than examples, or a cost or time that is not finite)",
                    r.epoch
                ));
            }
            previous = r.epoch;
        }
        match (self.best_epoch, self.best_accuracy) {
            (None, None) => Ok(()),
            (Some(e), Some(a)) if (1..=self.epoch).contains(&e) && (0.0..=1.0).contains(&a) => {
                Ok(())
            }
            (e, a) => bad(format!("best epoch {e:?} with accuracy {a:?}")),
        }
    }

    fn of(trainer: &Trainer<f32>) -> Self {
        State {
            epoch: trainer.epoch,
            batch: trainer.batch,
            partial_cost: trainer.partial.0,
            partial_seconds: trainer.partial.1,
            eta: trainer.eta,
            step: trainer.optimizer_state.step,
            epochs_without_improvement: trainer.epochs_without_improvement,
            best_epoch: trainer.best.as_ref().map(|b| b.epoch),
            best_accuracy: trainer.best.as_ref().map(|b| b.accuracy),
            reports: thinned(&trainer.reports, trainer.best.as_ref().map(|b| b.epoch)),
            data_fingerprint: trainer.data_fingerprint.map(|f| format!("{f:016x}")),
        }
    }
}

/// The most epoch reports a checkpoint keeps, so that its size, and the time to rewrite it
/// after every epoch, stay bounded however long the run.
pub const MAX_REPORTS: usize = 1000;

/// At most [`MAX_REPORTS`] of `reports`, evenly spread: every `k`-th, the best on the test
/// split (what a resumed run reports as the best epoch), the best on validation (`best_epoch`,
/// the network early stopping keeps) and the last. The network, optimizer and schedule state do
/// not depend on them: resuming stays exact.
fn thinned(reports: &[EpochReport], best_epoch: Option<usize>) -> Vec<EpochReport> {
    if reports.len() <= MAX_REPORTS {
        return reports.to_vec();
    }
    let accuracy = |r: &EpochReport| r.test.as_ref().map_or(0.0, |t| t.accuracy());
    let best = reports
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| accuracy(a).total_cmp(&accuracy(b)))
        .map_or(0, |(i, _)| i);
    let k = reports.len().div_ceil(MAX_REPORTS - 3);
    let last = reports.len() - 1;
    reports
        .iter()
        .enumerate()
        .filter(|&(i, r)| (last - i).is_multiple_of(k) || i == best || Some(r.epoch) == best_epoch)
        .map(|(_, r)| r.clone())
        .collect()
}

/// Saves `trainer` to `path`, atomically, with `extra` metadata entries.
pub fn save(trainer: &Trainer<f32>, path: &Path, extra: &BTreeMap<String, String>) -> Result<()> {
    let mut tensors = Tensors::new();
    let net = &trainer.network;
    push_layers(&mut tensors, "", net.all_weights(), net.all_biases());
    let st = &trainer.optimizer_state;
    push_layers(&mut tensors, "optimizer.first.", &st.first_w, &st.first_b);
    push_layers(
        &mut tensors,
        "optimizer.second.",
        &st.second_w,
        &st.second_b,
    );
    if let Some(best) = &trainer.best {
        push_layers(
            &mut tensors,
            "best.",
            best.network.all_weights(),
            best.network.all_biases(),
        );
    }
    let mut metadata = extra.clone();
    metadata.insert("settings".into(), to_json(&trainer.settings)?);
    metadata.insert("state".into(), to_json(&State::of(trainer))?);
    metadata.insert("checkpoint_version".into(), VERSION.into());
    let mut bytes_metadata = model_file::standard_metadata(net);
    bytes_metadata.extend(metadata);
    bytes_metadata.insert("format".into(), FORMAT.into());
    let bytes = model_file::tensors_to_bytes(&tensors, bytes_metadata)?;
    crate::io::file::write_atomically(path, &bytes)
}

/// Reads a checkpoint written by [`save`]: the trainer and every metadata entry.
pub fn load(path: &Path) -> Result<(Trainer<f32>, BTreeMap<String, String>)> {
    let bytes = model_file::read_file(path)?;
    from_bytes(&bytes).map_err(|m| Error::model(path, m))
}

fn from_bytes(
    bytes: &[u8],
) -> std::result::Result<(Trainer<f32>, BTreeMap<String, String>), String> {
    let model = model_file::parse(bytes, FORMAT)?;
    let meta = model.metadata;
    match meta.get("checkpoint_version").map(String::as_str) {
        Some(VERSION) => {}
        Some(v) => return Err(format!("checkpoint version {v} is not one this backprop reads ({VERSION})")),
        None => return Err(format!("this checkpoint was written by an older backprop (checkpoint version 1); this one reads version {VERSION}: finish that run with the version that wrote it, or start again")),
    }
    let settings: TrainSettings = from_json(&meta, "settings")?;
    let state: State = from_json(&meta, "state")?;
    let net = model.network;
    let read_layers = |prefix: &str| model_file::read_layers(bytes, prefix, net.sizes());
    let mut trainer = Trainer::new(net.clone(), settings).map_err(|e| e.to_string())?;
    let (first_w, first_b) = read_layers("optimizer.first.")?;
    trainer.optimizer_state.first_w = first_w;
    trainer.optimizer_state.first_b = first_b;
    if matches!(trainer.settings.optimizer, Optimizer::Adam { .. }) {
        let (second_w, second_b) = read_layers("optimizer.second.")?;
        trainer.optimizer_state.second_w = second_w;
        trainer.optimizer_state.second_b = second_b;
    }
    if state.epoch > trainer.settings.epochs {
        return Err(format!(
            "state `epoch` {} is beyond the {} epochs of its settings",
            state.epoch, trainer.settings.epochs
        ));
    }
    state.check()?;
    trainer.optimizer_state.step = state.step;
    trainer.epoch = state.epoch;
    trainer.batch = state.batch;
    trainer.partial = (state.partial_cost, state.partial_seconds);
    trainer.eta = state.eta;
    trainer.epochs_without_improvement = state.epochs_without_improvement;
    trainer.reports = state.reports;
    trainer.data_fingerprint = match &state.data_fingerprint {
        None => None,
        Some(hex) => Some(
            u64::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 16)
                .ok_or_else(|| format!("state: data_fingerprint `{hex}` is not 16 hex digits"))?,
        ),
    };
    if let (Some(epoch), Some(accuracy)) = (state.best_epoch, state.best_accuracy) {
        let (w, b) = read_layers("best.")?;
        let network = Network::from_parameters(
            net.architecture().clone(),
            w.values().to_vec(),
            b.values().to_vec(),
        )
        .map_err(|e| e.to_string())?;
        trainer.best = Some(Best {
            epoch,
            accuracy,
            network,
        });
    }
    Ok((trainer, meta))
}

/// A metadata entry as JSON text.
fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::InvalidSetting(format!("cannot write JSON: {e}")))
}

/// The metadata entry `key`, read from JSON.
fn from_json<T: DeserializeOwned>(
    meta: &BTreeMap<String, String>,
    key: &str,
) -> std::result::Result<T, String> {
    let text = meta
        .get(key)
        .ok_or_else(|| format!("metadata has no `{key}`"))?;
    serde_json::from_str(text).map_err(|e| format!("`{key}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::evaluate::Evaluation;

    fn report(epoch: usize, test_correct: usize, validation_correct: usize) -> EpochReport {
        let evaluation = |correct| Evaluation {
            cost: 0.5,
            correct,
            total: 100,
            confusion: ndarray::Array2::zeros((1, 1)),
        };
        EpochReport {
            epoch,
            train_cost: 0.5,
            train_seconds: 0.01,
            eta: 1.0,
            validation: Some(evaluation(validation_correct)),
            test: Some(evaluation(test_correct)),
        }
    }

    #[test]
    fn thinning_keeps_the_last_the_best_on_test_and_the_best_on_validation() {
        let reports: Vec<EpochReport> = (1..=2500)
            .map(|e| {
                report(
                    e,
                    if e == 7 { 99 } else { 50 },
                    if e == 44 { 99 } else { 50 },
                )
            })
            .collect();
        let kept = thinned(&reports, Some(44));
        assert!(kept.len() <= MAX_REPORTS, "{}", kept.len());
        let epochs: Vec<usize> = kept.iter().map(|r| r.epoch).collect();
        for must in [7, 44, 2500] {
            assert!(epochs.contains(&must), "epoch {must} dropped");
        }
        assert!(epochs.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(thinned(&reports[..MAX_REPORTS], None).len(), MAX_REPORTS);
    }
}
