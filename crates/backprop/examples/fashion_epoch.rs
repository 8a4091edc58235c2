//! Times plain SGD epochs on Fashion-MNIST (Debian's `dataset-fashion-mnist`), training only.
//!
//! `cargo run --release --example fashion_epoch -- 784,30,10 10 3.0 standard 3`

mod common;

use backprop::{Init, Network, TrainSettings};
use common::Args;

fn main() -> backprop::Result<()> {
    let args = Args::new();
    let sizes = args.list(1, "784,30,10");
    let batch_size: usize = args.get(2, "10");
    let eta: f64 = args.get(3, "3.0");
    let init: Init = args.get(4, "standard");
    let epochs: usize = args.get(5, "3");
    let (train, test) = common::fashion()?;
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
