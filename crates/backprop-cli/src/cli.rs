//! The command line: subcommands and flags, each with a one-line help that shows its default.

use backprop::{Activation, Cost, Init};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Train, evaluate and inspect fully connected networks trained by error back-propagation.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: `train` with its defaults).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network by mini-batch SGD (the default command).
    Train(TrainArgs),
    /// Accuracy, mean cost and confusion matrix of a saved model on the test split.
    Evaluate(EvaluateArgs),
    /// Classify one image, or one example of the test split.
    Predict(PredictArgs),
    /// Show the architecture and settings stored in a model file.
    Info(InfoArgs),
}

/// Where examples come from.
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
    #[arg(long, default_value_t = 0.2, value_parser = parse_fraction)]
    pub test_fraction: f64,
}

#[derive(Debug, Args, Clone)]
pub struct TrainArgs {
    /// Layer sizes n_1,…,n_L, input first.
    #[arg(long, default_value = "784,30,10", value_parser = parse_layers)]
    pub layers: LayerSizes,
    /// Activation σ of the hidden layers.
    #[arg(long, default_value = "sigmoid", value_parser = parse_hidden)]
    pub activation: Activation,
    /// Activation of the output layer.
    #[arg(long, default_value = "sigmoid", value_parser = parse_output)]
    pub output_activation: Activation,
    /// Cost C: quadratic, cross-entropy or log-likelihood.
    #[arg(long, default_value = "quadratic", value_parser = parse_cost)]
    pub cost: Cost,
    /// Weight initialisation: standard N(0,1) or scaled N(0,1/n_in).
    #[arg(long, default_value = "standard", value_parser = parse_init)]
    pub init: Init,
    /// Passes over the training data.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Mini-batch size m.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// Learning rate η (> 0).
    #[arg(long, default_value_t = 3.0, value_parser = parse_eta, allow_hyphen_values = true)]
    pub eta: f64,
    /// Seed of the initial weights and of the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads for large matrix products (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: Option<u64>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Save the trained model here (safetensors, written atomically).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write one JSON object per epoch here.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
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
pub struct InfoArgs {
    /// The model file (safetensors).
    #[arg(long)]
    pub model: PathBuf,
}

/// `--layers 784,30,10`: the sizes `[n_1, …, n_L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSizes(pub Vec<usize>);

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

fn named<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str, s: &str) -> Result<T, String> {
    all.iter().copied().find(|&t| name(t) == s).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|&t| name(t)).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn parse_hidden(s: &str) -> Result<Activation, String> {
    named(&Activation::ALL[..4], Activation::name, s)
}
fn parse_output(s: &str) -> Result<Activation, String> {
    named(&Activation::ALL, Activation::name, s)
}
fn parse_cost(s: &str) -> Result<Cost, String> {
    named(&Cost::ALL, Cost::name, s)
}
fn parse_init(s: &str) -> Result<Init, String> {
    named(&Init::ALL, Init::name, s)
}

fn parse_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` is not a finite number")),
    }
}

fn parse_eta(s: &str) -> Result<f64, String> {
    match parse_finite(s)? {
        v if v > 0.0 => Ok(v),
        _ => Err("the learning rate must be greater than 0".into()),
    }
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

    #[test]
    fn layers_are_validated() {
        assert_eq!(parse_layers("784, 30,10").unwrap().0, vec![784, 30, 10]);
        assert!(parse_layers("784,0,10").unwrap_err().contains("0 neurons"));
        assert!(parse_layers("784,x").unwrap_err().contains("`x`"));
        assert!(parse_layers("784").unwrap_err().contains("two layers"));
    }
}
