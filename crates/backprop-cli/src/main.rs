//! The `backprop` command. See `backprop --help`.

mod cli;
mod commands;
mod data_source;
mod download;
mod error;
mod example;
mod plot;
mod trace_view;

use clap::Parser;
use cli::{Cli, Command, TrainArgs};
use error::CliResult;

fn run(cli: Cli) -> CliResult<()> {
    match cli.command {
        None => commands::train::run(&TrainArgs::default()),
        Some(Command::Train(args)) => commands::train::run(&args),
        Some(Command::Evaluate(args)) => commands::evaluate::run(&args),
        Some(Command::Predict(args)) => commands::predict::run(&args),
        Some(Command::Info(args)) => commands::info::run(&args),
        Some(Command::Trace(args)) => commands::trace::run(&args),
        Some(Command::Gradcheck(args)) => commands::gradcheck::run(&args),
        Some(Command::ShowWeights(args)) => commands::show_weights::run(&args),
    }
}

/// Any panic becomes one line on stderr without a backtrace (whatever `RUST_BACKTRACE` says); a
/// closed pipe (`backprop evaluate | head -3`) ends the program quietly.
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!(
            "error: internal error: {} (please report it)",
            message.replace('\n', " ")
        );
        std::process::exit(1);
    }));
}

fn main() {
    one_line_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap's message, first line only: `error: invalid value 'x' for '--eta <ETA>': …`.
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid command line")
            );
            std::process::exit(2);
        }
        Err(e) => e.exit(), // --help, --version
    };
    // BACKPROP_KERNEL is checked before any work: an unknown name or a kernel this CPU cannot
    // run is a usage error, never an illegal instruction later.
    if let Err(e) = backprop::Kernel::from_env().and_then(backprop::set_kernel) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.code);
    }
}
