//! Benchmark peer: the backprop recipe in burn, on burn's own CPU backend `Flex` (burn-flex:
//! pure-Rust kernels, gemm for matrix products, rayon threads, AVX2/AVX-512 SIMD chosen at run
//! time; the AVX-512 gemm kernels need burn's `x86-v4` feature and a CPU that has AVX-512, see
//! Cargo.toml). burn-ndarray is deprecated in burn 0.22 in favour of Flex, and the CubeCL `cpu`
//! backend JIT-compiles through LLVM, which needs a native LLVM toolchain here.
//!
//! Sigmoid on every layer, quadratic cost C = ||a - y||^2 / 2 per example, gradient = mean over
//! the mini-batch, plain SGD (W -= eta * grad, no momentum), float32. The gradients come from
//! burn's autodiff: the loss is sum(||a - y||^2) / (2 * batch), whose gradient is exactly the mean
//! over the batch of the per-example gradient of ||a - y||^2 / 2. The update is applied by hand
//! on the tensors without autodiff, the same arithmetic as burn's `Sgd` without momentum.
//!
//! Prints one JSON line per epoch: {"peer": "burn", "epoch", "train_seconds", "test_accuracy"},
//! where train_seconds covers the shuffle, the mini-batch assembly and the updates only.

#[allow(dead_code)]
#[path = "../../rust_common/common.rs"]
mod common;

use std::time::Instant;

use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use common::{Args, Split, CLASSES};

/// One layer's parameters: weights `n_out × n_in` and biases `n_out`, tracked by autodiff.
struct Layer {
    w: Tensor<2>,
    b: Tensor<1>,
}

/// Feeds `x` (batch × n_in) through every layer: a = sigmoid(a · Wᵀ + b).
fn forward(x: Tensor<2>, layers: &[Layer]) -> Tensor<2> {
    layers.iter().fold(x, |a, l| {
        sigmoid(a.matmul(l.w.clone().transpose()) + l.b.clone().unsqueeze::<2>())
    })
}

/// Test accuracy, evaluated in chunks of 1000 examples on parameters without autodiff
/// (outside the timed region).
fn evaluate(test: &Split, layers: &[Layer], dev: &Device) -> usize {
    let plain: Vec<Layer> = layers
        .iter()
        .map(|l| Layer { w: l.w.clone().inner(), b: l.b.clone().inner() })
        .collect();
    let order: Vec<usize> = (0..test.len()).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut correct = 0;
    for chunk in order.chunks(1000) {
        test.batch(chunk, &mut x, &mut y);
        let xs = Tensor::<2>::from_data(TensorData::new(x.clone(), [chunk.len(), test.dim]), dev);
        let out = forward(xs, &plain).into_data();
        let out = out.as_slice::<f32>().expect("f32 output");
        correct += common::count_correct(out, &test.labels[chunk[0]..chunk[0] + chunk.len()]);
    }
    correct
}

fn main() {
    let args = Args::parse();
    args.apply_threads();
    let plain_dev = Device::flex();
    let dev = plain_dev.clone().autodiff();
    let (train, test) = common::load(&args.source);
    let mut rng = common::rng(args.seed);

    let mut layers: Vec<Layer> = common::init_params(&args.layers, args.init, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(l, (w, b))| {
            let (n_in, n_out) = (args.layers[l], args.layers[l + 1]);
            Layer {
                w: Tensor::<2>::from_data(TensorData::new(w, [n_out, n_in]), &dev).require_grad(),
                b: Tensor::<1>::from_data(TensorData::new(b, [n_out]), &dev).require_grad(),
            }
        })
        .collect();

    let mut order: Vec<usize> = (0..train.len()).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let eta = args.eta;
    for epoch in 0..args.epochs {
        let start = Instant::now();
        common::shuffle(&mut order, &mut rng);
        for batch in order.chunks(args.batch_size) {
            train.batch(batch, &mut x, &mut y);
            // The batch is an input, not a parameter: it lives on the plain Flex device.
            let xs = Tensor::<2>::from_data(TensorData::new(x.clone(), [batch.len(), train.dim]), &plain_dev);
            let ys = Tensor::<2>::from_data(TensorData::new(y.clone(), [batch.len(), CLASSES]), &plain_dev);
            let a = forward(xs.autodiff(), &layers);
            let loss = (a - ys.autodiff()).square().sum().mul_scalar(0.5 / batch.len() as f32);
            let mut grads = loss.backward();
            for l in layers.iter_mut() {
                let gw = l.w.grad_remove(&mut grads).expect("weight gradient");
                let gb = l.b.grad_remove(&mut grads).expect("bias gradient");
                let w = l.w.clone().inner() - gw.mul_scalar(eta);
                let b = l.b.clone().inner() - gb.mul_scalar(eta);
                l.w = w.autodiff().require_grad();
                l.b = b.autodiff().require_grad();
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let correct = evaluate(&test, &layers, &plain_dev);
        common::report("burn", epoch + 1, seconds, correct, test.len());
    }
}
