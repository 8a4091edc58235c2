//! The 10,000 MNIST digits of `data/mnist-10k`, compiled into the library.

use crate::error::Result;
use crate::io::dataset::Dataset;
use crate::io::idx;

static IMAGES: &[u8] = include_bytes!("../../data/mnist-10k/images-idx3-ubyte.gz");
static LABELS: &[u8] = include_bytes!("../../data/mnist-10k/labels-idx1-ubyte.gz");

/// The digits every front trains on when it splits [`mnist_10k`]: the first 8,000; the last
/// 2,000 are the test split ([`mnist_10k_split`]).
pub const MNIST_10K_TRAIN: usize = 8000;

/// [`mnist_10k`] split as every front splits it: `(train, test)`, the first [`MNIST_10K_TRAIN`]
/// digits and the last 2,000.
pub fn mnist_10k_split() -> Result<(Dataset, Dataset)> {
    Ok(mnist_10k()?.split_at(MNIST_10K_TRAIN))
}

/// The first 10,000 digits of the MNIST training set (28×28 pixels, 10 classes), shuffled once
/// with a fixed seed so that any contiguous split is mixed. The split of every front is
/// [`mnist_10k_split`].
/// Licence: CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges); see `data/mnist-10k/README.md`.
pub fn mnist_10k() -> Result<Dataset> {
    idx::dataset_from_idx_bytes(
        IMAGES.to_vec(),
        LABELS.to_vec(),
        10,
        std::path::Path::new("embedded mnist-10k"),
    )
}
