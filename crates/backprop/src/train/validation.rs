//! The validation split: the last examples of the training data, held out of training so that
//! early stopping and halve-on-plateau can watch the network on examples it does not learn from.
//! Every front holds it out by this one rule.
//!
//! Out of scope: a shuffled or stratified split (the last examples are taken as they come, so a
//! file sorted by class needs shuffling first) and cross-validation.

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;

/// How much of the training data to hold out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Validation {
    /// This many examples (at least 1).
    Count(usize),
    /// This fraction of them, in `(0, 1)`: `round(f · n)` examples, and at least one (a fraction
    /// asks for a split, so a small set still gets one).
    Fraction(f64),
}

impl Validation {
    /// Refuses an empty count and a fraction outside `(0, 1)`.
    pub fn check(self) -> Result<Self> {
        match self {
            Validation::Count(0) => Err(Error::InvalidSetting(
                "the validation split cannot be empty".into(),
            )),
            Validation::Fraction(f) if !(f > 0.0 && f < 1.0) => Err(Error::InvalidSetting(
                format!("a validation fraction must lie in (0, 1), got {f}"),
            )),
            v => Ok(v),
        }
    }

    /// How many of `n` training examples it takes.
    pub fn of(self, n: usize) -> usize {
        match self {
            Validation::Count(k) => k,
            Validation::Fraction(f) => ((n as f64) * f).round().max(1.0) as usize,
        }
    }
}

/// `500` (examples) or `0.1` (a fraction), checked.
impl std::str::FromStr for Validation {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        if let Ok(k) = text.parse::<usize>() {
            return Validation::Count(k).check();
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Validation::Fraction(f).check(),
            _ => Err(Error::InvalidSetting(format!(
                "`{text}` is not a validation split: give a number of examples or a fraction between 0 and 1"
            ))),
        }
    }
}

/// `(train, validation)`: the last [`Validation::of`] examples of `train` held out, or `train`
/// whole when there is no split. Refuses a split that would leave no example to train on or none
/// to validate on.
pub fn hold_out(
    train: Dataset,
    validation: Option<Validation>,
) -> Result<(Dataset, Option<Dataset>)> {
    let Some(v) = validation else {
        return Ok((train, None));
    };
    let (n, k) = (train.len(), v.check()?.of(train.len()));
    if k >= n {
        return Err(Error::InvalidSetting(format!(
            "the validation split takes {k} of the {n} training examples: nothing would be left to train on, or to validate"
        )));
    }
    let (rest, held) = train.split_at(n - k);
    Ok((rest, Some(held)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(n: usize) -> Dataset {
        Dataset::from_floats((0..n).map(|i| i as f32).collect(), 1, vec![0; n], 2).unwrap()
    }

    /// The one hold-out rule of every front: the last examples, a fraction rounded and at least
    /// one, and never all of them.
    #[test]
    fn holds_out_the_last_examples() {
        let (rest, held) = hold_out(examples(10), Some(Validation::Fraction(0.25))).unwrap();
        let held = held.unwrap();
        assert_eq!((rest.len(), held.len()), (7, 3)); // round(2.5) = 3
        assert_eq!(held.input::<f32>(0)[0], 7.0);
        let (rest, held) = hold_out(examples(4), Some(Validation::Fraction(0.1))).unwrap();
        assert_eq!((rest.len(), held.unwrap().len()), (3, 1)); // round(0.4) = 0, at least 1
        let (rest, held) = hold_out(examples(4), Some(Validation::Count(3))).unwrap();
        assert_eq!((rest.len(), held.unwrap().len()), (1, 3));
        let (rest, held) = hold_out(examples(4), None).unwrap();
        assert_eq!((rest.len(), held.is_none()), (4, true));
        for bad in [
            Validation::Count(4),
            Validation::Count(0),
            Validation::Fraction(1.0),
        ] {
            assert!(hold_out(examples(4), Some(bad)).is_err(), "{bad:?}");
        }
        let one = hold_out(examples(1), Some(Validation::Fraction(0.5)));
        assert!(one
            .unwrap_err()
            .to_string()
            .contains("nothing would be left"));
    }

    #[test]
    fn parses_counts_and_fractions() {
        assert_eq!("500".parse::<Validation>().unwrap(), Validation::Count(500));
        assert_eq!(
            "0.1".parse::<Validation>().unwrap(),
            Validation::Fraction(0.1)
        );
        for bad in ["0", "1.5", "-0.1", "nan", "inf", "ten", ""] {
            assert!(bad.parse::<Validation>().is_err(), "{bad}");
        }
    }
}
