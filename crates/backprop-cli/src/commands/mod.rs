//! One module per subcommand.

pub mod evaluate;
pub mod info;
pub mod predict;
pub mod train;

use crate::error::CliResult;
use backprop::model_file::{self, Model};
use std::path::Path;

/// Reads a model file; every problem becomes a one-line input error.
pub fn load_model(path: &Path) -> CliResult<Model> {
    Ok(model_file::load(path)?)
}
