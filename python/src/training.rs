//! Training from Python: the CLI's improvements as keyword arguments, the GIL released while the
//! library trains, Ctrl-C and the per-epoch callback served from the Python side.

use crate::convert::{self, value_error};
use backprop::{
    EpochReport, Observer, Rule, Schedule, Spelling, TrainOptions, TrainSettings, Validation,
};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
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
        // True is an int to Python, but never a count, a rate or a split.
        Some(v) if v.is_instance_of::<PyBool>() && key != "nesterov" => Err(PyTypeError::new_err(
            format!("{key}: expected a number, got {}", v.repr()?),
        )),
        Some(v) => v.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            if e.is_instance_of::<PyOverflowError>(v.py()) {
                value_error(format!(
                    "{key}: {} is out of range",
                    v.repr()
                        .map_or_else(|_| "the value".into(), |r| r.to_string())
                ))
            } else {
                PyTypeError::new_err(format!("{key}: {e}"))
            }
        }),
    }
}

/// A name or text option read by the library's parser (`optimizer`, `schedule`).
fn parsed<T, E: std::fmt::Display>(
    kw: Option<&Bound<'_, PyDict>>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> PyResult<Option<T>> {
    get::<String>(kw, key)?
        .map(|text| parse(&text).map_err(|e| value_error(e.to_string())))
        .transpose()
}

/// Reads `epochs`, `batch_size`, `eta`, `seed` and the improvements into the library's
/// [`TrainOptions`], refusing an unknown keyword as the command line refuses an unknown flag
/// (`function` names the call in that message); the library fills every default and makes
/// every check, as for the command line's flags.
pub fn parse(
    function: &str,
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
                    "{function}() got an unexpected keyword argument '{key}'; the improvements are {}",
                    IMPROVEMENTS.join(", ")
                )));
            }
        }
    }
    let lambda = match (get::<f64>(kw, "lambda")?, get::<f64>(kw, "lambda_")?) {
        (Some(_), Some(_)) => return Err(value_error("give lambda or lambda_, not both")),
        (a, b) => a.or(b),
    };
    let options = TrainOptions {
        epochs: Some(epochs),
        batch_size: Some(batch_size),
        eta,
        seed: Some(seed),
        optimizer: parsed(kw, "optimizer", str::parse::<Rule>)?,
        momentum: get(kw, "momentum")?,
        nesterov: get::<bool>(kw, "nesterov")?.unwrap_or(false),
        beta1: get(kw, "beta1")?,
        beta2: get(kw, "beta2")?,
        epsilon: get(kw, "epsilon")?,
        lambda,
        l1: get(kw, "l1")?,
        schedule: parsed(kw, "schedule", |t| {
            Schedule::parse(t).map_err(|e| format!("schedule: {e}"))
        })?,
        dropout: get(kw, "dropout")?,
        early_stop: get(kw, "early_stop")?,
        validation: validation(kw)?,
        threads: get(kw, "threads")?,
        processes_here: 1,
    };
    let plan = options.plan(Spelling::Keywords).map_err(convert::error)?;
    Ok(Parsed {
        settings: plan.settings,
        validation: plan.validation,
        threads: plan.threads,
    })
}

/// `validation`: a number of examples (an int) or a fraction (a float).
fn validation(kw: Option<&Bound<'_, PyDict>>) -> PyResult<Option<Validation>> {
    match kw.and_then(|kw| kw.get_item("validation").ok().flatten()) {
        Some(v) if !v.is_none() => {
            if v.is_instance_of::<PyBool>() {
                Err(PyTypeError::new_err(
                    "validation: give a fraction in (0, 1) or a number of examples, not a bool",
                ))
            } else if let Ok(k) = v.extract::<usize>() {
                Ok(Some(Validation::Count(k)))
            } else if let Ok(f) = v.extract::<f64>() {
                Ok(Some(Validation::Fraction(f)))
            } else {
                Err(PyTypeError::new_err(
                    "validation: give a fraction in (0, 1) or a number of examples",
                ))
            }
        }
        _ => Ok(None),
    }
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
