//! The lecture: the network, σ and σ′, the costs with their output error (BP1), the per-example
//! reference path (BP1–BP4 for one `(x, y)`), its mirror over whole mini-batches, the gradient
//! they compute and the one-hot target.
//!
//! Everything here follows `LECTURE.md` line by line; nothing here knows about epochs, files or
//! checks (those live in [`crate::train`] and [`crate::io`]); the products it asks for are
//! computed in [`crate::kernel`]. The gradient check that binds both paths to finite differences
//! is [`crate::train::gradcheck`].

pub mod activation;
pub mod batch;
pub mod cost;
pub mod gradient;
pub mod init;
pub mod layers;
pub mod network;
pub mod reference;
pub mod target;
