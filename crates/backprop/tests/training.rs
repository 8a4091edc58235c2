//! SGD on real digits, reproducibility, and refused settings.

use backprop::{
    mnist_10k, set_kernel, set_threads, Dataset, Error, Init, Kernel, Network, TrainSettings,
};

fn weights_bytes(net: &Network<f32>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for l in 2..=net.num_layers() {
        net.weights(l)
            .iter()
            .chain(net.biases(l).iter())
            .for_each(|v| bytes.extend(v.to_le_bytes()));
    }
    bytes
}

/// The lecture's recipe on the embedded digits: ≥ 90% on the last 2,000 within 10 epochs.
/// This depends on the seed: seeds 0–5 reach 90.05–91.25% by epoch 10 and 91.15–92.50% by epoch
/// 30 (with N(0,1) weights some sigmoid neurons start saturated, and before the initialisation of
/// issue 20 two seeds in seven stalled near 83%); seed 2 is one that gets there.
/// (Peers on the same split, 30 epochs: NumPy 91.8–92.2%, PyTorch 91.6%, candle 91.2–91.7%.)
#[test]
fn lecture_network_learns_real_digits() {
    let (train, test) = mnist_10k().unwrap().split_at(8000);
    assert_eq!((train.len(), test.len()), (8000, 2000));
    let mut net: Network = Network::builder(&[784, 30, 10]).seed(2).build().unwrap();
    let sgd = TrainSettings::plain(10, 10, 3.0, 2); // epochs, mini-batch size, η, seed
    let reports = net.train(&train, Some(&test), &sgd).unwrap();
    let best = reports
        .iter()
        .map(|r| r.test.as_ref().unwrap().accuracy())
        .fold(0.0, f64::max);
    let last = reports.last().unwrap();
    assert!(best >= 0.90, "best test accuracy {best}");
    assert!(
        last.train_cost < reports[0].train_cost,
        "training cost should fall"
    );
    assert_eq!(reports.len(), 10);
}

fn small_data() -> (Dataset, Dataset) {
    mnist_10k().unwrap().split_at(600)
}

/// On every matrix kernel this CPU runs: the kernel is one setting of the process, so the whole
/// comparison for one kernel runs before the next is set (no other test here changes it).
#[test]
fn one_seed_gives_identical_bytes_whatever_the_threads() {
    for kernel in Kernel::supported() {
        set_kernel(kernel).unwrap();
        identical_bytes_whatever_the_threads(kernel);
    }
    set_kernel(Kernel::best()).unwrap();
}

fn identical_bytes_whatever_the_threads(kernel: Kernel) {
    let (train, _) = small_data();
    let run = |threads: usize, (hidden, batch_size): (usize, usize)| {
        set_threads(threads);
        let mut net: Network = Network::builder(&[784, hidden, 10])
            .init(Init::Scaled)
            .seed(4)
            .build()
            .unwrap();
        net.train(
            &train,
            None,
            &TrainSettings {
                epochs: 2,
                batch_size,
                eta: 0.5,
                seed: 9,
                ..TrainSettings::default()
            },
        )
        .unwrap();
        weights_bytes(&net)
    };
    // (hidden neurons, mini-batch): both forms of product at sizes that are split between
    // threads, edges of every kernel's blocks (100 = 3·32 + 4, 37 hidden), a mini-batch of 64.
    for shape in [(256, 100), (100, 10), (37, 64)] {
        let one = run(1, shape);
        assert_eq!(one, run(1, shape), "{kernel} {shape:?}");
        assert_eq!(one, run(2, shape), "{kernel} {shape:?}, 2 threads");
        assert_eq!(one, run(3, shape), "{kernel} {shape:?}, 3 threads");
    }
    let one = run(1, (256, 100));
    set_threads(1);
    let mut other: Network = Network::builder(&[784, 256, 10])
        .init(Init::Scaled)
        .seed(4)
        .build()
        .unwrap();
    other
        .train(
            &train,
            None,
            &TrainSettings {
                epochs: 2,
                batch_size: 100,
                eta: 0.5,
                seed: 10,
                ..TrainSettings::default()
            },
        )
        .unwrap();
    assert_ne!(
        one,
        weights_bytes(&other),
        "another shuffle seed gives other weights"
    );
}

#[test]
fn divergence_is_reported_with_the_learning_rate() {
    let (train, _) = small_data();
    let mut net: Network = Network::builder(&[784, 30, 10])
        .hidden(backprop::Activation::Identity)
        .output(backprop::Activation::Identity)
        .build()
        .unwrap();
    let err = net
        .train(
            &train,
            None,
            &TrainSettings {
                epochs: 3,
                batch_size: 10,
                eta: 1e6,
                seed: 0,
                ..TrainSettings::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("smaller learning rate"));
}

#[test]
fn bad_settings_and_shapes_are_refused() {
    let (train, _) = small_data();
    let mut net: Network = Network::new(&[784, 30, 10]).unwrap();
    for sgd in [
        TrainSettings {
            epochs: 0,
            ..TrainSettings::default()
        },
        TrainSettings {
            batch_size: 0,
            ..TrainSettings::default()
        },
        TrainSettings {
            eta: 0.0,
            ..TrainSettings::default()
        },
        TrainSettings {
            eta: f64::NAN,
            ..TrainSettings::default()
        },
    ] {
        assert!(matches!(
            net.train(&train, None, &sgd),
            Err(Error::InvalidSetting(_))
        ));
    }
    let mut narrow: Network = Network::new(&[100, 10]).unwrap();
    let err = narrow
        .train(&train, None, &TrainSettings::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("784") && err.contains("100"), "{err}");
    let mut few_outputs: Network = Network::new(&[784, 5]).unwrap();
    assert!(few_outputs
        .train(&train, None, &TrainSettings::default())
        .unwrap_err()
        .to_string()
        .contains("out of range"));
}

#[test]
fn the_last_mini_batch_may_be_smaller() {
    let (train, _) = mnist_10k().unwrap().split_at(25);
    let mut net: Network = Network::new(&[784, 10, 10]).unwrap();
    let reports = net
        .train(
            &train,
            Some(&train),
            &TrainSettings {
                epochs: 1,
                batch_size: 10,
                eta: 1.0,
                seed: 0,
                ..TrainSettings::default()
            },
        )
        .unwrap();
    assert_eq!(reports[0].test.as_ref().unwrap().total, 25);
    assert!(reports[0].train_cost.is_finite());
}

/// Target rows (regression data) that the logarithmic costs are not defined for are refused
/// before training, naming the row: their BP1 would give a wrong gradient (the gradient check
/// showed errors of about 1). Rows they are defined for train and pass the gradient check.
#[test]
fn targets_outside_a_costs_domain_are_refused() {
    use backprop::{gradient_check, Activation, Cost, GradCheckOptions};
    let inputs = vec![0.1, 0.9, 0.8, 0.2, 0.5, 0.5];
    let net = |output, cost| -> Network<f64> {
        Network::builder(&[2, 3, 2])
            .output(output)
            .cost(cost)
            .seed(1)
            .build()
            .unwrap()
    };
    let data = |rows: Vec<f32>| {
        Dataset::from_target_rows(std::sync::Arc::new(inputs.clone()), 2, rows, 2).unwrap()
    };
    let settings = TrainSettings::plain(1, 3, 0.1, 1);
    for (output, cost, rows, needle) in [
        (
            Activation::Sigmoid,
            Cost::CrossEntropy,
            vec![0.2, 0.8, 1.5, 0.0, 0.3, 0.3],
            "row 1 has a target value 1.5 outside [0, 1]",
        ),
        (
            Activation::Softmax,
            Cost::LogLikelihood,
            vec![0.2, 0.8, 0.5, 0.2, 0.3, 0.7],
            "row 1 has target values that sum to 0.7",
        ),
        (
            Activation::Softmax,
            Cost::LogLikelihood,
            vec![-0.5, 1.5, 0.5, 0.5, 0.3, 0.7],
            "row 0 has a target value -0.5",
        ),
    ] {
        let e = net(output, cost)
            .train(&data(rows), None, &settings)
            .unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
    for (output, cost) in [
        (Activation::Sigmoid, Cost::CrossEntropy),
        (Activation::Softmax, Cost::LogLikelihood),
        (Activation::Identity, Cost::Quadratic),
    ] {
        let good = data(vec![0.2, 0.8, 0.5, 0.5, 0.3, 0.7]);
        let mut n = net(output, cost);
        n.train(&good, None, &settings).unwrap();
        let xs =
            ndarray::Array2::from_shape_vec((3, 2), inputs.iter().map(|&v| f64::from(v)).collect())
                .unwrap();
        let ys =
            ndarray::Array2::from_shape_vec((3, 2), vec![0.2, 0.8, 0.5, 0.5, 0.3, 0.7]).unwrap();
        let report =
            gradient_check(&n, xs.view(), ys.view(), &GradCheckOptions::default()).unwrap();
        let worst = report.max_relative_error();
        assert!(worst < 1e-5, "{output}/{cost}: {worst:e}");
    }
}

/// The steps that run on each thread's share of a product (the biases, σ, `∘ σ'`) and the ones
/// that do not (softmax, dropout) give the same bytes on any number of threads, for every
/// (hidden σ, output σ, cost) the library accepts; the layer sizes make every product large
/// enough to be split, with edges of the kernels' blocks.
#[test]
fn every_activation_and_dropout_give_identical_bytes_whatever_the_threads() {
    let (train, _) = small_data();
    let run = |threads: usize, (hidden, output, cost), dropout: f64| {
        set_threads(threads);
        let mut net: Network = Network::builder(&[784, 70, 50, 10])
            .hidden(hidden)
            .output(output)
            .cost(cost)
            .init(Init::Scaled)
            .seed(4)
            .build()
            .unwrap();
        let settings = TrainSettings {
            epochs: 1,
            batch_size: 64,
            eta: 0.01,
            seed: 9,
            dropout,
            ..TrainSettings::default()
        };
        // A combination that diverges must diverge alike on any number of threads.
        net.train(&train, None, &settings)
            .map(|_| weights_bytes(&net))
            .map_err(|e| e.to_string())
    };
    let mut trained = 0;
    for combination in backprop::Architecture::combinations() {
        for dropout in [0.0, 0.3] {
            let one = run(1, combination, dropout);
            trained += usize::from(one.is_ok());
            for threads in [2, 3] {
                assert_eq!(
                    one,
                    run(threads, combination, dropout),
                    "{combination:?}, dropout {dropout}, {threads} threads"
                );
            }
        }
    }
    let all = 2 * backprop::Architecture::combinations().len();
    assert!(
        trained * 4 >= all * 3,
        "only {trained} of {all} runs trained"
    );
    set_threads(1);
}
