//! Reading and writing shared by the commands and the plots: stdout that a closed pipe does not
//! break, model files, and the check of output paths before any work.

use crate::error::{CliError, CliResult};
use backprop::io::model_file::{self, Model};
use std::path::Path;

/// Writes `text` to stdout. When the reader has gone (`backprop trace | head`), stops quietly
/// with status 0 instead of panicking; any other write error is a failure.
pub fn emit(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(crate::error::CliError::failure(format!("stdout: {e}"))),
    }
}

/// Reads a model file; every problem becomes a one-line input error.
pub fn load_model(path: &Path) -> CliResult<Model> {
    Ok(model_file::load(path)?)
}

/// Refuses, before any work, an output (`(flag, path)`) that cannot be written (see
/// `backprop::io::file::check_writable`, exit status 1), and an output that is the same file as
/// another output or as an input (exit status 2): one would clobber the other.
pub fn check_files(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> CliResult<()> {
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        backprop::io::file::check_writable(path)
            .map_err(|e| CliError::failure(format!("{flag} {e}")))?;
        for &(other, q) in outputs[..i].iter().chain(inputs) {
            if backprop::io::file::same_file(path, q) {
                return Err(CliError::input(format!(
                    "{flag} {} is the same file as {other} {}: one would overwrite the other",
                    path.display(),
                    q.display()
                )));
            }
        }
    }
    Ok(())
}
