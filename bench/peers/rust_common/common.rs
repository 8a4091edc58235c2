//! Shared by the Rust benchmark peers (`bench/peers/candle`, `bench/peers/burn`), which include
//! this file with `#[path = "../../rust_common/common.rs"] mod common;`.
//!
//! It holds everything that is not the framework under test, so that the peers differ only in
//! how they run the recipe: the command line (the same one as the Python peers), IDX loading,
//! parameter initialisation, the seeded shuffle, mini-batch assembly and the JSON output line.
//!
//! The recipe (identical in every peer): sigmoid on every layer, quadratic cost
//! C = ||a - y||^2 / 2 per example, gradient = mean over the mini-batch, plain SGD
//! (W -= eta * mean grad, b -= eta * mean grad), training set reshuffled every epoch, float32.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Number of classes; targets are one-hot over these.
pub const CLASSES: usize = 10;

/// Weight initialisation.
#[derive(Clone, Copy, Debug)]
pub enum Init {
    /// Weights and biases N(0, 1).
    Standard,
    /// Weights N(0, 1/n_in), biases N(0, 1).
    Scaled,
}

/// Where the examples come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// `--data DIR`: the four standard (Fashion-)MNIST files.
    Standard(PathBuf),
    /// `--mnist10k DIR`: `images-idx3-ubyte.gz` + `labels-idx1-ubyte.gz`, first 8000 train,
    /// last 2000 test.
    Mnist10k(PathBuf),
}

/// The command line shared by every peer.
#[derive(Clone, Debug)]
pub struct Args {
    pub source: Source,
    pub layers: Vec<usize>,
    pub batch_size: usize,
    pub eta: f32,
    pub epochs: usize,
    pub init: Init,
    pub seed: u64,
    pub threads: usize,
}

const USAGE: &str = "usage: PEER (--data DIR | --mnist10k DIR) [--layers 784,30,10] [--batch-size 10] \
[--eta 3.0] [--epochs 1] [--init standard|scaled] [--seed 1] [--threads 1]";

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}\n{USAGE}");
    std::process::exit(2);
}

impl Args {
    /// Parses `std::env::args()`; exits with status 2 and a usage line on a bad command line.
    pub fn parse() -> Args {
        let mut source = None;
        let mut args = Args {
            source: Source::Standard(PathBuf::new()),
            layers: vec![784, 30, 10],
            batch_size: 10,
            eta: 3.0,
            epochs: 1,
            init: Init::Standard,
            seed: 1,
            threads: 1,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = it
                .next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")));
            let num = |v: &str| -> usize {
                v.parse()
                    .unwrap_or_else(|_| fail(&format!("{flag}: not a number: {v}")))
            };
            match flag.as_str() {
                "--data" => source = Some(Source::Standard(value.into())),
                "--mnist10k" => source = Some(Source::Mnist10k(value.into())),
                "--layers" => args.layers = value.split(',').map(|s| num(s.trim())).collect(),
                "--batch-size" => args.batch_size = num(&value),
                "--eta" => {
                    args.eta = value
                        .parse()
                        .unwrap_or_else(|_| fail(&format!("--eta: not a number: {value}")))
                }
                "--epochs" => args.epochs = num(&value),
                "--seed" => args.seed = num(&value) as u64,
                "--threads" => args.threads = num(&value).max(1),
                "--init" => {
                    args.init = match value.as_str() {
                        "standard" => Init::Standard,
                        "scaled" => Init::Scaled,
                        _ => fail("--init must be standard or scaled"),
                    }
                }
                _ => fail(&format!("unknown flag {flag}")),
            }
        }
        args.source = source.unwrap_or_else(|| fail("one of --data or --mnist10k is required"));
        if args.layers.len() < 2 || args.layers[0] == 0 || args.batch_size == 0 {
            fail("--layers needs at least two positive sizes and --batch-size must be positive");
        }
        if *args.layers.last().unwrap() != CLASSES {
            fail("the last layer must have 10 neurons (one-hot targets over 10 classes)");
        }
        args
    }

    /// Caps the worker threads of the framework. Both candle and burn-flex run their kernels
    /// (gemm included) on rayon, which reads RAYON_NUM_THREADS when its pool starts; call this
    /// first thing in `main`, while the process is still single-threaded.
    pub fn apply_threads(&self) {
        std::env::set_var("RAYON_NUM_THREADS", self.threads.to_string());
        // Candle reads its own variable first, then RAYON_NUM_THREADS; keep them in step.
        std::env::set_var("CANDLE_NUM_THREADS", self.threads.to_string());
    }
}

/// Examples kept as raw pixel bytes (row-major, `dim` bytes per example) and labels.
pub struct Split {
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    pub dim: usize,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Copies examples `idx` into `x` (len(idx) × dim, pixels / 255) and `y` (len(idx) × 10,
    /// one-hot). The Rust peers keep the data as bytes and convert each mini-batch.
    pub fn batch(&self, idx: &[usize], x: &mut Vec<f32>, y: &mut Vec<f32>) {
        x.clear();
        y.clear();
        y.resize(idx.len() * CLASSES, 0.0);
        for (row, &i) in idx.iter().enumerate() {
            let px = &self.pixels[i * self.dim..(i + 1) * self.dim];
            x.extend(px.iter().map(|&p| p as f32 / 255.0));
            y[row * CLASSES + self.labels[i] as usize] = 1.0;
        }
    }
}

fn read_gz(path: &Path) -> Vec<u8> {
    let file = File::open(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let mut bytes = Vec::new();
    GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    bytes
}

fn be_u32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Reads an IDX image file (magic 0x803) and its label file (magic 0x801).
fn read_idx(images: &Path, labels: &Path) -> Split {
    let img = read_gz(images);
    let lab = read_gz(labels);
    if be_u32(&img, 0) != 0x803 || be_u32(&lab, 0) != 0x801 {
        fail(&format!("bad IDX magic in {} / {}", images.display(), labels.display()));
    }
    let (n, rows, cols) = (be_u32(&img, 4), be_u32(&img, 8), be_u32(&img, 12));
    if be_u32(&lab, 4) != n || img.len() != 16 + n * rows * cols || lab.len() != 8 + n {
        fail(&format!("IDX sizes disagree in {} / {}", images.display(), labels.display()));
    }
    Split { pixels: img[16..].to_vec(), labels: lab[8..].to_vec(), dim: rows * cols }
}

/// Loads (train, test) for the chosen source.
pub fn load(source: &Source) -> (Split, Split) {
    match source {
        Source::Standard(dir) => (
            read_idx(&dir.join("train-images-idx3-ubyte.gz"), &dir.join("train-labels-idx1-ubyte.gz")),
            read_idx(&dir.join("t10k-images-idx3-ubyte.gz"), &dir.join("t10k-labels-idx1-ubyte.gz")),
        ),
        Source::Mnist10k(dir) => {
            let all = read_idx(&dir.join("images-idx3-ubyte.gz"), &dir.join("labels-idx1-ubyte.gz"));
            let cut = 8000.min(all.len());
            let d = all.dim;
            let train = Split { pixels: all.pixels[..cut * d].to_vec(), labels: all.labels[..cut].to_vec(), dim: d };
            let test = Split { pixels: all.pixels[cut * d..].to_vec(), labels: all.labels[cut..].to_vec(), dim: d };
            (train, test)
        }
    }
}

/// Initial parameters, one `(weights, biases)` per layer; weights row-major `n_out × n_in`.
pub fn init_params(layers: &[usize], init: Init, rng: &mut StdRng) -> Vec<(Vec<f32>, Vec<f32>)> {
    let unit = Normal::new(0.0f32, 1.0).unwrap();
    layers
        .windows(2)
        .map(|w| {
            let (n_in, n_out) = (w[0], w[1]);
            let sd = match init {
                Init::Standard => 1.0,
                Init::Scaled => 1.0 / (n_in as f32).sqrt(),
            };
            let weights = (0..n_in * n_out).map(|_| unit.sample(rng) * sd).collect();
            let biases = (0..n_out).map(|_| unit.sample(rng)).collect();
            (weights, biases)
        })
        .collect()
}

/// The seeded generator used for initialisation and for the per-epoch shuffle.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Shuffles the training order in place (once per epoch).
pub fn shuffle(order: &mut [usize], rng: &mut StdRng) {
    order.shuffle(rng);
}

/// Index of the largest value in each row of `out` (rows of `CLASSES`), compared with `labels`.
pub fn count_correct(out: &[f32], labels: &[u8]) -> usize {
    out.chunks(CLASSES)
        .zip(labels)
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            best.0 == label as usize
        })
        .count()
}

/// Prints the one JSON line per epoch that every peer emits (epochs counted from 1, as in
/// `backprop train --metrics`).
pub fn report(peer: &str, epoch: usize, train_seconds: f64, correct: usize, total: usize) {
    println!(
        "{{\"peer\": \"{peer}\", \"epoch\": {epoch}, \"train_seconds\": {train_seconds:.6}, \
\"test_correct\": {correct}, \"test_total\": {total}, \"test_accuracy\": {:.6}}}",
        correct as f64 / total.max(1) as f64
    );
}
