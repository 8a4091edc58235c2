//! `backprop train`: mini-batch SGD on a data set, one line per epoch, a summary, a saved model.

use crate::cli::TrainArgs;
use crate::data_source;
use crate::error::{CliError, CliResult};
use crate::plot::{self, training::EpochPoint, training::TrainingCurves};
use backprop::{EpochReport, Network, Observer, Sgd};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;

/// The progress bar, the epoch lines, the metrics file and the plot, fed by the training loop.
struct Reporter {
    bar: ProgressBar,
    metrics: Option<(std::path::PathBuf, std::fs::File)>,
    metrics_error: Option<CliError>,
    /// `--plot`: where to draw the curves, redrawn after every epoch.
    plot: Option<(std::path::PathBuf, TrainingCurves)>,
    quiet: bool,
}

impl Observer for Reporter {
    fn batch_done(&mut self, done: usize, total: usize) -> ControlFlow<()> {
        if done == 1 {
            self.bar.set_length(total as u64);
            self.bar.reset();
        }
        self.bar.set_position(done as u64);
        ControlFlow::Continue(())
    }

    fn epoch_done(&mut self, r: &EpochReport) -> ControlFlow<()> {
        self.bar.finish_and_clear();
        let t = r.test.as_ref().expect("train always passes test data");
        if !self.quiet {
            println!(
                "Epoch {}: {} / {} ({:.2}%)  train cost {:.4}  test cost {:.4}  {:.2} s",
                r.epoch,
                t.correct,
                t.total,
                100.0 * t.accuracy(),
                r.train_cost,
                t.cost,
                r.train_seconds
            );
        }
        if let Some((path, file)) = &mut self.metrics {
            let line = serde_json::json!({
                "epoch": r.epoch,
                "train_seconds": r.train_seconds,
                "train_cost": r.train_cost,
                "test_cost": t.cost,
                "test_correct": t.correct,
                "test_total": t.total,
                "test_accuracy": t.accuracy(),
            });
            if let Err(e) = writeln!(file, "{line}").and_then(|_| file.flush()) {
                self.metrics_error = Some(CliError::failure(format!("{}: {e}", path.display())));
                return ControlFlow::Break(());
            }
        }
        if let Some((path, curves)) = &mut self.plot {
            curves.points.push(EpochPoint {
                epoch: r.epoch,
                train_cost: r.train_cost,
                test_cost: t.cost,
                test_accuracy: t.accuracy(),
            });
            if let Err(e) = plot::save(curves, path) {
                self.metrics_error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

pub fn run(args: &TrainArgs) -> CliResult<()> {
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |t| t as usize,
    );
    backprop::set_threads(threads);
    if let Some(path) = &args.plot {
        plot::check_target(path, "--plot")?;
    }
    let splits = data_source::load(&args.data, args.quiet)?;
    let mut net: Network = Network::builder(&args.layers.0)
        .hidden(args.activation)
        .output(args.output_activation)
        .cost(args.cost)
        .init(args.init)
        .seed(args.seed)
        .build()?;
    splits.train.check_fits(&net)?;
    splits.test.check_fits(&net)?;
    let sgd = Sgd {
        epochs: args.epochs as usize,
        batch_size: args.batch_size as usize,
        eta: args.eta,
        seed: args.seed,
        ..Sgd::default()
    };
    let metrics = match &args.metrics {
        Some(path) => Some((
            path.clone(),
            std::fs::File::create(path)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?,
        )),
        None => None,
    };
    let sizes = sizes_text(net.sizes());
    if !args.quiet {
        println!(
            "Training {sizes} ({}/{}, {} cost, {} init) on {}",
            args.activation, args.output_activation, args.cost, args.init, splits.description
        );
        println!(
            "{} epochs, mini-batch {}, η = {}, seed {}, {threads} thread(s)",
            sgd.epochs, sgd.batch_size, sgd.eta, sgd.seed
        );
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} mini-batches {elapsed}") {
        bar.set_style(style);
    }
    let plot = args.plot.as_ref().map(|path| {
        let curves = TrainingCurves {
            epochs: sgd.epochs,
            points: Vec::new(),
            subtitle: format!(
                "Training {sizes} ({}/{}, {} cost) on {}: mini-batch {}, η = {}, seed {}",
                args.activation,
                args.output_activation,
                args.cost,
                args.data.data,
                sgd.batch_size,
                sgd.eta,
                sgd.seed
            ),
        };
        (path.clone(), curves)
    });
    let mut reporter = Reporter {
        bar,
        metrics,
        metrics_error: None,
        plot,
        quiet: args.quiet,
    };
    let reports = net.train_with(&splits.train, Some(&splits.test), &sgd, &mut reporter)?;
    if let Some(e) = reporter.metrics_error {
        return Err(e);
    }
    print_summary(&reports);
    if let Some(path) = &args.save {
        let settings = serde_json::json!({
            "data": args.data.data,
            "epochs": sgd.epochs,
            "batch_size": sgd.batch_size,
            "eta": sgd.eta,
            "seed": sgd.seed,
            "init": args.init.name(),
        });
        let extra = BTreeMap::from([("training".to_string(), settings.to_string())]);
        backprop::model_file::save(&net, path, &extra)?;
        println!("Saved {}", path.display());
    }
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
    println!(
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

/// `784-30-10`.
pub fn sizes_text(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}
