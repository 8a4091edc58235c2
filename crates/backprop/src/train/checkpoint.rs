//! Checkpoints: everything a [`Trainer`] needs to continue, in one safetensors file.
//!
//! Tensors: the network as in a model file (`layers.{l}.weight`, `layers.{l}.bias`), the
//! optimizer's memory (`optimizer.first.{l}.weight`, … and `optimizer.second.…` for Adam) and the
//! best network on validation so far (`best.layers.{l}.…`). Metadata: the model entries of
//! [`crate::io::model_file`], `format` = `backprop-checkpoint`, `settings` (the [`Sgd`] as JSON),
//! `state` (epoch, mini-batch, η, step, …; numbers written so that they read back exactly), and
//! any `extra` entries of the caller. Random streams need no state: each is named by the seed and
//! its position (see [`crate::train::trainer::Trainer`]). Written atomically, like model files. `f32` only.

use crate::error::Error;
use crate::error::Result;
use crate::io::model_file::{self, bias_name, weight_name};
use crate::lecture::layers::Layers;
use crate::lecture::network::Network;
use crate::train::optimizer::Optimizer;
use crate::train::regularization::Regularization;
use crate::train::schedule::Schedule;
use crate::train::trainer::Sgd;
use crate::train::trainer::{Best, Trainer};
use ndarray::{Array1, Array2};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` metadata entry of a checkpoint.
pub const FORMAT: &str = "backprop-checkpoint";

fn optimizer_json(o: &Optimizer) -> Value {
    match *o {
        Optimizer::Sgd => json!({"rule": "sgd"}),
        Optimizer::Momentum { mu } => json!({"rule": "momentum", "mu": mu}),
        Optimizer::Nesterov { mu } => json!({"rule": "nesterov", "mu": mu}),
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => json!({"rule": "adam", "beta1": beta1, "beta2": beta2, "epsilon": epsilon}),
    }
}

fn schedule_json(s: &Schedule) -> Value {
    match *s {
        Schedule::Constant => json!("constant"),
        Schedule::HalveOnPlateau { patience } => json!(format!("halve-on-plateau:{patience}")),
        Schedule::Step { every, factor } => json!(format!("step:{every}:{factor:?}")),
        Schedule::Exponential { gamma } => json!(format!("exponential:{gamma:?}")),
    }
}

/// The settings as JSON (also what the command-line tool prints).
pub fn settings_json(s: &Sgd) -> Value {
    json!({
        "epochs": s.epochs, "batch_size": s.batch_size, "eta": s.eta, "seed": s.seed,
        "optimizer": optimizer_json(&s.optimizer), "lambda": s.regularization.l2, "l1": s.regularization.l1,
        "schedule": schedule_json(&s.schedule), "dropout": s.dropout, "early_stop": s.early_stop,
    })
}

fn settings_from_json(v: &Value) -> std::result::Result<Sgd, String> {
    let num = |k: &str| v[k].as_f64().ok_or_else(|| format!("settings lack `{k}`"));
    let int = |k: &str| {
        v[k].as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| format!("settings lack `{k}`"))
    };
    let o = &v["optimizer"];
    let of = |k: &str| {
        o[k].as_f64()
            .ok_or_else(|| format!("optimizer lacks `{k}`"))
    };
    let optimizer = match o["rule"].as_str() {
        Some("sgd") => Optimizer::Sgd,
        Some("momentum") => Optimizer::Momentum { mu: of("mu")? },
        Some("nesterov") => Optimizer::Nesterov { mu: of("mu")? },
        Some("adam") => Optimizer::Adam {
            beta1: of("beta1")?,
            beta2: of("beta2")?,
            epsilon: of("epsilon")?,
        },
        _ => return Err("unknown optimizer".into()),
    };
    Ok(Sgd {
        epochs: int("epochs")?,
        batch_size: int("batch_size")?,
        eta: num("eta")?,
        seed: v["seed"].as_u64().ok_or("settings lack `seed`")?,
        optimizer,
        regularization: Regularization {
            l2: num("lambda")?,
            l1: num("l1")?,
        },
        schedule: Schedule::parse(v["schedule"].as_str().ok_or("settings lack `schedule`")?)?,
        dropout: num("dropout")?,
        early_stop: v["early_stop"].as_u64().map(|n| n as usize),
    })
}

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

/// One epoch's report: `[epoch, train cost, seconds, η]`, then `correct, total, cost` of the
/// test data when it was evaluated (so a resumed run's summary still knows the best epoch).
fn report_json(r: &crate::train::trainer::EpochReport) -> Value {
    let mut row = vec![
        json!(r.epoch),
        json!(r.train_cost),
        json!(r.train_seconds),
        json!(r.eta),
    ];
    if let Some(t) = &r.test {
        row.extend([json!(t.correct), json!(t.total), json!(t.cost)]);
    }
    Value::Array(row)
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
    let state = json!({
        "epoch": trainer.epoch, "batch": trainer.batch, "partial_cost": trainer.partial.0,
        "partial_seconds": trainer.partial.1, "eta": trainer.eta, "step": st.step,
        "epochs_without_improvement": trainer.epochs_without_improvement,
        "best_epoch": trainer.best.as_ref().map(|b| b.epoch),
        "best_accuracy": trainer.best.as_ref().map(|b| b.accuracy),
        "reports": trainer.reports.iter().map(report_json).collect::<Vec<_>>(),
    });
    let mut metadata = extra.clone();
    metadata.insert(
        "settings".into(),
        settings_json(&trainer.settings).to_string(),
    );
    metadata.insert("state".into(), state.to_string());
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
    let parse = |key: &str| -> std::result::Result<Value, String> {
        serde_json::from_str(
            meta.get(key)
                .ok_or_else(|| format!("metadata has no `{key}`"))?,
        )
        .map_err(|e| format!("`{key}`: {e}"))
    };
    let settings = settings_from_json(&parse("settings")?)?;
    let state = parse("state")?;
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
    let get = |k: &str| {
        state[k]
            .as_f64()
            .ok_or_else(|| format!("state lacks `{k}`"))
    };
    let count = |k: &str| {
        state[k]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("state `{k}` is not a count: {}", state[k]))
    };
    trainer.optimizer_state.step = count("step")? as u64;
    trainer.epoch = count("epoch")?;
    trainer.batch = count("batch")?;
    if trainer.epoch > trainer.settings.epochs {
        return Err(format!(
            "state `epoch` {} is beyond the {} epochs of its settings",
            trainer.epoch, trainer.settings.epochs
        ));
    }
    trainer.partial = (get("partial_cost")?, get("partial_seconds")?);
    trainer.eta = get("eta")?;
    trainer.epochs_without_improvement = count("epochs_without_improvement")?;
    if let (Some(epoch), Some(accuracy)) = (
        state["best_epoch"].as_u64(),
        state["best_accuracy"].as_f64(),
    ) {
        let (w, b) = read_layers("best.")?;
        let network = Network::from_parameters(
            net.architecture().clone(),
            w.values().to_vec(),
            b.values().to_vec(),
        )
        .map_err(|e| e.to_string())?;
        trainer.best = Some(Best {
            epoch: epoch as usize,
            accuracy,
            network,
        });
    }
    for r in state["reports"].as_array().into_iter().flatten() {
        let f = |i: usize| r[i].as_f64().unwrap_or(f64::NAN);
        let n = |i: usize| r[i].as_u64().and_then(|n| usize::try_from(n).ok());
        let test = match (n(4), n(5)) {
            (Some(correct), Some(total)) if correct <= total => {
                Some(crate::train::evaluate::Evaluation {
                    cost: f(6),
                    correct,
                    total,
                    confusion: Array2::zeros((0, 0)),
                })
            }
            _ => None,
        };
        trainer.reports.push(crate::train::trainer::EpochReport {
            epoch: n(0).unwrap_or(0),
            train_cost: f(1),
            train_seconds: f(2),
            eta: f(3),
            validation: None,
            test,
        });
    }
    Ok((trainer, meta))
}
