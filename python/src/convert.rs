//! Translation between Python and the library: errors, NumPy arrays, JSON values.

use backprop::io::dataset::SharedFloats;
use backprop::{Dataset, Error, Float};
use ndarray::{Array1, Array2};
use numpy::{Element, PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{
    PyFileNotFoundError, PyFloatingPointError, PyIsADirectoryError, PyOSError, PyPermissionError,
    PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;
use std::sync::Arc;

/// A library error as the Python exception that fits it, with the library's one-line message
/// (the command-line tool prints the same one).
pub fn error(e: Error) -> PyErr {
    let message = e.to_string();
    match &e {
        Error::Io { source, .. } | Error::Write { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
            _ => PyOSError::new_err(message),
        },
        // Training that made the cost or a weight NaN or infinite.
        Error::Diverged { .. } => PyFloatingPointError::new_err(message),
        // Outputs that are not finite: the network (its weights) cannot serve this input.
        Error::NotFinite { .. } => PyValueError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// `obj` as a C-contiguous NumPy array of `T` (no copy when it already is one), or a
/// `TypeError`/`ValueError` naming `name`.
pub fn contiguous<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let py = obj.py();
    if obj.is_none() {
        return Err(PyTypeError::new_err(format!(
            "{name} is None; expected an array of numbers"
        )));
    }
    let np = py.import("numpy")?;
    let raw = np.call_method1("asarray", (obj,))?;
    let kind: String = raw.getattr("dtype")?.getattr("kind")?.extract()?;
    if !"biuf".contains(kind.as_str()) {
        return Err(PyTypeError::new_err(format!(
            "{name} must hold numbers, got an array of dtype {}",
            raw.getattr("dtype")?.str()?
        )));
    }
    let ndim: usize = raw.getattr("ndim")?.extract()?;
    if ndim == 0 {
        return Err(value_error(format!(
            "{name} must be an array, got a 0-dimensional one (a single number): shape []"
        )));
    }
    let array = np.call_method1("ascontiguousarray", (raw, T::get_dtype(py)))?;
    Ok(array.cast_into::<PyArrayDyn<T>>()?)
}

/// The shape of `a` checked to have one of the numbers of dimensions in `ndims`.
pub fn check_ndim<T: Element>(
    a: &Bound<'_, PyArrayDyn<T>>,
    name: &str,
    ndims: &[usize],
    what: &str,
) -> PyResult<Vec<usize>> {
    let shape = a.shape().to_vec();
    if !ndims.contains(&shape.len()) {
        return Err(value_error(format!(
            "{name} must be {what}, got an array of shape {shape:?}"
        )));
    }
    Ok(shape)
}

/// Refuses NaN and infinities, naming the first one.
pub fn check_finite<F: Float>(values: &[F], name: &str, row_len: usize) -> PyResult<()> {
    match values.iter().position(|v| !v.as_f64().is_finite()) {
        None => Ok(()),
        Some(i) => Err(value_error(format!(
            "{name} holds a non-finite value ({}) in row {}",
            values[i].as_f64(),
            i / row_len.max(1)
        ))),
    }
}

/// A float32 C-contiguous NumPy array, read in place by the library while training (the array is
/// kept alive by the reference held here).
struct NumpyFloats {
    _owner: Py<PyAny>,
    ptr: *const f32,
    len: usize,
}

// SAFETY: the data pointer belongs to a NumPy array kept alive by `_owner` (a counted
// reference) for as long as this value lives; it is only read. A Python thread that writes into
// the array while training runs races with the training, as with any library that releases the
// GIL over a NumPy buffer; the documentation says not to.
unsafe impl Send for NumpyFloats {}
// SAFETY: as for Send: shared reads of memory that outlives the value.
unsafe impl Sync for NumpyFloats {}

impl AsRef<[f32]> for NumpyFloats {
    fn as_ref(&self) -> &[f32] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` points at `len` initialised f32 of a C-contiguous array that `_owner`
        // keeps alive (see the Send impl).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// `X` of shape `(N, n)`, N ≥ 1, as the library's shared float inputs (no copy for a float32
/// C-contiguous array), with `N` and `n`.
pub fn inputs(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<(SharedFloats, usize, usize)> {
    let a = contiguous::<f32>(obj, name)?;
    let shape = check_ndim(&a, name, &[2], "2-dimensional (examples, inputs)")?;
    if shape[0] == 0 || shape[1] == 0 {
        return Err(value_error(format!("{name} is empty: shape {shape:?}")));
    }
    let readonly = a.try_readonly()?;
    let slice = readonly.as_slice()?;
    check_finite(slice, name, shape[1])?;
    let shared = NumpyFloats {
        ptr: slice.as_ptr(),
        len: slice.len(),
        _owner: a.clone().into_any().unbind(),
    };
    Ok((Arc::new(shared), shape[0], shape[1]))
}

/// Class labels `0..n_out` from a 1-dimensional array of whole numbers.
pub fn labels(obj: &Bound<'_, PyAny>, name: &str, n_out: usize) -> PyResult<Vec<usize>> {
    let a = contiguous::<f64>(obj, name)?;
    check_ndim(&a, name, &[1], "1-dimensional (one label per example)")?;
    let readonly = a.try_readonly()?;
    let mut labels = Vec::with_capacity(a.len());
    for &v in readonly.as_slice()? {
        if !(v.is_finite() && v.fract() == 0.0) {
            return Err(value_error(format!(
                "{name}: labels must be whole numbers from 0 to {}, got {v}",
                n_out.saturating_sub(1)
            )));
        }
        if v < 0.0 || v >= n_out as f64 {
            let shown = if v.abs() < 1e15 {
                format!("{v}")
            } else {
                format!("{v:e}")
            };
            return Err(value_error(format!(
                "label {shown} is out of range for an output layer of {n_out} neurons"
            )));
        }
        labels.push(v as usize);
    }
    Ok(labels)
}

/// `(X, y)` as a data set: `y` holds class labels (1-dimensional) or target rows
/// (2-dimensional, `(N, n_L)`).
pub fn dataset(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>, n_out: usize) -> PyResult<Dataset> {
    let (features, n, n_in) = inputs(x, "X")?;
    let ndim: usize = y
        .py()
        .import("numpy")?
        .call_method1("ndim", (y,))?
        .extract()?;
    if ndim == 2 {
        let t = contiguous::<f32>(y, "y")?;
        let shape = t.shape().to_vec();
        if shape[0] != n {
            return Err(value_error(format!(
                "X has {n} rows but y has {}",
                shape[0]
            )));
        }
        let rows = t.try_readonly()?.as_slice()?.to_vec();
        check_finite(&rows, "y", shape[1])?;
        return Dataset::from_target_rows(features, n_in, rows, shape[1]).map_err(error);
    }
    let labels = labels(y, "y", n_out)?;
    if labels.len() != n {
        return Err(value_error(format!(
            "X has {n} rows but y has {} labels",
            labels.len()
        )));
    }
    Dataset::from_shared_floats(features, n_in, labels, n_out).map_err(error)
}

/// One input `x` of length `n_1` in `F`.
pub fn vector<F: Float + Element>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Array1<F>> {
    let a = contiguous::<F>(obj, name)?;
    check_ndim(&a, name, &[1], "1-dimensional")?;
    let v = a.try_readonly()?.as_slice()?.to_vec();
    check_finite(&v, name, v.len())?;
    Ok(Array1::from(v))
}

/// A matrix in `F` of any shape (checked by the caller).
pub fn matrix<F: Float + Element>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Array2<F>> {
    let a = contiguous::<F>(obj, name)?;
    let shape = check_ndim(&a, name, &[2], "2-dimensional")?;
    let v = a.try_readonly()?.as_slice()?.to_vec();
    check_finite(&v, name, shape[1])?;
    Array2::from_shape_vec((shape[0], shape[1]), v).map_err(|e| value_error(format!("{name}: {e}")))
}

pub fn array1<'py, F: Float + Element>(py: Python<'py>, a: Array1<F>) -> Bound<'py, PyArray1<F>> {
    PyArray1::from_owned_array(py, a)
}

pub fn array2<'py, F: Float + Element>(py: Python<'py>, a: Array2<F>) -> Bound<'py, PyArray2<F>> {
    PyArray2::from_owned_array(py, a)
}

fn items<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    obj.try_iter()
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "{name} must be a list of arrays, one per layer 2..L"
            ))
        })?
        .collect()
}

/// `obj` as the matrices W^(2), ..., W^(L) in `F` (their shapes are checked by the caller).
pub fn weights_from<F: Float + Element>(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Array2<F>>> {
    items(obj, "weights")?
        .iter()
        .enumerate()
        .map(|(i, a)| matrix::<F>(a, &format!("weights[{i}] (W^({}))", i + 2)))
        .collect()
}

/// `obj` as the vectors b^(2), ..., b^(L) in `F` (their shapes are checked by the caller).
pub fn biases_from<F: Float + Element>(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Array1<F>>> {
    items(obj, "biases")?
        .iter()
        .enumerate()
        .map(|(i, a)| vector::<F>(a, &format!("biases[{i}] (b^({}))", i + 2)))
        .collect()
}

/// Epoch reports as a list of dicts, each the report's `metrics()` JSON (as `--metrics` writes).
pub fn reports<'py>(
    py: Python<'py>,
    reports: &[backprop::EpochReport],
) -> PyResult<Bound<'py, PyList>> {
    let dicts = reports
        .iter()
        .map(|r| json::<f64>(py, &r.metrics(), false))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, dicts)
}

/// A JSON value as Python objects: objects → dicts, numbers → int/float, `null` → None; a list
/// of numbers → a 1-dimensional NumPy array and a list of equal lists of numbers → a
/// 2-dimensional one, in `F` when `arrays` is set (else plain lists).
pub fn json<'py, F: Float + Element>(
    py: Python<'py>,
    v: &Value,
    arrays: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let numbers = |items: &[Value]| -> Option<Vec<F>> {
        items.iter().map(|x| x.as_f64().map(F::cast)).collect()
    };
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into_pyobject(py)?.into_any(),
            (_, Some(i)) => i.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items)
            if arrays && !items.is_empty() && !items.iter().all(|x| x.is_u64() || x.is_i64()) =>
        {
            if let Some(v) = numbers(items) {
                return Ok(array1(py, Array1::from(v)).into_any());
            }
            let rows: Option<Vec<Vec<F>>> = items
                .iter()
                .map(|r| r.as_array().and_then(|r| numbers(r)))
                .collect();
            match rows {
                Some(rows) if rows.iter().all(|r| r.len() == rows[0].len()) => {
                    let cols = rows[0].len();
                    let flat: Vec<F> = rows.into_iter().flatten().collect();
                    let m = Array2::from_shape_vec((items.len(), cols), flat)
                        .map_err(|e| value_error(e.to_string()))?;
                    array2(py, m).into_any()
                }
                _ => list::<F>(py, items, arrays)?,
            }
        }
        Value::Array(items) => list::<F>(py, items, arrays)?,
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json::<F>(py, v, arrays)?)?;
            }
            dict.into_any()
        }
    })
}

fn list<'py, F: Float + Element>(
    py: Python<'py>,
    items: &[Value],
    arrays: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let list = PyList::empty(py);
    for item in items {
        list.append(json::<F>(py, item, arrays)?)?;
    }
    Ok(list.into_any())
}
