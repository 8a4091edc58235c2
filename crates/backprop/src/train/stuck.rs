//! Training that can no longer learn although every number is finite: a hidden layer whose every
//! neuron is saturated. With a learning rate far too large (Adam at the lecture's η = 3), the
//! weights grow until every sigmoid is 0 or 1 (or every ReLU is 0) for every input: `σ'(z)` is
//! then 0, BP2 sends no error below the layer, the layers above see the same activations for
//! every example, and the network answers one class (10% on ten classes) while the cost stays
//! finite. With the quadratic cost the same holds for the output layer (BP1 multiplies by
//! `σ'(z^(L))`): the lecture's network under Adam with η = 3 ends with every output at 0. The trainer reports that as divergence ([`Error::Diverged`](crate::Error) with
//! `saturated`) after the epoch in which it happens, instead of finishing quietly.
//!
//! Out of scope: single dead or saturated neurons (common and harmless), and slow learning.

use crate::error::Result;
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::lecture::batch::Workspace;
use crate::lecture::cost::Cost;
use crate::lecture::network::Network;

/// The check looks at this many examples of the training set, evenly spread over it (a file
/// sorted by class, or starting with blank rows, does not fool it).
pub const SAMPLE: usize = 256;

/// A neuron is saturated for an example when `σ'(z)` is below this (sigmoid: `|z|` above about
/// 13.8; ReLU: `z ≤ 0`; tanh: `|z|` above about 7.3).
pub const SATURATED: f64 = 1e-6;

impl<F: Float> Network<F> {
    /// The first hidden layer `l` whose every neuron is saturated (`σ'(z) <` [`SATURATED`]) for
    /// each of [`SAMPLE`] examples evenly spread over `data`, if any: a layer no gradient crosses (with
    /// the quadratic cost, the output layer counts too).
    /// Errors as [`Network::evaluate`] does when an activation is not finite.
    pub fn saturated_layer(&self, data: &Dataset) -> Result<Option<usize>> {
        let n = SAMPLE.min(data.len());
        if n == 0 {
            return Ok(None);
        }
        let spread: Vec<usize> = (0..n).map(|i| i * data.len() / n).collect();
        let mut ws = Workspace::new(self, n);
        data.inputs_into(&spread, ws.inputs_mut());
        self.forward_batch(&mut ws);
        self.check_activations(&ws, 0)?;
        let tiny = F::cast(SATURATED);
        let saturated = |l: usize| {
            let sigma = self.activation(l);
            ws.a_rows(l)
                .iter()
                .all(|&a| sigma.sigma_prime_of_a(a).is_some_and(|d| d.abs() < tiny))
        };
        // The output layer too when BP1 multiplies by σ'(z^(L)) (the quadratic cost): then not
        // even the last weights learn. (With the cross-entropy and log-likelihood, δ^(L) = a − y.)
        let last = if self.cost() == Cost::Quadratic {
            self.num_layers()
        } else {
            self.num_layers() - 1
        };
        Ok((2..=last).find(|&l| saturated(l)))
    }
}

#[cfg(test)]
mod tests {
    use crate::{mnist_10k, Network, TrainSettings};

    #[test]
    fn a_healthy_network_has_no_saturated_layer_and_huge_weights_do() {
        let data = mnist_10k().unwrap().split_at(1000).0;
        let mut net: Network = Network::builder(&[784, 30, 20, 10])
            .seed(1)
            .build()
            .unwrap();
        assert_eq!(net.saturated_layer(&data).unwrap(), None);
        net.train(&data, None, &TrainSettings::plain(1, 10, 3.0, 1))
            .unwrap();
        assert_eq!(net.saturated_layer(&data).unwrap(), None);
        net.weights_mut(3).mapv_inplace(|w| w * 1e4);
        net.biases_mut(3).fill(-1e6);
        assert_eq!(net.saturated_layer(&data).unwrap(), Some(3));
    }
}
