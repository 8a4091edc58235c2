//! The 10,000 MNIST digits of `data/mnist-10k`, compiled into the library.

use crate::error::Result;
use crate::io::dataset::Dataset;
use crate::io::idx;

static IMAGES: &[u8] = include_bytes!("../../data/mnist-10k/images-idx3-ubyte.gz");
static LABELS: &[u8] = include_bytes!("../../data/mnist-10k/labels-idx1-ubyte.gz");

/// The first 10,000 digits of the MNIST training set (28×28 pixels, 10 classes), shuffled once
/// with a fixed seed so that any contiguous split is mixed. The suggested split is the first 8,000
/// for training and the last 2,000 for testing: `mnist_10k().split_at(8000)`.
/// Licence: CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges); see `data/mnist-10k/README.md`.
pub fn mnist_10k() -> Result<Dataset> {
    idx::dataset_from_idx_bytes(
        IMAGES.to_vec(),
        LABELS.to_vec(),
        10,
        std::path::Path::new("embedded mnist-10k"),
    )
}
