//! `backprop show-weights`: the incoming weights `W^(l)` of a layer whose input is an image, one
//! tile per neuron — what each neuron "looks for" (see [`crate::plot::weights`]).

use crate::cli::ShowWeightsArgs;
use crate::error::{CliError, CliResult};
use crate::io::load_model;
use crate::plot::{self, weights::WeightTiles};

pub fn run(args: &ShowWeightsArgs) -> CliResult<()> {
    plot::check_target(&args.out, "--out")?;
    let model = load_model(&args.model)?;
    let net = &model.network;
    let l = args.layer as usize;
    if l > net.num_layers() {
        return Err(CliError::input(format!(
            "--layer {l}: the model has layers 2..={} (layer 1 is the input and has no weights)",
            net.num_layers()
        )));
    }
    let n_in = net.sizes()[l - 2];
    let side = (n_in as f64).sqrt().round() as usize;
    if side * side != n_in {
        return Err(CliError::input(format!(
            "--layer {l}: its input (layer {}) has {n_in} neurons, not a square image; show-weights draws a layer whose input is an image, such as layer 2 of a 784-… model",
            l - 1
        )));
    }
    let w = net.weights(l);
    let mut tiles = WeightTiles {
        w: w.view(),
        side,
        title: format!(
            "W^({l}) of {}: the incoming weights of each of the {} neurons of layer {l}, as {side}×{side} images",
            args.model.display(),
            w.nrows()
        ),
    };
    let of = if tiles.shown() < w.nrows() {
        format!(" (neurons 0–{} of {})", tiles.shown() - 1, w.nrows())
    } else {
        String::new()
    };
    tiles.title += &of;
    plot::save(&tiles, &args.out)?;
    println!(
        "Wrote {} tiles{of} of {side}×{side} weights (W^({l}), shape {:?}) to {}",
        tiles.shown(),
        w.dim(),
        args.out.display()
    );
    Ok(())
}
