//! The target `y` of an example of class `k`: the one-hot vector `e_k` of length `n_L` (the one
//! label representation; a data set stores class numbers and builds `y` from them here), and
//! its inverse, the class a network answers: the argmax of `a^(L)`.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::network::Network;
use ndarray::{Array1, ArrayView1, ArrayViewMut1};

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

/// The index of the largest value (the first one on ties; NaN never wins): the class of `a^(L)`.
pub fn argmax<F: Float>(a: ArrayView1<'_, F>) -> usize {
    let mut best = 0;
    for (i, &v) in a.iter().enumerate() {
        if v > a[best] {
            best = i;
        }
    }
    best
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
