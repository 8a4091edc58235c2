//! The one translator from what a user asks for to what the library runs.
//!
//! Every front (the command line, the Python package, the web page, the MPI driver) reads its own
//! syntax (flags, keyword arguments, JSON) into [`TrainOptions`]: each option as given, `None`
//! when it was not. [`TrainOptions::plan`] fills every default and makes every check once: the
//! update rule from `optimizer`, `momentum` and `nesterov` (and refuses contradictions), η's
//! default for that rule, the validation split that early stopping needs, the thread count. So
//! the same options give the same [`Plan`] and the same error on every front; only the way an
//! option is written in a message ([`Spelling`]) differs.
//!
//! Out of scope: the network's options (sizes, activations, cost, initialisation: the
//! [`NetworkBuilder`](crate::lecture::network::NetworkBuilder) takes them) and the data's.

use crate::error::{Error, Result};
use crate::kernel::threads;
use crate::limits;
use crate::train::optimizer::{Optimizer, Rule};
use crate::train::regularization::Regularization;
use crate::train::schedule::Schedule;
use crate::train::settings::TrainSettings;
use crate::train::validation::Validation;

/// The training options as a user gave them: `None` (or `false`) for an option not given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainOptions {
    /// Epochs (default [`TrainSettings::DEFAULT_EPOCHS`]).
    pub epochs: Option<usize>,
    /// `m` (default [`TrainSettings::DEFAULT_BATCH_SIZE`]).
    pub batch_size: Option<usize>,
    /// η (default [`TrainSettings::default_eta`] of the rule).
    pub eta: Option<f64>,
    /// The seed (default 0).
    pub seed: Option<u64>,
    /// The update rule by name (default: Nesterov with `nesterov`, momentum with `momentum`,
    /// else plain SGD).
    pub optimizer: Option<Rule>,
    /// μ of momentum and Nesterov (default [`Optimizer::DEFAULT_MU`]).
    pub momentum: Option<f64>,
    /// Nesterov momentum asked for by itself.
    pub nesterov: bool,
    /// Adam's β₁ (default [`Optimizer::DEFAULT_BETA1`]).
    pub beta1: Option<f64>,
    /// Adam's β₂ (default [`Optimizer::DEFAULT_BETA2`]).
    pub beta2: Option<f64>,
    /// Adam's ε (default [`Optimizer::DEFAULT_EPSILON`]).
    pub epsilon: Option<f64>,
    /// The L2 penalty λ (default 0).
    pub lambda: Option<f64>,
    /// The L1 penalty λ₁ (default 0).
    pub l1: Option<f64>,
    /// How η changes between epochs (default constant).
    pub schedule: Option<Schedule>,
    /// The dropout probability (default 0).
    pub dropout: Option<f64>,
    /// Early stopping's patience in epochs (default: none).
    pub early_stop: Option<usize>,
    /// The validation split (default: [`TrainSettings::DEFAULT_VALIDATION_FRACTION`] when early
    /// stopping or halve-on-plateau needs one, else none).
    pub validation: Option<Validation>,
    /// Threads (default [`threads::default_threads`] shared by the `processes_here`).
    pub threads: Option<usize>,
    /// Processes of one job on this machine that share its cores (MPI ranks); 0 counts as 1.
    pub processes_here: usize,
}

/// What [`TrainOptions::plan`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The settings of training, checked.
    pub settings: TrainSettings,
    /// The validation split to hold out ([`crate::train::validation::hold_out`]).
    pub validation: Option<Validation>,
    /// Whether `validation` is the default split (no split was asked for but one is needed).
    pub validation_by_default: bool,
    /// The number of threads to set ([`threads::set_threads`]).
    pub threads: usize,
    /// A note to show the user (more threads than cores), if any.
    pub note: Option<String>,
}

/// How a front writes an option in its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// Command-line flags: `--optimizer adam`, `--nesterov`, `--eta-schedule`.
    Flags,
    /// Keyword arguments and JSON keys: `optimizer="adam"`, `nesterov=True`, `schedule`.
    Keywords,
}

impl Spelling {
    /// The option named `name` (its keyword: `early_stop`, `schedule`).
    pub fn option(self, name: &str) -> String {
        match (self, name) {
            (Spelling::Flags, "schedule") => "--eta-schedule".into(),
            (Spelling::Flags, name) => format!("--{}", name.replace('_', "-")),
            (Spelling::Keywords, name) => name.into(),
        }
    }

    /// The option `name` given `value`: `--optimizer adam`, `optimizer="adam"`.
    fn given(self, name: &str, value: &str) -> String {
        match self {
            Spelling::Flags => format!("{} {value}", self.option(name)),
            Spelling::Keywords => format!("{name}=\"{value}\""),
        }
    }

    /// The switch `name` turned on: `--nesterov`, `nesterov=True`.
    fn on(self, name: &str) -> String {
        match self {
            Spelling::Flags => self.option(name),
            Spelling::Keywords => format!("{name}=True"),
        }
    }
}

impl TrainOptions {
    /// The settings, validation split and threads these options ask for, every default filled
    /// and every check made; contradicting options are refused in `spelling`.
    pub fn plan(&self, spelling: Spelling) -> Result<Plan> {
        let optimizer = self.optimizer(spelling)?;
        let settings = TrainSettings {
            epochs: self.epochs.unwrap_or(TrainSettings::DEFAULT_EPOCHS),
            batch_size: self.batch_size.unwrap_or(TrainSettings::DEFAULT_BATCH_SIZE),
            eta: self
                .eta
                .unwrap_or_else(|| TrainSettings::default_eta(&optimizer)),
            seed: self.seed.unwrap_or(0),
            optimizer,
            regularization: Regularization {
                l2: self.lambda.unwrap_or(0.0),
                l1: self.l1.unwrap_or(0.0),
            },
            schedule: self.schedule.unwrap_or(Schedule::Constant),
            dropout: self.dropout.unwrap_or(0.0),
            early_stop: self.early_stop,
        };
        if let Some((name, message)) = settings.problem() {
            return Err(Error::InvalidSetting(format!(
                "{}: {message}",
                spelling.option(name)
            )));
        }
        let validation =
            self.validation
                .map(Validation::check)
                .transpose()
                .map_err(|e| match e {
                    Error::InvalidSetting(m) => {
                        Error::InvalidSetting(format!("{}: {m}", spelling.option("validation")))
                    }
                    e => e,
                })?;
        let by_default = validation.is_none() && settings.needs_validation();
        let validation = match validation {
            None if by_default => Some(Validation::Fraction(
                TrainSettings::DEFAULT_VALIDATION_FRACTION,
            )),
            v => v,
        };
        let (threads, note) = self.threads()?;
        Ok(Plan {
            settings,
            validation,
            validation_by_default: by_default,
            threads,
            note,
        })
    }

    /// The update rule, with its constants; refuses constants out of range (first, whatever the
    /// rule), then options that belong to another rule.
    fn optimizer(&self, spelling: Spelling) -> Result<Optimizer> {
        let constants = |rule| {
            Optimizer::from_rule(
                rule,
                self.momentum.unwrap_or(Optimizer::DEFAULT_MU),
                self.beta1.unwrap_or(Optimizer::DEFAULT_BETA1),
                self.beta2.unwrap_or(Optimizer::DEFAULT_BETA2),
                self.epsilon.unwrap_or(Optimizer::DEFAULT_EPSILON),
            )
        };
        for rule in [Rule::Momentum, Rule::Adam] {
            let probe = TrainSettings {
                optimizer: constants(rule),
                ..TrainSettings::default()
            };
            if let Some((name, message)) = probe.problem() {
                return Err(Error::InvalidSetting(format!(
                    "{}: {message}",
                    spelling.option(name)
                )));
            }
        }
        let rule = match (self.optimizer, self.nesterov) {
            (Some(rule), true) if rule != Rule::Nesterov => {
                return Err(Error::InvalidSetting(format!(
                    "{} contradicts {}: give one of them",
                    spelling.on("nesterov"),
                    spelling.given("optimizer", rule.name())
                )))
            }
            (_, true) => Rule::Nesterov,
            (Some(rule), false) => rule,
            (None, false) if self.momentum.is_some() => Rule::Momentum,
            (None, false) => Rule::Sgd,
        };
        if self.momentum.is_some() && !matches!(rule, Rule::Momentum | Rule::Nesterov) {
            return Err(Error::InvalidSetting(format!(
                "{} applies to {} momentum or nesterov, not {}",
                spelling.option("momentum"),
                spelling.option("optimizer"),
                rule.name()
            )));
        }
        let adam_only: Vec<String> = [
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("epsilon", self.epsilon),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(name, _)| spelling.option(name))
        .collect();
        if !adam_only.is_empty() && rule != Rule::Adam {
            return Err(Error::InvalidSetting(format!(
                "{} apply to {} adam, not {}",
                adam_only.join(", "),
                spelling.option("optimizer"),
                rule.name()
            )));
        }
        Ok(constants(rule))
    }

    /// The threads asked for, or every core (up to [`limits::MAX_THREADS`]) shared by the
    /// processes here; with the note [`limits::check_threads`] gives. (Part of [`Self::plan`],
    /// for a front that takes only the threads from the user: a resumed run.)
    pub fn threads(&self) -> Result<(usize, Option<String>)> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = self
            .threads
            .unwrap_or_else(|| (threads::default_threads() / self.processes_here.max(1)).max(1));
        let note = limits::check_threads(threads, cores)?;
        Ok((threads, note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(options: TrainOptions) -> Result<Plan> {
        options.plan(Spelling::Flags)
    }

    #[test]
    fn defaults_are_the_lectures() {
        let p = plan(TrainOptions::default()).unwrap();
        assert_eq!(p.settings, TrainSettings::default());
        assert_eq!(p.validation, None);
        assert!(p.threads >= 1);
    }

    #[test]
    fn the_rule_follows_the_options_given() {
        let rule = |o: TrainOptions| plan(o).map(|p| p.settings.optimizer);
        let momentum = TrainOptions {
            momentum: Some(0.5),
            ..Default::default()
        };
        assert_eq!(rule(momentum).unwrap(), Optimizer::Momentum { mu: 0.5 });
        let nesterov = TrainOptions {
            nesterov: true,
            ..Default::default()
        };
        assert_eq!(rule(nesterov).unwrap(), Optimizer::Nesterov { mu: 0.9 });
        let adam = TrainOptions {
            optimizer: Some(Rule::Adam),
            ..Default::default()
        };
        let p = plan(adam).unwrap();
        assert_eq!(p.settings.eta, TrainSettings::DEFAULT_ADAM_ETA);
    }

    #[test]
    fn contradictions_are_refused_in_the_fronts_spelling() {
        let o = TrainOptions {
            optimizer: Some(Rule::Sgd),
            nesterov: true,
            ..Default::default()
        };
        let flags = o.plan(Spelling::Flags).unwrap_err().to_string();
        assert!(
            flags.contains("--nesterov contradicts --optimizer sgd"),
            "{flags}"
        );
        let keywords = o.plan(Spelling::Keywords).unwrap_err().to_string();
        assert!(
            keywords.contains("nesterov=True contradicts optimizer=\"sgd\""),
            "{keywords}"
        );
        let o = TrainOptions {
            beta1: Some(0.8),
            epsilon: Some(1e-7),
            ..Default::default()
        };
        let e = plan(o).unwrap_err().to_string();
        assert!(
            e.contains("--beta1, --epsilon apply to --optimizer adam, not sgd"),
            "{e}"
        );
        let o = TrainOptions {
            optimizer: Some(Rule::Adam),
            momentum: Some(0.9),
            ..Default::default()
        };
        let e = o.plan(Spelling::Keywords).unwrap_err().to_string();
        assert!(
            e.contains("momentum applies to optimizer momentum or nesterov, not adam"),
            "{e}"
        );
    }

    #[test]
    fn early_stopping_holds_out_the_default_fraction() {
        let o = TrainOptions {
            early_stop: Some(3),
            ..Default::default()
        };
        let p = plan(o.clone()).unwrap();
        assert_eq!(p.validation, Some(Validation::Fraction(0.1)));
        assert!(p.validation_by_default);
        let given = TrainOptions {
            validation: Some(Validation::Count(50)),
            ..o
        };
        let p = plan(given).unwrap();
        assert_eq!(
            (p.validation, p.validation_by_default),
            (Some(Validation::Count(50)), false)
        );
    }

    #[test]
    fn out_of_range_options_are_refused() {
        for o in [
            TrainOptions {
                threads: Some(0),
                ..Default::default()
            },
            TrainOptions {
                threads: Some(limits::MAX_THREADS + 1),
                ..Default::default()
            },
            TrainOptions {
                validation: Some(Validation::Fraction(1.5)),
                ..Default::default()
            },
            TrainOptions {
                eta: Some(-1.0),
                ..Default::default()
            },
            TrainOptions {
                early_stop: Some(0),
                ..Default::default()
            },
        ] {
            assert!(plan(o.clone()).is_err(), "{o:?}");
        }
    }
}
