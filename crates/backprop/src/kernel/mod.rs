//! The machinery under the lecture: the float types, the elementwise functions, the matrix
//! products (one seam, one kernel per instruction set) and the thread pool. Nothing here knows
//! what a network is.

pub mod float;
pub mod math;
pub(crate) mod matmul;
pub(crate) mod team;
pub mod threads;
