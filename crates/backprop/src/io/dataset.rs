//! `Dataset`: inputs and class labels, kept compact in memory.

use crate::error::{Error, Result};
use crate::kernel::float::Float;
use crate::lecture::network::Network;
use crate::lecture::target::{one_hot, one_hot_into};
use ndarray::{ArrayViewMut1, ArrayViewMut2};

/// The inputs of a data set, one example after another.
#[derive(Clone, Debug, PartialEq)]
enum Features {
    /// Bytes (pixels), scaled to `[0, 1]` by `1/255` when read: a quarter of the memory of `f32`.
    Bytes(Vec<u8>),
    /// Any real features.
    Floats(Vec<f32>),
}

/// Examples `(x, k)`: an input `x` of `n_inputs` values and a class label `k < n_classes`.
///
/// Labels are stored once, as class numbers; the target `y` of the lecture is the one-hot vector
/// `y_k = 1`, built where it is needed by [`Dataset::targets_into`]. Out of scope: regression
/// targets and multi-label data.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    features: Features,
    labels: Vec<usize>,
    n_inputs: usize,
    n_classes: usize,
}

impl Dataset {
    /// A data set of byte inputs (pixels), `pixels.len() == labels.len() · n_inputs`; byte `v`
    /// becomes the input `v / 255`.
    pub fn from_bytes(
        pixels: Vec<u8>,
        n_inputs: usize,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        Self::checked(Features::Bytes(pixels), n_inputs, labels, n_classes)
    }

    /// A data set of real inputs, `features.len() == labels.len() · n_inputs`.
    pub fn from_floats(
        features: Vec<f32>,
        n_inputs: usize,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        Self::checked(Features::Floats(features), n_inputs, labels, n_classes)
    }

    fn checked(
        features: Features,
        n_inputs: usize,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        let len = match &features {
            Features::Bytes(v) => v.len(),
            Features::Floats(v) => v.len(),
        };
        if n_inputs == 0 || len != labels.len() * n_inputs {
            return Err(Error::Shape(format!(
                "{} labels of {n_inputs} inputs each need {} values, got {len}",
                labels.len(),
                labels.len() * n_inputs
            )));
        }
        if let Some(bad) = labels.iter().find(|&&k| k >= n_classes) {
            return Err(Error::Shape(format!(
                "label {bad} is out of range for {n_classes} classes"
            )));
        }
        Ok(Dataset {
            features,
            labels,
            n_inputs,
            n_classes,
        })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The length of each input.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }
    /// The number of classes (labels are `0..n_classes`).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// The class labels.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Examples `0..n` and `n..len`, as two data sets (`n` is clamped to the length).
    pub fn split_at(&self, n: usize) -> (Dataset, Dataset) {
        let n = n.min(self.len());
        let cut = n * self.n_inputs;
        let part = |features, labels: &[usize]| Dataset {
            features,
            labels: labels.to_vec(),
            n_inputs: self.n_inputs,
            n_classes: self.n_classes,
        };
        let (head, tail) = match &self.features {
            Features::Bytes(v) => (
                Features::Bytes(v[..cut].to_vec()),
                Features::Bytes(v[cut..].to_vec()),
            ),
            Features::Floats(v) => (
                Features::Floats(v[..cut].to_vec()),
                Features::Floats(v[cut..].to_vec()),
            ),
        };
        (part(head, &self.labels[..n]), part(tail, &self.labels[n..]))
    }

    /// The examples at `indices`, in that order, as a new data set.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let n = self.n_inputs;
        let features = match &self.features {
            Features::Bytes(v) => Features::Bytes(
                indices
                    .iter()
                    .flat_map(|&i| v[i * n..(i + 1) * n].iter().copied())
                    .collect(),
            ),
            Features::Floats(v) => Features::Floats(
                indices
                    .iter()
                    .flat_map(|&i| v[i * n..(i + 1) * n].iter().copied())
                    .collect(),
            ),
        };
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Dataset {
            features,
            labels,
            n_inputs: n,
            n_classes: self.n_classes,
        }
    }

    /// Writes input `i` into `out` (length `n_inputs`).
    pub fn input_into<F: Float>(&self, i: usize, out: ArrayViewMut1<'_, F>) {
        self.input_with(i, out);
    }

    /// Input `i` into `out`, bytes converted by [`pixel`].
    fn input_with<F: Float>(&self, i: usize, mut out: ArrayViewMut1<'_, F>) {
        let range = i * self.n_inputs..(i + 1) * self.n_inputs;
        let fill = |out: &mut [F]| match &self.features {
            Features::Bytes(v) => out
                .iter_mut()
                .zip(&v[range.clone()])
                .for_each(|(o, &b)| *o = pixel(b)),
            Features::Floats(v) => out
                .iter_mut()
                .zip(&v[range.clone()])
                .for_each(|(o, &x)| *o = F::cast(f64::from(x))),
        };
        match out.as_slice_mut() {
            Some(contiguous) => fill(contiguous),
            None => {
                let mut row = out.to_vec();
                fill(&mut row);
                out.assign(&ndarray::ArrayView1::from(&row));
            }
        }
    }

    /// Input `i` as a vector.
    pub fn input<F: Float>(&self, i: usize) -> ndarray::Array1<F> {
        let mut x = ndarray::Array1::zeros(self.n_inputs);
        self.input_into(i, x.view_mut());
        x
    }

    /// The one-hot target `y` of example `i` (length `n_classes`).
    pub fn target<F: Float>(&self, i: usize) -> ndarray::Array1<F> {
        one_hot(self.labels[i], self.n_classes)
    }

    /// Row `r` of `out` ← input `indices[r]`: a mini-batch `X` of shape `(indices.len(), n_inputs)`.
    pub fn inputs_into<F: Float>(&self, indices: &[usize], mut out: ArrayViewMut2<'_, F>) {
        self.prefetch(indices);
        for (&i, row) in indices.iter().zip(out.rows_mut()) {
            self.input_with(i, row);
        }
    }

    /// Asks the CPU to start loading the inputs at `indices` into its cache, so that the misses
    /// of a shuffled mini-batch overlap instead of following one another (a hint; no effect on
    /// results, and none on other architectures).
    fn prefetch(&self, indices: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        if let Features::Bytes(v) = &self.features {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for &i in indices {
                let row = &v[i * self.n_inputs..(i + 1) * self.n_inputs];
                for line in row.chunks(64) {
                    // SAFETY: prefetching is a hint and never faults; the pointer is in bounds.
                    #[allow(unused_unsafe)]
                    unsafe {
                        _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
                    }
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = indices;
    }

    /// Row `r` of `out` ← the one-hot target of `indices[r]`: `Y` of shape `(indices.len(), n_classes)`.
    pub fn targets_into<F: Float>(&self, indices: &[usize], mut out: ArrayViewMut2<'_, F>) {
        for (&i, row) in indices.iter().zip(out.rows_mut()) {
            one_hot_into(self.labels[i], row);
        }
    }

    /// Refuses a data set without examples; `what` names it in the message (`the test split`).
    pub fn check_not_empty(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            return Err(Error::InvalidSetting(format!("{what} has no examples")));
        }
        Ok(())
    }

    /// Refuses a data set whose inputs do not fit the first layer of `net` or whose labels do not
    /// fit its output layer.
    pub fn check_fits<F: Float>(&self, net: &Network<F>) -> Result<()> {
        let sizes = net.sizes();
        let (n_in, n_out) = (sizes[0], net.output_size());
        if self.n_inputs != n_in {
            return Err(Error::Shape(format!(
                "the data has {} inputs per example but the first layer has {n_in} neurons",
                self.n_inputs
            )));
        }
        if let Some(k) = self.labels.iter().max().filter(|&&k| k >= n_out) {
            return Err(Error::Shape(format!(
                "label {k} is out of range for an output layer of {n_out} neurons"
            )));
        }
        Ok(())
    }
}

/// A pixel byte as an input, `v / 255` computed in `F` (one correctly rounded division, as
/// NumPy's `float32(v) / 255`). The compiler turns a row of them into vector conversions and
/// divisions; a 256-entry table lookup (one load per pixel) made 784-30-10 with m = 64 take
/// 8 ms per epoch instead of 7 on Zen 5.
#[inline(always)]
fn pixel<F: Float>(v: u8) -> F {
    F::cast(f64::from(v)) / F::cast(255.0)
}
