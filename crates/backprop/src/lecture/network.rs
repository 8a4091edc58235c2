//! The network: layer sizes, weights `W^(l)` and biases `b^(l)` numbered as in the lecture.
//!
//! Layer 1 is the input and has no weights; layers `l = 2..=L` each hold `W^(l)` of shape
//! `(n_l, n_(l-1))`, one row per neuron of layer `l` (row `i`, column `j` holds `w_ji^(l)`, the
//! weight from neuron `j` of layer `l−1` to neuron `i` of layer `l`), and `b^(l)` of length `n_l`,
//! so that `z^(l) = W^(l) a^(l-1) + b^(l)`.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::activation::{Activation, SOFTMAX_HIDDEN};
use crate::lecture::cost::Cost;
use crate::lecture::init::{self, Init};
use crate::lecture::layers::Layers;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// What a network is, apart from its numbers: sizes, activations and cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// `[n_1, …, n_L]`, input first.
    pub sizes: Vec<usize>,
    /// σ of the hidden layers `2..L`.
    pub hidden: Activation,
    /// σ of the output layer `L`.
    pub output: Activation,
    /// The cost `C`.
    pub cost: Cost,
}

impl Architecture {
    /// The lecture's network for MNIST: 784 inputs, 30 hidden neurons, 10 outputs.
    pub const LECTURE_SIZES: [usize; 3] = [784, 30, 10];

    /// The lecture's network: these sizes, sigmoid everywhere, quadratic cost.
    pub fn new(sizes: &[usize]) -> Self {
        Architecture {
            sizes: sizes.to_vec(),
            hidden: Activation::Sigmoid,
            output: Activation::Sigmoid,
            cost: Cost::Quadratic,
        }
    }

    /// Every (hidden σ, output σ, cost) the library accepts: every elementwise activation in
    /// hidden layers, every activation at the output, every cost defined for that output. The
    /// gradient tests and `gradcheck --all-pairs` walk this list, so a newly registered
    /// activation or cost is covered by them.
    pub fn combinations() -> Vec<(Activation, Activation, Cost)> {
        let mut all = Vec::new();
        for hidden in Activation::HIDDEN {
            for output in Activation::ALL {
                for cost in Cost::ALL {
                    if cost.check_output(output).is_ok() {
                        all.push((hidden, output, cost));
                    }
                }
            }
        }
        all
    }

    /// Refuses fewer than two layers, an empty layer, softmax in a hidden layer, or a cost
    /// undefined for the output activation.
    pub fn validate(&self) -> Result<()> {
        if self.sizes.len() < 2 {
            return Err(Error::InvalidNetwork(format!(
                "a network needs at least two layers (input and output), got {}",
                self.sizes.len()
            )));
        }
        if let Some(l) = self.sizes.iter().position(|&n| n == 0) {
            return Err(Error::InvalidNetwork(format!(
                "layer {} has no neurons",
                l + 1
            )));
        }
        if self.output == Activation::Softmax && self.sizes[self.sizes.len() - 1] < 2 {
            return Err(Error::InvalidNetwork(
                "a softmax output needs at least 2 neurons: with one class it is always 1".into(),
            ));
        }
        if !self.hidden.is_elementwise() && self.sizes.len() > 2 {
            return Err(Error::InvalidNetwork(SOFTMAX_HIDDEN.into()));
        }
        self.cost.check_output(self.output)
    }
}

/// `784-30-10 (sigmoid/sigmoid, quadratic cost)`: the sizes, the hidden and output σ, the cost.
impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}/{}, {} cost)",
            sizes_text(&self.sizes),
            self.hidden,
            self.output,
            self.cost
        )
    }
}

/// `784-30-10`: layer sizes as the lecture writes a network.
pub fn sizes_text(sizes: &[usize]) -> String {
    let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
    sizes.join("-")
}

/// A fully connected network with its parameters, in `f32` (default) or `f64`.
///
/// ```
/// let net = backprop::Network::<f64>::new(&[2, 3, 1]).unwrap();
/// assert_eq!(net.weights(2).dim(), (3, 2)); // W^(2): (n_2, n_1)
/// assert_eq!(net.biases(3).len(), 1);       // b^(3): n_3
/// ```
///
/// Out of scope: convolutions, recurrent layers, layers of different activations beyond
/// hidden/output, and per-layer learning rates.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<F: Float = f32> {
    architecture: Architecture,
    /// `W^(l)` for `l = 2..=L`.
    weights: Layers<Array2<F>>,
    /// `b^(l)` for `l = 2..=L`.
    biases: Layers<Array1<F>>,
}

/// Builds a [`Network`]: `Network::builder(&[784, 30, 10]).cost(Cost::CrossEntropy).seed(7).build()`.
#[derive(Clone, Debug)]
pub struct NetworkBuilder {
    architecture: Architecture,
    init: Init,
    seed: u64,
}

impl NetworkBuilder {
    /// σ of the hidden layers (default sigmoid).
    pub fn hidden(mut self, activation: Activation) -> Self {
        self.architecture.hidden = activation;
        self
    }
    /// σ of the output layer (default sigmoid).
    pub fn output(mut self, activation: Activation) -> Self {
        self.architecture.output = activation;
        self
    }
    /// The cost (default quadratic).
    pub fn cost(mut self, cost: Cost) -> Self {
        self.architecture.cost = cost;
        self
    }
    /// The initialisation (default [`Init::Standard`]).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
    /// The seed of the initialisation (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates the architecture, checks its size against
    /// [`MAX_PARAMETER_BYTES`](crate::limits::MAX_PARAMETER_BYTES) before allocating anything,
    /// and draws the parameters.
    pub fn build<F: Float>(self) -> Result<Network<F>> {
        self.architecture.validate()?;
        crate::limits::check_network_size(&self.architecture.sizes, std::mem::size_of::<F>())?;
        let mut rng = init::rng(self.seed, 0);
        let (weights, biases) = self
            .architecture
            .sizes
            .windows(2)
            .map(|pair| {
                self.init
                    .draw(&mut rng, pair[1], pair[0], self.architecture.hidden)
            })
            .unzip();
        Ok(Network {
            architecture: self.architecture,
            weights: Layers::from_vec(weights),
            biases: Layers::from_vec(biases),
        })
    }
}

impl Network {
    /// A builder for any activation, cost, initialisation or seed; `build` chooses `f32` or `f64`.
    pub fn builder(sizes: &[usize]) -> NetworkBuilder {
        NetworkBuilder {
            architecture: Architecture::new(sizes),
            init: Init::Standard,
            seed: 0,
        }
    }
}

impl<F: Float> Network<F> {
    /// The lecture's network with these sizes: sigmoid, quadratic cost, N(0, 1) weights, seed 0.
    pub fn new(sizes: &[usize]) -> Result<Self> {
        Network::builder(sizes).build()
    }

    /// A network from given parameters, `weights[i]` and `biases[i]` being those of layer `i + 2`;
    /// every shape is checked against the sizes.
    pub fn from_parameters(
        architecture: Architecture,
        weights: Vec<Array2<F>>,
        biases: Vec<Array1<F>>,
    ) -> Result<Self> {
        architecture.validate()?;
        crate::limits::check_network_size(&architecture.sizes, std::mem::size_of::<F>())?;
        let layers = architecture.sizes.len() - 1;
        if weights.len() != layers || biases.len() != layers {
            return Err(Error::Shape(format!(
                "{} layers need {layers} weight matrices and bias vectors, got {} and {}",
                architecture.sizes.len(),
                weights.len(),
                biases.len()
            )));
        }
        for (i, (w, b)) in weights.iter().zip(&biases).enumerate() {
            let (n_out, n_in) = (architecture.sizes[i + 1], architecture.sizes[i]);
            if w.dim() != (n_out, n_in) || b.len() != n_out {
                return Err(Error::Shape(format!(
                    "layer {}: W should be ({n_out}, {n_in}) and b ({n_out}), got {:?} and ({})",
                    i + 2,
                    w.dim(),
                    b.len()
                )));
            }
        }
        Ok(Network {
            architecture,
            weights: Layers::from_vec(weights),
            biases: Layers::from_vec(biases),
        })
    }

    /// Sizes, activations and cost.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }
    /// `[n_1, …, n_L]`.
    pub fn sizes(&self) -> &[usize] {
        &self.architecture.sizes
    }
    /// `n_L`, the number of output neurons (the length of `a^(L)` and of a target `y`).
    pub fn output_size(&self) -> usize {
        self.architecture.sizes[self.architecture.sizes.len() - 1]
    }
    /// `L`, the number of layers, input included.
    pub fn num_layers(&self) -> usize {
        self.architecture.sizes.len()
    }
    /// The cost `C`.
    pub fn cost(&self) -> Cost {
        self.architecture.cost
    }
    /// σ of layer `l` (`2..=L`): the hidden activation, or the output one for `l = L`.
    pub fn activation(&self, l: usize) -> Activation {
        let _ = &self.weights[l]; // panics for a layer without weights
        if l == self.num_layers() {
            self.architecture.output
        } else {
            self.architecture.hidden
        }
    }
    /// The number of weights and biases.
    pub fn num_parameters(&self) -> usize {
        let w: usize = self.weights.values().iter().map(|w| w.len()).sum();
        w + self.biases.values().iter().map(|b| b.len()).sum::<usize>()
    }

    /// `W^(l)`, shape `(n_l, n_(l-1))`, for `l` in `2..=L`. Panics for other `l`.
    pub fn weights(&self, l: usize) -> &Array2<F> {
        &self.weights[l]
    }
    /// `W^(l)`, mutable.
    pub fn weights_mut(&mut self, l: usize) -> &mut Array2<F> {
        &mut self.weights[l]
    }
    /// `b^(l)`, length `n_l`, for `l` in `2..=L`. Panics for other `l`.
    pub fn biases(&self, l: usize) -> &Array1<F> {
        &self.biases[l]
    }
    /// `b^(l)`, mutable.
    pub fn biases_mut(&mut self, l: usize) -> &mut Array1<F> {
        &mut self.biases[l]
    }
    /// Every `W^(l)`, indexed `2..=L`.
    pub fn all_weights(&self) -> &Layers<Array2<F>> {
        &self.weights
    }
    /// Every `b^(l)`, indexed `2..=L`.
    pub fn all_biases(&self) -> &Layers<Array1<F>> {
        &self.biases
    }

    /// The first layer `l` whose `W^(l)` or `b^(l)` holds a NaN or infinite value, if any: a
    /// diverged network (one pass over the parameters, cheap next to an epoch).
    pub fn first_non_finite_layer(&self) -> Option<usize> {
        (2..=self.num_layers()).find(|&l| {
            !self.weights(l).iter().all(|v| v.is_finite())
                || !self.biases(l).iter().all(|v| v.is_finite())
        })
    }

    /// Refuses an input whose length is not `n_1`.
    pub fn check_input(&self, len: usize) -> Result<()> {
        if len == self.sizes()[0] {
            Ok(())
        } else {
            Err(Error::Shape(format!(
                "the input has {len} values but the first layer has {} neurons",
                self.sizes()[0]
            )))
        }
    }

    /// The same network in another float type (`f32` ↔ `f64`), for checking a trained model.
    pub fn cast<G: Float>(&self) -> Network<G> {
        let conv = |x: &F| G::cast(x.as_f64());
        Network {
            architecture: self.architecture.clone(),
            weights: self.weights.map(|w| w.map(conv)),
            biases: self.biases.map(|b| b.map(conv)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_numbered_as_in_the_lecture() {
        let net = Network::<f32>::new(&[4, 3, 2]).unwrap();
        assert_eq!(net.weights(2).dim(), (3, 4));
        assert_eq!(net.weights(3).dim(), (2, 3));
        assert_eq!(net.biases(2).len(), 3);
        assert_eq!(net.activation(3), Activation::Sigmoid);
        assert_eq!(net.num_parameters(), 3 * 4 + 3 + 2 * 3 + 2);
    }

    #[test]
    fn invalid_architectures_are_refused() {
        assert!(Network::<f32>::new(&[3]).is_err());
        assert!(Network::<f32>::new(&[3, 0, 2]).is_err());
        let hidden_softmax = Network::<f32>::builder(&[3, 4, 2]).hidden(Activation::Softmax);
        assert!(hidden_softmax.build::<f32>().is_err());
    }

    /// Sizes that would abort the process ("memory allocation of N bytes failed") are refused
    /// before anything is allocated, naming the size (issue 16).
    #[test]
    fn networks_too_large_to_allocate_are_refused() {
        for sizes in [
            &[784, 2_000_000_000, 10][..],
            &[784, 100_000, 100_000, 10],
            &[784, 4_294_967_297, 10],
            &[4, 2_000_000_000, 2],
            &[1_000_000_000, 2],
            &[usize::MAX, usize::MAX],
        ] {
            let err = Network::<f64>::new(sizes).unwrap_err().to_string();
            assert!(
                err.contains("parameters") && err.contains("at most 1 GiB"),
                "{err}"
            );
        }
        let err = Network::<f32>::new(&[784, 16, 20_000])
            .unwrap_err()
            .to_string();
        assert!(err.contains("20000 output neurons"), "{err}");
        // 2^28 parameters: exactly the limit in f32 (checked, not allocated), not in f64.
        let just = [(1 << 18) - 1, 1 << 10];
        assert!(crate::limits::check_network_size(&just, 4).is_ok());
        assert!(crate::limits::check_network_size(&just, 8).is_err());
    }

    #[test]
    fn same_seed_same_network_and_f32_matches_f64() {
        let a: Network<f32> = Network::builder(&[5, 4, 3]).seed(9).build().unwrap();
        let b: Network<f32> = Network::builder(&[5, 4, 3]).seed(9).build().unwrap();
        let c: Network<f64> = Network::builder(&[5, 4, 3]).seed(9).build().unwrap();
        let d: Network<f32> = Network::builder(&[5, 4, 3]).seed(10).build().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c.cast::<f32>());
        assert_ne!(a, d);
    }

    #[test]
    fn scaled_init_has_variance_one_over_n_in() {
        let net: Network<f64> = Network::builder(&[400, 200, 1])
            .init(Init::Scaled)
            .build()
            .unwrap();
        let w = net.weights(2);
        let var = w.mapv(|x| x * x).mean().unwrap();
        assert!((var * 400.0 - 1.0).abs() < 0.05, "{var}");
    }
}
