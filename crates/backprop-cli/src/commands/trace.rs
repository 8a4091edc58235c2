//! `backprop trace`: the five steps of the lecture on one example, printed in its notation —
//! step 1 `a^(1)`, step 2 `z^(l)` and `a^(l)`, step 3 `δ^(L)` (BP1), step 4 `δ^(l)` (BP2), step 5
//! `∇b^(l)` (BP3) and `∇W^(l)` (BP4), and the cost — as text, JSON or Markdown, with an optional
//! picture of `|δ^(l)|` per neuron.
//!
//! The trace runs in `f64` on the library's per-example reference path ([`backprop::Network::trace`]);
//! a saved `f32` model is cast to `f64` exactly.

use crate::cli::{TraceArgs, TraceFormat};
use crate::data_source;
use crate::error::{CliError, CliResult};
use crate::example::{self, Example};
use crate::io::emit;
use crate::lang::phrase;
use crate::lang::tr;
use crate::plot::{self, influence::InfluenceMap};
use crate::trace_view::{self, num, Traced};
use backprop::{argmax, Init, Network};

/// Neurons per layer drawn in red in the influence map.
const HIGHLIGHT: usize = 3;

pub fn run(args: &TraceArgs) -> CliResult<()> {
    if let Some(path) = &args.plot {
        plot::check_target(path, "--plot")?;
    }
    let subject = example::network(&args.net, Init::Standard)?;
    let example = choose_example(args, &subject.net)?;
    let traced = Traced::new(
        subject.net,
        example.x.view(),
        example.label,
        subject.description,
        example.description,
    )?;
    let format = if args.json {
        TraceFormat::Json
    } else {
        args.format
    };
    if let Some(path) = &args.plot {
        plot::save(&influence_map(&traced), path)?;
    }
    let mut out = match format {
        TraceFormat::Text => trace_view::text::render(&traced, args.full),
        TraceFormat::Markdown => trace_view::markdown::render(&traced, args.full),
        TraceFormat::Json => format!("{}\n", trace_view::json::render(&traced)),
    };
    if let Some(path) = args.plot.as_ref().filter(|_| format == TraceFormat::Text) {
        out += &format!("\n{}\n", tr!("trace.wrote_map", path = path.display()));
    }
    emit(&out)
}

/// The example of `--image`, `--index` or, for a fresh network, drawn from the seed; `--label`
/// replaces its label.
fn choose_example(args: &TraceArgs, net: &Network<f64>) -> CliResult<Example> {
    let sizes = net.sizes();
    let (n_in, n_out) = (sizes[0], net.output_size());
    let mut chosen = match (&args.image, args.index) {
        (Some(path), _) => {
            let x = super::predict::image_input(path, n_in)?.mapv(f64::from);
            let predicted = argmax(net.feedforward(x.view())?.view());
            let description = match args.label {
                Some(_) => phrase!("trace.image", path = path.display()),
                None => phrase!(
                    "trace.image_predicted",
                    path = path.display(),
                    class = predicted
                ),
            };
            Example {
                x,
                label: predicted,
                description,
                numbered: None,
            }
        }
        (None, Some(index)) => {
            let splits = data_source::load(&args.data, true)?;
            splits.test.check_fits(net)?;
            example::from_test_split(&splits.test, index, &args.data.data)?
        }
        (None, None) if args.net.model.is_none() => example::drawn(args.net.seed, 0, n_in, n_out),
        (None, None) => {
            return Err(CliError::input(
                "give --index N (an example of the test split of --data) or --image FILE",
            ))
        }
    };
    if let Some(k) = args.label {
        chosen.label = k;
    }
    example::check_label(chosen.label, net)?;
    Ok(chosen)
}

fn influence_map(t: &Traced) -> InfluenceMap {
    InfluenceMap {
        deltas: t.trace.delta.iter().map(|(l, d)| (l, d.to_vec())).collect(),
        title: format!(
            "Influence map |δ_i^(l)| = |∂C/∂z_i^(l)|: {}, label {}, C = {}",
            t.example.english(),
            t.label,
            num(t.trace.cost)
        ),
        highlight: HIGHLIGHT,
    }
}
