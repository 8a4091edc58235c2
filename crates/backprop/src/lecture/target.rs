//! The target `y` of an example of class `k`: the one-hot vector `e_k` of length `n_L` (the one
//! label representation; a data set stores class numbers and builds `y` from them here).

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::network::Network;
use ndarray::{Array1, ArrayViewMut1};

/// `y ← e_k`: zeros, with a 1 at `k` (`k < y.len()`, else a logic error of the caller).
pub fn one_hot_into<F: Float>(k: usize, mut y: ArrayViewMut1<'_, F>) {
    y.fill(F::zero());
    y[k] = F::one();
}

/// `e_k` of length `n`.
pub fn one_hot<F: Float>(k: usize, n: usize) -> Array1<F> {
    let mut y = Array1::zeros(n);
    one_hot_into(k, y.view_mut());
    y
}

impl<F: Float> Network<F> {
    /// The one-hot target `y` of class `label` for this network's output layer; refuses a label
    /// that the output layer cannot hold.
    pub fn target(&self, label: usize) -> Result<Array1<F>> {
        let n_out = self.output_size();
        if label >= n_out {
            return Err(Error::Shape(format!(
                "label {label} is out of range for an output layer of {n_out} neurons"
            )));
        }
        Ok(one_hot(label, n_out))
    }
}
