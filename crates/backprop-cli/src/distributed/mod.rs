//! `backprop train --distributed`: the MPI driver. It starts MPI, says which rank this process
//! is, hands the library a [`backprop::Collective`] whose sums are `MPI_Allreduce`, and ends the
//! whole job (`MPI_Abort`) when a rank fails. What data-parallel training does is the library's
//! (`backprop::train::distributed`, `Trainer::run_distributed`); which rank prints and writes is
//! `commands::train`'s.
//!
//! Built only with the cargo feature `mpi` (the `mpi` crate, rsmpi, over Open MPI or MPICH; it
//! needs libclang when built). Without it, `--distributed` is a one-line error naming the feature.

#[cfg(feature = "mpi")]
mod mpi;

#[cfg(feature = "mpi")]
pub use self::mpi::Job;

#[cfg(not(feature = "mpi"))]
pub use self::without_mpi::Job;

/// The number of ranks an MPI launcher (Open MPI's or MPICH's `mpirun`) started this process as
/// one of, read from the environment it sets; `None` when not started by one.
pub fn launched_ranks() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.parse().ok())
}

#[cfg(not(feature = "mpi"))]
mod without_mpi {
    use crate::error::{CliError, CliResult};
    use backprop::Collective;

    /// A job of an MPI build; none can exist in this one.
    pub enum Job {}

    impl Job {
        /// Refuses: this build has no MPI.
        pub fn start() -> CliResult<Job> {
            Err(CliError::input(
                "--distributed needs a backprop built with the cargo feature `mpi` (cargo build --release --features mpi, with Open MPI or MPICH and libclang installed)",
            ))
        }
        pub fn rank(&self) -> usize {
            match *self {}
        }
        pub fn size(&self) -> usize {
            match *self {}
        }
        pub fn local_size(&self) -> usize {
            match *self {}
        }
        pub fn collective(&mut self) -> &mut dyn Collective<f32> {
            match *self {}
        }
        pub fn fail(&self, _error: &CliError) -> ! {
            match *self {}
        }
    }
}
