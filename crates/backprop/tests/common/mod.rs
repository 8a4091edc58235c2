//! Helpers shared by the integration tests: random networks and examples from a seed.

#![allow(dead_code)]

use backprop::{Activation, Cost, Float, Init, Network};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};

/// Every (hidden, output, cost) combination the library accepts.
pub fn valid_combinations() -> Vec<(Activation, Activation, Cost)> {
    backprop::Architecture::combinations()
}

/// A random network with scaled initialisation (so sigmoids are not saturated).
pub fn network<F: Float>(
    sizes: &[usize],
    hidden: Activation,
    output: Activation,
    cost: Cost,
    seed: u64,
) -> Network<F> {
    Network::builder(sizes)
        .hidden(hidden)
        .output(output)
        .cost(cost)
        .init(Init::Scaled)
        .seed(seed)
        .build()
        .unwrap()
}

/// `m` random inputs in [-1, 1] and one-hot targets, from a seed.
pub fn examples<F: Float>(
    m: usize,
    n_in: usize,
    n_out: usize,
    seed: u64,
) -> (Array2<F>, Array2<F>) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let xs = Array2::from_shape_simple_fn((m, n_in), || F::cast(rng.random_range(-1.0..1.0)));
    let mut ys = Array2::zeros((m, n_out));
    for mut row in ys.rows_mut() {
        row[rng.random_range(0..n_out)] = F::one();
    }
    (xs, ys)
}

/// The smallest `|z|` of any ReLU layer over the examples (∞ without ReLU): finite differences
/// are meaningless within `2h` of a kink.
pub fn closest_kink(net: &Network<f64>, xs: &Array2<f64>, ys: &Array2<f64>) -> f64 {
    let mut closest = f64::INFINITY;
    for (x, y) in xs.rows().into_iter().zip(ys.rows()) {
        let trace = net.trace(x, y).unwrap();
        for (l, z) in trace.z.iter() {
            if net.activation(l) == Activation::Relu {
                closest = z.iter().fold(closest, |m, v| m.min(v.abs()));
            }
        }
    }
    closest
}
