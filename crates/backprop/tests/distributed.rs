//! Data-parallel training (`Trainer::run_distributed`) with ranks played by threads: the ranks
//! stay identical, agree with one process up to rounding, repeat bit for bit, stop together, and
//! refuse to train on different data. (The same over MPI: `crates/backprop-cli/tests/distributed.rs`.)

use backprop::{
    mnist_10k, Collective, Dataset, Error, Float, Network, Observer, Optimizer, Outcome,
    Regularization, TrainSettings, Trainer,
};
use std::ops::ControlFlow;
use std::sync::{Arc, Barrier, Mutex};

/// What the ranks of one job share: a barrier and one slot per rank.
struct Hub<F> {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<F>>>,
    gathered: Mutex<Vec<u64>>,
}

/// A rank played by a thread; sums are taken in rank order on every rank, like an all-reduce.
/// `skew` adds this much to the first value of every sum on this rank only (a broken all-reduce).
struct Rank<F> {
    rank: usize,
    hub: Arc<Hub<F>>,
    skew: F,
}

impl<F: Float> Collective<F> for Rank<F> {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.hub.slots.lock().unwrap().len()
    }
    fn sum(&mut self, parts: &[F], sums: &mut [F]) -> backprop::Result<()> {
        self.hub.slots.lock().unwrap()[self.rank] = parts.to_vec();
        self.hub.barrier.wait();
        {
            let slots = self.hub.slots.lock().unwrap();
            for (i, v) in sums.iter_mut().enumerate() {
                *v = slots.iter().fold(F::zero(), |sum, slot| sum + slot[i]);
            }
            sums[0] += self.skew;
        }
        self.hub.barrier.wait();
        Ok(())
    }
    fn gather(&mut self, value: u64) -> backprop::Result<Vec<u64>> {
        self.hub.gathered.lock().unwrap()[self.rank] = value;
        self.hub.barrier.wait();
        let all = self.hub.gathered.lock().unwrap().clone();
        self.hub.barrier.wait();
        Ok(all)
    }
}

/// Stops after mini-batch `after` of the first epoch (on the rank that has it).
struct StopAfter(Option<usize>);

impl Observer for StopAfter {
    fn batch_done(&mut self, done: usize, _total: usize) -> ControlFlow<()> {
        if Some(done) == self.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// How one rank of a job is set up: its data, its settings if not the job's, its observer, its
/// skew.
struct RankSetup<F> {
    data: Dataset,
    settings: Option<TrainSettings>,
    stop_after: Option<usize>,
    skew: F,
}

/// Trains `net` by `settings` on `P = setups.len()` ranks; returns each rank's trainer and outcome.
fn train_ranks<F: Float>(
    net: &Network<F>,
    settings: &TrainSettings,
    setups: Vec<RankSetup<F>>,
) -> Vec<(Trainer<F>, backprop::Result<Outcome>)> {
    let size = setups.len();
    let hub = Arc::new(Hub {
        barrier: Barrier::new(size),
        slots: Mutex::new(vec![Vec::new(); size]),
        gathered: Mutex::new(vec![0; size]),
    });
    let handles: Vec<_> = setups
        .into_iter()
        .enumerate()
        .map(|(rank, setup)| {
            let settings = setup.settings.clone().unwrap_or_else(|| settings.clone());
            let (hub, net) = (hub.clone(), net.clone());
            std::thread::spawn(move || {
                let mut collective = Rank {
                    rank,
                    hub,
                    skew: setup.skew,
                };
                let mut trainer = Trainer::new(net, settings).unwrap();
                let outcome = trainer.run_distributed(
                    &setup.data,
                    None,
                    None,
                    &mut StopAfter(setup.stop_after),
                    &mut |_| Ok(()),
                    &mut collective,
                );
                (trainer, outcome)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn ranks<F: Float>(data: &Dataset, size: usize) -> Vec<RankSetup<F>> {
    (0..size)
        .map(|_| RankSetup {
            data: data.clone(),
            settings: None,
            stop_after: None,
            skew: F::zero(),
        })
        .collect()
}

/// `max |a − b| / max |a|` over every weight and bias.
fn relative_difference<F: Float>(a: &Network<F>, b: &Network<F>) -> f64 {
    let (mut diff, mut size) = (0f64, 0f64);
    for l in 2..=a.num_layers() {
        let pairs = a.weights(l).iter().zip(b.weights(l).iter());
        for (x, y) in pairs.chain(a.biases(l).iter().zip(b.biases(l).iter())) {
            diff = diff.max((x.as_f64() - y.as_f64()).abs());
            size = size.max(x.as_f64().abs());
        }
    }
    diff / size
}

fn digits(n: usize) -> Dataset {
    mnist_10k().unwrap().split_at(n).0
}

/// The lecture's network and recipe, and every improvement that touches the gradient (dropout,
/// L2 and L1, Adam), on P = 2 and 3 ranks in f64: one epoch agrees with one process to 1e-12
/// (1e-9 with Adam, whose step `m̂/√ŝ` magnifies the rounding of small gradients), the ranks hold
/// the same bits, and a second run repeats them.
#[test]
fn ranks_agree_with_one_process_in_f64() {
    let data = digits(1000);
    let net: Network<f64> = Network::builder(&[784, 30, 10]).seed(4).build().unwrap();
    let mut improved = TrainSettings::plain(1, 10, 0.5, 4);
    improved.dropout = 0.2;
    improved.regularization = Regularization { l2: 0.1, l1: 0.01 };
    improved.optimizer = Optimizer::adam();
    for (settings, bound) in [
        (TrainSettings::plain(1, 10, 3.0, 4), 1e-12),
        (improved, 1e-9),
    ] {
        let mut alone = Trainer::new(net.clone(), settings.clone()).unwrap();
        alone.run(&data, None, None, &mut ()).unwrap();
        for size in [2, 3] {
            let first = train_ranks(&net, &settings, ranks(&data, size));
            for (trainer, outcome) in &first {
                assert_eq!(*outcome.as_ref().unwrap(), Outcome::Finished);
                assert_eq!(trainer.network, first[0].0.network, "ranks differ");
                assert_eq!(trainer.optimizer_state, first[0].0.optimizer_state);
            }
            let d = relative_difference(&alone.network, &first[0].0.network);
            assert!(d < bound, "P = {size}, {}: {d:e}", settings.optimizer);
            let again = train_ranks(&net, &settings, ranks(&data, size));
            assert_eq!(again[0].0.network, first[0].0.network, "not repeatable");
            let cost = |t: &Trainer<f64>| t.reports[0].train_cost;
            assert!((cost(&alone) - cost(&first[0].0)).abs() < 1e-9 * cost(&alone));
        }
    }
}

/// In f32 the lecture's recipe after one epoch on P = 3 ranks: within the bound the MPI test
/// states for the CLI (2e-4 of the largest weight).
#[test]
fn ranks_agree_with_one_process_in_f32() {
    let data = digits(2000);
    let net: Network = Network::builder(&[784, 30, 10]).seed(0).build().unwrap();
    let settings = TrainSettings::plain(1, 10, 3.0, 0);
    let mut alone = Trainer::new(net.clone(), settings.clone()).unwrap();
    alone.run(&data, None, None, &mut ()).unwrap();
    let shared = train_ranks(&net, &settings, ranks(&data, 3));
    let d = relative_difference(&alone.network, &shared[0].0.network);
    assert!(d < 2e-4, "{d:e}");
}

/// Mini-batches smaller than the number of ranks (m = 2 on 3 ranks) leave a rank without
/// examples; it adds nothing, and the result is still the mean.
#[test]
fn a_rank_may_have_no_examples() {
    let data = digits(101); // the last mini-batch has one example
    let net: Network<f64> = Network::builder(&[784, 10, 10]).seed(1).build().unwrap();
    let settings = TrainSettings::plain(2, 2, 1.0, 1);
    let mut alone = Trainer::new(net.clone(), settings.clone()).unwrap();
    alone.run(&data, None, None, &mut ()).unwrap();
    let shared = train_ranks(&net, &settings, ranks(&data, 3));
    assert!(relative_difference(&alone.network, &shared[2].0.network) < 1e-12);
}

/// One rank's observer stops after mini-batch 7: every rank stops there, with the same state,
/// which is the state of a single process stopped there.
#[test]
fn one_rank_asking_to_stop_stops_all() {
    let data = digits(300);
    let net: Network<f64> = Network::builder(&[784, 10, 10]).seed(2).build().unwrap();
    let settings = TrainSettings::plain(2, 10, 1.0, 2);
    let mut setups = ranks(&data, 3);
    setups[1].stop_after = Some(7);
    let shared = train_ranks(&net, &settings, setups);
    let mut alone = Trainer::new(net.clone(), settings.clone()).unwrap();
    let outcome = alone.run(&data, None, None, &mut StopAfter(Some(7)));
    assert_eq!(outcome.unwrap(), Outcome::Interrupted);
    for (trainer, outcome) in &shared {
        assert_eq!(*outcome.as_ref().unwrap(), Outcome::Interrupted);
        assert_eq!((trainer.epoch, trainer.batch), (0, 7));
        assert_eq!(trainer.network, shared[0].0.network);
        assert!(relative_difference(&alone.network, &trainer.network) < 1e-12);
    }
}

/// A rank with other settings or other data, or sums that differ between ranks, is an error on
/// every rank (never a rank left waiting).
#[test]
fn disagreement_is_an_error_on_every_rank() {
    let data = digits(200);
    let net: Network<f64> = Network::builder(&[784, 10, 10]).seed(3).build().unwrap();
    let settings = TrainSettings::plain(1, 10, 1.0, 3);
    for other in [
        TrainSettings::plain(2, 10, 1.0, 3),
        TrainSettings::plain(1, 20, 1.0, 3),
    ] {
        let mut setups = ranks(&data, 2);
        setups[1].settings = Some(other);
        for (_, outcome) in train_ranks(&net, &settings, setups) {
            let e = outcome.unwrap_err().to_string();
            assert!(
                e.contains("the training settings differ between ranks"),
                "{e}"
            );
        }
    }
    let mut setups = ranks(&data, 2);
    setups[1].data = mnist_10k().unwrap().split_at(8000).1.split_at(200).0;
    for (_, outcome) in train_ranks(&net, &settings, setups) {
        let e = outcome.unwrap_err();
        assert!(matches!(e, Error::Distributed(_)), "{e}");
        assert!(
            e.to_string().contains("the data sets differ between ranks"),
            "{e}"
        );
    }
    let mut setups = ranks(&data, 2);
    setups[1].skew = 1e-9;
    for (_, outcome) in train_ranks(&net, &settings, setups) {
        let e = outcome.unwrap_err().to_string();
        assert!(
            e.contains("the weights after epoch 1 differ between ranks"),
            "{e}"
        );
        assert!(e.contains("rank 0 ") && e.contains("rank 1 "), "{e}");
    }
}
