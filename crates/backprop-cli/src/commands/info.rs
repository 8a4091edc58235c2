//! `backprop info`: what a model file holds; without `--model`, what this machine runs.

use crate::cli::InfoArgs;
use crate::error::CliResult;
use crate::io::load_model;
use crate::lang::tr;
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
        .map(|(name, has)| {
            format!(
                "{name} {}",
                if has { tr!("info.yes") } else { tr!("info.no") }
            )
        })
        .collect();
    println!("{}", tr!("info.features", list = features.join(", ")));
    let supported: Vec<&str> = backprop::Kernel::supported()
        .into_iter()
        .map(backprop::Kernel::name)
        .collect();
    println!("{}", tr!("info.kernels", list = supported.join(", ")));
    let forced = std::env::var(backprop::KERNEL_ENV).is_ok_and(|v| !v.trim().is_empty());
    let why = match forced {
        true => tr!("info.forced", variable = backprop::KERNEL_ENV),
        false => tr!("info.widest"),
    };
    println!(
        "{}",
        tr!("info.kernel", name = backprop::kernel_in_use(), why = why)
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{}", tr!("info.cores", count = cores));
}

fn model_info(path: &Path) -> CliResult<()> {
    let model = load_model(path)?;
    let net = &model.network;
    let arch = net.architecture();
    println!("{}", tr!("model", path = path.display()));
    let count = net.num_parameters();
    println!(
        "{}",
        tr!(
            "info.layers",
            sizes = sizes_text(net.sizes()),
            count = count
        )
    );
    println!("{}", tr!("info.hidden", name = arch.hidden));
    println!("{}", tr!("info.output", name = arch.output));
    println!("{}", tr!("info.cost", name = arch.cost));
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
        let key = backprop::io::model_file::CHECKSUMS;
        println!("{}", tr!("info.no_checksums", key = key));
    }
    Ok(())
}
