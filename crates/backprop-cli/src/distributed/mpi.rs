//! The job over MPI: `MPI_Init_thread`, `MPI_Allreduce` (sum) and `MPI_Allgather`, `MPI_Abort`.

use crate::error::{CliError, CliResult};
use backprop::{Collective, Result};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::CommunicatorCollectives;
use mpi::Threading;
use std::io::Write;

/// Errors every rank meets alike (a bad flag, divergence) are printed once: rank 0 ends the job
/// at once, the others only after this long, by which time rank 0's `MPI_Abort` has ended them.
/// An error of one rank alone is printed by it after this delay.
const OTHER_RANKS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// This process's place in an MPI job. Dropping it ends MPI (`MPI_Finalize`).
pub struct Job {
    world: World,
    local_size: usize,
    /// Kept until the end: dropping it calls `MPI_Finalize`.
    _universe: Universe,
}

/// `MPI_COMM_WORLD`.
struct World {
    comm: SimpleCommunicator,
}

// SAFETY: MPI was initialised with MPI_THREAD_SERIALIZED or more (checked in `Job::start`), under
// which any thread may call MPI as long as no two do at once. `World` is only reached through
// `&mut` (the `Collective` methods that call MPI take `&mut self`; `rank` and `size` are read
// once at start), so one thread at a time uses it: the trainer calls it from the thread-pool
// worker that runs an epoch, while the main thread waits for that epoch.
unsafe impl Send for World {}

impl Job {
    /// Starts MPI. Outside `mpirun` (or with `-np 1`) this is MPI's single rank, and says so.
    pub fn start() -> CliResult<Job> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or_else(|| CliError::failure("MPI was already started in this process"))?;
        if threading < Threading::Serialized {
            return Err(CliError::failure(format!(
                "this MPI library offers threads at level {threading:?}; --distributed needs MPI_THREAD_SERIALIZED"
            )));
        }
        let comm = universe.world();
        let local_size = comm.split_shared(comm.rank()).size() as usize;
        let job = Job {
            world: World { comm },
            local_size,
            _universe: universe,
        };
        if job.size() == 1 {
            eprintln!("note: --distributed with one MPI rank (not started by mpirun, or -np 1): training as a single process");
        }
        Ok(job)
    }

    /// This process's rank, `0..size`.
    pub fn rank(&self) -> usize {
        self.world.comm.rank() as usize
    }

    /// The number of ranks, P.
    pub fn size(&self) -> usize {
        self.world.comm.size() as usize
    }

    /// The ranks of this job on this host.
    pub fn local_size(&self) -> usize {
        self.local_size
    }

    /// The library's view of the job.
    pub fn collective(&mut self) -> &mut dyn Collective<f32> {
        &mut self.world
    }

    /// Prints `error` (other ranks: after [`OTHER_RANKS_WAIT`], naming the rank) and ends every
    /// rank of the job with its exit status (`MPI_Abort`).
    pub fn fail(&self, error: &CliError) -> ! {
        let line = if self.rank() == 0 {
            format!("error: {error}\n")
        } else {
            std::thread::sleep(OTHER_RANKS_WAIT);
            format!("error: rank {} of {}: {error}\n", self.rank(), self.size())
        };
        // One write, so that mpirun forwards the line whole, and a moment for it to do so before
        // the abort ends this process.
        let mut stderr = std::io::stderr().lock();
        let _ = stderr
            .write_all(line.as_bytes())
            .and_then(|()| stderr.flush());
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.world.comm.abort(error.code)
    }
}

impl Collective<f32> for World {
    fn rank(&self) -> usize {
        self.comm.rank() as usize
    }

    fn size(&self) -> usize {
        self.comm.size() as usize
    }

    fn sum(&mut self, parts: &[f32], sums: &mut [f32]) -> Result<()> {
        self.comm
            .all_reduce_into(parts, sums, SystemOperation::sum());
        Ok(())
    }

    fn gather(&mut self, value: u64) -> Result<Vec<u64>> {
        let mut all = vec![0u64; self.size()];
        self.comm.all_gather_into(&value, &mut all[..]);
        Ok(all)
    }
}
