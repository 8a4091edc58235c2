//! Data-parallel training: several processes (ranks) train one network together, in step.
//!
//! Every rank holds the same network and the same data and walks the same seeded order of
//! examples. Each mini-batch of `m` examples is divided into `P` contiguous parts ([`part`]);
//! rank `r` runs steps 2–5 on its part only ([`Workspace::set_batch_part`]), which gives its share
//! `(1/m) Σ_(x in its part) ∇C_x` of the mean gradient; the shares are added over the ranks
//! ([`Collective::sum`], an all-reduce), so every rank holds the mean gradient of step 6 and
//! applies the same update. The lecture's algorithm is unchanged: only its sum over the
//! mini-batch is split. The order of that sum changes, so the weights agree with a single
//! process's up to rounding; for a given `P` a run is repeatable bit for bit.
//!
//! The library knows no message-passing library: a front implements [`Collective`] (the CLI does,
//! over MPI, behind its `mpi` feature) and hands it to [`Trainer::run_distributed`]. Checked
//! rather than assumed: before the first mini-batch the ranks compare the fingerprints of their
//! data and the checksums of their networks and optimizer states, and after every epoch the
//! checksums again; any difference is an [`Error::Distributed`] naming the ranks.
//!
//! Out of scope: data sharded between ranks (every rank reads the whole set; a sharded reader
//! would give each rank the examples of its parts of every mini-batch, which needs the epoch's
//! order before reading), asynchronous or stale updates, model parallelism, and surviving the
//! loss of a rank.
//!
//! [`Workspace::set_batch_part`]: crate::lecture::batch::Workspace::set_batch_part
//! [`Trainer::run_distributed`]: crate::train::trainer::Trainer::run_distributed

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;
use crate::kernel::float::Float;
use crate::train::settings::TrainSettings;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

/// What data-parallel training needs from the processes it runs on: who is who, and sums.
/// Every rank calls the methods in the same order (they are collective).
pub trait Collective<F: Float>: Send {
    /// This process's number, `0..size()`.
    fn rank(&self) -> usize;
    /// The number of processes `P`, at least 1.
    fn size(&self) -> usize;
    /// `sums ← Σ_ranks parts`, elementwise, on every rank (an all-reduce; both slices have the
    /// same length). Every rank must get the same bits; [`Trainer::run_distributed`] checks that
    /// it did.
    ///
    /// [`Trainer::run_distributed`]: crate::train::trainer::Trainer::run_distributed
    fn sum(&mut self, parts: &[F], sums: &mut [F]) -> Result<()>;
    /// Every rank's `value`, in rank order, on every rank (an all-gather).
    fn gather(&mut self, value: u64) -> Result<Vec<u64>>;
}

/// One process alone: rank 0 of 1 (what [`Trainer::run`] uses).
///
/// [`Trainer::run`]: crate::train::trainer::Trainer::run
#[derive(Clone, Copy, Debug, Default)]
pub struct Alone;

impl<F: Float> Collective<F> for Alone {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sum(&mut self, parts: &[F], sums: &mut [F]) -> Result<()> {
        sums.copy_from_slice(parts);
        Ok(())
    }
    fn gather(&mut self, value: u64) -> Result<Vec<u64>> {
        Ok(vec![value])
    }
}

/// The examples of a mini-batch of `m` that rank `rank` of `size` back-propagates: contiguous
/// parts in rank order, the first `m mod size` of them one example longer. Empty when `m < size`
/// leaves this rank nothing.
pub fn part(m: usize, size: usize, rank: usize) -> Range<usize> {
    let (base, longer) = (m / size, m % size);
    let start = rank * base + rank.min(longer);
    start..start + base + usize::from(rank < longer)
}

/// The fingerprint of training settings (every field, through their JSON form).
pub fn settings_fingerprint(settings: &TrainSettings) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_string(settings)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// The fingerprint of the data sets a rank trains, validates and tests on: their number of
/// examples in the high 32 bits, the CRC-32 of their [`Dataset::fingerprint`]s (0 for a set
/// that is absent) in the low ones. The same on every machine and build.
pub fn data_fingerprint(sets: &[Option<&Dataset>]) -> u64 {
    let mut crc = flate2::Crc::new();
    let mut examples = 0u64;
    for set in sets {
        crc.update(&set.map_or(0, Dataset::fingerprint).to_le_bytes());
        examples += set.map_or(0, |s| s.len() as u64);
    }
    (examples << 32) | u64::from(crc.sum())
}

/// Gathers `value` from every rank and refuses if they differ: `what` names it (`the weights
/// after epoch 3`), `why` says what that means.
pub fn check_same<F: Float>(
    collective: &mut dyn Collective<F>,
    value: u64,
    what: &str,
    why: &str,
) -> Result<()> {
    let values = collective.gather(value)?;
    if values.iter().all(|&v| v == values[0]) {
        return Ok(());
    }
    let list: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(rank, v)| format!("rank {rank} {v:016x}"))
        .collect();
    Err(Error::Distributed(format!(
        "{what} differ between ranks ({}): {why}",
        list.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_mini_batch_in_order() {
        for m in 1..40 {
            for size in 1..9 {
                let parts: Vec<_> = (0..size).map(|r| part(m, size, r)).collect();
                assert_eq!(parts[0].start, 0);
                assert_eq!(parts[size - 1].end, m);
                for pair in parts.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                    assert!(pair[0].len() >= pair[1].len());
                    assert!(pair[0].len() - pair[1].len() <= 1);
                }
            }
        }
        assert_eq!(part(10, 3, 0), 0..4);
        assert_eq!(part(10, 3, 2), 7..10);
        assert!(part(2, 3, 2).is_empty());
    }
}
