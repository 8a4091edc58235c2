//! BP1–BP4 against finite differences in f64, for every activation × cost pair.

mod common;

use backprop::lecture::reference;
use backprop::{
    compare_with_finite_differences, gradient_check, GradCheckOptions, Gradient, Network,
};
use ndarray::ArrayView1;
use proptest::prelude::*;

const TOLERANCE: f64 = 1e-6;

/// Every valid (hidden, output, cost) on one fixed [4, 5, 3, 3] network: no pair is left to chance.
#[test]
fn every_activation_and_cost_pair_matches_finite_differences() {
    for (k, (hidden, output, cost)) in common::valid_combinations().into_iter().enumerate() {
        let net = common::network::<f64>(&[4, 5, 3, 3], hidden, output, cost, k as u64);
        let (xs, ys) = common::examples::<f64>(3, 4, 3, 100 + k as u64);
        if common::closest_kink(&net, &xs, &ys) < 1e-2 {
            continue; // a ReLU kink within reach of h: finite differences do not apply
        }
        let check =
            gradient_check(&net, xs.view(), ys.view(), &GradCheckOptions::default()).unwrap();
        let err = check.max_relative_error();
        assert!(
            err <= TOLERANCE,
            "{hidden}/{output}/{cost}: max relative error {err:e} {check:?}"
        );
    }
}

/// A wrong gradient is caught: the check is not vacuous. The wrong gradient is the reference
/// path with one mistake a student makes, BP2 without its factor σ'(z^(l)).
#[test]
fn a_gradient_whose_bp2_drops_sigma_prime_fails_the_check() {
    use backprop::{Activation, Cost};
    let net = common::network::<f64>(
        &[3, 4, 2],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
        1,
    );
    let (xs, ys) = common::examples::<f64>(2, 3, 2, 2);
    let options = GradCheckOptions::default();
    let good = gradient_check(&net, xs.view(), ys.view(), &options).unwrap();
    assert!(good.max_relative_error() < TOLERANCE);
    let mut wrong = Gradient::zeros(&net);
    for (x, y) in xs.rows().into_iter().zip(ys.rows()) {
        wrong.add(&gradient_without_sigma_prime_in_bp2(&net, x, y));
    }
    wrong.scale(0.5); // the mean over the two examples
    let bad =
        compare_with_finite_differences(&net, xs.view(), ys.view(), &wrong, &options).unwrap();
    assert!(
        bad.max_relative_error() > 1e-2,
        "{}",
        bad.max_relative_error()
    );
    // The output layer's gradient does not involve BP2 and still agrees.
    let output = bad.layers.iter().find(|c| c.l == 3).unwrap();
    assert!(output.weights.max < TOLERANCE && output.biases.max < TOLERANCE);
}

/// The reference path for a 3-layer network with BP2 written `δ^(2) = (W^(3))ᵀ δ^(3)`.
fn gradient_without_sigma_prime_in_bp2(
    net: &Network<f64>,
    x: ArrayView1<'_, f64>,
    y: ArrayView1<'_, f64>,
) -> Gradient<f64> {
    let trace = net.trace(x, y).unwrap();
    let mut g = trace.gradient.clone();
    let delta_2 = net.weights(3).t().dot(&trace.delta[3]); // σ' forgotten
    g.nabla_b[2] = reference::bias_gradient(delta_2.view());
    g.nabla_w[2] = reference::weight_gradient(delta_2.view(), x);
    g
}

#[test]
fn a_subset_check_visits_the_requested_number_of_entries() {
    use backprop::{Activation, Cost};
    let net = common::network::<f64>(
        &[20, 10, 3],
        Activation::Tanh,
        Activation::Softmax,
        Cost::LogLikelihood,
        5,
    );
    let (xs, ys) = common::examples::<f64>(2, 20, 3, 6);
    let options = GradCheckOptions {
        max_per_layer: Some(7),
        ..Default::default()
    };
    let check = gradient_check(&net, xs.view(), ys.view(), &options).unwrap();
    assert_eq!(check.layers[0].weights.checked, 7);
    assert_eq!(check.layers[1].biases.checked, 3);
    assert!(check.max_relative_error() <= TOLERANCE);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random shapes, activations, costs and seeds.
    #[test]
    fn random_networks_match_finite_differences(
        sizes in prop::collection::vec(1usize..6, 2..5),
        combo in 0usize..1000,
        seed in 0u64..1_000_000,
        m in 1usize..4,
    ) {
        let combos = common::valid_combinations();
        let (hidden, output, cost) = combos[combo % combos.len()];
        // Softmax and the log-likelihood need at least two outputs to be meaningful.
        let mut sizes = sizes;
        let last = sizes.len() - 1;
        sizes[last] = sizes[last].max(2);
        let net = common::network::<f64>(&sizes, hidden, output, cost, seed);
        let (xs, ys) = common::examples::<f64>(m, sizes[0], sizes[last], seed ^ 0xABCD);
        prop_assume!(common::closest_kink(&net, &xs, &ys) > 1e-2);
        let check = gradient_check(&net, xs.view(), ys.view(), &GradCheckOptions::default()).unwrap();
        let err = check.max_relative_error();
        prop_assert!(err <= TOLERANCE, "{:?} {}/{}/{}: {:e}", sizes, hidden, output, cost, err);
    }
}
