//! The lecture: the network, σ and σ′, the costs with their output error (BP1), the per-example
//! reference path (BP1–BP4 for one `(x, y)`), its mirror over whole mini-batches, and the
//! gradient check that binds both to finite differences.
//!
//! Everything here follows `LECTURE.md` line by line; nothing here knows about epochs, files or
//! CPU kernels (those live in [`crate::train`], [`crate::io`] and [`crate::kernel`]).

pub mod activation;
pub mod batch;
pub mod cost;
pub mod gradcheck;
pub mod gradient;
pub mod init;
pub mod layers;
pub mod network;
pub mod reference;
pub mod target;
