//! The machinery under the lecture: the float types, the matrix products (one seam, one kernel
//! per instruction set) and the thread pool. Nothing here knows what a network is.

pub mod float;
pub(crate) mod matmul;
pub mod threads;
