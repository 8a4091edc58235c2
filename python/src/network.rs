//! `backprop.Network`: the lecture's network in `float32` or `float64`.

use crate::convert::{self, array1, array2, value_error};
use crate::training::{self, PyObserver};
use backprop::io::model_file;
use backprop::{
    gradient_check, Activation, Architecture, Cost, Dataset, Float, GradCheckOptions, Init,
    Network as Net, TrainSettings, Trainer as LibTrainer,
};
use ndarray::{Array1, Array2};
use numpy::{Element, PyArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The network in the float type chosen by `dtype`.
#[derive(Clone)]
pub enum Inner {
    F32(Net<f32>),
    F64(Net<f64>),
}

/// Runs `$body` with `$n` bound to the network, whatever its float type `$F`.
macro_rules! with {
    ($inner:expr, $n:ident, $F:ident => $body:expr) => {
        match $inner {
            Inner::F32($n) => {
                #[allow(dead_code)]
                type $F = f32;
                $body
            }
            Inner::F64($n) => {
                #[allow(dead_code)]
                type $F = f64;
                $body
            }
        }
    };
}

impl Inner {
    pub fn dtype(&self) -> &'static str {
        match self {
            Inner::F32(_) => "float32",
            Inner::F64(_) => "float64",
        }
    }
    pub fn architecture(&self) -> Architecture {
        with!(self, n, F => n.architecture().clone())
    }
}

pub fn check_dtype(dtype: &str) -> PyResult<()> {
    match dtype {
        "float32" | "float64" => Ok(()),
        other => Err(value_error(format!(
            "unknown dtype `{other}`; expected float32 or float64"
        ))),
    }
}

/// A fully connected network numbered as in the lecture: layers 1..L, layer 1 the input,
/// `W^(l)` of shape `(n_l, n_(l-1))` and `b^(l)` of shape `(n_l,)` for l = 2..L.
///
/// >>> net = backprop.Network([784, 30, 10])           # sigmoid, quadratic cost, float32
/// >>> net.weights[0].shape                              # W^(2)
/// (30, 784)
#[pyclass(module = "backprop", frozen, name = "Network")]
pub struct Network {
    state: RwLock<State>,
}

/// The network, and whether a `train` call is running on it: one lock holds both, so that a write
/// checks and changes them at once.
struct State {
    inner: Inner,
    training: bool,
    /// The name of the initialisation it was built with ("" when loaded from a file).
    init: &'static str,
    /// The `training` metadata of its last completed `train` (`TrainSettings::to_metadata`,
    /// as the command line writes it), saved with it; empty before any.
    metadata: std::collections::BTreeMap<String, String>,
}

impl Network {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
    /// A copy of the network: while it trains, as of the last epoch completed.
    pub fn get(&self) -> Inner {
        self.read().inner.clone()
    }
    pub fn wrap(inner: Inner) -> Network {
        Network::built(inner, "")
    }
    fn built(inner: Inner, init: &'static str) -> Network {
        Network {
            state: RwLock::new(State {
                inner,
                training: false,
                init,
                metadata: Default::default(),
            }),
        }
    }
    /// Replaces the network by `change(current)`, or refuses while it trains (`what` names the
    /// write in the message).
    fn change(&self, what: &str, change: impl FnOnce(&Inner) -> PyResult<Inner>) -> PyResult<()> {
        let mut state = self.write();
        if state.training {
            return Err(busy(what));
        }
        state.inner = change(&state.inner)?;
        Ok(())
    }
    /// Marks the network as training and returns it with the mark: refused (RuntimeError) if
    /// another `train` call is running on it. The mark goes when the [`Training`] is dropped.
    /// `settings` and `data` become its `training` metadata at once, so that a save from the
    /// callback pairs the epoch's weights with the settings that made them; a failed training
    /// puts the old metadata back with the old weights.
    fn start_training(&self, settings: &TrainSettings, data: &str) -> PyResult<Training<'_>> {
        let mut state = self.write();
        if state.training {
            return Err(PyRuntimeError::new_err(
                "this Network is already training (in another thread, or this is its own callback); one training at a time",
            ));
        }
        state.training = true;
        let metadata = settings.to_metadata(data, state.init).unwrap_or_default();
        Ok(Training {
            network: self,
            before: Some(state.inner.clone()),
            metadata_before: std::mem::replace(&mut state.metadata, metadata),
        })
    }
}

fn busy(what: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "cannot {what} of this Network while it trains (in another thread or in its callback): training would overwrite it; wait until train returns"
    ))
}

/// A `train` call under way on a network: publishes the network after each epoch; when dropped
/// without [`Training::finish`] (an error, Ctrl-C, an exception from the callback), puts back the
/// network as it was before the call. Either way the network is free to train or change again.
struct Training<'a> {
    network: &'a Network,
    before: Option<Inner>,
    /// The `training` metadata before this call, put back with `before` if it fails.
    metadata_before: std::collections::BTreeMap<String, String>,
}

impl Training<'_> {
    /// The network at the start of training.
    fn start(&self) -> Inner {
        self.before.clone().unwrap_or_else(|| self.network.get())
    }
    /// Shows `inner` (the network after an epoch) to readers: the callback, other threads.
    fn publish(&self, inner: Inner) {
        self.network.write().inner = inner;
    }
    /// Training succeeded: `inner` is the network now.
    fn finish(mut self, inner: Inner) {
        self.before = None;
        let mut state = self.network.write();
        state.inner = inner;
        state.training = false;
    }
}

impl Drop for Training<'_> {
    fn drop(&mut self) {
        let mut state = self.network.write();
        if let Some(before) = self.before.take() {
            state.inner = before;
            state.metadata = std::mem::take(&mut self.metadata_before);
        }
        state.training = false;
    }
}

/// The float types of a Python network: `f32` and `f64`.
pub trait NetFloat: Float + Element {
    fn wrap(net: Net<Self>) -> Inner;
    /// The network of `inner` if it is in this type.
    fn unwrap(inner: &Inner) -> Option<&Net<Self>>;
    /// [`NetFloat::unwrap`] for a network known to be in this type (a network's dtype never
    /// changes): a RuntimeError, not a panic, if it is not.
    fn of(inner: &Inner) -> PyResult<&Net<Self>> {
        Self::unwrap(inner).ok_or_else(|| {
            PyRuntimeError::new_err("the network changed its dtype (a bug: please report it)")
        })
    }
}
impl NetFloat for f32 {
    fn wrap(net: Net<f32>) -> Inner {
        Inner::F32(net)
    }
    fn unwrap(inner: &Inner) -> Option<&Net<f32>> {
        match inner {
            Inner::F32(n) => Some(n),
            Inner::F64(_) => None,
        }
    }
}
impl NetFloat for f64 {
    fn wrap(net: Net<f64>) -> Inner {
        Inner::F64(net)
    }
    fn unwrap(inner: &Inner) -> Option<&Net<f64>> {
        match inner {
            Inner::F64(n) => Some(n),
            Inner::F32(_) => None,
        }
    }
}

fn weights_of<'py, F: Float + Element>(
    py: Python<'py>,
    net: &Net<F>,
) -> PyResult<Bound<'py, PyList>> {
    PyList::new(
        py,
        (2..=net.num_layers()).map(|l| array2(py, net.weights(l).clone())),
    )
}

fn biases_of<'py, F: Float + Element>(
    py: Python<'py>,
    net: &Net<F>,
) -> PyResult<Bound<'py, PyList>> {
    PyList::new(
        py,
        (2..=net.num_layers()).map(|l| array1(py, net.biases(l).clone())),
    )
}

/// The network with `w` (or `b`) in place of its weights (biases), shapes checked.
fn replaced<F: Float>(
    net: &Net<F>,
    w: Option<Vec<Array2<F>>>,
    b: Option<Vec<Array1<F>>>,
) -> PyResult<Net<F>> {
    let w = w.unwrap_or_else(|| net.all_weights().values().to_vec());
    let b = b.unwrap_or_else(|| net.all_biases().values().to_vec());
    Net::from_parameters(net.architecture().clone(), w, b).map_err(convert::error)
}

/// A label (an integer) or a target vector `y` of length `n_L` in `F`.
fn target<F: Float + Element>(y: &Bound<'_, PyAny>, n_out: usize) -> PyResult<Array1<F>> {
    let ndim: usize = y
        .py()
        .import("numpy")?
        .call_method1("ndim", (y,))?
        .extract()?;
    if ndim == 0 {
        let label = convert::labels(
            &y.py().import("numpy")?.call_method1("atleast_1d", (y,))?,
            "y",
            n_out,
        )?[0];
        let mut t = Array1::zeros(n_out);
        t[label] = F::one();
        return Ok(t);
    }
    let t = convert::vector::<F>(y, "y")?;
    if t.len() != n_out {
        return Err(value_error(format!(
            "the target has {} values but the output layer has {n_out} neurons",
            t.len()
        )));
    }
    Ok(t)
}

/// Trains `net` (a copy of the network under `training`) and returns it with the reports. After
/// each epoch the network is published to `training` and then `callback` is called, so that the
/// callback (and any other thread) sees the network of the epoch it is told about.
fn train_inner<F: NetFloat>(
    py: Python<'_>,
    training: &Training<'_>,
    net: Net<F>,
    (train, test): (Dataset, Option<Dataset>),
    parsed: training::Parsed,
    callback: Option<Py<PyAny>>,
) -> PyResult<(Net<F>, Vec<backprop::EpochReport>)> {
    let (train, validation) =
        backprop::hold_out(train, parsed.validation).map_err(convert::error)?;
    let mut trainer = LibTrainer::new(net, parsed.settings).map_err(convert::error)?;
    let stop = AtomicBool::new(false);
    let mut observer = PyObserver {
        stop: &stop,
        progress: None,
        callback: callback.as_ref(),
        error: None,
    };
    // The library calls this after each epoch, before the observer (so the callback sees the
    // network of its epoch), and when interrupted inside an epoch (nothing to publish then).
    let mut publish = |t: &LibTrainer<F>| -> backprop::Result<()> {
        if t.batch == 0 {
            training.publish(F::wrap(t.network.clone()));
        }
        Ok(())
    };
    backprop::set_threads(parsed.threads);
    let outcome = training::detached(py, &stop, || {
        trainer.run_saving(
            &train,
            validation.as_ref(),
            test.as_ref(),
            &mut observer,
            &mut publish,
        )
    })?; // Ctrl-C returns here as KeyboardInterrupt
    if let Some(e) = observer.error {
        return Err(e);
    }
    // The callback's False ends training as `Outcome::Interrupted` after its epoch.
    outcome.map_err(convert::error)?;
    Ok((trainer.network, trainer.reports))
}

#[pymethods]
impl Network {
    /// Network(sizes, activation="sigmoid", output_activation=None, cost="quadratic",
    /// init="standard", seed=0, dtype="float32")
    ///
    /// `sizes` = [n_1, ..., n_L], input first. `activation` is σ of the hidden layers,
    /// `output_activation` σ of layer L (default: the same as `activation`; softmax only
    /// there). `init` is "standard" (N(0, 1)), "scaled" (N(0, 1/n_in)) or "glorot"
    /// (scikit-learn's: weights and biases from U(±√(6/(n_in + n_out))), √(2/…) for sigmoid).
    #[new]
    #[pyo3(signature = (sizes, activation="sigmoid", output_activation=None, cost="quadratic", init="standard", seed=0, dtype="float32"))]
    fn new(
        sizes: Vec<usize>,
        activation: &str,
        output_activation: Option<&str>,
        cost: &str,
        init: &str,
        seed: u64,
        dtype: &str,
    ) -> PyResult<Self> {
        check_dtype(dtype)?;
        let named = |e: backprop::Error| value_error(e.to_string());
        let hidden: Activation = activation.parse().map_err(named)?;
        let output: Activation = output_activation
            .unwrap_or(activation)
            .parse()
            .map_err(named)?;
        let init: Init = init.parse().map_err(named)?;
        let builder = Net::builder(&sizes)
            .hidden(hidden)
            .output(output)
            .cost(cost.parse::<Cost>().map_err(named)?)
            .init(init)
            .seed(seed);
        let inner = if dtype == "float64" {
            Inner::F64(builder.build().map_err(convert::error)?)
        } else {
            Inner::F32(builder.build().map_err(convert::error)?)
        };
        Ok(Network::built(inner, init.name()))
    }

    /// [n_1, ..., n_L].
    #[getter]
    fn sizes(&self) -> Vec<usize> {
        self.get().architecture().sizes
    }
    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        self.get().dtype()
    }
    /// σ of the hidden layers.
    #[getter]
    fn activation(&self) -> &'static str {
        self.get().architecture().hidden.name()
    }
    /// σ of the output layer.
    #[getter]
    fn output_activation(&self) -> &'static str {
        self.get().architecture().output.name()
    }
    /// The cost C.
    #[getter]
    fn cost(&self) -> &'static str {
        self.get().architecture().cost.name()
    }

    /// [W^(2), ..., W^(L)], W^(l) of shape (n_l, n_(l-1)) (copies; assign a list to change them).
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        with!(&self.get(), n, F => weights_of(py, n))
    }
    #[setter]
    fn set_weights(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let what = "set the weights";
        if self.read().training {
            return Err(busy(what));
        }
        with!(&self.get(), _n, F => {
            let w = convert::weights_from::<F>(value)?;
            self.change(what, |inner| Ok(F::wrap(replaced(F::of(inner)?, Some(w), None)?)))
        })
    }
    /// [b^(2), ..., b^(L)], b^(l) of shape (n_l,) (copies; assign a list to change them).
    #[getter]
    fn biases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        with!(&self.get(), n, F => biases_of(py, n))
    }
    #[setter]
    fn set_biases(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let what = "set the biases";
        if self.read().training {
            return Err(busy(what));
        }
        with!(&self.get(), _n, F => {
            let b = convert::biases_from::<F>(value)?;
            self.change(what, |inner| Ok(F::wrap(replaced(F::of(inner)?, None, Some(b))?)))
        })
    }

    /// a^(L) for one input x of shape (n_1,), or for each row of a batch of shape (N, n_1).
    /// ValueError, naming the row and the layer l whose a^(l) first overflowed, when an output
    /// is NaN or infinite (weights too large for the input): such an output is no class.
    fn feedforward<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.get();
        with!(&inner, net, F => {
            let a = convert::contiguous::<F>(x, "x")?;
            let shape = convert::check_ndim(&a, "x", &[1, 2], "one input (n_1,) or a batch (N, n_1)")?;
            let n_in = net.sizes()[0];
            let cols = *shape.last().unwrap_or(&0);
            if cols != n_in {
                return Err(value_error(format!(
                    "the input has {cols} values but the first layer has {n_in} neurons"
                )));
            }
            let values = a.try_readonly()?.as_slice()?.to_vec();
            convert::check_finite(&values, "x", n_in)?;
            let rows = if shape.len() == 1 { 1 } else { shape[0] };
            let x = Array2::from_shape_vec((rows, n_in), values).map_err(|e| value_error(e.to_string()))?;
            let out = py.detach(|| net.feedforward_batch(x.view())).map_err(|e| match e {
                // One input: no example number to name.
                backprop::Error::NotFinite { layer, .. } if shape.len() == 1 => {
                    backprop::Error::NotFinite { layer, example: None }
                }
                e => e,
            });
            let out = out.map_err(convert::error)?;
            if shape.len() == 1 {
                Ok(array1(py, out.row(0).to_owned()).into_any())
            } else {
                Ok(array2(py, out).into_any())
            }
        })
    }

    /// (nabla_b, nabla_w): the gradient of C_(x,y) for one example, lists for l = 2..L, as
    /// Nielsen's `network.py` returns them. `y` is a label or a target vector of length n_L.
    fn backprop<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        with!(&self.get(), net, F => {
            let x = convert::vector::<F>(x, "x")?;
            let y = target::<F>(y, net.output_size())?;
            let g = net.backprop(x.view(), y.view()).map_err(convert::error)?;
            let nabla_b = PyList::new(py, g.nabla_b.values().iter().map(|b| array1(py, b.clone())))?;
            let nabla_w = PyList::new(py, g.nabla_w.values().iter().map(|w| array2(py, w.clone())))?;
            PyTuple::new(py, [nabla_b.into_any(), nabla_w.into_any()])
        })
    }

    /// The five steps of the lecture on one example, as `backprop trace --json` shows them: a dict
    /// with `cost`, `label` (None for a target that is not one-hot), `target`, `sizes`,
    /// `activation`, `output_activation`, `cost_function` and `layers`: [{"l": 1, "a"},
    /// {"l": 2, "z", "a", "delta", "nabla_b", "nabla_w"}, ...] (the last also `dc_da`), every
    /// vector and matrix a NumPy array of the network's dtype.
    fn trace<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with!(&self.get(), net, F => {
            let x = convert::vector::<F>(x, "x")?;
            let y = target::<F>(y, net.output_size())?;
            let trace = net.trace(x.view(), y.view()).map_err(convert::error)?;
            let value = backprop::json::trace(net, &trace, backprop::json::one_hot_label(&y));
            convert::json::<F>(py, &value, true)
        })
    }

    /// Trains by mini-batch SGD (or the chosen optimizer) and returns one dict per epoch with the
    /// keys of `backprop train --metrics`. `y` holds labels 0..n_L-1 (or target rows of shape
    /// (N, n_L)); `test` is an optional (X_test, y_test). `callback(metrics)` is called after
    /// each epoch; returning False stops training. `eta` defaults to the rule's: 3 (the
    /// lecture's) for SGD and momentum, 0.001 for optimizer="adam". Improvements, as on the
    /// command line:
    /// lambda (L2; also lambda_), l1, optimizer ("sgd", "momentum", "nesterov", "adam"),
    /// momentum, nesterov, beta1, beta2, epsilon, dropout, schedule ("step:10:0.5", ...),
    /// early_stop (patience), validation (fraction or count), threads.
    /// The GIL is released while training. After each epoch the network shows that epoch's
    /// weights (to `callback`, which may read or `save` it, and to other threads) before the
    /// callback is called. While it trains, a second `train` of the same network and writes to
    /// `weights`/`biases` raise RuntimeError (from another thread or from the callback).
    /// Ctrl-C raises KeyboardInterrupt after the mini-batch in progress; it, an error (a
    /// diverged training is FloatingPointError) or the callback's exception leave the network
    /// as it was before the call.
    #[pyo3(signature = (x, y, epochs=TrainSettings::DEFAULT_EPOCHS, batch_size=TrainSettings::DEFAULT_BATCH_SIZE, eta=None, seed=0, test=None, callback=None, **improvements))]
    #[allow(clippy::too_many_arguments)]
    fn train<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        epochs: usize,
        batch_size: usize,
        eta: Option<f64>,
        seed: u64,
        test: Option<&Bound<'py, PyAny>>,
        callback: Option<Py<PyAny>>,
        improvements: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let parsed = training::parse("train", epochs, batch_size, eta, seed, improvements)?;
        let n_out = self.get().architecture().sizes.last().copied().unwrap_or(0);
        let data = convert::dataset(x, y, n_out)?;
        let described = format!("arrays from Python: {} examples", data.len());
        let training = self.start_training(&parsed.settings, &described)?;
        let inner = training.start();
        let test = match test {
            None => None,
            Some(t) => {
                let (tx, ty): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
                    t.extract().map_err(|_| {
                        pyo3::exceptions::PyTypeError::new_err(
                            "test must be a tuple (X_test, y_test)",
                        )
                    })?;
                Some(convert::dataset(&tx, &ty, n_out)?)
            }
        };
        let (trained, reports) = with!(inner, net, F => {
            let (n, r) = train_inner(py, &training, net, (data, test), parsed, callback)?;
            (F::wrap(n), r)
        });
        training.finish(trained);
        convert::reports(py, &reports)
    }

    /// {"correct", "total", "accuracy", "cost", "confusion"} on (X, y), as `backprop evaluate --json`.
    /// ValueError, as `feedforward`, when an output is NaN or infinite.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.get();
        let n_out = inner.architecture().sizes.last().copied().unwrap_or(0);
        let data = convert::dataset(x, y, n_out)?;
        let value = with!(&inner, net, F => {
            data.check_fits(net).map_err(convert::error)?;
            py.detach(|| net.evaluate(&data).map(|e| backprop::json::evaluation(&e)))
                .map_err(convert::error)?
        });
        convert::json::<f64>(py, &value, false)
    }

    /// Saves the network as a safetensors model file (float32, as the command line writes them).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        let (inner, metadata) = {
            let state = self.read();
            (state.inner.clone(), state.metadata.clone())
        };
        with!(&inner, net, F => model_file::save(net, &path, &metadata).map_err(convert::error))
    }

    /// Back-propagation against finite differences of the mean cost over (X, y), in float64:
    /// {"max_relative_error", "layers": [{"l", "weights": stats, "biases": stats}, ...]}.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (x, y, step=None, floor=None, max_per_layer=None, seed=0))]
    fn gradient_check<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        step: Option<f64>,
        floor: Option<f64>,
        max_per_layer: Option<usize>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let net: Net<f64> = with!(&self.get(), n, F => n.cast::<f64>());
        let xs = convert::matrix::<f64>(x, "X")?;
        let n_out = net.output_size();
        let ndim: usize = py.import("numpy")?.call_method1("ndim", (y,))?.extract()?;
        let ys = if ndim == 2 {
            convert::matrix::<f64>(y, "y")?
        } else {
            let labels = convert::labels(y, "y", n_out)?;
            let mut ys = Array2::zeros((labels.len(), n_out));
            labels
                .iter()
                .enumerate()
                .for_each(|(i, &k)| ys[[i, k]] = 1.0);
            ys
        };
        let defaults = GradCheckOptions::default();
        let options = GradCheckOptions {
            step: step.unwrap_or(defaults.step),
            floor: floor.unwrap_or(defaults.floor),
            max_per_layer,
            seed,
            ..defaults
        };
        if !(options.step.is_finite()
            && options.step > 0.0
            && options.floor.is_finite()
            && options.floor > 0.0)
        {
            return Err(value_error("step and floor must be finite numbers > 0"));
        }
        let check = py
            .detach(|| gradient_check(&net, xs.view(), ys.view(), &options))
            .map_err(convert::error)?;
        let value = serde_json::json!({
            "max_relative_error": check.max_relative_error(),
            "layers": backprop::json::grad_check_layers(&check),
        });
        convert::json::<f64>(py, &value, false)
    }

    /// The same network in another dtype ("float32" or "float64").
    fn astype(&self, dtype: &str) -> PyResult<Network> {
        check_dtype(dtype)?;
        let inner = self.get();
        let cast = with!(&inner, n, F => if dtype == "float64" { Inner::F64(n.cast()) } else { Inner::F32(n.cast()) });
        Ok(Network::wrap(cast))
    }

    fn __repr__(&self) -> String {
        let inner = self.get();
        format!("Network({}, {})", inner.architecture(), inner.dtype())
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let inner = self.get();
        let arch = inner.architecture();
        let (w, b) = with!(&inner, n, F => (weights_of(py, n)?, biases_of(py, n)?));
        let rebuild = py.import("backprop._native")?.getattr("_rebuild")?;
        let args = (
            arch.sizes.clone(),
            arch.hidden.name(),
            arch.output.name(),
            arch.cost.name(),
            inner.dtype(),
            w,
            b,
        );
        PyTuple::new(py, [rebuild, args.into_pyobject(py)?.into_any()])
    }
}

impl From<Net<f32>> for Inner {
    fn from(n: Net<f32>) -> Self {
        Inner::F32(n)
    }
}
impl From<Net<f64>> for Inner {
    fn from(n: Net<f64>) -> Self {
        Inner::F64(n)
    }
}

/// Rebuilds a pickled network.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn _rebuild(
    sizes: Vec<usize>,
    activation: &str,
    output_activation: &str,
    cost: &str,
    dtype: &str,
    weights: &Bound<'_, PyAny>,
    biases: &Bound<'_, PyAny>,
) -> PyResult<Network> {
    let net = Network::new(
        sizes,
        activation,
        Some(output_activation),
        cost,
        "standard",
        0,
        dtype,
    )?;
    let inner = with!(&net.get(), n, F => {
        F::wrap(replaced(n, Some(convert::weights_from::<F>(weights)?), Some(convert::biases_from::<F>(biases)?))?)
    });
    Ok(Network::wrap(inner))
}

/// Loads a safetensors model file written by `Network.save` or the command line.
#[pyfunction]
#[pyo3(signature = (path, dtype="float32"))]
pub fn load(path: PathBuf, dtype: &str) -> PyResult<Network> {
    check_dtype(dtype)?;
    let model = model_file::load(&path).map_err(convert::error)?;
    Ok(Network::wrap(if dtype == "float64" {
        Inner::F64(model.network.cast())
    } else {
        Inner::F32(model.network)
    }))
}
