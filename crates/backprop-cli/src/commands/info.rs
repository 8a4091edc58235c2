//! `backprop info`: what a model file holds; without `--model`, what this machine runs.

use crate::cli::InfoArgs;
use crate::error::CliResult;
use crate::io::load_model;
use backprop::sizes_text;
use std::path::Path;

pub fn run(args: &InfoArgs) -> CliResult<()> {
    match &args.model {
        Some(path) => model_info(path),
        None => {
            machine_info();
            Ok(())
        }
    }
}

/// The CPU features the matrix kernels look for, the kernels this CPU runs and the one in use.
fn machine_info() {
    let features: Vec<String> = backprop::cpu_features()
        .into_iter()
        .map(|(name, has)| format!("{name} {}", if has { "yes" } else { "no" }))
        .collect();
    println!("CPU features: {}", features.join(", "));
    let supported: Vec<&str> = backprop::Kernel::supported()
        .into_iter()
        .map(backprop::Kernel::name)
        .collect();
    println!("Kernels this CPU runs: {}", supported.join(", "));
    let forced = std::env::var(backprop::KERNEL_ENV).is_ok_and(|v| !v.trim().is_empty());
    println!(
        "Kernel in use: {}{}",
        backprop::kernel_in_use(),
        if forced {
            format!(" (forced by {})", backprop::KERNEL_ENV)
        } else {
            " (the widest this CPU runs)".to_string()
        }
    );
    println!(
        "Cores available: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}

fn model_info(path: &Path) -> CliResult<()> {
    let model = load_model(path)?;
    let net = &model.network;
    let arch = net.architecture();
    println!("Model: {}", path.display());
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
    if !model
        .metadata
        .contains_key(backprop::io::model_file::CHECKSUMS)
    {
        println!(
            "note: this file has no checksums ({}; written before they were added): damaged tensor data cannot be detected",
            backprop::io::model_file::CHECKSUMS
        );
    }
    Ok(())
}
