//! Errors of the command: one line on stderr and an exit status.

use std::fmt;

/// A failed command: its message (one line) and exit status.
#[derive(Debug)]
pub struct CliError {
    /// 2 for a usage or input error, 1 for a failure during the work (divergence, I/O on output).
    pub code: i32,
    pub message: String,
}

impl CliError {
    /// A usage or input error (exit status 2).
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
    /// A failure while working (exit status 1).
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source said.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl From<backprop::Error> for CliError {
    fn from(e: backprop::Error) -> Self {
        match e {
            backprop::Error::Diverged { .. }
            | backprop::Error::NotFinite { .. }
            | backprop::Error::Write { .. } => CliError::failure(e.to_string()),
            _ => CliError::input(e.to_string()),
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;
