//! Training from Python: the CLI's improvements as keyword arguments, the GIL released while the
//! library trains, Ctrl-C and the per-epoch callback served from the Python side.

use crate::convert::{self, value_error};
use backprop::{EpochReport, Observer, Optimizer, Regularization, Rule, Schedule, TrainSettings};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The improvements `train` takes as keyword arguments, with the command line's names.
pub const IMPROVEMENTS: [&str; 14] = [
    "lambda",
    "lambda_",
    "l1",
    "optimizer",
    "momentum",
    "nesterov",
    "beta1",
    "beta2",
    "epsilon",
    "dropout",
    "schedule",
    "early_stop",
    "validation",
    "threads",
];

/// How much of the training data to hold out for validation.
#[derive(Clone, Copy, Debug)]
pub enum Validation {
    Fraction(f64),
    Count(usize),
}

/// Settings, validation split and threads from `train`'s arguments.
pub struct Parsed {
    pub settings: TrainSettings,
    pub validation: Option<Validation>,
    pub threads: usize,
}

fn get<'py, T>(kw: Option<&Bound<'py, PyDict>>, key: &str) -> PyResult<Option<T>>
where
    T: for<'a> FromPyObject<'a, 'py>,
    for<'a> <T as FromPyObject<'a, 'py>>::Error: Into<PyErr>,
{
    let Some(kw) = kw else { return Ok(None) };
    match kw.get_item(key)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            PyTypeError::new_err(format!("{key}: {e}"))
        }),
    }
}

/// Reads `epochs`, `batch_size`, `eta`, `seed` and the improvements into settings, refusing an
/// unknown keyword, as the command line refuses an unknown flag. Without `eta`, the default of
/// the rule (the lecture's 3, Adam's 0.001: `TrainSettings::default_eta`), as on the command line.
pub fn parse(
    epochs: usize,
    batch_size: usize,
    eta: Option<f64>,
    seed: u64,
    kw: Option<&Bound<'_, PyDict>>,
) -> PyResult<Parsed> {
    if let Some(kw) = kw {
        for key in kw.keys() {
            let key: String = key.extract()?;
            if !IMPROVEMENTS.contains(&key.as_str()) {
                return Err(PyTypeError::new_err(format!(
                    "train() got an unexpected keyword argument '{key}'; the improvements are {}",
                    IMPROVEMENTS.join(", ")
                )));
            }
        }
    }
    let rule_name: Option<String> = get(kw, "optimizer")?;
    let nesterov = get::<bool>(kw, "nesterov")?.unwrap_or(false);
    let momentum: Option<f64> = get(kw, "momentum")?;
    let rule = match rule_name.as_deref() {
        None if nesterov => Rule::Nesterov,
        None if momentum.is_some() => Rule::Momentum,
        None => Rule::Sgd,
        Some(name) => Rule::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                value_error(format!(
                    "unknown optimizer `{name}`; expected one of {}",
                    Rule::ALL.map(Rule::name).join(", ")
                ))
            })?,
    };
    if nesterov && rule != Rule::Nesterov {
        return Err(value_error(format!(
            "nesterov=True contradicts optimizer=\"{}\": give one of them",
            rule.name()
        )));
    }
    if momentum.is_some() && !matches!(rule, Rule::Momentum | Rule::Nesterov) {
        return Err(value_error(format!(
            "momentum applies to the optimizers momentum and nesterov, not {}",
            rule.name()
        )));
    }
    let optimizer = Optimizer::from_rule(
        rule,
        momentum.unwrap_or(Optimizer::DEFAULT_MU),
        get(kw, "beta1")?.unwrap_or(Optimizer::DEFAULT_BETA1),
        get(kw, "beta2")?.unwrap_or(Optimizer::DEFAULT_BETA2),
        get(kw, "epsilon")?.unwrap_or(Optimizer::DEFAULT_EPSILON),
    );
    let l2 = match (get::<f64>(kw, "lambda")?, get::<f64>(kw, "lambda_")?) {
        (Some(_), Some(_)) => return Err(value_error("give lambda or lambda_, not both")),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    let schedule = match get::<String>(kw, "schedule")? {
        None => Schedule::Constant,
        Some(text) => Schedule::parse(&text).map_err(|e| value_error(format!("schedule: {e}")))?,
    };
    let eta = eta.unwrap_or_else(|| TrainSettings::default_eta(&optimizer));
    let settings = TrainSettings {
        epochs,
        batch_size,
        eta,
        seed,
        optimizer,
        regularization: Regularization {
            l2,
            l1: get(kw, "l1")?.unwrap_or(0.0),
        },
        schedule,
        dropout: get(kw, "dropout")?.unwrap_or(0.0),
        early_stop: get(kw, "early_stop")?,
    };
    settings.validate().map_err(convert::error)?;
    let validation = match kw.and_then(|kw| kw.get_item("validation").ok().flatten()) {
        Some(v) if !v.is_none() => Some(if let Ok(k) = v.extract::<usize>() {
            Validation::Count(k)
        } else if let Ok(f) = v.extract::<f64>() {
            if !(f > 0.0 && f < 1.0) {
                return Err(value_error(format!(
                    "validation: a fraction must be in (0, 1), got {f}"
                )));
            }
            Validation::Fraction(f)
        } else {
            return Err(PyTypeError::new_err(
                "validation: give a fraction in (0, 1) or a number of examples",
            ));
        }),
        _ if settings.needs_validation() => Some(Validation::Fraction(
            TrainSettings::DEFAULT_VALIDATION_FRACTION,
        )),
        _ => None,
    };
    let threads = match get::<usize>(kw, "threads")? {
        None => backprop::default_threads(),
        Some(t) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            backprop::limits::check_threads(t, cores).map_err(convert::error)?;
            t
        }
    };
    Ok(Parsed {
        settings,
        validation,
        threads,
    })
}

/// Splits the validation examples off the end of the training data, as the command line does.
pub fn hold_out(
    train: backprop::Dataset,
    validation: Option<Validation>,
) -> PyResult<(backprop::Dataset, Option<backprop::Dataset>)> {
    let Some(v) = validation else {
        return Ok((train, None));
    };
    let k = match v {
        Validation::Count(k) => k,
        Validation::Fraction(f) => (f * train.len() as f64).round() as usize,
    };
    if k == 0 || k >= train.len() {
        return Err(value_error(format!(
            "validation takes {k} of the {} training examples: nothing would be left to train on, or to validate",
            train.len()
        )));
    }
    let (rest, held) = train.split_at(train.len() - k);
    Ok((rest, Some(held)))
}

/// The observer of a run from Python: stops after the mini-batch in progress when `stop` is
/// set (Ctrl-C seen by the waiting thread), and publishes the epochs completed to `progress`.
pub struct PyObserver<'a> {
    pub stop: &'a AtomicBool,
    pub progress: Option<&'a AtomicUsize>,
    /// `train`'s `callback(metrics)`, called after each epoch: its falsy value (other than None)
    /// stops training after that epoch, and so does its exception, kept in `error`.
    pub callback: Option<&'a Py<PyAny>>,
    pub error: Option<PyErr>,
}

impl Observer for PyObserver<'_> {
    fn batch_done(&mut self, _done: usize, _total: usize) -> ControlFlow<()> {
        if self.stop.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn epoch_done(&mut self, report: &EpochReport) -> ControlFlow<()> {
        if let Some(progress) = self.progress {
            progress.store(report.epoch, Ordering::SeqCst);
        }
        if self.stop.load(Ordering::Relaxed) {
            return ControlFlow::Break(()); // Ctrl-C: KeyboardInterrupt follows
        }
        match self.callback.map(|c| call_back(c, report)) {
            None | Some(Ok(ControlFlow::Continue(()))) => ControlFlow::Continue(()),
            Some(Ok(ControlFlow::Break(()))) => ControlFlow::Break(()),
            Some(Err(e)) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Calls `train`'s `callback(metrics)` for the epoch of `report`, taking the GIL: `Break` when it
/// returns a falsy value other than None (False, np.False_, 0), its exception when it raises.
pub fn call_back(callback: &Py<PyAny>, report: &EpochReport) -> PyResult<ControlFlow<()>> {
    Python::attach(|py| {
        let metrics = convert::json::<f64>(py, &report.metrics(), false)?;
        let v = callback.call1(py, (metrics,))?;
        Ok(if v.is_none(py) || v.bind(py).is_truthy()? {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        })
    })
}

/// Runs `work` on a scoped thread with the GIL released; meanwhile this thread wakes at least
/// every 50 ms to let Python handle signals (Ctrl-C raises `KeyboardInterrupt` here), and when
/// it does, sets `stop` and waits for `work` to end after its current mini-batch.
pub fn detached<R: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> R + Send,
) -> PyResult<R> {
    let mut interrupt: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|s| {
            let (done, wait) = std::sync::mpsc::channel();
            let handle = s.spawn(move || {
                let r = work();
                let _ = done.send(());
                r
            });
            loop {
                match wait.recv_timeout(std::time::Duration::from_millis(50)) {
                    Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                }
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        stop.store(true, Ordering::SeqCst);
                        interrupt = Some(e);
                    }
                }
            }
            handle.join()
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.map_err(|_| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "training stopped by an internal error (a bug: please report it)",
        )
    })
}
