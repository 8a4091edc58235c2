//! `backprop info`: what a model file holds.

use crate::cli::InfoArgs;
use crate::commands::{load_model, train::sizes_text};
use crate::error::CliResult;

pub fn run(args: &InfoArgs) -> CliResult<()> {
    let model = load_model(&args.model)?;
    let net = &model.network;
    let arch = net.architecture();
    println!("Model: {}", args.model.display());
    println!(
        "Layers: {} ({} parameters)",
        sizes_text(net.sizes()),
        net.num_parameters()
    );
    println!("Hidden activation: {}", arch.hidden);
    println!("Output activation: {}", arch.output);
    println!("Cost: {}", arch.cost);
    for l in 2..=net.num_layers() {
        let w = net.weights(l);
        println!(
            "  layers.{l}.weight ({}, {})  layers.{l}.bias ({})",
            w.nrows(),
            w.ncols(),
            net.biases(l).len()
        );
    }
    for (key, value) in &model.metadata {
        if !["sizes", "hidden_activation", "output_activation", "cost"].contains(&key.as_str()) {
            println!("{key}: {value}");
        }
    }
    Ok(())
}
