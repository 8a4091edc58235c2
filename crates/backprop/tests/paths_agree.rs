//! The mini-batch matrix path gives the same mean gradient as the per-example reference path.

mod common;

use backprop::{Float, Network, Optimizer, OptimizerState, Workspace};

fn difference<F: Float>(net: &Network<F>, m: usize, seed: u64) -> f64 {
    let sizes = net.sizes();
    let (xs, ys) = common::examples::<F>(m, sizes[0], sizes[sizes.len() - 1], seed);
    let reference = net.mean_gradient_per_example(xs.view(), ys.view()).unwrap();
    let mut ws = Workspace::new(net, m + 3); // a workspace larger than the batch, as for a last, short batch
    let fast = net.mean_gradient(xs.view(), ys.view(), &mut ws).unwrap();
    reference.relative_difference(fast)
}

/// On every matrix kernel this CPU runs (`f64` always runs on the portable one).
#[test]
fn matrix_path_matches_reference_in_f64_and_f32() {
    for kernel in backprop::Kernel::supported() {
        backprop::set_kernel(kernel).unwrap();
        matrix_path_matches_reference_on(kernel);
    }
    backprop::set_kernel(backprop::Kernel::best()).unwrap();
}

fn matrix_path_matches_reference_on(kernel: backprop::Kernel) {
    for (k, (hidden, output, cost)) in common::valid_combinations().into_iter().enumerate() {
        let seed = 7 + k as u64;
        let sizes = [13, 9, 7, 4];
        let net64 = common::network::<f64>(&sizes, hidden, output, cost, seed);
        let net32 = common::network::<f32>(&sizes, hidden, output, cost, seed);
        for m in [1, 5, 32] {
            let d64 = difference(&net64, m, seed);
            let d32 = difference(&net32, m, seed);
            assert!(d64 <= 1e-12, "f64 {hidden}/{output}/{cost} m={m}: {d64:e}");
            assert!(
                d32 <= 1e-5,
                "f32 {kernel} {hidden}/{output}/{cost} m={m}: {d32:e}"
            );
        }
    }
}

#[test]
fn matrix_path_matches_reference_on_the_lectures_network() {
    let net: Network<f64> = Network::builder(&[784, 30, 10]).seed(3).build().unwrap();
    assert!(difference(&net, 10, 1) <= 1e-12);
}

#[test]
fn a_workspace_is_reused_across_batch_sizes() {
    let net = common::network::<f64>(
        &[6, 5, 3],
        Default::default(),
        Default::default(),
        Default::default(),
        1,
    );
    let mut ws = Workspace::new(&net, 8);
    for m in [8, 3, 8, 1] {
        let (xs, ys) = common::examples::<f64>(m, 6, 3, m as u64);
        let reference = net.mean_gradient_per_example(xs.view(), ys.view()).unwrap();
        let fast = net.mean_gradient(xs.view(), ys.view(), &mut ws).unwrap();
        assert!(reference.relative_difference(fast) <= 1e-12);
    }
    let (xs, ys) = common::examples::<f64>(9, 6, 3, 0);
    assert!(
        net.mean_gradient(xs.view(), ys.view(), &mut ws).is_err(),
        "9 rows do not fit 8"
    );
}

/// The fused step (BP4 accumulated into W) equals forming the mean gradient and then
/// `W ← W − η ∇W`, `b ← b − η ∇b`, with and without dropout.
#[test]
fn fused_descent_equals_gradient_then_step() {
    for (k, (hidden, output, cost)) in common::valid_combinations()
        .into_iter()
        .enumerate()
        .step_by(3)
    {
        let net = common::network::<f64>(&[12, 9, 7, 4], hidden, output, cost, 40 + k as u64);
        let (xs, ys) = common::examples::<f64>(6, 12, 4, k as u64);
        for dropout in [0.0, 0.3] {
            let mut ws = Workspace::new(&net, 6);
            ws.inputs_mut().assign(&xs);
            ws.targets_mut().assign(&ys);
            let forward = |net: &Network<f64>, ws: &mut Workspace<f64>| {
                if dropout > 0.0 {
                    net.forward_batch_dropout(ws, dropout, &mut backprop::lecture::init::rng(1, 2));
                } else {
                    net.forward_batch(ws);
                }
            };
            let mut two_steps = net.clone();
            forward(&two_steps, &mut ws);
            two_steps.backward_batch(&mut ws);
            let gradient = ws.gradient().clone();
            let mut state = OptimizerState::new(&two_steps, &Optimizer::Sgd);
            two_steps.optimizer_step(&gradient, 0.7, &Optimizer::Sgd, &mut state);
            let mut fused = net.clone();
            forward(&fused, &mut ws);
            fused.backward_batch_descend(&mut ws, 0.7);
            for l in 2..=4 {
                let dw = (fused.weights(l) - two_steps.weights(l))
                    .iter()
                    .fold(0f64, |m, d| m.max(d.abs()));
                let db = (fused.biases(l) - two_steps.biases(l))
                    .iter()
                    .fold(0f64, |m, d| m.max(d.abs()));
                assert!(
                    dw < 1e-13 && db < 1e-13,
                    "{hidden}/{output}/{cost} dropout {dropout} layer {l}: {dw:e} {db:e}"
                );
            }
        }
    }
}
