//! `backprop.Trainer`: training kept between calls, for the estimators' epoch-by-epoch fits.

use crate::convert::{self, array1, array2, value_error};
use crate::data::Data;
use crate::network::{Inner, NetFloat, Network};
use crate::training::{self, PyObserver};
use backprop::{Dataset, Float, Outcome, TrainSettings, Trainer as LibTrainer};
use ndarray::{Array1, Array2};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The library's trainer in the network's float type.
enum Trainers {
    F32(LibTrainer<f32>),
    F64(LibTrainer<f64>),
}

/// Training in progress, kept between calls so that momentum and Adam keep their memory:
/// `Trainer(network, batch_size, eta, seed, **improvements)` takes the same improvements as
/// `Network.train`; `run(data, epochs=1)` trains that many more epochs and returns their reports.
#[pyclass(module = "backprop", frozen, name = "Trainer")]
pub struct Trainer {
    inner: std::sync::Mutex<Trainers>,
    threads: usize,
    /// Epochs completed, published after each epoch so that other threads see `run`'s progress.
    epoch: AtomicUsize,
    /// `batch_size`, `eta`, `seed` and a copy of the improvements: the settings, for pickling.
    args: (usize, f64, u64, Py<PyDict>),
}

fn run_more<F: Float>(
    py: Python<'_>,
    trainer: &mut LibTrainer<F>,
    data: &Dataset,
    epochs: usize,
    threads: usize,
    progress: &AtomicUsize,
) -> PyResult<Vec<backprop::EpochReport>> {
    data.check_fits(&trainer.network).map_err(convert::error)?;
    let before = trainer.reports.len();
    trainer.settings.epochs = trainer.epoch + epochs;
    let saved = trainer.clone();
    let stop = AtomicBool::new(false);
    let mut observer = PyObserver {
        stop: &stop,
        progress: Some(progress),
        callback: None,
        error: None,
    };
    backprop::set_threads(threads);
    let outcome = training::detached(py, &stop, || trainer.run(data, None, None, &mut observer));
    let failed = match outcome {
        Ok(Ok(Outcome::Interrupted)) => Some(PyKeyboardInterrupt::new_err("training interrupted")),
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(convert::error(e)),
        Err(e) => Some(e),
    };
    if let Some(e) = failed {
        *trainer = saved;
        progress.store(trainer.epoch, Ordering::SeqCst);
        return Err(e);
    }
    progress.store(trainer.epoch, Ordering::SeqCst);
    Ok(trainer.reports[before..].to_vec())
}

/// The version of the state `Trainer.__reduce__` writes.
const TRAINER_STATE_VERSION: u32 = 1;

/// Where a trainer stands, as Python objects for pickling: everything `run` continues from
/// (optimizer moments and step count, epoch, η) besides the network and the settings.
fn trainer_state<'py, F: NetFloat>(
    py: Python<'py>,
    t: &LibTrainer<F>,
) -> PyResult<Bound<'py, PyDict>> {
    let st = &t.optimizer_state;
    let matrices = |m: &backprop::Layers<Array2<F>>| {
        PyList::new(py, m.values().iter().map(|a| array2(py, a.clone())))
    };
    let vectors = |v: &backprop::Layers<Array1<F>>| {
        PyList::new(py, v.values().iter().map(|a| array1(py, a.clone())))
    };
    let d = PyDict::new(py);
    d.set_item("version", TRAINER_STATE_VERSION)?;
    d.set_item("epoch", t.epoch)?;
    d.set_item("eta", t.eta)?;
    d.set_item("epochs_without_improvement", t.epochs_without_improvement)?;
    d.set_item("step", st.step)?;
    d.set_item("first_w", matrices(&st.first_w)?)?;
    d.set_item("first_b", vectors(&st.first_b)?)?;
    d.set_item("second_w", matrices(&st.second_w)?)?;
    d.set_item("second_b", vectors(&st.second_b)?)?;
    Ok(d)
}

/// Puts back into `t` (a new trainer of the pickled network and settings) the state that
/// [`trainer_state`] wrote, checking every shape: a damaged pickle is a ValueError.
fn restore_trainer<F: NetFloat>(t: &mut LibTrainer<F>, state: &Bound<'_, PyDict>) -> PyResult<()> {
    let bad = |what: String| value_error(format!("a pickled backprop Trainer: {what}"));
    let item = |key: &str| {
        state
            .get_item(key)?
            .ok_or_else(|| bad(format!("its state has no `{key}`")))
    };
    let version: u32 = item("version")?.extract()?;
    if version != TRAINER_STATE_VERSION {
        return Err(bad(format!(
            "state version {version}, but this backprop reads version {TRAINER_STATE_VERSION}"
        )));
    }
    let sizes = t.network.sizes().to_vec();
    let layers = |w: &[Array2<F>], b: &[Array1<F>], what: &str| -> PyResult<()> {
        let fits = w.len() + 1 == sizes.len()
            && b.len() + 1 == sizes.len()
            && (1..sizes.len())
                .all(|i| w[i - 1].dim() == (sizes[i], sizes[i - 1]) && b[i - 1].len() == sizes[i]);
        if fits {
            Ok(())
        } else {
            Err(bad(format!(
                "its {what} do not fit a network of sizes {sizes:?}"
            )))
        }
    };
    let first_w = convert::weights_from::<F>(&item("first_w")?)?;
    let first_b = convert::biases_from::<F>(&item("first_b")?)?;
    layers(&first_w, &first_b, "first moments (velocities)")?;
    let second_w = convert::weights_from::<F>(&item("second_w")?)?;
    let second_b = convert::biases_from::<F>(&item("second_b")?)?;
    if matches!(t.settings.optimizer, backprop::Optimizer::Adam { .. }) {
        layers(&second_w, &second_b, "second moments")?;
    } else if !(second_w.is_empty() && second_b.is_empty()) {
        return Err(bad(format!(
            "it holds second moments, which only Adam keeps, but its optimizer is {}",
            t.settings.optimizer.rule().name()
        )));
    }
    let eta: f64 = item("eta")?.extract()?;
    if !(eta.is_finite() && eta >= 0.0) {
        return Err(bad(format!(
            "its learning rate {eta} is not a finite number >= 0"
        )));
    }
    let st = &mut t.optimizer_state;
    st.first_w = backprop::Layers::from_vec(first_w);
    st.first_b = backprop::Layers::from_vec(first_b);
    st.second_w = backprop::Layers::from_vec(second_w);
    st.second_b = backprop::Layers::from_vec(second_b);
    st.step = item("step")?.extract()?;
    t.epoch = item("epoch")?.extract()?;
    t.eta = eta;
    t.epochs_without_improvement = item("epochs_without_improvement")?.extract()?;
    Ok(())
}

impl Trainer {
    fn lock(&self, what: &str) -> PyResult<std::sync::MutexGuard<'_, Trainers>> {
        self.inner.try_lock().map_err(|e| match e {
            std::sync::TryLockError::WouldBlock => PyRuntimeError::new_err(format!(
                "cannot {what}: this Trainer is training in another thread"
            )),
            std::sync::TryLockError::Poisoned(_) => PyRuntimeError::new_err(
                "this Trainer stopped in an internal error (a bug: please report it)",
            ),
        })
    }
}

#[pymethods]
impl Trainer {
    #[new]
    #[pyo3(signature = (network, batch_size=TrainSettings::DEFAULT_BATCH_SIZE, eta=None, seed=0, **improvements))]
    fn new(
        py: Python<'_>,
        network: &Network,
        batch_size: usize,
        eta: Option<f64>,
        seed: u64,
        improvements: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let parsed = training::parse("Trainer", 1, batch_size, eta, seed, improvements)?;
        let eta = parsed.settings.eta; // the rule's default when not given
        if parsed.validation.is_some() {
            return Err(value_error(
                "a Trainer runs without a validation split: no early_stop, halve-on-plateau or validation",
            ));
        }
        let pair = match network.get() {
            Inner::F32(n) => {
                Trainers::F32(LibTrainer::new(n, parsed.settings).map_err(convert::error)?)
            }
            Inner::F64(n) => {
                Trainers::F64(LibTrainer::new(n, parsed.settings).map_err(convert::error)?)
            }
        };
        let improvements = match improvements {
            Some(kw) => kw.copy()?,
            None => PyDict::new(py),
        };
        Ok(Trainer {
            inner: std::sync::Mutex::new(pair),
            threads: parsed.threads,
            epoch: AtomicUsize::new(0),
            args: (batch_size, eta, seed, improvements.unbind()),
        })
    }

    /// Trains `epochs` more epochs on `data` (a `Data`); returns their reports. On an error or
    /// Ctrl-C the trainer is left as it was before the call. One `run` at a time: another
    /// thread's call while it trains raises RuntimeError.
    #[pyo3(signature = (data, epochs=1))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        data: &Data,
        epochs: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        if epochs == 0 {
            return Err(value_error("the number of epochs must be at least 1"));
        }
        let mut guard = self.inner.try_lock().map_err(|_| {
            PyRuntimeError::new_err("this Trainer is already training in another thread")
        })?;
        let (d, e, threads, progress) = (&data.data, epochs, self.threads, &self.epoch);
        let reports = match &mut *guard {
            Trainers::F32(t) => run_more(py, t, d, e, threads, progress)?,
            Trainers::F64(t) => run_more(py, t, d, e, threads, progress)?,
        };
        convert::reports(py, &reports)
    }

    /// A copy of the network as trained so far (RuntimeError while `run` trains in another thread).
    #[getter]
    fn network(&self) -> PyResult<Network> {
        let guard = self.lock("read its network")?;
        Ok(Network::wrap(match &*guard {
            Trainers::F32(t) => Inner::F32(t.network.clone()),
            Trainers::F64(t) => Inner::F64(t.network.clone()),
        }))
    }

    /// Epochs completed; while `run` trains in another thread, those completed so far.
    #[getter]
    fn epoch(&self) -> usize {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Pickles the network, the settings and the optimizer's memory (Adam's moments, momentum's
    /// velocities, the step count), so that `run` continues after unpickling exactly as without
    /// the round trip. The reports of past epochs are not kept.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let guard = self.lock("pickle it")?;
        let (network, state) = match &*guard {
            Trainers::F32(t) => (Inner::F32(t.network.clone()), trainer_state(py, t)?),
            Trainers::F64(t) => (Inner::F64(t.network.clone()), trainer_state(py, t)?),
        };
        let (batch_size, eta, seed, improvements) = &self.args;
        let rebuild = py.import("backprop._native")?.getattr("_rebuild_trainer")?;
        let args = (
            Network::wrap(network),
            *batch_size,
            *eta,
            *seed,
            improvements.bind(py).copy()?,
            state,
        );
        PyTuple::new(py, [rebuild, args.into_pyobject(py)?.into_any()])
    }
}

/// Rebuilds a pickled `Trainer`.
#[pyfunction]
pub fn _rebuild_trainer(
    py: Python<'_>,
    network: &Network,
    batch_size: usize,
    eta: f64,
    seed: u64,
    improvements: &Bound<'_, PyDict>,
    state: &Bound<'_, PyDict>,
) -> PyResult<Trainer> {
    let trainer = Trainer::new(py, network, batch_size, Some(eta), seed, Some(improvements))?;
    {
        let mut guard = trainer.lock("restore it")?;
        match &mut *guard {
            Trainers::F32(t) => restore_trainer(t, state)?,
            Trainers::F64(t) => restore_trainer(t, state)?,
        }
        let epoch = match &*guard {
            Trainers::F32(t) => t.epoch,
            Trainers::F64(t) => t.epoch,
        };
        trainer.epoch.store(epoch, Ordering::SeqCst);
    }
    Ok(trainer)
}
