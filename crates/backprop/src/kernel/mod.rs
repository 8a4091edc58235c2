//! The machinery under the lecture: the float types, the elementwise functions, the matrix
//! products (one seam, one kernel per instruction set), the team of threads and the caches' sizes. Nothing here knows
//! what a network is.

pub mod cache;
pub mod exp;
pub mod float;
pub mod math;
pub(crate) mod matmul;
pub(crate) mod team;
pub mod threads;
pub(crate) mod wide;
