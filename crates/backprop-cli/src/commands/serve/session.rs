//! The state behind the page: one network, the [`Trainer`] that trains it, the data it learns
//! from, and what training has shown so far (the points of the curves, the epoch reports).
//!
//! Training runs on a thread of its own in short chunks: the observer stops the trainer after
//! about [`CHUNK`] of mini-batches (or after one, for Step; or when Pause is asked), the server
//! publishes a snapshot of the network and the progress, and the trainer resumes exactly where it
//! stopped (the library's resume guarantee), so chunking changes no number.

use crate::cli::DataArgs;
use crate::data_source::{self, Splits};
use crate::error::CliError;
use backprop::{
    Activation, Architecture, Cost, Init, Network, Observer, Spelling, TrainOptions, TrainSettings,
    Trainer,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long the trainer runs between two snapshots of the network.
const CHUNK: Duration = Duration::from_millis(150);

/// The most points of the live cost curve, and of the epoch reports, kept; beyond it every other
/// one is dropped (the state stays bounded however long training runs).
const MAX_POINTS: usize = 4000;

/// How many heavy requests compute, or hold their answers unsent, at once. Each may hold a few
/// hundred MB at the size limit (the JSON of `/api/steps` on 4M parameters is about 80 MB, and
/// its `serde_json::Value` more), and the machine may have 2 cores: 2 bounds both.
pub const HEAVY_PERMITS: usize = 2;

/// `--timeout`'s default, in seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 20;

/// The name of the embedded digits.
pub const EMBEDDED: &str = "mnist-10k";

/// What the page asks for: the network and the training settings. Every field is optional
/// (the lecture's defaults); unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `[n_1, …, n_L]`, input first.
    pub layers: Vec<usize>,
    /// σ of the hidden layers.
    pub activation: String,
    /// σ of the output layer.
    pub output_activation: String,
    /// The cost.
    pub cost: String,
    /// The initialisation.
    pub init: String,
    /// η.
    pub eta: f64,
    /// `m`.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// The seed of the initial weights and of the shuffles.
    pub seed: u64,
    /// The data set (empty: the server's default).
    pub data: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            layers: Architecture::LECTURE_SIZES.to_vec(),
            activation: Activation::Sigmoid.name().into(),
            output_activation: Activation::Sigmoid.name().into(),
            cost: Cost::Quadratic.name().into(),
            init: Init::Standard.name().into(),
            eta: TrainSettings::DEFAULT_ETA,
            batch_size: TrainSettings::DEFAULT_BATCH_SIZE,
            epochs: TrainSettings::DEFAULT_EPOCHS,
            seed: 0,
            data: String::new(),
        }
    }
}

impl Settings {
    /// The activations, cost and initialisation named, or a one-line error listing the names.
    fn parts(&self) -> Result<(Activation, Activation, Cost, Init), CliError> {
        Ok((
            Activation::parse_hidden(&self.activation)?,
            self.output_activation.parse()?,
            self.cost.parse()?,
            self.init.parse()?,
        ))
    }

    /// The training settings, by the library's translator of options (the page's fields are
    /// the keywords of Python's `train`).
    pub fn train_settings(&self) -> Result<TrainSettings, CliError> {
        let options = TrainOptions {
            epochs: Some(self.epochs),
            batch_size: Some(self.batch_size),
            eta: Some(self.eta),
            seed: Some(self.seed),
            ..TrainOptions::default()
        };
        Ok(options.plan(Spelling::Keywords)?.settings)
    }

    /// The fresh network these settings describe: the same seed gives the same weights. Sizes are
    /// bounded by [`backprop::limits::check_serve_network_size`] before anything is allocated.
    pub fn network(&self) -> Result<Network<f32>, CliError> {
        let (hidden, output, cost, init) = self.parts()?;
        backprop::Architecture {
            sizes: self.layers.clone(),
            hidden,
            output,
            cost,
        }
        .validate()?;
        backprop::limits::check_serve_network_size(&self.layers)?;
        Ok(Network::builder(&self.layers)
            .hidden(hidden)
            .output(output)
            .cost(cost)
            .init(init)
            .seed(self.seed)
            .build()?)
    }
}

/// Where training stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not started, or stopped by Step or Pause: Start continues.
    Ready,
    /// Training on its thread.
    Running,
    /// Every epoch done.
    Finished,
    /// Training failed (diverged); Reset starts again.
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Failed => "failed",
        }
    }
}

/// One network and its training.
pub struct Session {
    pub settings: Settings,
    pub splits: Arc<Splits>,
    /// The trainer; `None` while the training thread holds it.
    trainer: Option<Trainer<f32>>,
    /// The latest network (a snapshot while training runs).
    pub network: Arc<Network<f32>>,
    /// What the network is and where it came from, for the trace's `network` line.
    pub origin: String,
    pub status: Status,
    pub error: Option<String>,
    /// Epochs and mini-batches of the current epoch done.
    pub epoch: usize,
    pub batch: usize,
    pub batches_per_epoch: usize,
    /// Examples trained on since the reset, and the last measured rate.
    pub samples: u64,
    pub samples_per_second: f64,
    /// `{"x": epochs (fractional), "cost": running mean cost}` points of the live curve.
    pub points: Vec<Value>,
    /// The `--metrics` object of the epochs done (`EpochReport::metrics`), thinned like `points`.
    pub epochs: Vec<Value>,
    /// The confusion matrix on the test split after the last epoch.
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Changes with every reset, so that a training thread of an old session publishes nothing.
    generation: u64,
    /// Set to stop the training thread after the current mini-batch.
    stop: Arc<AtomicBool>,
    /// The training thread last started, joined before another one starts or a reset replaces
    /// the session: at most one network is ever trained at once.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    fn new(
        settings: Settings,
        splits: Arc<Splits>,
        network: Network<f32>,
        origin: String,
        generation: u64,
    ) -> Result<Session, CliError> {
        splits.train.check_fits(&network)?;
        splits.test.check_fits(&network)?;
        let trainer = Trainer::new(network.clone(), settings.train_settings()?)?;
        let batches_per_epoch = trainer.batches_per_epoch(splits.train.len());
        Ok(Session {
            settings,
            splits,
            trainer: Some(trainer),
            network: Arc::new(network),
            origin,
            status: Status::Ready,
            error: None,
            epoch: 0,
            batch: 0,
            batches_per_epoch,
            samples: 0,
            samples_per_second: 0.0,
            points: Vec::new(),
            epochs: Vec::new(),
            confusion: None,
            generation,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        })
    }

    fn progress(&self) -> Value {
        self.progress_with(&[])
    }

    /// The whole state, as the page reads it on connecting.
    pub fn state(&self) -> Value {
        json!({
            "status": self.status.name(),
            "error": self.error,
            "settings": self.settings,
            "network": self.network.architecture().to_string(),
            "sizes": self.network.sizes(),
            "origin": self.origin,
            "data": self.splits.description,
            "train_size": self.splits.train.len(),
            "test_size": self.splits.test.len(),
            "progress": self.progress(),
            "points": self.points,
            "epochs": self.epochs,
            "confusion": self.confusion,
        })
    }

    /// Where training stands, with the `points` of the cost curve added since the last report.
    fn progress_with(&self, points: &[Value]) -> Value {
        json!({
            "status": self.status.name(),
            "epoch": self.epoch,
            "batch": self.batch,
            "batches_per_epoch": self.batches_per_epoch,
            "epochs": self.settings.epochs,
            "samples": self.samples,
            "samples_per_second": self.samples_per_second,
            "points": points,
        })
    }
}

/// The server's state: the session, the data sets loaded, and the event channel of the page.
pub struct App {
    session: Mutex<Session>,
    /// `(event name, JSON data)` for every page listening (server-sent events).
    pub events: broadcast::Sender<(&'static str, String)>,
    data: Mutex<HashMap<String, Arc<Splits>>>,
    /// `--data` and its companions, from the command line.
    data_args: DataArgs,
    /// The data sets the page may choose, the default first.
    pub available: Vec<String>,
    /// Permits for heavy work (see `api::heavy`): a request that evaluates, traces, builds a
    /// network or answers many numbers holds one until its answer is sent.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// How long a request body may take to arrive (`--timeout`).
    pub timeout: Duration,
}

/// A refusal: the HTTP status it maps to and a one-line message.
#[derive(Debug)]
pub struct Refusal {
    pub conflict: bool,
    pub message: String,
}

impl From<CliError> for Refusal {
    fn from(e: CliError) -> Self {
        Refusal {
            conflict: false,
            message: e.to_string(),
        }
    }
}

fn conflict(message: impl Into<String>) -> Refusal {
    Refusal {
        conflict: true,
        message: message.into(),
    }
}

impl App {
    /// Loads the data of `--data` and the network of `--model` (or a fresh one).
    pub fn new(data_args: DataArgs, model: Option<&std::path::Path>) -> Result<App, CliError> {
        let splits = Arc::new(data_source::load(&data_args, false)?);
        let mut available = vec![data_args.data.clone()];
        for name in [EMBEDDED, "fashion-mnist", "mnist"] {
            let local = name == EMBEDDED
                || data_source::find_local(name, data_args.data_dir.as_deref()).is_some();
            if local && !available.iter().any(|a| a == name) {
                available.push(name.to_string());
            }
        }
        let mut settings = Settings {
            data: data_args.data.clone(),
            ..Settings::default()
        };
        let (network, origin) = match model {
            Some(path) => {
                let model = crate::io::load_model(path)?;
                // The initialisation it was trained from, when its `training` entry says.
                let init = model
                    .metadata
                    .get("training")
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .and_then(|t| Init::from_name(t["init"].as_str()?));
                if let Some(init) = init {
                    settings.init = init.name().into();
                }
                let net = model.network;
                settings.layers = net.sizes().to_vec();
                let arch = net.architecture();
                settings.activation = arch.hidden.name().into();
                settings.output_activation = arch.output.name().into();
                settings.cost = arch.cost.name().into();
                (net, format!("from {}", path.display()))
            }
            None => {
                settings.layers[0] = splits.train.n_inputs();
                *settings.layers.last_mut().expect("three layers") = splits.train.n_classes();
                let net = settings.network()?;
                (net, random_origin(&settings))
            }
        };
        let session = Session::new(settings, splits.clone(), network, origin, 0)?;
        let (events, _) = broadcast::channel(1024);
        Ok(App {
            session: Mutex::new(session),
            events,
            data: Mutex::new(HashMap::from([(data_args.data.clone(), splits)])),
            data_args,
            available,
            heavy: Arc::new(tokio::sync::Semaphore::new(HEAVY_PERMITS)),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_S),
        })
    }

    /// The session, locked (a panic elsewhere never makes it unusable).
    pub fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, event: &'static str, data: &Value) {
        let _ = self.events.send((event, data.to_string()));
    }

    /// The splits of the data set `name` (one of [`App::available`]), loaded once. Blocking.
    pub fn splits(&self, name: &str) -> Result<Arc<Splits>, CliError> {
        if !self.available.iter().any(|a| a == name) {
            return Err(CliError::input(format!(
                "unknown data set `{name}`; expected one of {}",
                self.available.join(", ")
            )));
        }
        if let Some(s) = self
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(s.clone());
        }
        let args = DataArgs {
            data: name.to_string(),
            ..self.data_args.clone()
        };
        let splits = Arc::new(data_source::load(&args, true)?);
        self.data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), splits.clone());
        Ok(splits)
    }

    /// Replaces the session by a fresh network of `settings` (stopping any training). Blocking.
    pub fn reset(&self, mut settings: Settings) -> Result<Value, Refusal> {
        if settings.data.is_empty() {
            settings.data = self.available[0].clone();
        }
        // Checked before the data is loaded: a bad name or size costs nothing.
        settings.parts()?;
        backprop::limits::check_serve_network_size(&settings.layers).map_err(CliError::from)?;
        settings.train_settings()?;
        let splits = self.splits(&settings.data)?;
        let network = settings.network()?;
        let origin = random_origin(&settings);
        let mut session = self.stopped_session();
        let generation = session.generation + 1;
        let fresh = Session::new(settings, splits, network, origin, generation)?;
        *session = fresh;
        let state = session.state();
        drop(session);
        self.send("state", &state);
        Ok(state)
    }

    /// The session locked with no training thread running: the running one is asked to stop
    /// after its mini-batch and joined (the lock released meanwhile, as the thread publishes
    /// under it), until none is left. Blocking.
    fn stopped_session(&self) -> MutexGuard<'_, Session> {
        loop {
            let mut session = self.session();
            let Some(thread) = session.thread.take() else {
                return session;
            };
            session.stop.store(true, Ordering::SeqCst);
            drop(session);
            let _ = thread.join();
        }
    }

    /// Starts training on a thread of its own (`one_batch`: one mini-batch, then stop).
    pub fn start(self: &Arc<Self>, one_batch: bool) -> Result<Value, Refusal> {
        let mut session = self.session();
        match session.status {
            Status::Running => return Err(conflict("training is already running: pause it first")),
            Status::Finished => return Err(conflict("training is finished: reset to train again")),
            Status::Failed => return Err(conflict("training failed: reset to train again")),
            Status::Ready => {}
        }
        let Some(trainer) = session.trainer.take() else {
            return Err(conflict("training is still stopping: try again"));
        };
        // The trainer is back, so the last thread has published its end and is exiting (it
        // takes the lock no more): joining it here is immediate.
        if let Some(thread) = session.thread.take() {
            let _ = thread.join();
        }
        let job = Job {
            app: self.clone(),
            splits: session.splits.clone(),
            stop: session.stop.clone(),
            generation: session.generation,
            one_batch,
        };
        session.stop.store(false, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("training".into())
            .spawn(move || job.run(trainer));
        match spawned {
            Ok(thread) => session.thread = Some(thread),
            Err(e) => {
                // The trainer went with the closure: this session cannot train any more.
                let message = format!("cannot start the training thread: {e}");
                session.status = Status::Failed;
                session.error = Some(message.clone());
                return Err(CliError::failure(message).into());
            }
        }
        session.status = Status::Running;
        session.error = None;
        let progress = session.progress();
        drop(session);
        self.send("progress", &progress);
        Ok(progress)
    }

    /// Asks the training thread to stop after the current mini-batch.
    pub fn pause(&self) -> Value {
        let session = self.session();
        session.stop.store(true, Ordering::SeqCst);
        session.progress()
    }

    /// Stops training (on shutdown).
    pub fn stop(&self) {
        self.session().stop.store(true, Ordering::SeqCst);
    }
}

fn random_origin(settings: &Settings) -> String {
    format!("random ({} init, seed {})", settings.init, settings.seed)
}

/// One run of the training thread.
struct Job {
    app: Arc<App>,
    splits: Arc<Splits>,
    stop: Arc<AtomicBool>,
    generation: u64,
    one_batch: bool,
}

/// Stops the trainer at the end of a chunk, on Pause, or after one mini-batch; counts examples.
struct Chunk<'a> {
    stop: &'a AtomicBool,
    deadline: Instant,
    one_batch: bool,
    n: usize,
    m: usize,
    examples: u64,
}

impl Chunk<'_> {
    fn flow(&self) -> ControlFlow<()> {
        if self.one_batch || self.stop.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl Observer for Chunk<'_> {
    fn batch_done(&mut self, done: usize, total: usize) -> ControlFlow<()> {
        let size = if done == total {
            self.n - (total - 1) * self.m
        } else {
            self.m
        };
        self.examples += size as u64;
        self.flow()
    }
    fn epoch_done(&mut self, _report: &backprop::EpochReport) -> ControlFlow<()> {
        self.flow()
    }
}

impl Job {
    fn run(self, mut trainer: Trainer<f32>) {
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.chunks(&mut trainer)));
        let (status, error) = match caught {
            Ok(Ok(status)) => (status, None),
            Ok(Err(e)) => (Status::Failed, Some(e.to_string())),
            Err(_) => (Status::Failed, Some("internal error in training".into())),
        };
        let mut session = self.app.session();
        if session.generation != self.generation {
            return; // reset meanwhile: this training is forgotten
        }
        session.status = status;
        session.error = error.clone();
        if status != Status::Failed {
            session.trainer = Some(trainer);
        }
        let progress = session.progress();
        drop(session);
        self.app.send("progress", &progress);
        if let Some(e) = error {
            self.app.send("failed", &json!({ "error": e }));
        }
    }

    /// Trains chunk after chunk until the end, Pause, or one mini-batch for Step.
    fn chunks(&self, trainer: &mut Trainer<f32>) -> backprop::Result<Status> {
        let (train, test) = (&self.splits.train, &self.splits.test);
        // Examples and seconds of this run, evaluation included: the rate the user sees.
        let (mut examples, started) = (0u64, Instant::now());
        loop {
            if trainer.epoch >= trainer.settings.epochs {
                return Ok(Status::Finished);
            }
            let mut chunk = Chunk {
                stop: &self.stop,
                deadline: Instant::now() + CHUNK,
                one_batch: self.one_batch,
                n: train.len(),
                m: trainer.settings.batch_size,
                examples: 0,
            };
            trainer.run(train, None, Some(test), &mut chunk)?;
            examples += chunk.examples;
            let rate = examples as f64 / started.elapsed().as_secs_f64().max(1e-9);
            if !self.publish(trainer, chunk.examples, rate) {
                return Ok(Status::Ready);
            }
            if trainer.epoch >= trainer.settings.epochs {
                return Ok(Status::Finished);
            }
            if self.one_batch || self.stop.load(Ordering::SeqCst) {
                return Ok(Status::Ready);
            }
        }
    }

    /// Publishes the network and the progress; `false` when the session was reset meanwhile.
    fn publish(&self, trainer: &mut Trainer<f32>, examples: u64, rate: f64) -> bool {
        let mut session = self.app.session();
        if session.generation != self.generation {
            return false;
        }
        let n = self.splits.train.len();
        // A network whose weights overflowed is never shown or exported: the last finite one
        // stays (training then ends with `Diverged`).
        if trainer.network.first_non_finite_layer().is_none() {
            session.network = Arc::new(trainer.network.clone());
        }
        session.epoch = trainer.epoch;
        session.batch = trainer.batch;
        session.samples += examples;
        session.samples_per_second = rate;
        let (mut new_epochs, mut new_points) = (Vec::new(), Vec::new());
        // The reports are taken from the trainer (serve saves no checkpoint, which would need
        // them all): a long run keeps no more of them than `epochs` does.
        for report in std::mem::take(&mut trainer.reports) {
            let mut metrics = report.metrics();
            if let Some(test) = &report.test {
                let confusion: Vec<Vec<usize>> = test
                    .confusion
                    .rows()
                    .into_iter()
                    .map(|r| r.to_vec())
                    .collect();
                session.confusion = Some(confusion.clone());
                metrics["confusion"] = json!(confusion);
            }
            new_points.push(json!({"x": report.epoch, "cost": report.train_cost}));
            session.epochs.push(metrics.clone());
            new_epochs.push(metrics);
        }
        if let Some(cost) = trainer.running_cost(n) {
            let x = trainer.epoch as f64 + trainer.batch as f64 / session.batches_per_epoch as f64;
            new_points.push(json!({"x": x, "cost": cost}));
        }
        session.points.extend(new_points.iter().cloned());
        thin(&mut session.points);
        thin(&mut session.epochs);
        let progress = session.progress_with(&new_points);
        drop(session);
        for metrics in &new_epochs {
            self.app.send("epoch", metrics);
        }
        self.app.send("progress", &progress);
        true
    }
}

/// Drops every other entry of `values` until it holds at most [`MAX_POINTS`] (a chunk of a
/// tiny network may add thousands of epochs at once).
fn thin(values: &mut Vec<Value>) {
    while values.len() > MAX_POINTS {
        let mut i = 0;
        values.retain(|_| {
            i += 1;
            i % 2 == 1
        });
    }
}
