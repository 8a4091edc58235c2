//! Learning-rate schedules: how η changes from epoch to epoch.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How η changes after each epoch. Written (command line, JSON) as [`Schedule::parse`] reads it:
/// `constant`, `halve-on-plateau:N`, `step:N:FACTOR` or `exponential:GAMMA`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Schedule {
    /// η stays as given (default).
    #[default]
    Constant,
    /// Halve η when the validation accuracy has not improved for `patience` epochs; training
    /// stops when η falls below η₀/128.
    HalveOnPlateau {
        /// Epochs without improvement before η is halved.
        patience: usize,
    },
    /// Multiply η by `factor` every `every` epochs.
    Step {
        /// Epochs between changes.
        every: usize,
        /// The factor (0.5 halves η).
        factor: f64,
    },
    /// Multiply η by `gamma` after every epoch.
    Exponential {
        /// The factor per epoch.
        gamma: f64,
    },
}

/// What a schedule decides after an epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Go on with this η.
    Continue(f64),
    /// η fell below η₀/128 (halve-on-plateau): stop.
    Stop,
}

impl Schedule {
    /// Parses `constant`, `halve-on-plateau:N`, `step:N:FACTOR` or `exponential:GAMMA`.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0);
        let count = |s: &str| s.parse::<usize>().ok().filter(|&v| v > 0);
        match parts.as_slice() {
            ["constant"] => Ok(Schedule::Constant),
            ["halve-on-plateau", n] => count(n).map(|patience| Schedule::HalveOnPlateau { patience }).ok_or_else(|| format!("`{n}` is not a number of epochs ≥ 1")),
            ["step", n, f] => match (count(n), number(f)) {
                (Some(every), Some(factor)) => Ok(Schedule::Step { every, factor }),
                _ => Err(format!("`{text}`: expected step:EPOCHS:FACTOR, e.g. step:10:0.5")),
            },
            ["exponential", g] => number(g).map(|gamma| Schedule::Exponential { gamma }).ok_or_else(|| format!("`{g}` is not a factor > 0")),
            _ => Err(format!("`{text}`: expected constant, halve-on-plateau:N, step:N:FACTOR or exponential:GAMMA")),
        }
    }

    /// η after `epoch` (from 1) given η now, the initial η₀, and the epochs since the validation
    /// accuracy last improved (0 when it just did).
    pub fn next(
        &self,
        epoch: usize,
        eta: f64,
        eta0: f64,
        epochs_without_improvement: usize,
    ) -> Decision {
        let eta = match *self {
            Schedule::Constant => eta,
            Schedule::HalveOnPlateau { patience } => {
                if epochs_without_improvement > 0
                    && epochs_without_improvement.is_multiple_of(patience)
                {
                    eta / 2.0
                } else {
                    eta
                }
            }
            Schedule::Step { every, factor } => {
                if epoch.is_multiple_of(every) {
                    eta * factor
                } else {
                    eta
                }
            }
            Schedule::Exponential { gamma } => eta * gamma,
        };
        if matches!(self, Schedule::HalveOnPlateau { .. }) && eta < eta0 / 128.0 {
            Decision::Stop
        } else {
            Decision::Continue(eta)
        }
    }
}

/// The text [`Schedule::parse`] reads back to the same schedule.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::HalveOnPlateau { patience } => write!(f, "halve-on-plateau:{patience}"),
            Schedule::Step { every, factor } => write!(f, "step:{every}:{factor}"),
            Schedule::Exponential { gamma } => write!(f, "exponential:{gamma}"),
        }
    }
}

impl From<Schedule> for String {
    fn from(s: Schedule) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Schedule {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Schedule::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_their_rules() {
        let plateau = Schedule::parse("halve-on-plateau:2").unwrap();
        assert_eq!(plateau.next(5, 1.0, 1.0, 1), Decision::Continue(1.0));
        assert_eq!(plateau.next(5, 1.0, 1.0, 2), Decision::Continue(0.5));
        assert_eq!(plateau.next(5, 1.0 / 128.0, 1.0, 2), Decision::Stop);
        assert_eq!(
            Schedule::parse("step:10:0.5")
                .unwrap()
                .next(10, 2.0, 2.0, 0),
            Decision::Continue(1.0)
        );
        assert_eq!(
            Schedule::parse("step:10:0.5").unwrap().next(9, 2.0, 2.0, 0),
            Decision::Continue(2.0)
        );
        assert_eq!(
            Schedule::parse("exponential:0.9")
                .unwrap()
                .next(1, 2.0, 2.0, 0),
            Decision::Continue(1.8)
        );
        for text in [
            "constant",
            "halve-on-plateau:3",
            "step:10:0.5",
            "exponential:0.95",
        ] {
            assert_eq!(Schedule::parse(text).unwrap().to_string(), text);
        }
        assert!(Schedule::parse("halve-on-plateau:0").is_err());
        assert!(Schedule::parse("sometimes").is_err());
    }
}
