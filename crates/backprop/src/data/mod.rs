//! Data sets: the [`Dataset`] type, the IDX and CSV readers, and the embedded MNIST digits.

pub mod csv;
mod dataset;
#[cfg(feature = "embedded-mnist")]
mod embedded;
pub mod idx;

pub use dataset::Dataset;
#[cfg(feature = "embedded-mnist")]
pub use embedded::mnist_10k;
