//! Benchmark peer: the backprop recipe in candle (candle-core + candle-nn, CPU device).
//!
//! Sigmoid on every layer, quadratic cost C = ||a - y||^2 / 2 per example, gradient = mean over
//! the mini-batch, plain SGD (candle_nn::SGD: W -= eta * grad, no momentum), float32. The
//! gradients come from candle's autograd: the loss is sum(||a - y||^2) / (2 * batch), whose
//! gradient is exactly the mean over the batch of the per-example gradient of ||a - y||^2 / 2.
//!
//! Prints one JSON line per epoch: {"peer": "candle", "epoch", "train_seconds", "test_accuracy"},
//! where train_seconds covers the shuffle, the mini-batch assembly and the updates only.

#[allow(dead_code)]
#[path = "../../rust_common/common.rs"]
mod common;

use std::time::Instant;

use candle_core::{Device, Result, Tensor, Var};
use candle_nn::{Optimizer, SGD};
use common::{Args, Split, CLASSES};

/// Feeds `x` (batch × n_in) through every layer: a = sigmoid(a · Wᵀ + b).
fn forward(x: &Tensor, params: &[(Var, Var)]) -> Result<Tensor> {
    let mut a = x.clone();
    for (w, b) in params {
        a = candle_nn::ops::sigmoid(&a.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?)?;
    }
    Ok(a)
}

/// Test accuracy, evaluated in chunks of 1000 examples (outside the timed region).
fn evaluate(test: &Split, params: &[(Var, Var)], dev: &Device) -> Result<usize> {
    let order: Vec<usize> = (0..test.len()).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut correct = 0;
    for chunk in order.chunks(1000) {
        test.batch(chunk, &mut x, &mut y);
        let xs = Tensor::from_slice(&x, (chunk.len(), test.dim), dev)?;
        let out: Vec<f32> = forward(&xs, params)?.flatten_all()?.to_vec1()?;
        correct += common::count_correct(&out, &test.labels[chunk[0]..chunk[0] + chunk.len()]);
    }
    Ok(correct)
}

fn main() -> Result<()> {
    let args = Args::parse();
    args.apply_threads();
    let dev = Device::Cpu;
    let (train, test) = common::load(&args.source);
    let mut rng = common::rng(args.seed);

    let mut params = Vec::new();
    for (l, (w, b)) in common::init_params(&args.layers, args.init, &mut rng).into_iter().enumerate() {
        let (n_in, n_out) = (args.layers[l], args.layers[l + 1]);
        params.push((
            Var::from_tensor(&Tensor::from_vec(w, (n_out, n_in), &dev)?)?,
            Var::from_tensor(&Tensor::from_vec(b, n_out, &dev)?)?,
        ));
    }
    let vars: Vec<Var> = params.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
    let mut sgd = SGD::new(vars, args.eta as f64)?;

    let mut order: Vec<usize> = (0..train.len()).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for epoch in 0..args.epochs {
        let start = Instant::now();
        common::shuffle(&mut order, &mut rng);
        for batch in order.chunks(args.batch_size) {
            train.batch(batch, &mut x, &mut y);
            let xs = Tensor::from_slice(&x, (batch.len(), train.dim), &dev)?;
            let ys = Tensor::from_slice(&y, (batch.len(), CLASSES), &dev)?;
            let a = forward(&xs, &params)?;
            let loss = ((a - ys)?.sqr()?.sum_all()? * (0.5 / batch.len() as f64))?;
            sgd.backward_step(&loss)?;
        }
        let seconds = start.elapsed().as_secs_f64();
        let correct = evaluate(&test, &params, &dev)?;
        common::report("candle", epoch + 1, seconds, correct, test.len());
    }
    Ok(())
}
