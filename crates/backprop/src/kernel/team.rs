//! The team: the threads that share the products and element-wise steps of training.
//!
//! Training is many short steps in a row: a mini-batch of 784-30-10 with `m = 10` is about 16 µs
//! of work on one core, in half a dozen products and element-wise passes of 1–10 µs each. A pool
//! whose workers go to sleep between jobs makes every step pay for waking one up (tens of µs on
//! Linux, more than the step itself). The team's workers instead **spin** on their own slot for a
//! bounded time after each job ([`spin_time`]), and only then **park**, so that the next step of
//! a mini-batch finds them awake and an idle process uses no CPU.
//!
//! There is one operation, [`join`]: `b` is handed to an idle worker, `a` runs on the calling
//! thread, and `join` returns when both are done. With no idle worker (one thread, all of them
//! busy, or a nested split deeper than the team), `b` simply runs after `a` on the calling
//! thread: where a piece of work runs never changes what it computes. A job is a pointer to the
//! caller's closure, which outlives it because `join` waits: nothing is allocated per job.
//!
//! Workers are started when [`set_workers`] first asks for them and live as long as the process
//! (parked when not in use), like the global pool of `rayon`.
//!
//! Out of scope: work stealing and queues (a split is always two known halves), and pinning
//! threads to cores (left to the operating system).

use crate::limits::MAX_THREADS;
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// A worker spins this long after its last job before it parks, unless there are more threads
/// than cores (then spinning would take a core from a thread with work, and workers park at
/// once). Long enough to bridge the gaps between the steps of a mini-batch and between
/// mini-batches (a few µs), and the evaluation between epochs of a small network; short enough
/// that a process that stops training is idle within a millisecond. The measurements behind it
/// are in `BENCHMARKS.md` ("Kernel notes").
pub const SPIN: Duration = Duration::from_micros(500);

/// The slot's states: free, taken by a caller that is writing its job, job posted, job taken
/// (by the worker, or back by the caller), job done.
const IDLE: u8 = 0;
const CLAIMED: u8 = 1;
const POSTED: u8 = 2;
const TAKEN: u8 = 3;
const DONE: u8 = 4;

/// A type-erased `FnOnce` on the caller's stack: `call(data)` runs it once.
#[derive(Clone, Copy)]
struct Job {
    data: *mut (),
    call: unsafe fn(*mut ()),
}

/// One worker's mailbox, on a cache line of its own: the caller and the worker touch nothing
/// else to hand over a job.
#[repr(align(128))]
struct Slot {
    state: AtomicU8,
    /// Written by the caller between `CLAIMED` and `POSTED`, read by the worker after `POSTED`.
    job: UnsafeCell<Option<Job>>,
    /// Set by the worker when the job panicked; the caller re-raises it.
    panicked: AtomicBool,
    /// Set by the worker before it parks, so the caller knows to unpark it.
    parked: AtomicBool,
    thread: OnceLock<Thread>,
}

// SAFETY: `job` is only accessed by the one thread that the state machine gives it to (the
// claimer before `POSTED`, the worker after it, with release/acquire ordering between them);
// every other field is atomic or a `OnceLock`. A `Job` holds a pointer to an `FnOnce + Send`.
unsafe impl Sync for Slot {}
// SAFETY: as above: the job's closure is `Send`, and the pointer is only followed by the thread
// the state machine gives it to.
unsafe impl Send for Slot {}

impl Slot {
    fn new() -> Slot {
        Slot {
            state: AtomicU8::new(IDLE),
            job: UnsafeCell::new(None),
            panicked: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }
}

/// The workers' slots; the first [`active`] are in use.
static SLOTS: [OnceLock<Slot>; MAX_THREADS] = [const { OnceLock::new() }; MAX_THREADS];
/// How many workers [`join`] may hand work to (the team is these plus the calling thread).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// The current spin time in nanoseconds (see [`SPIN`]).
static SPIN_NS: AtomicU64 = AtomicU64::new(0);
/// Serialises [`set_workers`].
static STARTING: Mutex<()> = Mutex::new(());

/// Makes `n` workers available to [`join`] (starting those that do not exist yet), spinning for
/// `spin` after each job. Returns how many are available: fewer than `n` if the operating system
/// refused a thread.
pub(crate) fn set_workers(n: usize, spin: Duration) -> usize {
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    let n = n.min(MAX_THREADS);
    SPIN_NS.store(spin.as_nanos() as u64, Ordering::Relaxed);
    let mut started = 0;
    for (i, cell) in SLOTS.iter().enumerate().take(n) {
        let running = cell.get().is_some_and(|slot| slot.thread.get().is_some());
        if !running && !start_worker(i, cell) {
            break;
        }
        started = i + 1;
    }
    ACTIVE.store(started, Ordering::Release);
    started
}

/// The spin time in effect (see [`SPIN`]).
pub fn spin_time() -> Duration {
    Duration::from_nanos(SPIN_NS.load(Ordering::Relaxed))
}

/// Starts worker `i` on `cell`; `false` if the operating system refused the thread.
fn start_worker(i: usize, cell: &'static OnceLock<Slot>) -> bool {
    let slot = cell.get_or_init(Slot::new);
    match thread::Builder::new()
        .name(format!("backprop-{}", i + 1))
        .spawn(move || work(slot))
    {
        Ok(handle) => {
            let _ = slot.thread.set(handle.thread().clone());
            true
        }
        Err(_) => false,
    }
}

/// A worker's life: wait for a job, take it (unless its caller took it back), run it, report,
/// forever.
fn work(slot: &'static Slot) {
    loop {
        wait_for_job(slot);
        if slot
            .state
            .compare_exchange(POSTED, TAKEN, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            continue; // the caller ran it itself
        }
        // SAFETY: we moved the state from `POSTED` to `TAKEN` (acquire): the caller wrote the
        // job before its release store and waits for `DONE` before touching it again.
        let job = unsafe { (*slot.job.get()).take() }.expect("a posted slot holds its job");
        // SAFETY: `job` was made by `join` from an `FnOnce` that lives until `DONE`.
        let result = catch_unwind(AssertUnwindSafe(|| unsafe { (job.call)(job.data) }));
        if result.is_err() {
            slot.panicked.store(true, Ordering::Relaxed);
        }
        slot.state.store(DONE, Ordering::Release);
    }
}

/// Spins until a job is posted, for at most [`spin_time`], then parks until one is.
fn wait_for_job(slot: &Slot) {
    let since = Instant::now();
    let spin = spin_time();
    let mut turns = 0u32;
    while slot.state.load(Ordering::Acquire) != POSTED {
        turns = turns.wrapping_add(1);
        if turns.is_multiple_of(64) && since.elapsed() >= spin {
            park_until_posted(slot);
            return;
        }
        std::hint::spin_loop();
    }
}

/// Parks until a job is posted. `parked` is set before the last look at the state and the caller
/// sets the state before it looks at `parked` (both sequentially consistent), so either the
/// worker sees the job or the caller sees it parked and unparks it: no wake-up is lost.
fn park_until_posted(slot: &Slot) {
    loop {
        slot.parked.store(true, Ordering::SeqCst);
        if slot.state.load(Ordering::SeqCst) == POSTED {
            slot.parked.store(false, Ordering::SeqCst);
            return;
        }
        thread::park();
        slot.parked.store(false, Ordering::SeqCst);
        if slot.state.load(Ordering::Acquire) == POSTED {
            return;
        }
    }
}

/// Takes an idle worker's slot, if there is one.
fn claim() -> Option<&'static Slot> {
    let active = ACTIVE.load(Ordering::Acquire);
    SLOTS[..active]
        .iter()
        .filter_map(OnceLock::get)
        .filter(|slot| slot.thread.get().is_some()) // a worker the OS refused has no thread
        .find(|slot| {
            slot.state
                .compare_exchange(IDLE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })
}

/// Runs the `FnOnce` in the `Option` at `data` (the trampoline of a [`Job`]).
///
/// # Safety
/// `data` must point at a live `Option<B>` that no other thread accesses until this returns.
unsafe fn call_once<B: FnOnce()>(data: *mut ()) {
    // SAFETY: the caller's obligation above.
    let b = unsafe { &mut *data.cast::<Option<B>>() };
    if let Some(b) = b.take() {
        b();
    }
}

/// The job posted to `slot`, taken back if its worker has not started it (the worker's core was
/// busy with something else, or its thread was descheduled): the slot is then free again and
/// the job is the caller's to run.
fn take_back(slot: &Slot) -> Option<Job> {
    slot.state
        .compare_exchange(POSTED, TAKEN, Ordering::Acquire, Ordering::Relaxed)
        .ok()?;
    // SAFETY: we moved the state from `POSTED` to `TAKEN`: the worker will not touch the job.
    let job = unsafe { (*slot.job.get()).take() };
    slot.state.store(IDLE, Ordering::Release);
    job
}

/// Waits until the worker of `slot` has run its job, frees the slot and returns whether the job
/// panicked.
fn wait_done(slot: &Slot) -> bool {
    let mut turns = 0u32;
    while slot.state.load(Ordering::Acquire) != DONE {
        turns = turns.wrapping_add(1);
        if turns >= 1 << 16 {
            thread::yield_now(); // the worker may be waiting for a core
        } else {
            std::hint::spin_loop();
        }
    }
    let panicked = slot.panicked.swap(false, Ordering::Relaxed);
    slot.state.store(IDLE, Ordering::Release);
    panicked
}

/// The job posted to a slot, until it is finished: [`Handover::finish`] after `a` returned;
/// dropped unfinished only while `a` unwinds, when the job is taken back and discarded or waited
/// for, so that its closure (on the stack of [`join`]) outlives it either way.
struct Handover(&'static Slot);

impl Handover {
    /// Runs the job here if its worker has not started it, else waits for it; returns whether
    /// it panicked on the worker.
    fn finish(self) -> bool {
        let slot = self.0;
        std::mem::forget(self); // finished here, not by `drop`
        match take_back(slot) {
            Some(job) => {
                // SAFETY: `job` was made by `join_on` from an `FnOnce` that is still alive.
                unsafe { (job.call)(job.data) };
                false
            }
            None => wait_done(slot),
        }
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        // `a` is unwinding: a job not started is discarded (its closure is dropped with the
        // caller's frame), one started is waited for; its own panic, if any, is dropped.
        if take_back(self.0).is_none() {
            wait_done(self.0);
        }
    }
}

/// Runs `a` on this thread and `b` on an idle worker of the team (or after `a` here, when none
/// is idle), and returns when both are done. A panic in either is raised here, after both ended.
pub(crate) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    match claim() {
        Some(slot) => join_on(slot, a, b),
        None => {
            a();
            b();
        }
    }
}

/// [`join`] with `b` posted to `slot`, which the caller has claimed.
fn join_on<A, B>(slot: &'static Slot, a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    let mut b = Some(b);
    let job = Job {
        data: (&mut b as *mut Option<B>).cast(),
        call: call_once::<B>,
    };
    // SAFETY: the slot is `CLAIMED` by us: no other thread reads or writes its job now.
    unsafe { *slot.job.get() = Some(job) };
    let handover = Handover(slot); // from here on, `b` must outlive the job
    slot.state.store(POSTED, Ordering::SeqCst);
    if slot.parked.load(Ordering::SeqCst) {
        if let Some(t) = slot.thread.get() {
            t.unpark();
        }
    }
    a();
    if handover.finish() {
        resume_unwind(Box::new("a thread of the team panicked"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn both_halves_run_once_and_nested_joins_finish() {
        set_workers(3, SPIN);
        let count = AtomicUsize::new(0);
        for _ in 0..1000 {
            join(
                || {
                    join(
                        || {
                            count.fetch_add(1, Ordering::Relaxed);
                        },
                        || {
                            count.fetch_add(1, Ordering::Relaxed);
                        },
                    )
                },
                || {
                    count.fetch_add(1, Ordering::Relaxed);
                },
            );
        }
        assert_eq!(count.load(Ordering::Relaxed), 3000);
    }

    #[test]
    fn a_parked_worker_wakes_for_the_next_job() {
        set_workers(1, Duration::ZERO);
        let count = AtomicUsize::new(0);
        for _ in 0..200 {
            thread::sleep(Duration::from_micros(50)); // the worker parks in between
            join(
                || {},
                || {
                    count.fetch_add(1, Ordering::Relaxed);
                },
            );
        }
        assert_eq!(count.load(Ordering::Relaxed), 200);
        set_workers(1, SPIN);
    }

    #[test]
    fn a_job_its_worker_has_not_started_is_run_by_the_caller() {
        // A slot that no worker serves: its job can only be taken back.
        let slot: &'static Slot = Box::leak(Box::new(Slot::new()));
        let caller = thread::current().id();
        let (count, here) = (AtomicUsize::new(0), AtomicUsize::new(0));
        for _ in 0..100 {
            slot.state.store(CLAIMED, Ordering::Relaxed);
            join_on(
                slot,
                || {},
                || {
                    count.fetch_add(1, Ordering::Relaxed);
                    if thread::current().id() == caller {
                        here.fetch_add(1, Ordering::Relaxed);
                    }
                },
            );
            assert_eq!(slot.state.load(Ordering::Relaxed), IDLE);
        }
        assert_eq!(count.load(Ordering::Relaxed), 100);
        assert_eq!(here.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn a_join_inside_an_unwinding_drop_still_runs_both_halves() {
        // Found by review: "a panicked" was read from `thread::panicking()`, which is also true
        // in a destructor that runs while another panic unwinds, and `b` was skipped there.
        struct Guard<'c>(&'c AtomicUsize);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                let slot: &'static Slot = Box::leak(Box::new(Slot::new())); // taken back for sure
                slot.state.store(CLAIMED, Ordering::Relaxed);
                join_on(
                    slot,
                    || {},
                    || {
                        self.0.fetch_add(1, Ordering::Relaxed);
                    },
                );
            }
        }
        let count = AtomicUsize::new(0);
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            let _guard = Guard(&count);
            panic!("unwinding");
        }));
        assert!(unwound.is_err());
        assert_eq!(count.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_panic_on_a_worker_reaches_the_caller_and_the_team_goes_on() {
        set_workers(1, SPIN);
        let caught =
            catch_unwind(|| join(|| thread::sleep(Duration::from_millis(1)), || panic!("b")));
        assert!(caught.is_err());
        let ran = AtomicBool::new(false);
        join(|| {}, || ran.store(true, Ordering::Relaxed));
        assert!(ran.load(Ordering::Relaxed));
    }
}
