//! The `backprop` command. See `backprop --help`.

mod cli;
mod commands;
mod data_source;
mod distributed;
mod download;
mod error;
mod example;
mod io;
mod lang;
mod plot;
mod trace_view;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, TrainArgs};
use error::{CliError, CliResult};
use std::io::Write;

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
        Some(Command::Export(args)) => commands::export::run(&args),
        Some(Command::Serve(args)) => commands::serve::run(&args),
    }
}

/// Any panic becomes one line on stderr without a backtrace (whatever `RUST_BACKTRACE` says); a
/// closed pipe (`backprop evaluate | head -3`) ends the program quietly, and any other failure
/// to print (`> /dev/full`) is an I/O error with exit status 1.
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
        if let Some(cause) = message.strip_prefix("failed printing to stdout: ") {
            // `println!` on a full disk or a closed terminal: an I/O error, not a bug.
            eprintln!("{}: stdout: {cause}", lang::tr!("error"));
            std::process::exit(1);
        }
        eprintln!(
            "error: internal error: {} (please report it)",
            message.replace('\n', " ")
        );
        std::process::exit(1);
    }));
}

/// Ends the program on a command-line error of clap: its message as one line on stderr, exit
/// status 2; `--help` and `--version` are printed, exit status 0 (1 if stdout cannot take them).
fn clap_exit(e: clap::Error) -> ! {
    if e.use_stderr() {
        // `error: invalid value 'x' for '--eta <ETA>': …`, or `error: the following required
        // arguments were not provided:` with the arguments on the next lines: one line, up to
        // the blank line before the usage.
        let text = e.to_string();
        let message: Vec<&str> = text
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        eprintln!("{}", message.join(" "));
        std::process::exit(2);
    }
    match e.print().and_then(|()| std::io::stdout().flush()) {
        Ok(()) => std::process::exit(0),
        Err(io) => {
            eprintln!("{}: stdout: {io}", lang::tr!("error"));
            std::process::exit(1);
        }
    }
}

/// The flags given on the command line of `train` (not defaults), as `--name`.
fn given_flags(matches: &clap::ArgMatches) -> Vec<String> {
    matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .filter(|id| {
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        }) // not groups
        .map(|id| format!("--{}", id.as_str().replace('_', "-")))
        .collect()
}

fn main() {
    one_line_panics();
    let matches = Cli::command()
        .try_get_matches()
        .unwrap_or_else(|e| clap_exit(e));
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| clap_exit(e));
    lang::set(cli.lang.unwrap_or_else(lang::Lang::from_env));
    if let (Some(Command::Train(args)), Some(("train", m))) =
        (&mut cli.command, matches.subcommand())
    {
        args.given = given_flags(m);
    }
    // BACKPROP_KERNEL is checked before any work: an unknown name or a kernel this CPU cannot
    // run is a usage error, never an illegal instruction later.
    if let Err(e) = backprop::Kernel::from_env().and_then(backprop::set_kernel) {
        eprintln!("{}: {e}", lang::tr!("error"));
        std::process::exit(2);
    }
    let result = run(cli).and_then(|()| match std::io::stdout().flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::failure(format!("stdout: {e}")))
        }
        _ => Ok(()), // a reader that has gone took what it wanted
    });
    if let Err(e) = result {
        eprintln!("{}: {e}", lang::tr!("error"));
        std::process::exit(e.code);
    }
}
