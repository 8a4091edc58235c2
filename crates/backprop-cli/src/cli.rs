//! The command line: subcommands and flags, each with a one-line help that shows its default.

use backprop::{
    Activation, Architecture, Cost, Init, Optimizer, Rule, Schedule, TrainSettings, Validation,
};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Train, evaluate and inspect fully connected networks trained by error back-propagation.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: `train` with its defaults).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The language of the output meant for people: en or ru [default: from LC_ALL /
    /// LC_MESSAGES / LANG, Russian for ru_*]. JSON, flags and files stay English.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<crate::lang::Lang>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run: the size does not matter
pub enum Command {
    /// Train a network by mini-batch SGD (the default command).
    Train(TrainArgs),
    /// Accuracy, mean cost and confusion matrix of a saved model on the test split.
    Evaluate(EvaluateArgs),
    /// Classify one image, or one example of the test split.
    Predict(PredictArgs),
    /// Show the architecture and settings stored in a model file.
    Info(InfoArgs),
    /// Run the five steps of back-propagation on one example and print every z, a, δ, ∇b, ∇W.
    Trace(TraceArgs),
    /// Compare the gradients of BP3/BP4 with finite differences (f64); exit 0 only if they agree.
    Gradcheck(GradcheckArgs),
    /// Draw the incoming weights of each neuron of a layer whose input is an image, as tiles.
    ShowWeights(ShowWeightsArgs),
    /// Write a saved model as ONNX (.onnx, for ONNX Runtime) or safetensors, by --out's extension.
    Export(ExportArgs),
    /// Serve a local web page that trains, draws and traces a network live (Ctrl-C stops it).
    Serve(ServeArgs),
}

/// Where examples come from.
/// `--test-fraction`'s default: the fraction of a CSV file's rows held out as the test split.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Data: mnist-10k (embedded), mnist, fashion-mnist, a directory of IDX files, or a .csv file.
    #[arg(long, default_value = "mnist-10k")]
    pub data: String,
    /// Directory searched first for the mnist / fashion-mnist files (then $BACKPROP_DATA).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// CSV only: the column (from 0) that holds the class label.
    #[arg(long, default_value_t = 0)]
    pub label_column: usize,
    /// CSV only: multiply every feature by this factor instead of scaling each column to [0, 1].
    #[arg(long, value_parser = parse_finite)]
    pub scale: Option<f64>,
    /// CSV only: the fraction of rows held out as the test split (a fixed shuffle picks them).
    #[arg(long, default_value_t = DEFAULT_TEST_FRACTION, value_parser = parse_fraction)]
    pub test_fraction: f64,
}

#[derive(Debug, Args, Clone)]
pub struct TrainArgs {
    /// Layer sizes n_1,…,n_L, input first.
    #[arg(long, default_value_t = LayerSizes(Architecture::LECTURE_SIZES.to_vec()), value_parser = parse_layers)]
    pub layers: LayerSizes,
    /// Activation σ of the hidden layers.
    #[arg(long, default_value_t = Activation::default(), value_parser = parse_hidden)]
    pub activation: Activation,
    /// Activation of the output layer.
    #[arg(long, default_value_t = Activation::default(), value_parser = parse_output)]
    pub output_activation: Activation,
    /// Cost C: quadratic, cross-entropy or log-likelihood.
    #[arg(long, default_value_t = Cost::default(), value_parser = parse_cost)]
    pub cost: Cost,
    /// Weight initialisation: standard N(0,1), scaled N(0,1/n_in) or glorot (scikit-learn's uniform one).
    #[arg(long, default_value_t = Init::default(), value_parser = parse_init)]
    pub init: Init,
    /// Passes over the training data; with --resume, the total to reach (when given).
    #[arg(long, default_value_t = TrainSettings::DEFAULT_EPOCHS as u64, value_parser = clap::value_parser!(u64), allow_hyphen_values = true)]
    pub epochs: u64,
    /// Mini-batch size m.
    #[arg(long, default_value_t = TrainSettings::DEFAULT_BATCH_SIZE as u64, value_parser = clap::value_parser!(u64), allow_hyphen_values = true)]
    pub batch_size: u64,
    /// Learning rate η (> 0) [default: 3, the lecture's; 0.001 with --optimizer adam, Adam's usual].
    #[arg(long, value_parser = parse_finite, allow_hyphen_values = true)]
    pub eta: Option<f64>,
    /// Seed of the initial weights and of the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads for large matrix products and element-wise steps (default: all cores); results do
    /// not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64))]
    pub threads: Option<u64>,
    #[command(flatten)]
    pub data: DataArgs,
    /// L2 regularisation λ: W ← (1 − ηλ/n)W − η∇W, n the training-set size.
    #[arg(long, default_value_t = 0.0, value_parser = parse_finite, allow_hyphen_values = true)]
    pub lambda: f64,
    /// L1 regularisation λ₁: W ← W − (ηλ₁/n) sgn W − η∇W.
    #[arg(long, default_value_t = 0.0, value_parser = parse_finite, allow_hyphen_values = true)]
    pub l1: f64,
    /// Update rule: sgd, momentum, nesterov or adam [default: sgd, or momentum with --momentum,
    /// nesterov with --nesterov].
    #[arg(long, value_parser = parse_rule)]
    pub optimizer: Option<Rule>,
    /// Momentum μ in [0, 1) for momentum / nesterov (given alone, it selects momentum).
    #[arg(long, default_value_t = Optimizer::DEFAULT_MU, value_parser = parse_finite, allow_hyphen_values = true)]
    pub momentum: f64,
    /// Nesterov momentum (same as --optimizer nesterov).
    #[arg(long)]
    pub nesterov: bool,
    /// Adam's β₁.
    #[arg(long, default_value_t = Optimizer::DEFAULT_BETA1, value_parser = parse_finite, allow_hyphen_values = true)]
    pub beta1: f64,
    /// Adam's β₂.
    #[arg(long, default_value_t = Optimizer::DEFAULT_BETA2, value_parser = parse_finite, allow_hyphen_values = true)]
    pub beta2: f64,
    /// Adam's ε (> 0).
    #[arg(long, default_value_t = Optimizer::DEFAULT_EPSILON, value_parser = parse_finite, allow_hyphen_values = true)]
    pub epsilon: f64,
    /// η schedule: constant, halve-on-plateau:N, step:N:FACTOR or exponential:GAMMA.
    #[arg(long, default_value_t = Schedule::default(), value_parser = Schedule::parse)]
    pub eta_schedule: Schedule,
    /// Stop when validation accuracy has not improved for N epochs; keep the best network.
    #[arg(long, value_parser = clap::value_parser!(u64))]
    pub early_stop: Option<u64>,
    /// Validation split taken from the end of the training split: a count (10000) or a fraction (0.1).
    #[arg(long, value_parser = parse_validation)]
    pub validation: Option<Validation>,
    /// Inverted dropout: the probability p in [0, 1) of dropping a hidden neuron while training.
    #[arg(long, default_value_t = 0.0, value_parser = parse_finite, allow_hyphen_values = true)]
    pub dropout: f64,
    /// Save everything needed to continue here after every epoch (and on Ctrl-C). Without it,
    /// Ctrl-C writes backprop-checkpoint.safetensors (or -2, -3, … if that exists) here; not
    /// under mpirun with several ranks, where Ctrl-C ends the job and only this file remains.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue the training saved in this checkpoint (its settings and data are used).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Save the trained model here (safetensors, written atomically).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write one JSON object per epoch here.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Draw the cost and the test accuracy per epoch here (.svg or .png), redrawn every epoch.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
    /// Train as one rank of an MPI job, `mpirun -np P backprop train --distributed …`: each
    /// mini-batch is divided between the P processes and their gradients added (MPI_Allreduce);
    /// rank 0 alone prints and writes files. Needs a build with the `mpi` feature.
    #[arg(long)]
    pub distributed: bool,
    /// The flags given on the command line (not their defaults), as `--name`: filled by `main`.
    #[arg(skip)]
    pub given: Vec<String>,
}

impl Default for TrainArgs {
    fn default() -> Self {
        match Cli::parse_from(["backprop", "train"]).command {
            Some(Command::Train(args)) => args,
            _ => unreachable!("`backprop train` parses as the train command"),
        }
    }
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print a JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Draw the confusion matrix as a heat map with counts here (.svg or .png).
    #[arg(long)]
    pub confusion: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// An image file (PNG, JPEG, …): converted to grayscale of the input size, like MNIST.
    #[arg(long, conflicts_with = "index")]
    pub image: Option<PathBuf>,
    /// Index N of an example of the test split of --data.
    #[arg(long, required_unless_present = "image")]
    pub index: Option<usize>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print a JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP port (0: any free port; the URL printed says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on; anything but a loopback address exposes the page to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Start from this model file (safetensors) instead of a fresh network.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Seconds a connection may take to send a request's headers, or its body, or stay idle
    /// (the event stream excepted) before it is closed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// The most connections open at once (the event streams count); beyond them, 503.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_connections: u64,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The model file (safetensors); without it, the CPU features seen and the matrix kernel in
    /// use (BACKPROP_KERNEL=avx512|avx2|portable forces one).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// The network that `trace` and `gradcheck` look at: a saved model, or a fresh random one.
#[derive(Debug, Args, Clone)]
pub struct NetArgs {
    /// A saved model file (safetensors); give this or --layers.
    #[arg(long, conflicts_with = "layers")]
    pub model: Option<PathBuf>,
    /// Or a fresh random network with these sizes n_1,…,n_L (drawn from --seed).
    #[arg(long, value_parser = parse_layers)]
    pub layers: Option<LayerSizes>,
    /// Fresh network: activation σ of the hidden layers.
    #[arg(long, default_value_t = Activation::default(), value_parser = parse_hidden, conflicts_with = "model")]
    pub activation: Activation,
    /// Fresh network: activation of the output layer.
    #[arg(long, default_value_t = Activation::default(), value_parser = parse_output, conflicts_with = "model")]
    pub output_activation: Activation,
    /// Fresh network: cost C (quadratic, cross-entropy or log-likelihood).
    #[arg(long, default_value_t = Cost::default(), value_parser = parse_cost, conflicts_with = "model")]
    pub cost: Cost,
    /// Fresh network: weight initialisation, standard N(0,1), scaled N(0,1/n_in) or glorot [default:
    /// standard for trace, like train; scaled for gradcheck, which keeps outputs unsaturated].
    #[arg(long, value_parser = parse_init, conflicts_with = "model")]
    pub init: Option<Init>,
    /// Seed of the fresh network's weights and of the examples drawn for it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// How `trace` writes the five steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// Compact per-layer tables for a terminal.
    Text,
    /// Everything, full precision (the same as --json).
    Json,
    /// A Markdown document with the formulas (LaTeX), for lecture notes.
    Markdown,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Index N of an example of the test split of --data.
    #[arg(long, conflicts_with = "image")]
    pub index: Option<usize>,
    /// An image file (PNG, JPEG, …), converted like `predict --image` does.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// The class k of the target y (one-hot). Default: the example's label; for --image the
    /// predicted class; for a random example one drawn from --seed.
    #[arg(long)]
    pub label: Option<usize>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print every value instead of the first few.
    #[arg(long)]
    pub full: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Shorthand for --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Draw |δ^(l)| per neuron per layer here (.svg or .png): the example's influence map.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct GradcheckArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Number of examples: the first ones of the test split of --data for --model, drawn from
    /// --seed for --layers. Examples too near ReLU's kink for a step h are skipped.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub examples: u64,
    /// The check passes when every relative error is below this.
    #[arg(long, default_value_t = 1e-6, value_parser = parse_positive)]
    pub tolerance: f64,
    /// The step h of the central differences.
    #[arg(long, default_value_t = backprop::GradCheckOptions::DEFAULT_STEP, value_parser = parse_positive)]
    pub step: f64,
    /// Derivatives smaller than this are compared absolutely against it: a difference quotient
    /// resolves a derivative only to about 1e-13·C at h = 1e-3.
    #[arg(long, default_value_t = backprop::GradCheckOptions::DEFAULT_FLOOR, value_parser = parse_positive)]
    pub floor: f64,
    /// Check at most this many weights and this many biases per layer (a seeded sample).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_per_layer: u64,
    /// Check a fresh network for every hidden activation × output activation × cost.
    #[arg(long, conflicts_with_all = ["model", "activation", "output_activation", "cost"])]
    pub all_pairs: bool,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print a JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowWeightsArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The layer l (2..=L) whose incoming weights W^(l) are drawn; its input must be an image.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..))]
    pub layer: u64,
    /// The picture to write (.png or .svg).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The file to write, atomically; its extension chooses the format: .onnx (ONNX opset 13:
    /// input `input` [N, n_1], output `output` [N, n_L]) or .safetensors.
    #[arg(long)]
    pub out: PathBuf,
}

/// `--layers 784,30,10`: the sizes `[n_1, …, n_L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSizes(pub Vec<usize>);

impl std::fmt::Display for LayerSizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&sizes.join(","))
    }
}

fn parse_layers(s: &str) -> Result<LayerSizes, String> {
    let sizes = s
        .split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(0) => Err("a layer cannot have 0 neurons".to_string()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("`{}` is not a number of neurons", part.trim())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.len() < 2 {
        return Err("at least two layers are needed (input and output), e.g. 784,30,10".into());
    }
    Ok(LayerSizes(sizes))
}

/// A name of the library's, read by its `FromStr`: the one "unknown …; expected one of …"
/// message of every front.
fn named<T: std::str::FromStr<Err = backprop::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: backprop::Error| match e {
        backprop::Error::InvalidSetting(m) => m, // clap says "invalid value" already
        e => e.to_string(),
    })
}

fn parse_hidden(s: &str) -> Result<Activation, String> {
    Activation::parse_hidden(s).map_err(|e| e.to_string())
}
fn parse_output(s: &str) -> Result<Activation, String> {
    named(s)
}
fn parse_cost(s: &str) -> Result<Cost, String> {
    named(s)
}
fn parse_init(s: &str) -> Result<Init, String> {
    named(s)
}
fn parse_rule(s: &str) -> Result<Rule, String> {
    named(s)
}

fn parse_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` is not a finite number")),
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    match parse_finite(s)? {
        v if v > 0.0 => Ok(v),
        _ => Err("the value must be greater than 0".into()),
    }
}

fn parse_validation(s: &str) -> Result<Validation, String> {
    named(s)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match parse_finite(s)? {
        v if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err("the test fraction must lie strictly between 0 and 1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every registered activation and cost is offered where it may be used: a new one needs no
    /// change here.
    #[test]
    fn every_registered_activation_and_cost_is_offered() {
        for a in Activation::ALL {
            assert_eq!(parse_output(a.name()), Ok(a));
            assert_eq!(parse_hidden(a.name()).is_ok(), a.is_elementwise(), "{a}");
        }
        assert_eq!(Activation::HIDDEN.len(), Activation::ALL.len() - 1);
        for c in Cost::ALL {
            assert_eq!(parse_cost(c.name()), Ok(c));
        }
        let hidden_help = parse_hidden("swish").unwrap_err();
        assert!(Activation::HIDDEN
            .iter()
            .all(|a| hidden_help.contains(a.name())));
    }

    #[test]
    fn layers_are_validated() {
        assert_eq!(parse_layers("784, 30,10").unwrap().0, vec![784, 30, 10]);
        assert!(parse_layers("784,0,10").unwrap_err().contains("0 neurons"));
        assert!(parse_layers("784,x").unwrap_err().contains("`x`"));
        assert!(parse_layers("784").unwrap_err().contains("two layers"));
    }
}
