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
    /// The cost became NaN or infinite during training.
    #[error("training diverged in epoch {epoch}: the cost became {cost}; try a smaller learning rate than η = {eta:?}, or the scaled initialisation (saturated outputs make the logarithmic costs infinite)")]
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
        /// The non-finite cost.
        cost: f64,
        /// The learning rate in use.
        eta: f64,
    },
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
