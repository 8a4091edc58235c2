//! The flags of a fresh run as the library's options: `backprop::TrainOptions` fills every
//! default and makes every check, so a flag means here what its keyword means in Python and on
//! the web page.

use super::Start;
use crate::cli::TrainArgs;
use crate::error::CliResult;
use backprop::{Network, Spelling, TrainOptions, Trainer};

/// The run the flags ask for: a new network and trainer, the validation split and the threads.
pub fn start(args: &TrainArgs, processes_here: usize) -> CliResult<Start> {
    let plan = options(args, processes_here).plan(Spelling::Flags)?;
    let net: Network = Network::builder(&args.layers.0)
        .hidden(args.activation)
        .output(args.output_activation)
        .cost(args.cost)
        .init(args.init)
        .seed(args.seed)
        .build()?;
    Ok(Start {
        trainer: Trainer::new(net, plan.settings)?,
        data: args.data.clone(),
        validation: plan.validation,
        validation_by_default: plan.validation_by_default,
        init: args.init.name().to_string(),
        threads: plan.threads,
        note: plan.note,
    })
}

/// The training flags as options: every flag with a value, and those that only some update rules
/// take (`--momentum`, Adam's) only when given, so that the library can refuse them for another.
pub fn options(args: &TrainArgs, processes_here: usize) -> TrainOptions {
    let given = |flag: &str| args.given.iter().any(|f| f == flag);
    let when_given = |flag: &str, value: f64| given(flag).then_some(value);
    TrainOptions {
        epochs: Some(usize::try_from(args.epochs).unwrap_or(usize::MAX)),
        batch_size: Some(usize::try_from(args.batch_size).unwrap_or(usize::MAX)),
        eta: args.eta,
        seed: Some(args.seed),
        optimizer: args.optimizer,
        momentum: when_given("--momentum", args.momentum),
        nesterov: args.nesterov,
        beta1: when_given("--beta1", args.beta1),
        beta2: when_given("--beta2", args.beta2),
        epsilon: when_given("--epsilon", args.epsilon),
        lambda: Some(args.lambda),
        l1: Some(args.l1),
        schedule: Some(args.eta_schedule),
        dropout: Some(args.dropout),
        early_stop: args
            .early_stop
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        validation: args.validation,
        threads: threads(args),
        processes_here,
    }
}

/// `--threads`, if given.
pub fn threads(args: &TrainArgs) -> Option<usize> {
    args.threads
        .map(|t| usize::try_from(t).unwrap_or(usize::MAX))
}
