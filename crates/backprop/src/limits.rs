//! Every bound the library enforces before it allocates or loops, in one place.
//!
//! Sizes come from the command line and from files, so an attacker controls them. Each bound is
//! checked with overflow-checked arithmetic *before* the allocation or the work, and a refusal
//! names the size asked for and the limit. The limits are far above what this project is for
//! (the largest recipe, 784-1024-1024-10, has 1.9 million parameters, 7.5 MB in `f32`), and they
//! keep the memory of any command within a few times [`MAX_PARAMETER_BYTES`].

use crate::error::{Error, Result};

/// The most bytes the weights and biases of one network may take, in its float type: 1 GiB
/// (268 million `f32` parameters, 134 million `f64`). Training holds a few copies of this
/// (gradient, optimizer memory, the best network), so a network at the limit needs a few GiB.
pub const MAX_PARAMETER_BYTES: usize = 1 << 30;

/// The most neurons of an output layer: evaluation keeps an `n_L × n_L` confusion matrix of
/// counts (800 MB at the limit).
pub const MAX_OUTPUTS: usize = 10_000;

/// The most bytes of tensor data a model file or checkpoint may declare: 4 GiB, room for a
/// checkpoint's four networks (weights, two optimizer moments, the best network) at
/// [`MAX_PARAMETER_BYTES`] each in `f32`.
pub const MAX_FILE_TENSOR_BYTES: u64 = 4 << 30;

/// The most bytes of data an IDX file (images or labels) may declare: 1 GiB, 1.3 million 28×28
/// images (MNIST's training images take 47 MB). A gzipped file is decompressed only as far as
/// its header says, so a small "gzip bomb" cannot take more memory than this either.
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// The most bytes of a CSV file read: 1 GiB.
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// The most examples of one gradient check (each costs four passes per checked parameter).
pub const MAX_GRADCHECK_EXAMPLES: usize = 1000;

/// The most threads of the pool (more than the cores is allowed, up to this).
pub const MAX_THREADS: usize = 256;

/// The most weights and biases of a network built on request of a web page (`backprop serve`):
/// 4 Mi (16 MiB in `f32`), twice the largest recipe, so that a request cannot make the server
/// hold gigabytes (training keeps several copies: gradient, optimizer memory, snapshots).
pub const MAX_SERVE_PARAMETERS: usize = 4 << 20;

/// The most layers (input and output included) of a network built on request of a web page.
pub const MAX_SERVE_LAYERS: usize = 16;

/// `bytes` in the largest unit that keeps it at least 1: `6.4 GB`, `512 B`.
pub fn human_bytes(bytes: f64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// The number of weights and biases of a network with these sizes, `None` when it overflows.
pub fn parameter_count(sizes: &[usize]) -> Option<usize> {
    sizes.windows(2).try_fold(0usize, |total, pair| {
        let (n_in, n_out) = (pair[0], pair[1]);
        total.checked_add(n_out.checked_mul(n_in)?.checked_add(n_out)?)
    })
}

/// `784-30-10`, as the lecture writes sizes (the limits sit below the lecture's modules, so they
/// spell sizes themselves rather than take `sizes_text` from above).
fn dashed(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// Refuses sizes whose parameters would take more than [`MAX_PARAMETER_BYTES`] at
/// `bytes_per_value` bytes each, or an output layer above [`MAX_OUTPUTS`].
pub fn check_network_size(sizes: &[usize], bytes_per_value: usize) -> Result<()> {
    let text = dashed(sizes);
    let count = parameter_count(sizes);
    let fits = count
        .and_then(|n| n.checked_mul(bytes_per_value))
        .is_some_and(|b| b <= MAX_PARAMETER_BYTES);
    if !fits {
        let (count, bytes) = match count {
            Some(n) => (n.to_string(), n as f64 * bytes_per_value as f64),
            None => ("more than 2^64".into(), f64::INFINITY),
        };
        return Err(Error::InvalidNetwork(format!(
            "{text} has {count} parameters ({} at {bytes_per_value} bytes each); a network may take at most {} GiB (MAX_PARAMETER_BYTES)",
            human_bytes(bytes),
            MAX_PARAMETER_BYTES >> 30
        )));
    }
    match sizes.last() {
        Some(&n) if n > MAX_OUTPUTS => Err(Error::InvalidNetwork(format!(
            "{text} has {n} output neurons; at most {MAX_OUTPUTS} are supported (MAX_OUTPUTS: evaluation counts an n × n confusion matrix)"
        ))),
        _ => Ok(()),
    }
}

/// Refuses sizes beyond the bounds of a network built on request of a web page
/// ([`MAX_SERVE_LAYERS`], [`MAX_SERVE_PARAMETERS`]), then applies [`check_network_size`].
pub fn check_serve_network_size(sizes: &[usize]) -> Result<()> {
    if sizes.len() > MAX_SERVE_LAYERS {
        return Err(Error::InvalidNetwork(format!(
            "{} layers: at most {MAX_SERVE_LAYERS} are allowed here (MAX_SERVE_LAYERS)",
            sizes.len()
        )));
    }
    match parameter_count(sizes) {
        Some(n) if n <= MAX_SERVE_PARAMETERS => check_network_size(sizes, 4),
        count => Err(Error::InvalidNetwork(format!(
            "{} has {} parameters; at most {MAX_SERVE_PARAMETERS} are allowed here (MAX_SERVE_PARAMETERS)",
            dashed(sizes),
            count.map_or("more than 2^64".into(), |n| n.to_string())
        ))),
    }
}

/// Refuses a gradient check of `m` examples beyond [`MAX_GRADCHECK_EXAMPLES`], or whose inputs
/// (`m × n_inputs` values of `f64`) would take more than [`MAX_PARAMETER_BYTES`].
pub fn check_gradcheck_examples(m: usize, n_inputs: usize) -> Result<()> {
    if m > MAX_GRADCHECK_EXAMPLES {
        return Err(Error::InvalidSetting(format!(
            "a gradient check of {m} examples: at most {MAX_GRADCHECK_EXAMPLES} are allowed (MAX_GRADCHECK_EXAMPLES)"
        )));
    }
    let bytes = m.checked_mul(n_inputs).and_then(|v| v.checked_mul(8));
    if bytes.is_none_or(|b| b > MAX_PARAMETER_BYTES) {
        return Err(Error::InvalidSetting(format!(
            "a gradient check of {m} examples of {n_inputs} inputs would hold {} of inputs; at most {} GiB (MAX_PARAMETER_BYTES)",
            human_bytes(m as f64 * n_inputs as f64 * 8.0),
            MAX_PARAMETER_BYTES >> 30
        )));
    }
    Ok(())
}

/// Refuses more than [`MAX_THREADS`] threads; for more threads than `cores`, returns a note to
/// show the user.
pub fn check_threads(threads: usize, cores: usize) -> Result<Option<String>> {
    if threads == 0 {
        return Err(Error::InvalidSetting(
            "0 threads: at least 1 is needed".into(),
        ));
    }
    if threads > MAX_THREADS {
        return Err(Error::InvalidSetting(format!(
            "{threads} threads: at most {MAX_THREADS} are allowed (MAX_THREADS; this machine has {cores} cores)"
        )));
    }
    Ok((threads > cores).then(|| {
        format!(
            "note: {threads} threads on {cores} cores: threads beyond the cores only add overhead"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sizes() {
        assert_eq!(parameter_count(&[784, 30, 10]), Some(23860));
        assert_eq!(parameter_count(&[usize::MAX, 2]), None);
        assert_eq!(human_bytes(6.36e12), "6.4 TB");
        assert_eq!(human_bytes(512.0), "512 B");
        assert!(check_network_size(&[784, 30, 10], 4).is_ok());
        assert!(check_threads(3, 2).unwrap().is_some());
        assert!(check_threads(2, 2).unwrap().is_none());
        assert!(check_threads(100_000, 2).is_err());
        assert!(check_gradcheck_examples(1000, 784).is_ok());
        assert!(check_gradcheck_examples(1000, 100_000_000).is_err());
        assert!(check_serve_network_size(&[784, 1024, 1024, 10]).is_ok());
        assert!(check_serve_network_size(&[784, 1_000_000_000, 10]).is_err());
        assert!(check_serve_network_size(&[usize::MAX, usize::MAX]).is_err());
        assert!(check_serve_network_size(&[2; 17]).is_err());
    }
}
