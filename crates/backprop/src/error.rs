//! The one error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in the library. Each message is one line that names the problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Layer sizes, activations or costs that do not make a network.
    #[error("invalid network: {0}")]
    InvalidNetwork(String),
    /// Training or checking settings out of range (η ≤ 0, a mini-batch of 0, …).
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// A name that is not one of the names of its kind (an activation, a cost, an
    /// initialisation, an update rule): the one message every front shows for it.
    #[error("unknown {what} `{name}`; expected one of {}", .expected.join(", "))]
    UnknownName {
        /// The kind of name (`hidden activation`, `cost`, …).
        what: &'static str,
        /// The name given.
        name: String,
        /// The names of that kind.
        expected: Vec<&'static str>,
    },
    /// Arrays whose shapes disagree with the network.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A data file that cannot be read as a data set.
    #[error("{path}: {message}")]
    Data {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A model file that cannot be read or written.
    #[error("{path}: {message}")]
    ModelFile {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An operating-system error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An output file (model, checkpoint, picture, metrics) that cannot be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file as the caller named it.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Processes training together disagree (different data, networks or sums); see
    /// [`crate::train::distributed`].
    #[error("distributed training: {0}")]
    Distributed(String),
    /// The cost, or a weight or bias, became NaN or infinite during training;
    /// or the network got stuck: one answer for every example and no gradient left.
    #[error("training diverged in epoch {epoch}: {}; try a smaller learning rate than η = {eta:?}, or the scaled initialisation (saturated outputs make the logarithmic costs infinite)", diverged_what(*.layer, *.cost, .stuck_at.as_ref()))]
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
        /// The training cost of the epoch (finite when only the parameters diverged: the
        /// logarithmic costs floor `a` and stay finite).
        cost: f64,
        /// The first layer `l` whose `W^(l)` or `b^(l)` holds a NaN or infinite value; `None`
        /// when only the cost is not finite.
        layer: Option<usize>,
        /// The learning rate in use.
        eta: f64,
        /// When that is what stopped training, the one class the network answers: on a sample
        /// of the training examples it answers this class for all and its gradient is 0
        /// ([`Network::stuck_at`](crate::Network::stuck_at)); the weights are finite but so
        /// large that every neuron is saturated.
        stuck_at: Option<Stuck>,
    },
    /// A network's activations stopped being finite (weights so large that `z` overflows):
    /// its output is not a class.
    #[error("the activations a^({layer}) are not finite (NaN or infinite){}: the weights up to layer {layer} are too large for this input, so the network gives no output", example.map_or(String::new(), |i| format!(" for example {i}")))]
    NotFinite {
        /// The first layer `l` whose `a^(l)` holds a NaN or infinite value.
        layer: usize,
        /// The example (its index in the data set) when a data set was evaluated.
        example: Option<usize>,
    },
}

/// A network stuck on one answer ([`Error::Diverged`]'s `stuck_at`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stuck {
    /// The class it answers for every example looked at.
    pub class: usize,
    /// How many training examples were looked at.
    pub examples: usize,
    /// The bound below which every component of their mean gradient was.
    pub no_gradient: f64,
}

impl Error {
    /// [`Error::UnknownName`]: `name` is none of `expected`, names of `what`.
    pub fn unknown_name(what: &'static str, name: &str, expected: &[&'static str]) -> Self {
        Error::UnknownName {
            what,
            name: name.to_string(),
            expected: expected.to_vec(),
        }
    }
}

fn diverged_what(layer: Option<usize>, cost: f64, stuck_at: Option<&Stuck>) -> String {
    match (layer, stuck_at) {
        (Some(l), _) => format!(
            "the weights or biases of layer {l} became NaN or infinite (the training cost was {cost})"
        ),
        (None, Some(s)) => format!(
            "the network answers class {} for every one of {} training examples and its gradient is 0 (below {:e}): its neurons are saturated and no step can move it (the training cost was {cost})",
            s.class, s.examples, s.no_gradient
        ),
        (None, None) => format!("the cost became {cost}"),
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn model(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::ModelFile {
            path: path.into(),
            message: message.into(),
        }
    }
}
