//! Evaluation: mean cost, accuracy as the argmax of `a^(L)` against the label, confusion matrix.

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::lecture::batch::Workspace;
use crate::lecture::network::Network;
use ndarray::{Array2, ArrayView1};

/// How a network does on a data set. In JSON (checkpoints) the confusion matrix is left out.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// The mean cost `(1/n) Σ_x C_(x,y)`.
    pub cost: f64,
    /// Examples whose largest output is their label.
    pub correct: usize,
    /// Examples evaluated.
    pub total: usize,
    /// `confusion[[k, j]]`: examples of label `k` classified as `j`.
    #[serde(skip)]
    pub confusion: Array2<usize>,
}

impl Evaluation {
    /// `correct / total` (0 for an empty set).
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// The index of the largest value (the first one on ties; NaN never wins).
pub fn argmax<F: Float>(a: ArrayView1<'_, F>) -> usize {
    let mut best = 0;
    for (i, &v) in a.iter().enumerate() {
        if v > a[best] {
            best = i;
        }
    }
    best
}

/// Rows evaluated at once.
const CHUNK: usize = 256;

impl<F: Float> Network<F> {
    /// Cost, accuracy and confusion matrix on `data`, by the matrix path in chunks of rows.
    /// The data must fit the network (see [`Dataset::check_fits`]). Refuses with
    /// [`Error::NotFinite`], naming the first such example and layer, when an output is NaN or
    /// infinite: its argmax would be a class the network never chose.
    pub fn evaluate(&self, data: &Dataset) -> Result<Evaluation> {
        let n_out = self.output_size();
        let mut ws = Workspace::new(self, CHUNK.min(data.len()).max(1));
        let mut confusion = Array2::zeros((n_out, n_out));
        let mut cost = 0f64;
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(CHUNK) {
            let m = chunk.len();
            ws.set_batch_size(m);
            data.inputs_into(chunk, ws.inputs_mut());
            data.targets_into(chunk, ws.targets_mut());
            self.forward_batch(&mut ws);
            self.check_outputs(data, chunk, &ws)?;
            cost += self.cost().value(ws.output(), ws.targets()).as_f64();
            for (&i, a) in chunk.iter().zip(ws.output().rows()) {
                confusion[[data.labels()[i], argmax(a)]] += 1;
            }
        }
        let correct = (0..n_out).map(|k| confusion[[k, k]]).sum();
        Ok(Evaluation {
            cost: cost / data.len().max(1) as f64,
            correct,
            total: data.len(),
            confusion,
        })
    }

    /// Refuses the first row of `a^(L)` in `ws` (the examples `chunk` of `data`) that is not
    /// finite, naming the layer where its activations stopped being finite.
    fn check_outputs(&self, data: &Dataset, chunk: &[usize], ws: &Workspace<F>) -> Result<()> {
        let Some((&i, _)) = chunk
            .iter()
            .zip(ws.output().rows())
            .find(|(_, a)| !a.iter().all(|v| v.is_finite()))
        else {
            return Ok(());
        };
        // The per-example path finds the layer (the matrix path keeps only a^(L) at hand).
        let layer = match self.feedforward(data.input::<F>(i).view()) {
            Err(Error::NotFinite { layer, .. }) => layer,
            _ => self.num_layers(),
        };
        Err(Error::NotFinite {
            layer,
            example: Some(i),
        })
    }
}
