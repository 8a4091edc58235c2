//! `backprop predict`: the class of one image or one test example, with the output activations.

use crate::cli::PredictArgs;
use crate::data_source;
use crate::error::{CliError, CliResult};
use crate::io::load_model;
use crate::lang::tr;
use backprop::argmax;
use ndarray::Array1;
use std::path::Path;

pub fn run(args: &PredictArgs) -> CliResult<()> {
    let model = load_model(&args.model)?;
    let net = &model.network;
    let (x, label) = match (&args.image, args.index) {
        (Some(path), _) => (image_input(path, net.sizes()[0])?, None),
        (None, Some(index)) => {
            let splits = data_source::load(&args.data, true)?;
            splits.test.check_fits(net)?;
            crate::example::check_index(&splits.test, index)?;
            (
                splits.test.input::<f32>(index),
                Some(splits.test.labels()[index]),
            )
        }
        (None, None) => return Err(CliError::input("give --image FILE or --index N")),
    };
    let a = net.feedforward(x.view())?;
    let class = argmax(a.view());
    if args.json {
        let mut out = serde_json::json!({ "class": class, "activations": a.to_vec() });
        if let Some(k) = label {
            out["label"] = k.into();
        }
        println!("{out}");
        return Ok(());
    }
    match label {
        Some(k) => println!("{}", tr!("predict.class_label", class = class, label = k)),
        None => println!("{}", tr!("predict.class", class = class)),
    }
    println!("{}", tr!("predict.outputs"));
    for (i, v) in a.iter().enumerate() {
        println!("  {i:>3}: {v:.6}{}", if i == class { "  <" } else { "" });
    }
    Ok(())
}

/// An image as the network's input: grayscale, resized to a square of `n_inputs` pixels, scaled to
/// [0, 1], and inverted when mostly light, since MNIST digits are light strokes on black.
pub fn image_input(path: &Path, n_inputs: usize) -> CliResult<Array1<f32>> {
    let side = (n_inputs as f64).sqrt().round() as u32;
    if (side * side) as usize != n_inputs {
        return Err(CliError::input(format!(
            "the model's first layer has {n_inputs} inputs, which is not a square image"
        )));
    }
    let img = read_image(path)?;
    let gray = image::imageops::resize(
        &img.to_luma8(),
        side,
        side,
        image::imageops::FilterType::Triangle,
    );
    let mut x: Array1<f32> = gray.pixels().map(|p| f32::from(p.0[0]) / 255.0).collect();
    if x.mean().unwrap_or(0.0) > 0.5 {
        x.mapv_inplace(|v| 1.0 - v);
    }
    Ok(x)
}

/// The largest width or height of an image read: a phone photo fits; a 16,000,000 × 1 PNG of a
/// few kilobytes, which would take gigabytes to decode and scale, does not.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// The most memory the decoder may allocate for one image.
pub const MAX_IMAGE_BYTES: u64 = 512 << 20;

/// Decodes the image at `path`, refusing before decoding one whose header declares more than
/// [`MAX_IMAGE_SIDE`] pixels a side or more than [`MAX_IMAGE_BYTES`] of pixels, and a named pipe.
fn read_image(path: &Path) -> CliResult<image::DynamicImage> {
    let cannot = |e: &dyn std::fmt::Display| {
        CliError::input(format!("{}: cannot read the image ({e})", path.display()))
    };
    let file = backprop::io::file::open_for_reading(path).map_err(|e| match e {
        backprop::Error::Io { source, .. } => cannot(&source),
        e => e.into(),
    })?;
    let mut reader = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| cannot(&e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => CliError::input(format!(
            "{}: the image is too large (at most {MAX_IMAGE_SIDE} pixels a side and {} MiB decoded)",
            path.display(),
            MAX_IMAGE_BYTES >> 20
        )),
        e => cannot(&e),
    })
}
