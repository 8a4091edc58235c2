//! `Dataset`: inputs and class labels (or real target rows), kept compact in memory.

use crate::error::{Error, Result};
use crate::io::checksum;
use crate::kernel::float::Float;
use crate::kernel::wide;
use crate::lecture::network::Network;
use crate::lecture::target::one_hot_into;
use ndarray::{ArrayViewMut1, ArrayViewMut2};
use std::sync::Arc;

/// Real inputs owned by someone else (a NumPy array, a memory map), read in place without a copy.
pub type SharedFloats = Arc<dyn AsRef<[f32]> + Send + Sync>;

/// The inputs of a data set, one example after another.
#[derive(Clone)]
enum Features {
    /// Bytes (pixels), scaled to `[0, 1]` by `1/255` when read: a quarter of the memory of `f32`.
    Bytes(Vec<u8>),
    /// Any real features.
    Floats(Vec<f32>),
    /// Real features owned elsewhere.
    Shared(SharedFloats),
}

impl Features {
    fn floats(&self) -> Option<&[f32]> {
        match self {
            Features::Bytes(_) => None,
            Features::Floats(v) => Some(v),
            Features::Shared(v) => Some((**v).as_ref()),
        }
    }
    fn len(&self) -> usize {
        match self {
            Features::Bytes(v) => v.len(),
            other => other.floats().map_or(0, <[f32]>::len),
        }
    }
    /// The values `range`, copied into owned storage of the same kind.
    fn slice(&self, range: std::ops::Range<usize>) -> Features {
        match self {
            Features::Bytes(v) => Features::Bytes(v[range].to_vec()),
            other => Features::Floats(
                other
                    .floats()
                    .map(|v| v[range].to_vec())
                    .unwrap_or_default(),
            ),
        }
    }
}

impl std::fmt::Debug for Features {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Features::Bytes(v) => write!(f, "Bytes({} values)", v.len()),
            other => write!(f, "Floats({} values)", other.len()),
        }
    }
}

impl PartialEq for Features {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Features::Bytes(a), Features::Bytes(b)) => a == b,
            (a, b) => a.floats().is_some() && a.floats() == b.floats(),
        }
    }
}

/// Examples `(x, k)`: an input `x` of `n_inputs` values and a class label `k < n_classes`; or,
/// for regression ([`Dataset::from_target_rows`]), examples `(x, y)` with a real target `y` of
/// `n_classes` values.
///
/// Labels are stored once, as class numbers; the target `y` of the lecture is the one-hot vector
/// `y_k = 1`, built where it is needed by [`Dataset::targets_into`]. A regression data set keeps
/// its target rows instead, and as labels the index of each row's largest entry (so evaluation
/// still counts something; only its cost means anything). Out of scope: multi-label data.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    features: Features,
    labels: Vec<usize>,
    /// Real target rows, `labels.len() · n_classes` values; `None`: the one-hot rows of `labels`.
    targets: Option<Vec<f32>>,
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

    /// A data set of real inputs owned elsewhere (e.g. a NumPy array), read in place:
    /// `features.len() == labels.len() · n_inputs`.
    pub fn from_shared_floats(
        features: SharedFloats,
        n_inputs: usize,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        Self::checked(Features::Shared(features), n_inputs, labels, n_classes)
    }

    /// A regression data set: real inputs and, for each example, a real target row `y` of
    /// `n_outputs` values (`targets.len() == examples · n_outputs`), every one finite. With an
    /// identity output and the quadratic cost, training fits `a^(L)` to `y`; the logarithmic
    /// costs take rows in `[0, 1]` (log-likelihood with softmax: rows that sum to 1), checked
    /// against the network by [`Dataset::check_fits`].
    pub fn from_target_rows(
        features: SharedFloats,
        n_inputs: usize,
        targets: Vec<f32>,
        n_outputs: usize,
    ) -> Result<Self> {
        if n_outputs == 0 || !targets.len().is_multiple_of(n_outputs) {
            return Err(Error::Shape(format!(
                "{} target values do not make rows of {n_outputs}",
                targets.len()
            )));
        }
        if let Some(i) = targets.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidSetting(format!(
                "the target of example {} holds a non-finite value ({})",
                i / n_outputs,
                targets[i]
            )));
        }
        let labels = targets
            .chunks(n_outputs)
            .map(|row| crate::lecture::target::argmax(ndarray::ArrayView1::from(row)))
            .collect();
        let mut data = Self::checked(Features::Shared(features), n_inputs, labels, n_outputs)?;
        data.targets = Some(targets);
        Ok(data)
    }

    /// Whether the targets are real rows (regression) rather than one-hot labels.
    pub fn has_target_rows(&self) -> bool {
        self.targets.is_some()
    }

    fn checked(
        features: Features,
        n_inputs: usize,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        let len = features.len();
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
            targets: None,
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
        let targets = |range: std::ops::Range<usize>| {
            let c = self.n_classes;
            self.targets
                .as_ref()
                .map(|t| t[range.start * c..range.end * c].to_vec())
        };
        let part = |features, range: std::ops::Range<usize>| Dataset {
            features,
            labels: self.labels[range.clone()].to_vec(),
            targets: targets(range),
            n_inputs: self.n_inputs,
            n_classes: self.n_classes,
        };
        let (head, tail) = (
            self.features.slice(0..cut),
            self.features.slice(cut..self.features.len()),
        );
        (part(head, 0..n), part(tail, n..self.len()))
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
            other => {
                let v = other.floats().unwrap_or_default();
                Features::Floats(
                    indices
                        .iter()
                        .flat_map(|&i| v[i * n..(i + 1) * n].iter().copied())
                        .collect(),
                )
            }
        };
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        let c = self.n_classes;
        let targets = self.targets.as_ref().map(|t| {
            indices
                .iter()
                .flat_map(|&i| t[i * c..(i + 1) * c].iter().copied())
                .collect()
        });
        Dataset {
            features,
            labels,
            targets,
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
            Features::Bytes(v) => match F::as_f32_slice_mut(out) {
                Some(out) => pixels_f32(&v[range.clone()], out),
                None => out
                    .iter_mut()
                    .zip(&v[range.clone()])
                    .for_each(|(o, &b)| *o = pixel(b)),
            },
            other => out
                .iter_mut()
                .zip(&other.floats().unwrap_or_default()[range.clone()])
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

    /// The target `y` of example `i` (length `n_classes`): one-hot, or its target row.
    pub fn target<F: Float>(&self, i: usize) -> ndarray::Array1<F> {
        let mut y = ndarray::Array2::zeros((1, self.n_classes));
        self.targets_into(&[i], y.view_mut());
        y.row(0).to_owned()
    }

    /// Row `r` of `out` ← input `indices[r]`: a mini-batch `X` of shape `(indices.len(), n_inputs)`.
    pub fn inputs_into<F: Float>(&self, indices: &[usize], mut out: ArrayViewMut2<'_, F>) {
        self.prefetch(indices);
        for (&i, row) in indices.iter().zip(out.rows_mut()) {
            self.input_with(i, row);
        }
    }

    /// Asks the CPU to start loading the inputs at `indices` into its cache, so that the misses
    /// of a shuffled mini-batch overlap instead of following one another, and (called for the
    /// next mini-batch while this one trains) arrive before they are needed. A hint: no effect
    /// on results, and none on other architectures.
    pub fn prefetch(&self, indices: &[usize]) {
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

    /// Row `r` of `out` ← the target of `indices[r]` (one-hot, or its target row): `Y` of shape
    /// `(indices.len(), n_classes)`.
    pub fn targets_into<F: Float>(&self, indices: &[usize], mut out: ArrayViewMut2<'_, F>) {
        if let Some(t) = &self.targets {
            let c = self.n_classes;
            for (&i, mut row) in indices.iter().zip(out.rows_mut()) {
                row.iter_mut()
                    .zip(&t[i * c..(i + 1) * c])
                    .for_each(|(o, &v)| *o = F::cast(f64::from(v)));
            }
            return;
        }
        for (&i, row) in indices.iter().zip(out.rows_mut()) {
            one_hot_into(self.labels[i], row);
        }
    }

    /// A 64-bit fingerprint of every input, label and target: the number of examples in the
    /// high 32 bits, the CRC-32 of the sizes, labels, inputs and targets (little-endian) in the
    /// low ones. Equal for equal data sets and, but for one chance in 2³², different otherwise;
    /// the same on every machine and build, so a checkpoint can keep it (see
    /// [`crate::train::trainer::Trainer::data_fingerprint`]); processes that train together
    /// compare it too ([`crate::train::distributed`]).
    pub fn fingerprint(&self) -> u64 {
        let mut crc = flate2::Crc::new();
        crc.update(&(self.n_inputs as u64).to_le_bytes());
        crc.update(&(self.n_classes as u64).to_le_bytes());
        checksum::crc_words(&mut crc, self.labels.iter().map(|&k| k as u32));
        match &self.features {
            Features::Bytes(v) => crc.update(v),
            other => checksum::crc_words(
                &mut crc,
                other.floats().into_iter().flatten().map(|x| x.to_bits()),
            ),
        }
        if let Some(t) = &self.targets {
            checksum::crc_words(&mut crc, t.iter().map(|x| x.to_bits()));
        }
        ((self.len() as u64) << 32) | u64::from(crc.sum())
    }

    /// Refuses a data set without examples; `what` names it in the message (`the test split`).
    pub fn check_not_empty(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            return Err(Error::InvalidSetting(format!("{what} has no examples")));
        }
        Ok(())
    }

    /// Refuses a data set whose inputs do not fit the first layer of `net` or whose labels do not
    /// fit its output layer, and target rows its cost is not defined for
    /// ([`Cost::check_target`](crate::Cost::check_target)).
    pub fn check_fits<F: Float>(&self, net: &Network<F>) -> Result<()> {
        let sizes = net.sizes();
        let (n_in, n_out) = (sizes[0], net.output_size());
        if self.n_inputs != n_in {
            return Err(Error::Shape(format!(
                "the data has {} inputs per example but the first layer has {n_in} neurons",
                self.n_inputs
            )));
        }
        if self.targets.is_some() && self.n_classes != n_out {
            return Err(Error::Shape(format!(
                "the targets have {} values per example but the output layer has {n_out} neurons",
                self.n_classes
            )));
        }
        if let Some(targets) = &self.targets {
            let (cost, output) = (net.cost(), net.activation(net.num_layers()));
            for (i, y) in targets.chunks(self.n_classes).enumerate() {
                cost.check_target(output, y).map_err(|why| {
                    Error::InvalidSetting(format!("the data's target row {i} has {why}"))
                })?;
            }
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

/// [`pixel`] for a row of `f32`, with the widest vectors the CPU has ([`wide`]): the byte goes
/// straight to `f32` (exact) and the division is IEEE's at any width, so the values are those of
/// `pixel` on every CPU. Through `f64` and 4-lane SSE2, the gather of a mini-batch of 10 digits (in cache)
/// took 1.7 µs on Zen 4; with AVX-512, 0.9 µs.
fn pixels_f32(bytes: &[u8], out: &mut [f32]) {
    wide::from_bytes(bytes, out, |b| f32::from(b) / 255.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_becomes_the_same_input_on_every_path() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut fast = vec![0f32; 256];
        pixels_f32(&bytes, &mut fast);
        for (&b, &x) in bytes.iter().zip(&fast) {
            assert_eq!(x.to_bits(), pixel::<f32>(b).to_bits(), "byte {b}");
            assert_eq!(x, (f64::from(b) / 255.0) as f32, "byte {b}");
        }
    }

    #[test]
    fn target_rows_are_kept_through_split_and_select() {
        let x: SharedFloats = Arc::new(vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let d = Dataset::from_target_rows(x, 2, vec![0.5, -1.0, 2.0, 3.0, -4.0, 9.0], 2).unwrap();
        assert!(d.has_target_rows());
        assert_eq!(d.labels(), &[0, 1, 1]);
        assert_eq!(d.target::<f64>(1).to_vec(), vec![2.0, 3.0]);
        let (a, b) = d.split_at(1);
        assert_eq!(a.target::<f32>(0).to_vec(), vec![0.5, -1.0]);
        assert_eq!(b.input::<f32>(1).to_vec(), vec![4.0, 5.0]);
        assert_eq!(b.target::<f32>(1).to_vec(), vec![-4.0, 9.0]);
        let s = d.select(&[2, 0]);
        assert_eq!(s.target::<f32>(0).to_vec(), vec![-4.0, 9.0]);
        assert_eq!(s.input::<f32>(1).to_vec(), vec![0.0, 1.0]);
        let net = Network::<f32>::new(&[2, 3]).unwrap();
        assert!(d
            .check_fits(&net)
            .unwrap_err()
            .to_string()
            .contains("2 values per example"));
        let bad = Dataset::from_target_rows(Arc::new(vec![0.0f32; 2]), 2, vec![f32::NAN], 1);
        assert!(bad.unwrap_err().to_string().contains("non-finite"));
    }

    #[test]
    fn shared_floats_read_like_owned_ones() {
        let v = vec![0.25f32, 0.5, 0.75, 1.0];
        let owned = Dataset::from_floats(v.clone(), 2, vec![0, 1], 2).unwrap();
        let shared = Dataset::from_shared_floats(Arc::new(v), 2, vec![0, 1], 2).unwrap();
        assert_eq!(owned, shared);
        assert_eq!(shared.input::<f64>(1).to_vec(), vec![0.75, 1.0]);
    }
}
