//! The threads of the matrix path: how many, and how work is divided between them.
//!
//! Work is divided by neurons: a thread owns a block of the neurons of a layer, computes their
//! weighted inputs and updates their rows of `W`, so each core keeps touching the same part of the
//! weights mini-batch after mini-batch. Every output element is computed by the same kernel over
//! the same `k` in the same order whatever the number of threads, so results are bit-identical for
//! any [`set_threads`] (tests prove it).
//!
//! The threads are the calling thread and the workers of the team (`kernel::team`), which
//! stay awake between the many short steps of a mini-batch. Any thread may start a split, at the
//! same cost. The measurements behind the thresholds below are in `BENCHMARKS.md` at the
//! repository root ("Kernel notes").

use crate::kernel::team;
use ndarray::{ArrayViewMut2, Axis};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

static THREADS: AtomicUsize = AtomicUsize::new(1);
/// Serialises [`set_threads`], so that `THREADS` and the team agree.
static SETTING: Mutex<()> = Mutex::new(());

/// Sets how many threads the matrix path may use (1 = no threads; 0 is taken as 1), the calling
/// thread included. Results do not depend on it. If the operating system refuses a thread, the
/// team is smaller than asked and [`threads`] says so.
pub fn set_threads(n: usize) {
    let _one_at_a_time = SETTING.lock().unwrap_or_else(|e| e.into_inner());
    let n = n.clamp(1, crate::limits::MAX_THREADS);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    // More threads than cores: a spinning worker would take a core from one with work.
    let spin = if n > cores {
        std::time::Duration::ZERO
    } else {
        team::SPIN
    };
    let workers = team::set_workers(n - 1, spin);
    THREADS.store(workers + 1, Ordering::Relaxed);
}

/// The number of threads the fronts use unless told otherwise: one per core the system offers,
/// at most [`MAX_THREADS`](crate::limits::MAX_THREADS).
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(crate::limits::MAX_THREADS)
}

/// The number of threads the matrix path may use (see [`set_threads`]).
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// Runs `a` and `b`, on two threads of the team when one is free (`a` on the calling thread).
pub(crate) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    team::join(a, b);
}

/// `f(rows_of_x, rows)` over blocks of rows of `x`, divided between the threads when `x` has at
/// least `min_elements` elements (below that, handing work over costs more than it saves: each
/// caller's threshold is measured, see `BENCHMARKS.md`, "Kernel notes").
pub(crate) fn by_rows<F, G>(x: ArrayViewMut2<'_, F>, min_elements: usize, f: &G)
where
    F: Send + Sync,
    G: Fn(ArrayViewMut2<'_, F>, Range<usize>) + Sync,
{
    let parts = if x.len() < min_elements.max(1) {
        1
    } else {
        threads().min(x.nrows())
    };
    divide_rows(parts, 0, x, f);
}

fn divide_rows<F, G>(parts: usize, first: usize, x: ArrayViewMut2<'_, F>, f: &G)
where
    F: Send + Sync,
    G: Fn(ArrayViewMut2<'_, F>, Range<usize>) + Sync,
{
    let rows = x.nrows();
    if parts <= 1 {
        f(x, first..first + rows);
        return;
    }
    let half = parts / 2;
    let at = rows * half / parts;
    let (x0, x1) = x.split_at(Axis(0), at);
    join(
        || divide_rows(half, first, x0, f),
        || divide_rows(parts - half, first + at, x1, f),
    );
}
