//! Training: the settings, the SGD loop over epochs and mini-batches (the lecture's step 6), the
//! update rules, weight penalties, η schedules, evaluation, the divergence checks, checkpoints to
//! stop and resume, and the division of mini-batches between processes that train together.
//!
//! Every gradient here comes from [`crate::lecture`]; this module decides only what to do with it.

pub mod checkpoint;
pub mod distributed;
pub mod evaluate;
pub mod gradcheck;
pub mod optimizer;
pub mod options;
pub mod regularization;
pub mod report;
pub mod schedule;
pub mod settings;
pub mod stuck;
pub mod trainer;
pub mod validation;
