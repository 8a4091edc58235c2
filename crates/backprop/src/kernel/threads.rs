//! The threads of the matrix path: how many, and the pool that runs them.
//!
//! Work is divided by neurons: a thread owns a block of the neurons of a layer, computes their
//! weighted inputs and updates their rows of `W`, so each core keeps touching the same part of the
//! weights mini-batch after mini-batch. Every output element is computed by the same kernel over
//! the same `k` in the same order whatever the number of threads, so results are bit-identical for
//! any [`set_threads`] (tests prove it).
//!
//! The pool is a `rayon` pool of [`threads`] workers. A split started from one of the pool's own
//! workers is cheap; from any other thread the work has to be handed over and waited for, which
//! can cost a small mini-batch more than the second thread saves. That is why [`parallel`]
//! exists: the `Trainer` runs each epoch inside it, so that the products
//! of configuration B (~1.6 MFLOP) pay off on two cores. The measurements behind this are in
//! `BENCHMARKS.md` at the repository root ("Kernel notes").

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

static THREADS: AtomicUsize = AtomicUsize::new(1);
static POOL: RwLock<Option<Arc<rayon::ThreadPool>>> = RwLock::new(None);

/// Sets how many threads the matrix path may use (1 = no threads; 0 is taken as 1).
/// Results do not depend on it.
pub fn set_threads(n: usize) {
    let n = n.max(1);
    let mut pool = POOL.write().unwrap_or_else(|e| e.into_inner());
    THREADS.store(n, Ordering::Relaxed);
    let current = pool.as_ref().map(|p| p.current_num_threads());
    if n > 1 && current != Some(n) {
        // Building a pool only fails when the OS refuses threads; then we run on one.
        *pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("backprop-{i}"))
            .build()
            .ok()
            .map(Arc::new);
    }
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

fn pool() -> Option<Arc<rayon::ThreadPool>> {
    if threads() <= 1 {
        return None;
    }
    POOL.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Runs `f` on a worker of the pool, so that the products inside it are split between
/// [`threads`] without handing work over from the outside each time. With one thread, `f` runs
/// here. Training (`Trainer`) already does this for every epoch; call it around your own
/// loop of `Network::forward_batch` / `Network::backward_batch` calls:
///
/// ```
/// use backprop::{Network, Workspace};
/// backprop::set_threads(2);
/// let net: Network = Network::builder(&[784, 100, 10]).seed(1).build()?;
/// let mut ws = Workspace::new(&net, 10);
/// let cost = backprop::parallel(|| {
///     let mut total = 0.0;
///     for _ in 0..3 {
///         net.forward_batch(&mut ws); // the inputs and targets are zeros here
///         total += net.backward_batch(&mut ws);
///     }
///     total
/// });
/// assert!(cost.is_finite());
/// # Ok::<(), backprop::Error>(())
/// ```
pub fn parallel<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Runs `a` and `b`, on two threads of the pool when there is one (`a` on the calling thread).
pub(crate) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    match pool() {
        None => {
            a();
            b();
        }
        Some(pool) => {
            pool.install(|| rayon::join(a, b));
        }
    }
}

/// Element-wise steps on fewer elements than this run on one thread.
const PARALLEL_MIN_ELEMENTS: usize = 32_768;

/// `f(x_rows, y_rows)` over blocks of the same rows of `x` and `y`, divided between the threads
/// when the matrices are large (the element-wise steps of the matrix path: `σ`, `∘ σ'`).
pub(crate) fn by_rows<F, G>(x: ArrayViewMut2<'_, F>, y: ArrayView2<'_, F>, f: &G)
where
    F: Send + Sync,
    G: Fn(ArrayViewMut2<'_, F>, ArrayView2<'_, F>) + Sync,
{
    divide_rows(threads().min(x.nrows()), x, y, f);
}

fn divide_rows<F, G>(parts: usize, x: ArrayViewMut2<'_, F>, y: ArrayView2<'_, F>, f: &G)
where
    F: Send + Sync,
    G: Fn(ArrayViewMut2<'_, F>, ArrayView2<'_, F>) + Sync,
{
    if parts <= 1 || x.len() < PARALLEL_MIN_ELEMENTS {
        f(x, y);
        return;
    }
    let first = parts / 2;
    let at = x.nrows() * first / parts;
    let (x0, x1) = x.split_at(Axis(0), at);
    let (y0, y1) = y.split_at(Axis(0), at);
    join(
        || divide_rows(first, x0, y0, f),
        || divide_rows(parts - first, x1, y1, f),
    );
}

/// [`by_rows`] for a step on one matrix.
pub(crate) fn by_rows_of<F, G>(x: ArrayViewMut2<'_, F>, f: &G)
where
    F: Send + Sync,
    G: Fn(ArrayViewMut2<'_, F>) + Sync,
{
    let none: ArrayView2<'_, F> = ArrayView2::from_shape((x.nrows(), 0), &[]).expect("empty");
    by_rows(x, none, &|x, _| f(x));
}
