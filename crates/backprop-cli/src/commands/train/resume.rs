//! `--resume`: a run continued from a checkpoint, with the network, settings and data it was
//! started with, and what an interrupted run writes so that it can be continued.

use super::Start;
use crate::cli::{DataArgs, TrainArgs, DEFAULT_TEST_FRACTION};
use crate::error::{CliError, CliResult};
use backprop::train::checkpoint;
use backprop::{Dataset, TrainOptions, Trainer, Validation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The flags that still apply with `--resume`; every other flag is fixed by the checkpoint.
const RESUME_FLAGS: [&str; 10] = [
    "--resume",
    "--distributed",
    "--epochs",
    "--checkpoint",
    "--save",
    "--metrics",
    "--plot",
    "--threads",
    "--quiet",
    "--lang",
];

/// The data a checkpoint was trained on: its `data` metadata entry, as JSON (the `--data` flags
/// and the size of the validation split held out).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRecord {
    data: String,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    label_column: usize,
    scale: Option<f64>,
    #[serde(default = "default_test_fraction")]
    test_fraction: f64,
    validation: Option<usize>,
}

fn default_test_fraction() -> f64 {
    DEFAULT_TEST_FRACTION
}

/// The metadata a checkpoint of this run keeps beside the trainer: the data it trains on (with
/// the validation split held out) and the initialisation's name.
pub fn metadata(
    data: &DataArgs,
    validation: Option<&Dataset>,
    init: &str,
) -> CliResult<BTreeMap<String, String>> {
    let record = DataRecord {
        data: data.data.clone(),
        data_dir: data.data_dir.clone(),
        label_column: data.label_column,
        scale: data.scale,
        test_fraction: data.test_fraction,
        validation: validation.map(Dataset::len),
    };
    let json = serde_json::to_string(&record)
        .map_err(|e| CliError::failure(format!("cannot write the checkpoint's data entry: {e}")))?;
    Ok(BTreeMap::from([
        ("data".to_string(), json),
        ("init".to_string(), init.to_string()),
    ]))
}

/// The run stored in the checkpoint at `path`; `--epochs` may raise the total and `--threads`
/// applies; any other flag is refused.
pub fn start(path: &Path, args: &TrainArgs, processes_here: usize) -> CliResult<Start> {
    let fixed: Vec<&str> = args
        .given
        .iter()
        .map(String::as_str)
        .filter(|f| !RESUME_FLAGS.contains(f))
        .collect();
    if !fixed.is_empty() {
        return Err(CliError::input(format!(
            "--resume continues with the checkpoint's network, settings and data, so {} cannot apply; with --resume only {} may be given",
            fixed.join(", "),
            RESUME_FLAGS[1..].join(", ")
        )));
    }
    let (threads, note) = TrainOptions {
        threads: super::options::threads(args),
        processes_here,
        ..TrainOptions::default()
    }
    .threads()?;
    let (mut trainer, meta) = checkpoint::load(path)?;
    let (data, validation) = data_of(path, &meta)?;
    if args.given.iter().any(|f| f == "--epochs") {
        trainer.settings.epochs = usize::try_from(args.epochs).unwrap_or(usize::MAX);
    }
    if trainer.epoch >= trainer.settings.epochs && args.save.is_none() {
        return Err(CliError::input(format!(
            "{}: the checkpoint has done {} of {} epochs, nothing is left to train; give --epochs N with N > {} to train on, or --save M to write its network",
            path.display(),
            trainer.epoch,
            trainer.settings.epochs,
            trainer.epoch
        )));
    }
    Ok(Start {
        trainer,
        data,
        validation,
        validation_by_default: false,
        init: meta
            .get("init")
            .cloned()
            .unwrap_or_else(|| "standard".into()),
        threads,
        note,
    })
}

/// The data flags and validation split of a checkpoint's `data` entry.
fn data_of(
    path: &Path,
    meta: &BTreeMap<String, String>,
) -> CliResult<(DataArgs, Option<Validation>)> {
    let bad = |why: String| {
        CliError::input(format!(
            "{}: checkpoint has no valid `data` entry: {why}",
            path.display()
        ))
    };
    let text = meta
        .get("data")
        .ok_or_else(|| bad("it is missing".into()))?;
    let record: DataRecord = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if !(record.test_fraction > 0.0 && record.test_fraction < 1.0) {
        return Err(bad(format!(
            "test_fraction {} is not in (0, 1)",
            record.test_fraction
        )));
    }
    if record.validation == Some(0) {
        return Err(bad("an empty validation split".into()));
    }
    let data = DataArgs {
        data: record.data,
        data_dir: record.data_dir,
        label_column: record.label_column,
        scale: record.scale,
        test_fraction: record.test_fraction,
    };
    Ok((data, record.validation.map(Validation::Count)))
}

/// Where an interrupted run without `--checkpoint` saves itself: `backprop-checkpoint.safetensors`
/// in the current directory, or `backprop-checkpoint-2.safetensors`, … if that exists (an
/// existing file is never replaced).
pub fn default_checkpoint() -> std::path::PathBuf {
    (1..)
        .map(|k| match k {
            1 => "backprop-checkpoint.safetensors".into(),
            k => format!("backprop-checkpoint-{k}.safetensors"),
        })
        .map(std::path::PathBuf::from)
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .expect("some name is free")
}

/// The exit-130 error of a run stopped by Ctrl-C, with the command that continues it.
pub fn interrupted(args: &TrainArgs, trainer: &Trainer, path: &Path) -> CliError {
    let mut resume = format!("backprop train --resume {}", path.display());
    for (flag, value) in [("--save", &args.save), ("--plot", &args.plot)] {
        if let Some(value) = value {
            resume += &format!(" {flag} {}", value.display());
        }
    }
    CliError {
        code: 130,
        message: format!(
            "interrupted after epoch {}, mini-batch {}; checkpoint written to {}; continue with: {resume}",
            trainer.epoch,
            trainer.batch,
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry's JSON is the one checkpoints have always had (keys in this order), so older
    /// checkpoints resume and new ones are byte for byte what they were.
    #[test]
    fn the_data_entry_keeps_its_shape() {
        let data = DataArgs {
            data: "x.csv".into(),
            data_dir: None,
            label_column: 3,
            scale: Some(0.5),
            test_fraction: 0.25,
        };
        let meta = metadata(&data, None, "scaled").unwrap();
        assert_eq!(
            meta["data"],
            r#"{"data":"x.csv","data_dir":null,"label_column":3,"scale":0.5,"test_fraction":0.25,"validation":null}"#
        );
        let (back, validation) = data_of(Path::new("c"), &meta).unwrap();
        assert_eq!(
            (back.label_column, back.test_fraction, validation),
            (3, 0.25, None)
        );
        let old = BTreeMap::from([(
            "data".to_string(),
            r#"{"data":"mnist-10k","validation":500}"#.to_string(),
        )]);
        let (back, validation) = data_of(Path::new("c"), &old).unwrap();
        assert_eq!(
            (back.label_column, back.test_fraction),
            (0, DEFAULT_TEST_FRACTION)
        );
        assert_eq!(validation, Some(Validation::Count(500)));
        for bad in [
            r#"{"data":"m","validation":0}"#,
            r#"{"data":"m","test_fraction":1.5}"#,
            r#"{"data":7}"#,
            "{",
        ] {
            let meta = BTreeMap::from([("data".to_string(), bad.to_string())]);
            assert!(data_of(Path::new("c"), &meta).is_err(), "{bad}");
        }
    }
}
