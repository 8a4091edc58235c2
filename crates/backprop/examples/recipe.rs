//! Trains one of the improved recipes and prints test accuracy per epoch (a library-level twin
//! of the `backprop train` commands in README.md's results table).
//!
//! `cargo run --release --example recipe -- mnist SEED` or `-- fashion SEED`

use backprop::{
    io::idx, mnist_10k_split, Activation, Cost, Init, Network, Optimizer, Regularization,
    TrainSettings,
};
use std::path::Path;

fn main() -> backprop::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("mnist", String::as_str);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    backprop::set_threads(2);
    let (train, test, sizes, sgd) = match which {
        "mnist" => {
            let (train, test) = mnist_10k_split()?;
            let sgd = TrainSettings {
                epochs: 40,
                batch_size: 64,
                eta: 0.001,
                seed,
                optimizer: Optimizer::adam(),
                dropout: 0.4,
                regularization: Regularization { l2: 0.0, l1: 0.0 },
                ..TrainSettings::default()
            };
            (train, test, vec![784, 500, 300, 10], sgd)
        }
        _ => {
            let (train, test) =
                idx::read_standard_dir(Path::new("/usr/share/datasets/fashion-mnist"))?;
            let sgd = TrainSettings {
                epochs: 30,
                batch_size: 64,
                eta: 0.001,
                seed,
                optimizer: Optimizer::adam(),
                dropout: 0.2,
                ..TrainSettings::default()
            };
            (train, test, vec![784, 512, 256, 10], sgd)
        }
    };
    let hidden = Activation::Relu;
    let mut net: Network = Network::builder(&sizes)
        .hidden(hidden)
        .output(Activation::Softmax)
        .cost(Cost::LogLikelihood)
        .init(Init::Scaled)
        .seed(seed)
        .build()?;
    for r in net.train(&train, Some(&test), &sgd)? {
        let t = r.test.expect("test data given");
        println!(
            "{which} seed {seed} epoch {}: test {:.4}  train cost {:.4}  {:.2} s",
            r.epoch,
            t.accuracy(),
            r.train_cost,
            r.train_seconds
        );
    }
    Ok(())
}
