//! # backprop
//!
//! Fully connected neural networks trained by error back-propagation, exactly as the lecture
//! ("Deep neural networks, Lecture 4: the error back-propagation method", in M. Nielsen's
//! notation) teaches it, with a fast matrix path for whole mini-batches.
//!
//! ## The lecture in the code
//! A network with layers `1..=L` (layer 1 is the input) computes, for `l = 2..=L`,
//! `z^(l) = W^(l) a^(l-1) + b^(l)` and `a^(l) = σ(z^(l))`. `W^(l)` has shape `(n_l, n_(l-1))`: one
//! row per neuron of layer `l`, so BP2 carries a transpose. The cost of one example is
//! `C = ‖a^(L) − y‖² / 2` by default. The four formulas are one function each:
//!
//! | formula | code |
//! |---|---|
//! | BP1 `δ^(L) = ∇_a C ∘ σ'(z^(L))` | [`Cost::output_error`] |
//! | BP2 `δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ∘ σ'(z^(l))` | [`lecture::reference::hidden_error`] |
//! | BP3 `∂C/∂b^(l) = δ^(l)` | [`lecture::reference::bias_gradient`] |
//! | BP4 `∂C/∂W^(l) = δ^(l) (a^(l-1))ᵀ` | [`lecture::reference::weight_gradient`] |
//!
//! [`Network::trace`] runs the five steps of the algorithm for one example and keeps every `z`,
//! `a` and `δ` (the reference path); [`Network::forward_batch`] and [`Network::backward_batch`] do
//! steps 2–5 for a whole mini-batch with one matrix product per layer and direction and average
//! the gradient (step 6). A test binds the two paths; [`gradient_check`] binds both to finite
//! differences.
//!
//! The matrix path mirrors the reference formula by formula, with the same names and a `_batch`
//! suffix ([`Network::output_error_batch`], [`Network::hidden_error_batch`],
//! [`Network::bias_gradient_batch`], [`Network::weight_gradient_batch`]).
//!
//! ## The map
//! | module | what it holds |
//! |---|---|
//! | [`lecture`] | the network, σ and σ′ ([`lecture::activation`]), the costs and BP1 ([`lecture::cost`]), the reference path ([`lecture::reference`]), its matrix mirror ([`lecture::batch`]), gradients, the one-hot target and its argmax |
//! | [`train`] | the one translator of options ([`TrainOptions`] → [`Plan`]), [`TrainSettings`], the validation split, the [`Trainer`] (epochs, mini-batches, step 6), update rules, penalties, η schedules, evaluation, reports, checkpoints, data-parallel training on several processes ([`train::distributed`]), and the gradient check against finite differences |
//! | [`io`] | data sets (IDX, CSV, the embedded digits), model files (safetensors), ONNX export, atomic and bounded file operations |
//! | [`json`] | the JSON shapes every front shows: a trace, an evaluation, a gradient check |
//! | [`kernel`] | the float types, `exp`/`ln`/`tanh` with the same bits everywhere, the matrix products (one seam, one kernel per instruction set) and the team of threads |
//! | [`limits`], [`error`] | the size bounds every front applies, and the one error type |
//!
//! Each module uses only those below it in this order: `error`, `limits`, `kernel`, `lecture`,
//! `io`, `train`, `json`; no import runs back up.
//!
//! ## Example: train a tiny network
//! ```
//! use backprop::{Dataset, Network, TrainSettings};
//!
//! // XOR: four examples of two inputs, two classes.
//! let inputs = vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
//! let data = Dataset::from_floats(inputs, 2, vec![0, 1, 1, 0], 2).unwrap();
//! let mut net: Network = Network::builder(&[2, 4, 2]).seed(1).build().unwrap();
//! let settings = TrainSettings::plain(2000, 4, 3.0, 1); // epochs, mini-batch size, η, seed
//! let reports = net.train(&data, Some(&data), &settings).unwrap();
//! let last = reports.last().unwrap().test.as_ref().unwrap();
//! assert_eq!(last.correct, 4); // every example classified right
//! ```
//!
//! ## Out of scope
//! Convolutional and recurrent layers, GPUs, automatic differentiation of arbitrary graphs, and
//! precisions below `f32`. The library trains classifiers, and regressors through
//! [`Dataset::from_target_rows`] (identity output and quadratic cost); its evaluation counts
//! classes, so for regression only the cost means anything.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod error;
pub mod io;
pub mod json;
pub mod kernel;
pub mod lecture;
pub mod limits;
pub mod train;

pub use error::{Error, Result, Stuck};
pub use io::dataset::Dataset;
#[cfg(feature = "embedded-mnist")]
pub use io::embedded::{mnist_10k, mnist_10k_split, MNIST_10K_TRAIN};
pub use kernel::float::Float;
pub use kernel::matmul::{
    cpu_features, kernel_in_use, set_kernel, Kernel, KERNEL_ENV, PARALLEL_MIN_FLOP,
};
pub use kernel::threads::{default_threads, set_threads, threads};
pub use lecture::activation::Activation;
pub use lecture::batch::Workspace;
pub use lecture::cost::Cost;
pub use lecture::gradient::Gradient;
pub use lecture::init::Init;
pub use lecture::layers::Layers;
pub use lecture::network::{sizes_text, Architecture, Network, NetworkBuilder};
pub use lecture::reference::Trace;
pub use lecture::target::argmax;
pub use train::distributed::{Alone, Collective};
pub use train::evaluate::Evaluation;
pub use train::gradcheck::{
    compare_with_finite_differences, gradient_check, ErrorStats, GradCheck, GradCheckOptions,
    LayerCheck, WorstEntry,
};
pub use train::optimizer::{Optimizer, OptimizerState, Rule};
pub use train::options::{Plan, Spelling, TrainOptions};
pub use train::regularization::Regularization;
pub use train::report::EpochReport;
pub use train::schedule::Schedule;
pub use train::settings::TrainSettings;
pub use train::trainer::{Best, Observer, Outcome, Trainer};
pub use train::validation::{hold_out, Validation};
