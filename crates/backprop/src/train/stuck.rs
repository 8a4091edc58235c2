//! Training that can no longer learn although every number is finite. With a learning rate far
//! too large (Adam at the lecture's η = 3), the weights grow until the neurons saturate: every
//! sigmoid is 0 or 1, every ReLU 0, a softmax puts all of its mass on one class. The network then
//! answers one class for every input, and `σ'(z)` (or the softmax's Jacobian) is 0, so the
//! gradient is 0 and no step can move it; the cost stays finite. The trainer reports that as
//! divergence ([`Error::Diverged`](crate::Error) with `stuck_at`) after the epoch in which it
//! happens, instead of finishing quietly at chance.
//!
//! Both signs are required, on [`SAMPLE`] examples spread over the training set: one answer for
//! all of them, and a mean gradient with no component above [`NO_GRADIENT`]. Saturated neurons
//! whose pattern still differs between examples (inputs on a large scale, binary features) keep
//! the network learning and are not reported; a data set of one class never is.
//!
//! Out of scope: single dead or saturated neurons (common and harmless), and slow learning.

use crate::error::Result;
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::lecture::batch::Workspace;
use crate::lecture::network::Network;
use crate::lecture::target::argmax;

/// The check looks at this many examples of the training set, evenly spread over it (a file
/// sorted by class, or starting with blank rows, does not fool it).
pub const SAMPLE: usize = 256;

/// A mean gradient whose every component is below this (in absolute value) is no gradient.
pub const NO_GRADIENT: f64 = 1e-8;

impl<F: Float> Network<F> {
    /// `Some(k)` when the network answers class `k` for each of [`SAMPLE`] examples spread over
    /// `data` (of at least two classes) and the mean gradient of the cost on them has no
    /// component above [`NO_GRADIENT`]: training is stuck. Errors as [`Network::evaluate`] does
    /// when an activation is not finite.
    pub fn stuck_at(&self, data: &Dataset) -> Result<Option<usize>> {
        let n = SAMPLE.min(data.len());
        let spread: Vec<usize> = (0..n).map(|i| i * data.len() / n).collect();
        let labels = data.labels();
        if spread.iter().all(|&i| labels[i] == labels[spread[0]]) {
            return Ok(None); // one class (or no example): one answer is right, not stuck
        }
        let mut ws = Workspace::new(self, n);
        data.inputs_into(&spread, ws.inputs_mut());
        data.targets_into(&spread, ws.targets_mut());
        self.forward_batch(&mut ws);
        self.check_activations(&ws, 0)?;
        let answers: Vec<usize> = ws.output().rows().into_iter().map(argmax).collect();
        if answers.iter().any(|&k| k != answers[0]) {
            return Ok(None);
        }
        self.backward_batch(&mut ws);
        let tiny = F::cast(NO_GRADIENT);
        let g = ws.gradient();
        let moving = |v: &F| v.abs() >= tiny || !v.is_finite();
        let any = g.nabla_w.iter().any(|(_, w)| w.iter().any(moving))
            || g.nabla_b.iter().any(|(_, b)| b.iter().any(moving));
        Ok((!any).then_some(answers[0]))
    }
}

#[cfg(test)]
mod tests {
    use crate::{mnist_10k, Network, TrainSettings};

    #[test]
    fn a_healthy_network_is_not_stuck_and_a_saturated_one_is() {
        let data = mnist_10k().unwrap().split_at(1000).0;
        let mut net: Network = Network::builder(&[784, 30, 20, 10])
            .seed(1)
            .build()
            .unwrap();
        assert_eq!(net.stuck_at(&data).unwrap(), None);
        net.train(&data, None, &TrainSettings::plain(1, 10, 3.0, 1))
            .unwrap();
        assert_eq!(net.stuck_at(&data).unwrap(), None);
        // Every output sigmoid at 0 but that of class 7: one answer, σ' = 0 everywhere.
        net.weights_mut(4).fill(0.0);
        net.biases_mut(4).fill(-1e6);
        net.biases_mut(4)[7] = 1e6;
        assert_eq!(net.stuck_at(&data).unwrap(), Some(7));
    }
}
