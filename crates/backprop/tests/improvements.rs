//! Beyond plain SGD: each update rule against its formula worked by hand (f64), the gradient check
//! with penalties, dropout against the thinned network, early stopping, and resumed training.

mod common;

use backprop::train::checkpoint;
use backprop::{
    gradient_check, mnist_10k, Activation, Architecture, Cost, GradCheckOptions, Gradient, Network,
    Observer, Optimizer, OptimizerState, Outcome, Regularization, Schedule, TrainSettings, Trainer,
};
use ndarray::{arr1, arr2};
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// A one-layer network `W = [[0.5, −1], [2, 0.25]]`, `b = (0.1, −0.2)` and a fixed gradient.
fn one_layer() -> (Network<f64>, Gradient<f64>) {
    let net = Network::from_parameters(
        Architecture::new(&[2, 2]),
        vec![arr2(&[[0.5, -1.0], [2.0, 0.25]])],
        vec![arr1(&[0.1, -0.2])],
    )
    .unwrap();
    let mut g = Gradient::zeros(&net);
    g.nabla_w[2] = arr2(&[[0.3, -0.6], [0.0, 1.2]]);
    g.nabla_b[2] = arr1(&[-0.5, 0.25]);
    (net, g)
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-14, "{a} vs {b}");
}

#[test]
fn sgd_with_l2_and_l1_is_the_textbook_update() {
    // η = 0.5, λ = 2, λ₁ = 0.4, n = 10:  w ← (1 − ηλ/n) w − η g − (ηλ₁/n) sgn w;  b ← b − η g.
    // w₀₀ = (1 − 0.1)·0.5 − 0.5·0.3 − 0.02·1 = 0.45 − 0.15 − 0.02 = 0.28
    let (mut net, mut g) = one_layer();
    let (w0, g0) = (net.weights(2).clone(), g.nabla_w[2].clone());
    let reg = Regularization { l2: 2.0, l1: 0.4 };
    reg.add_gradient(&net, 10, &mut g);
    let mut state = OptimizerState::new(&net, &Optimizer::Sgd);
    net.optimizer_step(&g, 0.5, &Optimizer::Sgd, &mut state);
    for ((&w, &w0), &g0) in net.weights(2).iter().zip(w0.iter()).zip(g0.iter()) {
        close(
            w,
            (1.0 - 0.5 * 2.0 / 10.0) * w0 - 0.5 * g0 - 0.5 * 0.4 / 10.0 * w0.signum(),
        );
    }
    close(net.weights(2)[[0, 0]], 0.28);
    close(net.biases(2)[0], 0.1 + 0.25); // biases are not decayed
                                         // The penalty in the cost: (λ/2n) Σ w² + (λ₁/n) Σ |w| = 0.1·(0.25+1+4+0.0625) + 0.04·3.75
    close(reg.cost(&one_layer().0, 10), 0.1 * 5.3125 + 0.04 * 3.75);
}

#[test]
fn momentum_and_nesterov_follow_their_velocity_formulas() {
    let (net0, g) = one_layer();
    let (eta, mu) = (0.1, 0.9);
    for rule in [Optimizer::Momentum { mu }, Optimizer::Nesterov { mu }] {
        let mut net = net0.clone();
        let mut state = OptimizerState::new(&net, &rule);
        net.optimizer_step(&g, eta, &rule, &mut state);
        net.optimizer_step(&g, eta, &rule, &mut state);
        // Step 1: v₁ = −ηg. Step 2: v₂ = μv₁ − ηg = −(1 + μ)ηg.
        // Momentum: θ₂ = θ₀ + v₁ + v₂.  Nesterov: θ₁ = θ₀ + (1 + μ)v₁, θ₂ = θ₁ − μv₁ + (1 + μ)v₂.
        for (k, (&w, &w0)) in net
            .weights(2)
            .iter()
            .zip(net0.weights(2).iter())
            .enumerate()
        {
            let gk = g.nabla_w[2].iter().nth(k).copied().unwrap();
            let (v1, v2) = (-eta * gk, -(1.0 + mu) * eta * gk);
            let want = match rule {
                Optimizer::Momentum { .. } => w0 + v1 + v2,
                _ => w0 + (1.0 + mu) * v1 - mu * v1 + (1.0 + mu) * v2,
            };
            close(w, want);
        }
        close(state.first_w[2][[1, 1]], -(1.0 + mu) * eta * 1.2);
    }
}

#[test]
fn adam_follows_its_bias_corrected_formula() {
    let (mut net, g) = one_layer();
    let rule = Optimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    let mut state = OptimizerState::new(&net, &rule);
    net.optimizer_step(&g, 0.01, &rule, &mut state);
    net.optimizer_step(&g, 0.01, &rule, &mut state);
    // With the same g twice: m₂ = (1 − 0.9²) g, s₂ = (1 − 0.999²) g², so m̂ = g, ŝ = g² and each
    // step moves θ by −η g/(|g| + ε): two steps of −0.01·sgn(g) (up to ε).
    let w0 = one_layer().0.weights(2).clone();
    for ((&w, &w0), &gk) in net
        .weights(2)
        .iter()
        .zip(w0.iter())
        .zip(g.nabla_w[2].iter())
    {
        let step = |g: f64| 0.01 * g / (g.abs() + 1e-8);
        close(w, w0 - 2.0 * step(gk));
    }
    assert_eq!(state.step, 2);
    close(state.first_w[2][[0, 1]], (1.0 - 0.81) * -0.6);
    close(state.second_w[2][[0, 1]], (1.0 - 0.999f64.powi(2)) * 0.36);
}

#[test]
fn gradient_check_passes_with_l2_and_l1_in_the_cost() {
    let net = common::network::<f64>(
        &[5, 4, 3],
        Activation::Sigmoid,
        Activation::Softmax,
        Cost::LogLikelihood,
        3,
    );
    let (xs, ys) = common::examples::<f64>(3, 5, 3, 4);
    let options = GradCheckOptions {
        regularization: Regularization { l2: 5.0, l1: 0.5 },
        n: 20,
        ..Default::default()
    };
    let check = gradient_check(&net, xs.view(), ys.view(), &options).unwrap();
    assert!(
        check.max_relative_error() <= 1e-6,
        "{:e}",
        check.max_relative_error()
    );
    // The penalty is really there: without it in the gradient, finite differences disagree.
    let bare = net.mean_gradient_per_example(xs.view(), ys.view()).unwrap();
    let mut penalised = bare.clone();
    options
        .regularization
        .add_gradient(&net, 20, &mut penalised);
    assert!(bare.relative_difference(&penalised) > 1e-2);
}

/// With inverted dropout, one example's gradient is that of the thinned network: hidden neuron j
/// kept (×1/(1−p)) or removed, which is W^(3)'s column j scaled by the mask M_j.
#[test]
fn dropout_gradient_is_the_thinned_networks() {
    use backprop::Workspace;
    use rand::RngExt;
    let net = common::network::<f64>(
        &[4, 6, 3],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
        8,
    );
    let (xs, ys) = common::examples::<f64>(1, 4, 3, 9);
    let p = 0.5;
    let mut ws = Workspace::new(&net, 1);
    ws.inputs_mut().assign(&xs);
    ws.targets_mut().assign(&ys);
    net.forward_batch_dropout(&mut ws, p, &mut backprop::lecture::init::rng(5, 6));
    net.backward_batch(&mut ws);
    let dropped = ws.gradient().clone();
    // The same draws, in the same order, give the mask.
    let mut rng = backprop::lecture::init::rng(5, 6);
    let mask: Vec<f64> = (0..6)
        .map(|_| if rng.random::<f64>() < p { 0.0 } else { 2.0 })
        .collect();
    assert!(
        mask.contains(&0.0) && mask.contains(&2.0),
        "this seed drops some and keeps some"
    );
    let mut thinned = net.clone();
    for (j, &mj) in mask.iter().enumerate() {
        thinned
            .weights_mut(3)
            .column_mut(j)
            .mapv_inplace(|w| w * mj);
    }
    let reference = thinned.backprop(xs.row(0), ys.row(0)).unwrap();
    for (j, &mj) in mask.iter().enumerate() {
        let same = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "neuron {j}: {a} vs {b}");
        same(dropped.nabla_b[2][j], reference.nabla_b[2][j]);
        for i in 0..4 {
            same(dropped.nabla_w[2][[j, i]], reference.nabla_w[2][[j, i]]);
        }
        for k in 0..3 {
            same(
                dropped.nabla_w[3][[k, j]],
                reference.nabla_w[3][[k, j]] * mj,
            );
        }
    }
    for (k, (a, b)) in dropped.nabla_b[3]
        .iter()
        .zip(&reference.nabla_b[3])
        .enumerate()
    {
        assert!((a - b).abs() < 1e-12, "output neuron {k}: {a} vs {b}");
    }
}

fn settings() -> TrainSettings {
    TrainSettings {
        epochs: 6,
        batch_size: 20,
        eta: 0.01,
        seed: 3,
        optimizer: Optimizer::adam(),
        regularization: Regularization { l2: 1.0, l1: 0.0 },
        dropout: 0.2,
        ..TrainSettings::default()
    }
}

/// Every parameter's bits, to compare two networks exactly.
fn bytes(net: &Network<f32>) -> Vec<u32> {
    let (w, b) = (net.all_weights(), net.all_biases());
    w.iter()
        .flat_map(|(_, w)| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .chain(
            b.iter()
                .flat_map(|(_, b)| b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()),
        )
        .collect()
}

/// Stops after mini-batch `at` of epoch `epoch`, like Ctrl-C.
struct StopAt {
    epoch: usize,
    at: usize,
    seen_epochs: usize,
}

impl Observer for StopAt {
    fn batch_done(&mut self, done: usize, _total: usize) -> ControlFlow<()> {
        if self.seen_epochs + 1 == self.epoch && done == self.at {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
    fn epoch_done(&mut self, _: &backprop::EpochReport) -> ControlFlow<()> {
        self.seen_epochs += 1;
        ControlFlow::Continue(())
    }
}

#[test]
fn three_epochs_then_resume_three_equals_six_in_one_go() {
    let (train, _) = mnist_10k().unwrap().split_at(400);
    let net: Network = Network::builder(&[784, 24, 10])
        .output(Activation::Softmax)
        .cost(Cost::LogLikelihood)
        .init(backprop::Init::Scaled)
        .seed(1)
        .build()
        .unwrap();
    let mut straight = Trainer::new(net.clone(), settings()).unwrap();
    assert_eq!(
        straight.run(&train, None, None, &mut ()).unwrap(),
        Outcome::Finished
    );

    let dir = std::env::temp_dir().join(format!("backprop-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.safetensors");
    let mut first = Trainer::new(
        net.clone(),
        TrainSettings {
            epochs: 3,
            ..settings()
        },
    )
    .unwrap();
    first.run(&train, None, None, &mut ()).unwrap();
    checkpoint::save(&first, &path, &BTreeMap::new()).unwrap();
    let (mut resumed, _) = checkpoint::load(&path).unwrap();
    assert_eq!(resumed.epoch, 3);
    resumed.settings.epochs = 6;
    resumed.run(&train, None, None, &mut ()).unwrap();
    let mut three = Trainer::new(
        net.clone(),
        TrainSettings {
            epochs: 3,
            ..settings()
        },
    )
    .unwrap();
    three.run(&train, None, None, &mut ()).unwrap();
    let (loaded, _) = checkpoint::load(&path).unwrap();
    assert!(
        bytes(&three.network) == bytes(&loaded.network),
        "checkpointed weights"
    );
    assert!(
        loaded.optimizer_state == three.optimizer_state,
        "checkpointed optimizer state"
    );
    assert!(loaded.eta == three.eta && loaded.epoch == three.epoch && loaded.batch == three.batch);
    assert!(
        bytes(&straight.network) == bytes(&resumed.network),
        "3 + 3 epochs differ from 6"
    );

    // Interrupted in the middle of epoch 2 (after mini-batch 7), saved, loaded and finished.
    let mut interrupted = Trainer::new(net, settings()).unwrap();
    let outcome = interrupted
        .run(
            &train,
            None,
            None,
            &mut StopAt {
                epoch: 2,
                at: 7,
                seen_epochs: 0,
            },
        )
        .unwrap();
    assert_eq!(
        (outcome, interrupted.epoch, interrupted.batch),
        (Outcome::Interrupted, 1, 7)
    );
    checkpoint::save(&interrupted, &path, &BTreeMap::new()).unwrap();
    let (mut rest, _) = checkpoint::load(&path).unwrap();
    rest.run(&train, None, None, &mut ()).unwrap();
    assert!(
        bytes(&straight.network) == bytes(&rest.network),
        "an interrupted run differs"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stopping_keeps_the_best_network_on_validation() {
    let (train, validation) = mnist_10k().unwrap().split_at(1000);
    let (validation, _) = validation.split_at(300);
    let net: Network = Network::builder(&[784, 16, 10]).seed(2).build().unwrap();
    let sgd = TrainSettings {
        epochs: 40,
        eta: 8.0,
        early_stop: Some(2),
        ..TrainSettings::default()
    };
    let mut trainer = Trainer::new(net, sgd).unwrap();
    let outcome = trainer
        .run(&train, Some(&validation), None, &mut ())
        .unwrap();
    let best = trainer
        .reports
        .iter()
        .map(|r| r.validation.as_ref().unwrap().accuracy())
        .fold(0.0, f64::max);
    assert_eq!(
        trainer.network.evaluate(&validation).unwrap().accuracy(),
        best,
        "the kept network is the best"
    );
    if outcome == Outcome::Stopped {
        assert!(trainer.reports.len() < 40);
        assert_eq!(trainer.epochs_without_improvement, 2);
    }
    let no_validation = Trainer::new(
        trainer.network.clone(),
        TrainSettings {
            early_stop: Some(2),
            ..TrainSettings::default()
        },
    )
    .unwrap()
    .run(&train, None, None, &mut ());
    assert!(no_validation
        .unwrap_err()
        .to_string()
        .contains("validation"));
}

#[test]
fn halve_on_plateau_halves_eta_and_stops() {
    let (train, validation) = mnist_10k().unwrap().split_at(500);
    let (validation, _) = validation.split_at(200);
    let net: Network = Network::builder(&[784, 8, 10]).seed(4).build().unwrap();
    let sgd = TrainSettings {
        epochs: 200,
        eta: 1.0,
        schedule: Schedule::HalveOnPlateau { patience: 1 },
        ..TrainSettings::default()
    };
    let mut trainer = Trainer::new(net, sgd).unwrap();
    let outcome = trainer
        .run(&train, Some(&validation), None, &mut ())
        .unwrap();
    let etas: Vec<f64> = trainer.reports.iter().map(|r| r.eta).collect();
    assert!(
        etas.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] / 2.0),
        "{etas:?}"
    );
    assert_eq!(
        outcome,
        Outcome::Stopped,
        "η fell below η₀/128 within 200 epochs: {etas:?}"
    );
    assert!(*etas.last().unwrap() >= 1.0 / 128.0);
}
