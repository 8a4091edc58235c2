//! Input and output: data sets (IDX, CSV, the embedded MNIST digits), model files (safetensors)
//! and the atomic, bounded file operations they share.
//!
//! Out of scope: streaming data sets larger than memory, and image decoding (the command-line
//! tool does that).

pub(crate) mod checksum;
pub mod csv;
pub mod dataset;
#[cfg(feature = "embedded-mnist")]
pub mod embedded;
pub mod file;
pub mod idx;
pub mod model_file;
pub mod onnx;
