//! `backprop._native`: the Python module behind `import backprop` (see `python/backprop/`).
//! It only translates: every computation, format, default and JSON shape is the library's.

mod convert;
mod data;
mod network;
mod trainer;
mod training;

use pyo3::prelude::*;

/// (X_train, y_train, X_test, y_test): the embedded 10,000 MNIST digits split 8,000 / 2,000 as the
/// command line splits them; X float32 in [0, 1] of shape (N, 784), y int64 labels.
#[pyfunction]
fn mnist_10k(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let (train, test) = backprop::mnist_10k_split().map_err(convert::error)?;
    let arrays = |d: &backprop::Dataset| -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let mut x = ndarray::Array2::<f32>::zeros((d.len(), d.n_inputs()));
        let all: Vec<usize> = (0..d.len()).collect();
        d.inputs_into(&all, x.view_mut());
        let y = ndarray::Array1::from(d.labels().iter().map(|&k| k as i64).collect::<Vec<_>>());
        Ok((
            numpy::PyArray2::from_owned_array(py, x).into_any().unbind(),
            numpy::PyArray1::from_owned_array(py, y).into_any().unbind(),
        ))
    };
    let (a, b) = arrays(&train)?;
    let (c, d) = arrays(&test)?;
    Ok((a, b, c, d).into_pyobject(py)?.into_any().unbind())
}

/// Sets how many threads training and evaluation use (results do not depend on it).
#[pyfunction]
fn set_threads(n: usize) -> PyResult<()> {
    let options = backprop::TrainOptions {
        threads: Some(n),
        ..Default::default()
    };
    options.threads().map_err(convert::error)?;
    backprop::set_threads(n);
    Ok(())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<network::Network>()?;
    m.add_class::<data::Data>()?;
    m.add_class::<trainer::Trainer>()?;
    m.add_function(wrap_pyfunction!(network::load, m)?)?;
    m.add_function(wrap_pyfunction!(network::_rebuild, m)?)?;
    m.add_function(wrap_pyfunction!(trainer::_rebuild_trainer, m)?)?;
    m.add_function(wrap_pyfunction!(mnist_10k, m)?)?;
    m.add_function(wrap_pyfunction!(set_threads, m)?)?;
    m.add(
        "ACTIVATIONS",
        backprop::Activation::ALL
            .map(backprop::Activation::name)
            .to_vec(),
    )?;
    m.add(
        "HIDDEN_ACTIVATIONS",
        backprop::Activation::HIDDEN
            .map(backprop::Activation::name)
            .to_vec(),
    )?;
    m.add(
        "COSTS",
        backprop::Cost::ALL.map(backprop::Cost::name).to_vec(),
    )?;
    m.add(
        "OPTIMIZERS",
        backprop::Rule::ALL.map(backprop::Rule::name).to_vec(),
    )?;
    m.add("DEFAULT_EPOCHS", backprop::TrainSettings::DEFAULT_EPOCHS)?;
    m.add(
        "DEFAULT_BATCH_SIZE",
        backprop::TrainSettings::DEFAULT_BATCH_SIZE,
    )?;
    m.add("DEFAULT_ETA", backprop::TrainSettings::DEFAULT_ETA)?;
    m.add(
        "DEFAULT_VALIDATION_FRACTION",
        backprop::TrainSettings::DEFAULT_VALIDATION_FRACTION,
    )?;
    m.add("DEFAULT_MOMENTUM", backprop::Optimizer::DEFAULT_MU)?;
    m.add("DEFAULT_BETA1", backprop::Optimizer::DEFAULT_BETA1)?;
    m.add("DEFAULT_BETA2", backprop::Optimizer::DEFAULT_BETA2)?;
    m.add("DEFAULT_EPSILON", backprop::Optimizer::DEFAULT_EPSILON)?;
    Ok(())
}
