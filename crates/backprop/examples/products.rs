//! The speed of each step of the matrix path for one mini-batch, in GFLOP/s of its products, at
//! each thread count: the forward pass of each layer, BP2 of each hidden layer, BP4 of each
//! layer and the fused update (BP4 into `W`). Median of `rounds` timings of `reps` calls each.
//!
//! `cargo run --release --example products -- 784,1024,1024,10 128 [threads,...] [rounds] [σ]`
//!
//! (`σ` of every layer, `sigmoid` by default; `identity` leaves the products alone.)
//!
//! Compare with `python3 bench/matmul_ceiling.py` (the f32 matrix-multiply ceiling of the same
//! machine) run just before or after.

mod common;

use backprop::{Activation, Init, Network, Workspace};
use common::Args;
use std::time::Instant;

fn main() -> backprop::Result<()> {
    let args = Args::new();
    let sizes = args.list(1, "784,1024,1024,10");
    let m: usize = args.get(2, "128");
    let counts = args.list(3, "1,2");
    let rounds: usize = args.get(4, "7");
    let sigma: Activation = args.get(5, "sigmoid");
    let mut net: Network = Network::builder(&sizes)
        .hidden(sigma)
        .output(sigma)
        .init(Init::Scaled)
        .seed(1)
        .build()?;
    let mut ws = Workspace::new(&net, m);
    ws.inputs_mut()
        .indexed_iter_mut()
        .for_each(|((i, j), x)| *x = ((i * 31 + j * 17) % 256) as f32 / 255.0);
    ws.targets_mut()
        .indexed_iter_mut()
        .for_each(|((i, j), y)| *y = f32::from(u8::from(i % 10 == j)));
    let big_l = sizes.len();
    let flop = |l: usize| 2.0 * (m * sizes[l - 2] * sizes[l - 1]) as f64; // layer l's product
    common::print_machine();
    for &threads in &counts {
        backprop::set_threads(threads);
        let time = |reps: usize, f: &mut dyn FnMut()| {
            f(); // warm: buffers sized, caches filled
            let mut t: Vec<f64> = (0..rounds)
                .map(|_| {
                    let start = Instant::now();
                    (0..reps).for_each(|_| f());
                    start.elapsed().as_secs_f64() / reps as f64
                })
                .collect();
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        };
        let reps = (2e8 / flop(2)).clamp(5.0, 2000.0) as usize;
        let total: f64 = (2..=big_l).map(flop).sum();
        let s = time(reps, &mut || net.forward_batch(&mut ws));
        println!(
            "{threads} thread(s)  forward, all layers (σ included)   {:7.1} GFLOP/s  {:9.1} µs",
            total / s / 1e9,
            s * 1e6
        );
        net.output_error_batch(&mut ws);
        for l in (2..big_l).rev() {
            let s = time(reps, &mut || net.hidden_error_batch(&mut ws, l));
            println!("{threads} thread(s)  BP2 Δ^({l}) = Δ^({}) W ∘ σ'   {:>9} {:7.1} GFLOP/s  {:9.1} µs", l + 1, "", flop(l + 1) / s / 1e9, s * 1e6);
        }
        for l in (2..=big_l).rev() {
            let s = time(reps, &mut || net.weight_gradient_batch(&mut ws, l));
            println!(
                "{threads} thread(s)  BP4 ∇W^({l}) = Δᵀ A / m {:>16} {:7.1} GFLOP/s  {:9.1} µs",
                "",
                flop(l) / s / 1e9,
                s * 1e6
            );
        }
        let s = time(reps, &mut || {
            net.backward_batch_descend(&mut ws, 0.0);
        });
        println!("{threads} thread(s)  backward with the fused update (BP1–BP4) {:7.1} GFLOP/s  {:9.1} µs", (2.0 * total - flop(2)) / s / 1e9, s * 1e6);
    }
    Ok(())
}
