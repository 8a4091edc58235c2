//! What a training run shows and writes as it goes: the lines on stdout (which survive a reader
//! that has gone), the progress bar, the `--metrics` file, the `--plot` curves, the banner before
//! the first epoch and the summary after the last.

use super::Start;
use crate::cli::TrainArgs;
use crate::error::{CliError, CliResult};
use crate::lang::tr;
use crate::plot::{self, training::EpochPoint, training::TrainingCurves};
use backprop::{Dataset, EpochReport, Observer, TrainSettings, Trainer};
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// `println!` for the lines of a training run. When stdout fails, training goes on without
/// printing, so that `--save`, `--checkpoint`, `--metrics` and `--plot` are still written: a
/// reader that has gone (`backprop train --save m.safetensors | head -1`) is then no error, any
/// other failure (`> /dev/full`) is reported when training ends ([`stdout_failure`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::train::report::say(format_args!($($arg)*))
    };
}

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDOUT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn say(line: std::fmt::Arguments<'_>) {
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
pub fn stdout_failure() -> CliResult<()> {
    match STDOUT_ERROR.get() {
        Some(e) => Err(CliError::failure(format!("stdout: {e}"))),
        None => Ok(()),
    }
}

/// The progress bar, the epoch lines, the metrics file and the plot, fed by the training loop.
pub struct Reporter {
    bar: ProgressBar,
    /// `--metrics`: the file, and the lines not yet in it. The first epoch replaces the file
    /// atomically (so a run that fails before it leaves the old file as it was); later epochs
    /// append their line, so a long run writes each line once.
    metrics: Option<(std::path::PathBuf, String, bool)>,
    pub metrics_error: Option<CliError>,
    /// `--plot`: where to draw the curves, redrawn after every epoch.
    plot: Option<(std::path::PathBuf, TrainingCurves)>,
    quiet: bool,
}

impl Reporter {
    /// The progress bar, and the `--metrics` file (created now) and `--plot` curves if asked for.
    pub fn new(args: &TrainArgs, trainer: &Trainer, data: &str) -> CliResult<Self> {
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
                tr!("train.epoch_validation", percent = percent(v.accuracy()))
            });
            let line = tr!(
                "train.epoch",
                epoch = r.epoch,
                correct = t.correct,
                total = t.total,
                percent = percent(t.accuracy()),
                train = format!("{:.4}", r.train_cost),
                test = format!("{:.4}", t.cost),
                validation = validation,
                seconds = format!("{:.2}", r.train_seconds),
            );
            say!("{line}");
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
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// What is trained, on what, and how: the lines printed before the first epoch.
pub fn print_banner(start: &Start, data: &str, validation: Option<&Dataset>, ranks: usize) {
    let (trainer, init, threads) = (&start.trainer, &start.init, start.threads);
    let arch = trainer.network.architecture();
    let line = tr!(
        "train.banner",
        sizes = backprop::sizes_text(&arch.sizes),
        hidden = arch.hidden,
        output = arch.output,
        cost = arch.cost,
        init = init,
        data = data,
    );
    say!("{line}");
    if let Some(v) = validation {
        let default = match start.validation_by_default {
            true => tr!(
                "train.validation_default",
                percent = 100.0 * TrainSettings::DEFAULT_VALIDATION_FRACTION
            ),
            false => String::new(),
        };
        let line = tr!("train.validation", count = v.len(), default = default);
        say!("{line}");
    }
    if trainer.epoch > 0 || trainer.batch > 0 {
        let line = tr!(
            "train.resuming",
            epoch = trainer.epoch,
            batch = trainer.batch,
            eta = trainer.eta
        );
        say!("{line}");
    }
    let settings = &trainer.settings;
    let ranks = match ranks > 1 {
        true => tr!("train.ranks", ranks = ranks),
        false => String::new(),
    };
    let line = tr!(
        "train.settings",
        epochs = settings.epochs,
        m = settings.batch_size,
        eta = settings.eta,
        settings = settings,
        seed = settings.seed,
        threads = threads,
        ranks = ranks,
    );
    say!("{line}");
}

/// The last line of a run: the final and the best test accuracy, and the time per epoch.
pub fn print_summary(reports: &[EpochReport]) {
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
    let line = tr!(
        "train.final",
        correct = lt.correct,
        total = lt.total,
        percent = percent(lt.accuracy()),
        epochs = last.epoch,
        best_correct = bt.correct,
        best_total = bt.total,
        best_percent = percent(bt.accuracy()),
        best_epoch = best.epoch,
        seconds = format!("{seconds:.2}"),
        per_epoch = format!("{:.3}", seconds / reports.len() as f64),
    );
    say!("{line}");
}

/// `91.55`: an accuracy as a percentage with two decimals, as every line prints it.
pub fn percent(accuracy: f64) -> String {
    format!("{:.2}", 100.0 * accuracy)
}
