//! One mini-batch forward + backward pass (steps 2–6, the mean gradient) by the matrix path, for
//! the configurations of `BENCHMARKS.md`: A `[784,30,10]` m=10, B `[784,100,10]` m=10,
//! C `[784,1024,1024,10]` m=128, and 784-30-10 with m=128 (between the two forms' sweet spots),
//! on every kernel this CPU runs (`portable`, `avx2`, `avx512`), one thread.

use backprop::{Init, Network, Workspace};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::Array2;

fn minibatch(c: &mut Criterion) {
    let configs: [(&str, &[usize], usize); 4] = [
        ("A 784-30-10 m=10", &[784, 30, 10], 10),
        ("B 784-100-10 m=10", &[784, 100, 10], 10),
        ("C 784-1024-1024-10 m=128", &[784, 1024, 1024, 10], 128),
        ("784-30-10 m=128", &[784, 30, 10], 128),
    ];
    backprop::set_threads(1);
    let mut group = c.benchmark_group("forward+backward");
    for (name, sizes, m) in configs {
        let net: Network = Network::builder(sizes)
            .init(Init::Scaled)
            .seed(1)
            .build()
            .unwrap();
        let mut ws = Workspace::new(&net, m);
        let x = Array2::from_shape_fn((m, sizes[0]), |(i, j)| {
            ((i * 31 + j * 17) % 256) as f32 / 255.0
        });
        let y = Array2::from_shape_fn((m, sizes[sizes.len() - 1]), |(i, j)| {
            if i % 10 == j {
                1.0
            } else {
                0.0
            }
        });
        ws.inputs_mut().assign(&x);
        ws.targets_mut().assign(&y);
        let weights: usize = sizes.windows(2).map(|p| p[0] * p[1]).sum();
        group.throughput(Throughput::Elements((6 * weights * m) as u64)); // floating-point operations
        for kernel in backprop::Kernel::supported() {
            backprop::set_kernel(kernel).unwrap();
            group.bench_function(format!("{name} {kernel}"), |b| {
                b.iter(|| {
                    net.forward_batch(&mut ws);
                    net.backward_batch(&mut ws)
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = minibatch
}
criterion_main!(benches);
