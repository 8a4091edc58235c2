//! Nothing is allocated inside an epoch: every buffer of the matrix path (the workspace, the
//! kernels' coefficients and panels, the optimizer's state, the dropout masks) is sized before
//! the first mini-batch, or by the first one, and reused. A counting allocator watches every
//! thread of the process between the first and the last mini-batch of the second epoch.
//!
//! One test in this file, so that no other test allocates beside it. With more threads than
//! cores, workers park between jobs and the caller takes back jobs they have not started, so
//! which thread first runs which share of a product is left to chance; the test uses one and
//! two threads (a worker then runs its share of every product in the first epoch).

use backprop::{
    set_threads, Dataset, Init, Network, Observer, Optimizer, Regularization, TrainSettings,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's obligations are those of `System.alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Counts the allocations between the first and the last mini-batch of epoch 2.
#[derive(Default)]
struct Watch {
    epoch: usize,
    at_first: usize,
    inside: Option<usize>,
}

impl Observer for Watch {
    fn batch_done(&mut self, done: usize, total: usize) -> ControlFlow<()> {
        if self.epoch == 1 && done == 1 {
            self.at_first = ALLOCATIONS.load(Ordering::SeqCst);
        }
        if self.epoch == 1 && done == total {
            self.inside = Some(ALLOCATIONS.load(Ordering::SeqCst) - self.at_first);
        }
        ControlFlow::Continue(())
    }
    fn epoch_done(&mut self, _report: &backprop::EpochReport) -> ControlFlow<()> {
        self.epoch += 1;
        ControlFlow::Continue(())
    }
}

fn data() -> Dataset {
    backprop::mnist_10k().unwrap().split_at(1000).0
}

#[test]
fn an_epoch_allocates_nothing_after_its_first_mini_batch() {
    let train = data();
    let adam = Optimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    // (layers, mini-batch, optimizer, penalty, dropout): the fused plain-SGD update, the row
    // form with and without panels (m > 32 and m ≤ 32), the optimizers' own update, dropout.
    let cases: [(&[usize], usize, Optimizer, f64, f64); 5] = [
        (&[784, 30, 10], 10, Optimizer::Sgd, 0.0, 0.0),
        (&[784, 100, 50, 10], 64, Optimizer::Sgd, 0.0, 0.0),
        (&[784, 64, 10], 100, adam, 0.0, 0.0),
        (
            &[784, 64, 10],
            16,
            Optimizer::Momentum { mu: 0.9 },
            1.0,
            0.0,
        ),
        (&[784, 64, 10], 32, Optimizer::Sgd, 0.0, 0.2),
    ];
    for threads in [1, 2] {
        set_threads(threads);
        for (sizes, batch_size, optimizer, l2, dropout) in cases {
            let mut net: Network = Network::builder(sizes)
                .init(Init::Scaled)
                .seed(1)
                .build()
                .unwrap();
            let settings = TrainSettings {
                epochs: 2,
                batch_size,
                eta: 0.05,
                optimizer,
                regularization: Regularization { l2, l1: 0.0 },
                dropout,
                ..TrainSettings::default()
            };
            let mut watch = Watch::default();
            net.train_with(&train, None, &settings, &mut watch).unwrap();
            assert_eq!(
                watch.inside,
                Some(0),
                "{sizes:?} m={batch_size} {optimizer:?} λ={l2} dropout {dropout}, {threads} threads"
            );
        }
    }
}
