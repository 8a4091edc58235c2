//! The network and the examples that `trace` and `gradcheck` look at.
//!
//! The network is a saved model (`--model`, cast to `f64` exactly) or a fresh random one
//! (`--layers … --seed S`, built as `train` builds it, in `f64`). An example is an input of the
//! test split of `--data` (`--index N`), an image file (`--image`), or, drawn from the seed:
//! example `r` = 0, 1, … takes `x_j ~ U[0, 1)` for every input `j` and then a label
//! `k ~ U{0, …, n_L − 1}`, both from the generator `backprop::lecture::init::rng(S, 1000 + r)`. Its target
//! `y` is the one-hot vector of `k`, like every target of a data set.

use crate::cli::NetArgs;
use crate::error::{CliError, CliResult};
use crate::io::load_model;
use crate::lang::{phrase, Phrase};
use backprop::{Activation, Dataset, Init, Network};
use ndarray::Array1;
use rand::RngExt;

/// The stream of `backprop::lecture::init::rng` from which drawn example 0 comes (example `r`: `+ r`).
pub const EXAMPLE_STREAM: u64 = 1000;

/// A network in `f64` and a line that says what it is.
pub struct Subject {
    pub net: Network<f64>,
    pub description: Phrase,
}

/// The network of `--model` or of `--layers … --seed S` (with `--init`, else `default_init`).
pub fn network(args: &NetArgs, default_init: Init) -> CliResult<Subject> {
    if let Some(path) = &args.model {
        let net = load_model(path)?.network.cast::<f64>();
        let description = phrase!(
            "example.model",
            network = net.architecture(),
            path = path.display()
        );
        return Ok(Subject { net, description });
    }
    let sizes = args.layers.as_ref().map(|s| s.0.clone()).ok_or_else(|| {
        CliError::input("give --model PATH or --layers n_1,…,n_L for a random network")
    })?;
    let init = args.init.unwrap_or(default_init);
    let net = Network::builder(&sizes)
        .hidden(args.activation)
        .output(args.output_activation)
        .cost(args.cost)
        .init(init)
        .seed(args.seed)
        .build::<f64>()?;
    let description = phrase!(
        "example.fresh",
        network = net.architecture(),
        init = init,
        seed = args.seed
    );
    Ok(Subject { net, description })
}

/// One input `x` with the class `k` of its target, and where it came from.
#[derive(Clone, Debug)]
pub struct Example {
    pub x: Array1<f64>,
    pub label: usize,
    pub description: Phrase,
    /// For an example of a numbered series (drawn, or from a data set): its number and the
    /// series, e.g. `(3, Series::Test("mnist-10k"))`, so that several can be named at once.
    pub numbered: Option<(usize, Series)>,
}

/// Where numbered examples come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Series {
    /// The test split of the data set of this name.
    Test(String),
    /// Drawn from this seed.
    Random(u64),
}

impl Series {
    /// `test example 3 of mnist-10k`, `random examples 0, 3 drawn from seed 7`, in the language
    /// in use.
    fn describe(&self, numbers: &[usize]) -> Phrase {
        let list = numbers
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match (self, numbers.len()) {
            (Series::Test(name), 1) => phrase!("example.test", index = list, name = name),
            (Series::Test(name), _) => phrase!("example.tests", list = list, name = name),
            (Series::Random(seed), 1) => phrase!("example.random", index = list, seed = seed),
            (Series::Random(seed), _) => phrase!("example.randoms", list = list, seed = seed),
        }
    }
}

/// `test examples 0, 1, 2 of mnist-10k`, or the descriptions one after another.
pub fn describe_all(examples: &[Example], english: bool) -> String {
    let series: Vec<_> = examples
        .iter()
        .filter_map(|e| e.numbered.as_ref())
        .collect();
    let same = series.len() == examples.len() && series.windows(2).all(|w| w[0].1 == w[1].1);
    match series.first() {
        Some((_, origin)) if same => {
            let numbers: Vec<usize> = series.iter().map(|s| s.0).collect();
            origin.describe(&numbers).render(english)
        }
        _ => examples
            .iter()
            .map(|e| e.description.render(english))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

impl Example {
    /// The target `y`: the one-hot vector of the label for `net`'s output layer (refused when
    /// the label is out of its range).
    pub fn target(&self, net: &Network<f64>) -> backprop::Result<Array1<f64>> {
        net.target(self.label)
    }
}

/// Example `r` drawn from `seed` for a network with `n_in` inputs and `n_out` classes.
pub fn drawn(seed: u64, r: usize, n_in: usize, n_out: usize) -> Example {
    let mut rng = backprop::lecture::init::rng(seed, EXAMPLE_STREAM + r as u64);
    let x: Array1<f64> = (0..n_in).map(|_| rng.random::<f64>()).collect();
    let label = rng.random_range(0..n_out.max(1));
    Example {
        x,
        label,
        description: Series::Random(seed).describe(&[r]),
        numbered: Some((r, Series::Random(seed))),
    }
}

/// Refuses an `--index` past the end of the test split.
pub fn check_index(test: &Dataset, index: usize) -> CliResult<()> {
    if index < test.len() {
        return Ok(());
    }
    Err(CliError::input(format!(
        "--index {index} is out of range: the test split has {} examples",
        test.len()
    )))
}

/// Example `index` of the test split `test`, described with the data's `name`.
pub fn from_test_split(test: &Dataset, index: usize, name: &str) -> CliResult<Example> {
    check_index(test, index)?;
    Ok(Example {
        x: test.input::<f64>(index),
        label: test.labels()[index],
        description: Series::Test(name.to_string()).describe(&[index]),
        numbered: Some((index, Series::Test(name.to_string()))),
    })
}

/// Refuses a label that the output layer cannot hold.
pub fn check_label(label: usize, net: &Network<f64>) -> CliResult<()> {
    net.target(label)?;
    Ok(())
}

/// Whether the example `x` sits too close to ReLU's kink for finite differences of step `h`.
///
/// The check moves one parameter at a time by up to `2h`: a weight `w_ij^(l)` moves `z_i^(l)` by
/// `2h·a_j^(l-1)`, and the change flows on through later weights. So an example is refused when
/// some weighted input of a ReLU layer has `|z| < 2h · max(1, max |a|) · max(1, max |w|)^(L−2)`,
/// an estimate (not a bound) of how far one step can move a weighted input.
pub fn near_relu_kink(net: &Network<f64>, x: &Array1<f64>, h: f64) -> bool {
    let relu_layers: Vec<usize> = (2..=net.num_layers())
        .filter(|&l| net.activation(l) == Activation::Relu)
        .collect();
    if relu_layers.is_empty() {
        return false;
    }
    let y = Array1::zeros(net.output_size());
    let Ok(trace) = net.trace(x.view(), y.view()) else {
        return false;
    };
    let largest = |v: &mut dyn Iterator<Item = f64>| v.fold(1.0, |m: f64, e| m.max(e.abs()));
    let max_a = largest(&mut (1..net.num_layers()).flat_map(|l| trace.a(l).to_vec()));
    let max_w = largest(
        &mut (2..=net.num_layers())
            .flat_map(|l| net.weights(l).iter().copied().collect::<Vec<_>>()),
    );
    let margin = 2.0 * h * max_a * max_w.powi(net.num_layers() as i32 - 2);
    relu_layers
        .iter()
        .any(|&l| trace.z[l].iter().any(|z| z.abs() < margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_examples_are_reproducible_and_distinct() {
        let (a, b) = (drawn(7, 0, 4, 2), drawn(7, 0, 4, 2));
        assert_eq!(a.x, b.x);
        assert_eq!(a.label, b.label);
        assert_ne!(drawn(7, 1, 4, 2).x, a.x);
        assert!(a.x.iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(
            a.target(&Network::new(&[3, 2]).unwrap()).unwrap().sum(),
            1.0
        );
        let two = [a, drawn(7, 3, 4, 2)];
        crate::lang::set(crate::lang::Lang::En);
        assert_eq!(
            describe_all(&two, true),
            "random examples 0, 3 drawn from seed 7"
        );
    }
}
