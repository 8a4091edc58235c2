//! What the timing examples share: their positional arguments, read with defaults, and the
//! Fashion-MNIST of Debian's `dataset-fashion-mnist`.

#![allow(dead_code)]

use std::str::FromStr;

/// The positional arguments of an example.
pub struct Args(Vec<String>);

impl Args {
    pub fn new() -> Self {
        Args(std::env::args().collect())
    }

    /// Argument `i` (from 1), or `default`.
    pub fn text(&self, i: usize, default: &str) -> String {
        self.0
            .get(i)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// Argument `i` read as a `T` (a number, an `Init`, an `Activation`…), or `default`'s.
    pub fn get<T: FromStr>(&self, i: usize, default: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        let text = self.text(i, default);
        text.parse()
            .unwrap_or_else(|e| panic!("argument {i} `{text}`: {e:?}"))
    }

    /// Argument `i` as a comma-separated list (`784,30,10`, `1,2`), or `default`'s.
    pub fn list(&self, i: usize, default: &str) -> Vec<usize> {
        let text = self.text(i, default);
        text.split(',')
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|_| panic!("argument {i} `{text}`: a list of counts"))
            })
            .collect()
    }
}

/// Fashion-MNIST's training and test splits.
pub fn fashion() -> backprop::Result<(backprop::Dataset, backprop::Dataset)> {
    backprop::io::idx::read_standard_dir(std::path::Path::new("/usr/share/datasets/fashion-mnist"))
}

/// The kernel in use and the cache sizes it blocks for: the line every timing starts with.
pub fn print_machine() {
    let caches = backprop::kernel::cache::caches();
    println!(
        "kernel {}, L1d {} KiB, L2 {} KiB",
        backprop::kernel_in_use(),
        caches.l1d / 1024,
        caches.l2 / 1024
    );
}
