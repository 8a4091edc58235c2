//! `backprop.Data`: examples converted once, for training epoch by epoch.

use crate::convert;
use backprop::Dataset;
use pyo3::prelude::*;

/// Examples converted once for repeated training (the estimators train epoch by epoch):
/// `Data(X, y, n_outputs)` with class labels `y` (1-dimensional) or target rows (2-dimensional).
#[pyclass(module = "backprop", frozen, name = "Data")]
pub struct Data {
    pub data: Dataset,
}

#[pymethods]
impl Data {
    #[new]
    fn new(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>, n_outputs: usize) -> PyResult<Self> {
        Ok(Data {
            data: convert::dataset(x, y, n_outputs)?,
        })
    }
    fn __len__(&self) -> usize {
        self.data.len()
    }
}
