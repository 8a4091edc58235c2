//! `backprop train`: mini-batch SGD on a data set, one line per epoch, a summary, a saved model.
//!
//! A run starts fresh from the flags ([`options`], through the library's `TrainOptions`) or from
//! a checkpoint ([`resume`]); [`report`] prints and writes what each epoch gives.

#[macro_use]
mod report;
mod options;
mod resume;

use crate::cli::{DataArgs, TrainArgs};
use crate::data_source::{self, Splits};
use crate::distributed::{self, Job};
use crate::error::{CliError, CliResult};
use crate::io;
use crate::lang::tr;
use crate::plot;
use backprop::train::checkpoint;
use backprop::{Dataset, Observer, Outcome, Trainer, Validation};
use report::{percent, print_banner, print_summary, stdout_failure, Reporter, INTERRUPTED};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// What a run starts from, fresh from the flags or from a checkpoint.
pub struct Start {
    trainer: Trainer,
    /// The data flags (a checkpoint's own).
    data: DataArgs,
    /// The validation split to hold out.
    validation: Option<Validation>,
    /// Whether it is the default split that early stopping or halve-on-plateau asked for.
    validation_by_default: bool,
    /// The initialisation's name.
    init: String,
    threads: usize,
    /// A note for stderr about the threads, if any.
    note: Option<String>,
}

/// The data of a run: the splits as loaded, and the training split with its validation split
/// held out.
struct Data {
    train: Dataset,
    validation: Option<Dataset>,
    test: Dataset,
    /// Where the splits came from, for the banner.
    description: String,
}

pub fn run(args: &TrainArgs) -> CliResult<()> {
    if let Some(ranks) = distributed::launched_ranks().filter(|&n| n > 1 && !args.distributed) {
        return Err(CliError::input(format!(
            "started by mpirun as one of {ranks} ranks without --distributed: each rank would train its own network and write the same files; add --distributed to train one network together"
        )));
    }
    let mut job = args.distributed.then(Job::start).transpose()?;
    let result = train(args, job.as_mut());
    match (result, job) {
        // One rank's error ends every rank of the job, never leaving them waiting.
        (Err(e), Some(job)) if job.size() > 1 => job.fail(&e),
        (result, _) => result,
    }
}

/// Trains alone, or as one rank of `job` (rank 0 alone prints and writes files).
fn train(args: &TrainArgs, mut job: Option<&mut Job>) -> CliResult<()> {
    let root = job.as_ref().is_none_or(|j| j.rank() == 0);
    if let Some(path) = args.plot.as_ref().filter(|_| root) {
        plot::check_target(path, "--plot")?;
    }
    let local = job.as_ref().map_or(1, |j| j.local_size());
    let mut start = match &args.resume {
        Some(path) => resume::start(path, args, local)?,
        None => options::start(args, local)?,
    };
    if let Some(note) = &start.note {
        eprintln!("{note}");
    }
    backprop::set_threads(start.threads);
    let checkpoint_path = args.checkpoint.clone().or_else(|| args.resume.clone());
    if root {
        check_outputs(args, &start.data, checkpoint_path.as_deref())?;
    }
    let quiet = args.quiet || !root;
    let data = load(args, &start, quiet)?;
    let mut reporter = match root {
        true => Some(Reporter::new(args, &start.trainer, &start.data.data)?),
        false => None,
    };
    if !quiet {
        let ranks = job.as_ref().map_or(1, |j| j.size());
        print_banner(&start, &data.description, data.validation.as_ref(), ranks);
    }
    if job.as_ref().is_none_or(|j| j.size() == 1) {
        // With several ranks mpirun ends the whole job on Ctrl-C instead; the last epoch's
        // --checkpoint resumes it.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    }
    let extra = resume::metadata(&start.data, data.validation.as_ref(), &start.init)?;
    let observer: &mut dyn Observer = match &mut reporter {
        Some(reporter) => reporter,
        None => &mut (),
    };
    let outcome = epochs(
        &mut start.trainer,
        &data,
        observer,
        &checkpoint_path,
        &extra,
        job.take(),
    )?;
    match reporter {
        Some(reporter) => finish(
            args,
            &start,
            &data,
            reporter,
            outcome,
            checkpoint_path,
            &extra,
        ),
        None => Ok(()), // not rank 0: rank 0 reports and saves
    }
}

/// The data of `start`, split and checked against its network (and, resumed, against the data
/// of its checkpoint).
fn load(args: &TrainArgs, start: &Start, quiet: bool) -> CliResult<Data> {
    let Splits {
        train,
        test,
        description,
    } = data_source::load(&start.data, quiet)?;
    let (train, validation) = backprop::hold_out(train, start.validation)?;
    let trainer = &start.trainer;
    train.check_fits(&trainer.network)?;
    if let Some(path) = &args.resume {
        trainer
            .check_same_data(&train, validation.as_ref())
            .map_err(|e| {
                CliError::input(format!(
                    "--resume {}: {} ({})",
                    path.display(),
                    e,
                    description
                ))
            })?;
    }
    test.check_fits(&trainer.network)?;
    Ok(Data {
        train,
        validation,
        test,
        description,
    })
}

/// The epochs left to train, alone or as one rank of `job`, with a checkpoint after each when
/// asked for.
fn epochs(
    trainer: &mut Trainer,
    data: &Data,
    observer: &mut dyn Observer,
    checkpoint_path: &Option<PathBuf>,
    extra: &BTreeMap<String, String>,
    job: Option<&mut Job>,
) -> CliResult<Outcome> {
    let mut save_checkpoint = |t: &Trainer| match checkpoint_path {
        Some(path) => checkpoint::save(t, path, extra),
        None => Ok(()),
    };
    let (train, validation, test) = (&data.train, data.validation.as_ref(), Some(&data.test));
    Ok(match job {
        // A finished checkpoint given with --save: nothing to train, its network is written.
        _ if trainer.epoch >= trainer.settings.epochs => Outcome::Finished,
        None => trainer.run_saving(train, validation, test, observer, &mut save_checkpoint)?,
        Some(job) => trainer.run_distributed(
            train,
            validation,
            test,
            observer,
            &mut save_checkpoint,
            job.collective(),
        )?,
    })
}

/// After the epochs, on rank 0: the checkpoint of an interrupted run, the summary, the kept
/// network's test accuracy and `--save`.
fn finish(
    args: &TrainArgs,
    start: &Start,
    data: &Data,
    reporter: Reporter,
    outcome: Outcome,
    checkpoint_path: Option<PathBuf>,
    extra: &BTreeMap<String, String>,
) -> CliResult<()> {
    let trainer = &start.trainer;
    if let Some(e) = reporter.metrics_error {
        return Err(e);
    }
    // Ctrl-C after the last epoch interrupted nothing: the network is trained, and saved below.
    if outcome == Outcome::Interrupted && trainer.epoch < trainer.settings.epochs {
        let path = checkpoint_path.unwrap_or_else(resume::default_checkpoint);
        checkpoint::save(trainer, &path, extra)?;
        return Err(resume::interrupted(args, trainer, &path));
    }
    if outcome == Outcome::Stopped {
        let line = match &trainer.best {
            Some(best) => tr!(
                "train.stopped",
                epoch = trainer.epoch,
                best = best.epoch,
                percent = percent(best.accuracy)
            ),
            None => tr!("train.stopped_eta", epoch = trainer.epoch),
        };
        say!("{line}");
    }
    print_summary(&trainer.reports);
    if data.validation.is_some() || outcome == Outcome::Stopped {
        let t = trainer.network.evaluate(&data.test)?;
        let line = tr!(
            "train.kept",
            correct = t.correct,
            total = t.total,
            percent = percent(t.accuracy())
        );
        say!("{line}");
    }
    if let Some(path) = &args.save {
        save_model(trainer, path, &start.data.data, &start.init)?;
    }
    stdout_failure()
}

/// Refuses, before the first epoch, outputs that cannot be written and outputs that would
/// overwrite an input or each other (`--checkpoint` may be the `--resume` file: it is updated).
fn check_outputs(args: &TrainArgs, data: &DataArgs, checkpoint: Option<&Path>) -> CliResult<()> {
    let data_file = Path::new(&data.data);
    let mut inputs = vec![];
    if data_file.is_file() {
        inputs.push(("--data", data_file));
    }
    let mut outputs = vec![];
    match (&args.resume, checkpoint) {
        (Some(resume), Some(path)) if backprop::io::file::same_file(resume, path) => {
            outputs.push(("--resume", path));
        }
        (resume, path) => {
            inputs.extend(resume.as_deref().map(|r| ("--resume", r)));
            outputs.extend(path.map(|p| ("--checkpoint", p)));
        }
    }
    for (flag, path) in [
        ("--save", &args.save),
        ("--metrics", &args.metrics),
        ("--plot", &args.plot),
    ] {
        if let Some(path) = path {
            outputs.push((flag, path.as_path()));
        }
    }
    io::check_files(&inputs, &outputs)
}

/// `--save`: the trained network, with its settings, data and initialisation as metadata.
fn save_model(trainer: &Trainer, path: &Path, data: &str, init: &str) -> CliResult<()> {
    let extra = trainer.settings.to_metadata(data, init)?;
    backprop::io::model_file::save(&trainer.network, path, &extra)?;
    let line = tr!("train.saved", path = path.display());
    say!("{line}");
    Ok(())
}
