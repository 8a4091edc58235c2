//! Evaluation: mean cost, accuracy as the argmax of `a^(L)` against the label, confusion matrix.

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::lecture::batch::Workspace;
use crate::lecture::network::Network;
use crate::lecture::target::argmax;
use ndarray::{s, Array2, ArrayView2};

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
            self.check_activations(&ws, chunk[0])?;
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

    /// Step 2 for every row of `x` `(N, n_1)`: the outputs `(N, n_L)`, by the matrix path in
    /// chunks of rows. Refuses as [`Network::evaluate`] does when an activation is not finite.
    pub fn feedforward_batch(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.check_input(x.ncols())?;
        let rows = x.nrows();
        let mut out = Array2::zeros((rows, self.output_size()));
        let chunk = CHUNK.min(rows).max(1);
        let mut ws = Workspace::new(self, chunk);
        for start in (0..rows).step_by(chunk) {
            let end = (start + chunk).min(rows);
            ws.set_batch_size(end - start);
            ws.inputs_mut().assign(&x.slice(s![start..end, ..]));
            self.forward_batch(&mut ws);
            self.check_activations(&ws, start)?;
            out.slice_mut(s![start..end, ..]).assign(&ws.output());
        }
        Ok(out)
    }

    /// Refuses the first example of the mini-batch in `ws` (numbered from `first` in its data
    /// set) whose activations `a^(l)` are not all finite, naming the first such layer. Every
    /// layer is looked at, not only `a^(L)`: a ReLU output turns the NaN of an overflowed layer
    /// below into 0, and so would hide it.
    pub fn check_activations(&self, ws: &Workspace<F>, first: usize) -> Result<()> {
        let layers = 2..=self.num_layers();
        let finite = |a: ArrayView2<'_, F>| a.iter().all(|v| v.is_finite());
        if layers.clone().all(|l| finite(ws.a_rows(l))) {
            return Ok(()); // the usual case: one pass over each layer
        }
        for i in 0..ws.batch_size() {
            if let Some(layer) = layers
                .clone()
                .find(|&l| !ws.a_rows(l).row(i).iter().all(|v| v.is_finite()))
            {
                return Err(Error::NotFinite {
                    layer,
                    example: Some(first + i),
                });
            }
        }
        Ok(())
    }
}
