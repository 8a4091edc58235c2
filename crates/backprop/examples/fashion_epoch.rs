//! Times plain SGD epochs on Fashion-MNIST (Debian's `dataset-fashion-mnist`), training only.
//!
//! `cargo run --release --example fashion_epoch -- 784,30,10 10 3.0 standard 3`

use backprop::io::idx;
use backprop::{Init, Network, TrainSettings};
use std::path::Path;

fn main() -> backprop::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let sizes: Vec<usize> = arg(1, "784,30,10")
        .split(',')
        .map(|s| s.parse().expect("layer size"))
        .collect();
    let batch_size: usize = arg(2, "10").parse().expect("mini-batch size");
    let eta: f64 = arg(3, "3.0").parse().expect("eta");
    let init = Init::from_name(&arg(4, "standard")).expect("standard or scaled");
    let epochs: usize = arg(5, "3").parse().expect("epochs");
    let (train, test) = idx::read_standard_dir(Path::new("/usr/share/datasets/fashion-mnist"))?;
    backprop::set_threads(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut net: Network = Network::builder(&sizes).init(init).build()?;
    let sgd = TrainSettings {
        epochs,
        batch_size,
        eta,
        seed: 0,
        ..TrainSettings::default()
    };
    for r in net.train(&train, Some(&test), &sgd)? {
        let t = r.test.expect("test data given");
        println!(
            "epoch {}: {:.3} s, test accuracy {:.4}",
            r.epoch,
            r.train_seconds,
            t.accuracy()
        );
    }
    Ok(())
}
