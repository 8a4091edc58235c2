//! `backprop export`: a saved model in another format, chosen by the extension of `--out`:
//! `.onnx` (ONNX opset 13, for ONNX Runtime; see `backprop::io::onnx`) or `.safetensors` (the model
//! file written anew, metadata kept). Out of scope: importing, and formats other than these two.

use crate::cli::ExportArgs;
use crate::error::{CliError, CliResult};
use crate::io::{check_files, load_model};
use backprop::io::model_file;
use std::path::Path;

/// A format `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Onnx,
    Safetensors,
}

impl Format {
    /// Every format with its extension, in the order the error message lists them.
    pub const ALL: [(Format, &'static str); 2] = [
        (Format::Onnx, backprop::io::onnx::EXTENSION),
        (Format::Safetensors, "safetensors"),
    ];

    /// The format of `path` by its extension (any case); an unknown or missing extension is an
    /// input error that lists the known ones.
    pub fn of(path: &Path) -> CliResult<Format> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        let known = Self::ALL.iter().find(|(_, e)| Some(*e) == ext.as_deref());
        known.map(|&(format, _)| format).ok_or_else(|| {
            let names: Vec<String> = Self::ALL.iter().map(|(_, e)| format!(".{e}")).collect();
            let dotfile = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            let what = match ext {
                Some(ext) => format!("unknown extension `.{ext}`"),
                None if dotfile => {
                    "no extension (a name that starts with a dot is all name)".into()
                }
                None => "no extension".into(),
            };
            CliError::input(format!(
                "--out {}: {what}; known: {}",
                path.display(),
                names.join(", ")
            ))
        })
    }

    fn name(self) -> &'static str {
        match self {
            Format::Onnx => "an ONNX model (opset 13)",
            Format::Safetensors => "a safetensors model",
        }
    }
}

pub fn run(args: &ExportArgs) -> CliResult<()> {
    let format = Format::of(&args.out)?;
    let dir = args.out.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|d| !d.is_dir()) {
        return Err(CliError::input(format!(
            "--out {}: the directory {} does not exist",
            args.out.display(),
            dir.display()
        )));
    }
    check_files(&[("--model", &args.model)], &[("--out", &args.out)])?;
    let model = load_model(&args.model)?;
    let net = &model.network;
    match format {
        Format::Onnx => backprop::io::onnx::save(net, &args.out, &model.metadata)?,
        Format::Safetensors => model_file::save(net, &args.out, &model.metadata)?,
    }
    println!(
        "Wrote the {} network ({} parameters) as {} to {}",
        backprop::io::onnx::describe_sizes(net.sizes()),
        net.num_parameters(),
        format.name(),
        args.out.display()
    );
    Ok(())
}
