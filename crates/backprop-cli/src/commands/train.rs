//! `backprop train`: mini-batch SGD on a data set, one line per epoch, a summary, a saved model.

use crate::cli::{DataArgs, TrainArgs, Validation};
use crate::commands;
use crate::data_source;
use crate::distributed::{self, Job};
use crate::error::{CliError, CliResult};
use crate::plot::{self, training::EpochPoint, training::TrainingCurves};
use backprop::train::checkpoint;
use backprop::{
    Dataset, EpochReport, Network, Observer, Optimizer, Outcome, Regularization, Rule,
    TrainSettings, Trainer,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// `println!` for the lines of a training run. When stdout fails, training goes on without
/// printing, so that `--save`, `--checkpoint`, `--metrics` and `--plot` are still written: a
/// reader that has gone (`backprop train --save m.safetensors | head -1`) is then no error, any
/// other failure (`> /dev/full`) is reported when training ends ([`stdout_failure`]).
macro_rules! say {
    ($($arg:tt)*) => {
        say(format_args!($($arg)*))
    };
}

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDOUT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = STDOUT_ERROR.set(e.to_string());
        }
    }
}

/// The failure to print met by [`say`], other than a reader that has gone.
fn stdout_failure() -> CliResult<()> {
    match STDOUT_ERROR.get() {
        Some(e) => Err(CliError::failure(format!("stdout: {e}"))),
        None => Ok(()),
    }
}

/// The progress bar, the epoch lines, the metrics file and the plot, fed by the training loop.
struct Reporter {
    bar: ProgressBar,
    /// `--metrics`: the file, and the lines not yet in it. The first epoch replaces the file
    /// atomically (so a run that fails before it leaves the old file as it was); later epochs
    /// append their line, so a long run writes each line once.
    metrics: Option<(std::path::PathBuf, String, bool)>,
    metrics_error: Option<CliError>,
    /// `--plot`: where to draw the curves, redrawn after every epoch.
    plot: Option<(std::path::PathBuf, TrainingCurves)>,
    quiet: bool,
}

impl Reporter {
    /// The progress bar, and the `--metrics` file (created now) and `--plot` curves if asked for.
    fn new(args: &TrainArgs, trainer: &Trainer, data: &str) -> CliResult<Self> {
        // A resumed run continues the lines and the curves of the epochs already done.
        let metrics = args.metrics.as_ref().map(|path| {
            let lines: String = trainer
                .reports
                .iter()
                .map(|r| format!("{}\n", r.metrics()))
                .collect();
            (path.clone(), lines, false)
        });
        let bar = if args.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} mini-batches {elapsed}")
        {
            bar.set_style(style);
        }
        let (arch, settings) = (trainer.network.architecture(), &trainer.settings);
        let plot = args.plot.as_ref().map(|path| {
            let curves = TrainingCurves {
                epochs: settings.epochs,
                points: trainer.reports.iter().filter_map(point).collect(),
                subtitle: format!(
                    "Training {arch} on {data}: mini-batch {}, η = {}, seed {}",
                    settings.batch_size, settings.eta, settings.seed
                ),
            };
            (path.clone(), curves)
        });
        Ok(Reporter {
            bar,
            metrics,
            metrics_error: None,
            plot,
            quiet: args.quiet,
        })
    }
}

impl Observer for Reporter {
    fn batch_done(&mut self, done: usize, total: usize) -> ControlFlow<()> {
        if self.bar.length() != Some(total as u64) {
            self.bar.set_length(total as u64);
            self.bar.reset();
        }
        self.bar.set_position(done as u64);
        if INTERRUPTED.load(Ordering::SeqCst) {
            self.bar.finish_and_clear();
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn epoch_done(&mut self, r: &EpochReport) -> ControlFlow<()> {
        self.bar.finish_and_clear();
        let t = r.test.as_ref().expect("train always passes test data");
        if !self.quiet {
            let validation = r.validation.as_ref().map_or(String::new(), |v| {
                format!("  validation {:.2}%", 100.0 * v.accuracy())
            });
            say!(
                "Epoch {}: {} / {} ({:.2}%)  train cost {:.4}  test cost {:.4}{validation}  {:.2} s",
                r.epoch,
                t.correct,
                t.total,
                100.0 * t.accuracy(),
                r.train_cost,
                t.cost,
                r.train_seconds
            );
        }
        if let Some((path, lines, created)) = &mut self.metrics {
            lines.push_str(&format!("{}\n", r.metrics()));
            let written = if *created {
                append(path, lines.as_bytes())
            } else {
                backprop::io::file::write_atomically(path, lines.as_bytes())
            };
            if let Err(e) = written {
                self.metrics_error = Some(CliError::failure(format!("--metrics {e}")));
                return ControlFlow::Break(());
            }
            *created = true;
            lines.clear();
        }
        if let Some((path, curves)) = &mut self.plot {
            curves.push(point(r));
            if let Err(e) = plot::save(curves, path) {
                self.metrics_error = Some(e);
                return ControlFlow::Break(());
            }
        }
        // Ctrl-C during the last mini-batch of an epoch (or an epoch of one mini-batch) stops here.
        if INTERRUPTED.load(Ordering::SeqCst) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// Appends `bytes` to the file at `path` (one the run has created).
fn append(path: &Path, bytes: &[u8]) -> backprop::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|source| backprop::Error::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// The point of an epoch on the `--plot` curves (every epoch of `train` has test data).
fn point(r: &EpochReport) -> Option<EpochPoint> {
    r.test.as_ref().map(|t| EpochPoint {
        epoch: r.epoch,
        train_cost: r.train_cost,
        test_cost: t.cost,
        test_accuracy: t.accuracy(),
    })
}

/// Set by Ctrl-C: training stops after the current mini-batch and writes its checkpoint.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Where an interrupted run without `--checkpoint` saves itself: `backprop-checkpoint.safetensors`
/// in the current directory, or `backprop-checkpoint-2.safetensors`, … if that exists (an
/// existing file is never replaced).
fn default_checkpoint() -> std::path::PathBuf {
    (1..)
        .map(|k| match k {
            1 => "backprop-checkpoint.safetensors".into(),
            k => format!("backprop-checkpoint-{k}.safetensors"),
        })
        .map(std::path::PathBuf::from)
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .expect("some name is free")
}

/// The update rule the flags ask for; contradicting flags are refused.
fn optimizer(args: &TrainArgs) -> CliResult<Optimizer> {
    let momentum_given = args.given.iter().any(|f| f == "--momentum");
    let rule = match (args.optimizer.map(Rule::from), args.nesterov) {
        (Some(rule), true) if rule != Rule::Nesterov => {
            return Err(CliError::input(format!(
                "--nesterov contradicts --optimizer {}: give one of them",
                rule.name()
            )))
        }
        (_, true) => Rule::Nesterov,
        (Some(rule), false) => rule,
        (None, false) if momentum_given => Rule::Momentum,
        (None, false) => Rule::Sgd,
    };
    if momentum_given && !matches!(rule, Rule::Momentum | Rule::Nesterov) {
        return Err(CliError::input(format!(
            "--momentum applies to --optimizer momentum or nesterov, not {}",
            rule.name()
        )));
    }
    let adam_flags: Vec<&str> = ["--beta1", "--beta2", "--epsilon"]
        .into_iter()
        .filter(|flag| args.given.iter().any(|f| f == flag))
        .collect();
    if !adam_flags.is_empty() && rule != Rule::Adam {
        return Err(CliError::input(format!(
            "{} apply to --optimizer adam, not {}",
            adam_flags.join(", "),
            rule.name()
        )));
    }
    Ok(Optimizer::from_rule(
        rule,
        args.momentum,
        args.beta1,
        args.beta2,
        args.epsilon,
    ))
}

/// The flags that still apply with `--resume`; every other flag is fixed by the checkpoint.
const RESUME_FLAGS: [&str; 9] = [
    "--resume",
    "--distributed",
    "--epochs",
    "--checkpoint",
    "--save",
    "--metrics",
    "--plot",
    "--threads",
    "--quiet",
];

/// A new trainer from the flags, with the data flags and the initialisation's name.
fn fresh(args: &TrainArgs) -> CliResult<(Trainer, DataArgs, Option<Validation>, String)> {
    let net: Network = Network::builder(&args.layers.0)
        .hidden(args.activation)
        .output(args.output_activation)
        .cost(args.cost)
        .init(args.init)
        .seed(args.seed)
        .build()?;
    let optimizer = optimizer(args)?;
    let settings = TrainSettings {
        epochs: usize::try_from(args.epochs).unwrap_or(usize::MAX),
        batch_size: args.batch_size as usize,
        eta: args.eta.unwrap_or(TrainSettings::default_eta(&optimizer)),
        seed: args.seed,
        optimizer,
        regularization: Regularization {
            l2: args.lambda,
            l1: args.l1,
        },
        schedule: args.eta_schedule,
        dropout: args.dropout,
        early_stop: args.early_stop.map(|n| n as usize),
    };
    // Early stopping and halve-on-plateau watch a validation split: without --validation, hold
    // out the library's default fraction, as scikit-learn and Keras do.
    let validation = match args.validation {
        None if settings.needs_validation() => Some(Validation::Fraction(
            TrainSettings::DEFAULT_VALIDATION_FRACTION,
        )),
        given => given,
    };
    Ok((
        Trainer::new(net, settings)?,
        args.data.clone(),
        validation,
        args.init.name().to_string(),
    ))
}

/// The trainer, data flags and validation split stored in a checkpoint; `--epochs` may raise the
/// total.
fn resume(
    path: &Path,
    args: &TrainArgs,
) -> CliResult<(Trainer, DataArgs, Option<Validation>, String)> {
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
    let (mut trainer, meta) = checkpoint::load(path)?;
    let bad = |what: &str| {
        CliError::input(format!(
            "{}: checkpoint has no valid `{what}` entry",
            path.display()
        ))
    };
    let data: serde_json::Value = meta
        .get("data")
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| bad("data"))?;
    let data_args = DataArgs {
        data: data["data"]
            .as_str()
            .ok_or_else(|| bad("data"))?
            .to_string(),
        data_dir: data["data_dir"].as_str().map(Into::into),
        label_column: data["label_column"].as_u64().unwrap_or(0) as usize,
        scale: data["scale"].as_f64(),
        test_fraction: data["test_fraction"].as_f64().unwrap_or(0.2),
    };
    let validation = match &data["validation"] {
        serde_json::Value::Null => None,
        v => match v.as_u64() {
            Some(k) if k > 0 => Some(Validation::Count(usize::try_from(k).unwrap_or(usize::MAX))),
            _ => return Err(bad("data")),
        },
    };
    if !(data_args.test_fraction > 0.0 && data_args.test_fraction < 1.0) {
        return Err(bad("data"));
    }
    if args.given.iter().any(|f| f == "--epochs") {
        let epochs = args.epochs;
        trainer.settings.epochs = usize::try_from(epochs).unwrap_or(usize::MAX);
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
    let init = meta
        .get("init")
        .cloned()
        .unwrap_or_else(|| "standard".into());
    Ok((trainer, data_args, validation, init))
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
    commands::check_files(&inputs, &outputs)
}

/// The last `validation` examples of the training split, held out.
fn hold_out(
    train: Dataset,
    validation: Option<Validation>,
) -> CliResult<(Dataset, Option<Dataset>)> {
    let Some(v) = validation else {
        return Ok((train, None));
    };
    let k = v.of(train.len());
    if k == 0 || k >= train.len() {
        return Err(CliError::input(format!("the validation split (--validation, or 10% for --early-stop and halve-on-plateau) takes {k} of the {} training examples: nothing would be left to train on, or to validate", train.len())));
    }
    let (rest, held) = train.split_at(train.len() - k);
    Ok((rest, Some(held)))
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
fn train(args: &TrainArgs, job: Option<&mut Job>) -> CliResult<()> {
    let root = job.as_ref().is_none_or(|j| j.rank() == 0);
    let threads = use_threads(args, job.as_ref().map_or(1, |j| j.local_size()))?;
    if let Some(path) = args.plot.as_ref().filter(|_| root) {
        plot::check_target(path, "--plot")?;
    }
    let (mut trainer, data_args, validation, init) = match &args.resume {
        Some(path) => resume(path, args)?,
        None => fresh(args)?,
    };
    let checkpoint_path = args.checkpoint.clone().or_else(|| args.resume.clone());
    if root {
        check_outputs(args, &data_args, checkpoint_path.as_deref())?;
    }
    let quiet = args.quiet || !root;
    let splits = data_source::load(&data_args, quiet)?;
    let (train, validation_data) = hold_out(splits.train, validation)?;
    train.check_fits(&trainer.network)?;
    if let Some(path) = &args.resume {
        trainer
            .check_same_data(&train, validation_data.as_ref())
            .map_err(|e| {
                CliError::input(format!(
                    "--resume {}: {} ({})",
                    path.display(),
                    e,
                    splits.description
                ))
            })?;
    }
    splits.test.check_fits(&trainer.network)?;
    let mut reporter = if root {
        Some(Reporter::new(args, &trainer, &data_args.data)?)
    } else {
        None
    };
    if !quiet {
        print_banner(
            args,
            &trainer,
            &init,
            &splits.description,
            validation_data.as_ref(),
            (threads, job.as_ref().map_or(1, |j| j.size())),
        );
    }
    if job.as_ref().is_none_or(|j| j.size() == 1) {
        // With several ranks mpirun ends the whole job on Ctrl-C instead; the last epoch's
        // --checkpoint resumes it.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    }
    let data_json = serde_json::json!({
        "data": data_args.data, "data_dir": data_args.data_dir, "label_column": data_args.label_column,
        "scale": data_args.scale, "test_fraction": data_args.test_fraction,
        "validation": validation_data.as_ref().map(Dataset::len),
    });
    let extra = BTreeMap::from([
        ("data".to_string(), data_json.to_string()),
        ("init".to_string(), init.clone()),
    ]);
    let mut save_checkpoint = |t: &Trainer| match &checkpoint_path {
        Some(path) => checkpoint::save(t, path, &extra),
        None => Ok(()),
    };
    let observer: &mut dyn Observer = match &mut reporter {
        Some(reporter) => reporter,
        None => &mut (),
    };
    let (test, validation) = (Some(&splits.test), validation_data.as_ref());
    let outcome = match job {
        // A finished checkpoint given with --save: nothing to train, its network is written.
        _ if trainer.epoch >= trainer.settings.epochs => Ok(Outcome::Finished),
        None => trainer.run_saving(&train, validation, test, observer, &mut save_checkpoint),
        Some(job) => trainer.run_distributed(
            &train,
            validation,
            test,
            observer,
            &mut save_checkpoint,
            job.collective(),
        ),
    }?;
    let Some(reporter) = reporter else {
        return Ok(()); // not rank 0: rank 0 reports and saves
    };
    if let Some(e) = reporter.metrics_error {
        return Err(e);
    }
    // Ctrl-C after the last epoch interrupted nothing: the network is trained, and saved below.
    if outcome == Outcome::Interrupted && trainer.epoch < trainer.settings.epochs {
        let path = checkpoint_path.unwrap_or_else(default_checkpoint);
        checkpoint::save(&trainer, &path, &extra)?;
        return Err(interrupted(args, &trainer, &path));
    }
    if outcome == Outcome::Stopped {
        if let Some(best) = &trainer.best {
            say!("Stopped after epoch {}: keeping the network of epoch {} (validation accuracy {:.2}%)", trainer.epoch, best.epoch, 100.0 * best.accuracy);
        }
    }
    print_summary(&trainer.reports);
    if validation_data.is_some() || outcome == Outcome::Stopped {
        let t = trainer.network.evaluate(&splits.test)?;
        say!(
            "Kept network: {} / {} ({:.2}%) on the test split",
            t.correct,
            t.total,
            100.0 * t.accuracy()
        );
    }
    if let Some(path) = &args.save {
        save_model(&trainer, path, &data_args.data, init)?;
    }
    stdout_failure()
}

/// `--threads`, or every core (up to the library's limit) shared by the `local_ranks` processes
/// of an MPI job on this host; returns the number set.
fn use_threads(args: &TrainArgs, local_ranks: usize) -> CliResult<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.map_or(
        (backprop::default_threads() / local_ranks.max(1)).max(1),
        |t| usize::try_from(t).unwrap_or(usize::MAX),
    );
    if let Some(note) = backprop::limits::check_threads(threads, cores)? {
        eprintln!("{note}");
    }
    backprop::set_threads(threads);
    Ok(threads)
}

/// What is trained, on what, and how: the lines printed before the first epoch.
fn print_banner(
    args: &TrainArgs,
    trainer: &Trainer,
    init: &str,
    data: &str,
    validation: Option<&Dataset>,
    (threads, ranks): (usize, usize),
) {
    let arch = trainer.network.architecture();
    say!(
        "Training {} ({}/{}, {} cost, {init} init) on {data}",
        backprop::sizes_text(&arch.sizes),
        arch.hidden,
        arch.output,
        arch.cost
    );
    if let Some(v) = validation {
        let default = if args.validation.is_none() && args.resume.is_none() {
            format!(
                " ({}% by default: --early-stop and halve-on-plateau need a validation split; --validation sets it)",
                100.0 * TrainSettings::DEFAULT_VALIDATION_FRACTION
            )
        } else {
            String::new()
        };
        say!(
            "Validation: the last {} training examples, held out{default}",
            v.len()
        );
    }
    if trainer.epoch > 0 || trainer.batch > 0 {
        say!(
            "Resuming after epoch {}, mini-batch {}, η = {}",
            trainer.epoch,
            trainer.batch,
            trainer.eta
        );
    }
    let settings = &trainer.settings;
    let ranks = if ranks > 1 {
        format!(" per rank × {ranks} MPI ranks (each mini-batch divided between them)")
    } else {
        String::new()
    };
    say!(
        "{} epochs, mini-batch {}, η = {}, {settings}, seed {}, {threads} thread(s){ranks}",
        settings.epochs,
        settings.batch_size,
        settings.eta,
        settings.seed
    );
}

/// The exit-130 error of a run stopped by Ctrl-C, with the command that continues it.
fn interrupted(args: &TrainArgs, trainer: &Trainer, path: &Path) -> CliError {
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

/// `--save`: the trained network, with its settings, data and initialisation as metadata.
fn save_model(trainer: &Trainer, path: &Path, data: &str, init: String) -> CliResult<()> {
    let extra = trainer.settings.to_metadata(data, &init)?;
    backprop::io::model_file::save(&trainer.network, path, &extra)?;
    say!("Saved {}", path.display());
    Ok(())
}

fn print_summary(reports: &[EpochReport]) {
    let accuracy = |r: &EpochReport| r.test.as_ref().map_or(0.0, |t| t.accuracy());
    let (Some(last), Some(best)) = (
        reports.last(),
        reports
            .iter()
            .max_by(|a, b| accuracy(a).total_cmp(&accuracy(b))),
    ) else {
        return;
    };
    let seconds: f64 = reports.iter().map(|r| r.train_seconds).sum();
    let (lt, bt) = (
        last.test.as_ref().expect("test data"),
        best.test.as_ref().expect("test data"),
    );
    say!(
        "Final: {} / {} ({:.2}%) after {} epochs; best {} / {} ({:.2}%) at epoch {}; {:.2} s training ({:.3} s/epoch)",
        lt.correct,
        lt.total,
        100.0 * lt.accuracy(),
        last.epoch,
        bt.correct,
        bt.total,
        100.0 * bt.accuracy(),
        best.epoch,
        seconds,
        seconds / reports.len() as f64
    );
}
