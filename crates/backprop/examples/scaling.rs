//! Two threads against one, in one process, alternating: the median seconds per epoch of plain
//! SGD at each thread count and their ratio (interleaving keeps a noisy machine's drift out of
//! the ratio). Fashion-MNIST from Debian's `dataset-fashion-mnist`, or the embedded digits.
//!
//! `cargo run --release --example scaling -- 784,30,10 10 3.0 standard [rounds] [fashion|mnist-10k] [threads,...]`

mod common;

use backprop::{Dataset, Init, Network, TrainSettings};
use common::Args;

fn main() -> backprop::Result<()> {
    let args = Args::new();
    let sizes = args.list(1, "784,30,10");
    let batch_size: usize = args.get(2, "10");
    let eta: f64 = args.get(3, "3.0");
    let init: Init = args.get(4, "standard");
    let rounds: usize = args.get(5, "5");
    let train: Dataset = match args.text(6, "fashion").as_str() {
        "mnist-10k" => backprop::mnist_10k_split()?.0,
        _ => common::fashion()?.0,
    };
    let counts = args.list(7, "1,2");
    common::print_machine();
    let mut seconds = vec![Vec::new(); counts.len()];
    for _ in 0..rounds {
        for (t, &threads) in counts.iter().enumerate() {
            backprop::set_threads(threads);
            let mut net: Network = Network::builder(&sizes).init(init).seed(1).build()?;
            let sgd = TrainSettings {
                epochs: 1,
                batch_size,
                eta,
                seed: 1,
                ..TrainSettings::default()
            };
            let reports = net.train(&train, None, &sgd)?;
            seconds[t].push(reports[0].train_seconds);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = seconds.iter_mut().map(median).collect();
    for (threads, m) in counts.iter().zip(&medians) {
        println!(
            "{threads} thread(s): {m:.4} s/epoch  ({:.2}x the first)",
            medians[0] / m
        );
    }
    Ok(())
}
