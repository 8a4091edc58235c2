//! `backprop gradcheck`: BP3/BP4 against central finite differences of the cost, in `f64`.
//!
//! For every checked weight and bias the relative error `|bp − fd| / max(|bp|, |fd|, floor)` is
//! computed by [`backprop::gradient_check`] on a few examples (the mean cost over them); one row
//! per layer shows the largest and mean error of `∇W^(l)` and `∇b^(l)` and the worst entry. The
//! command exits 0 only when every error is below `--tolerance`, 1 otherwise.
//!
//! A ReLU network has a kink at `z = 0`, where a difference quotient straddling it means nothing:
//! examples with a ReLU weighted input within reach of a step are skipped and the next one is
//! taken (see [`example::near_relu_kink`]), as the library's documentation of the check advises.
//!
//! A fresh network is drawn with the scaled initialisation unless `--init` says otherwise: with
//! N(0, 1) weights outputs saturate (`a = 1 − 10⁻¹¹`), and the cost of a saturated output is
//! computed with too few correct digits for any difference quotient.

use crate::cli::GradcheckArgs;
use crate::data_source;
use crate::error::{CliError, CliResult};
use crate::example::{self, Example};
use crate::io::emit;
use crate::lang::tr;
use backprop::{
    gradient_check, Architecture, ErrorStats, GradCheck, GradCheckOptions, Init, Network,
};
use ndarray::Array2;
use serde_json::json;

/// Candidates looked at, per example wanted, before giving up on avoiding ReLU kinks.
const CANDIDATES_PER_EXAMPLE: usize = 100;

pub fn run(args: &GradcheckArgs) -> CliResult<()> {
    if args.all_pairs {
        return all_pairs(args);
    }
    if let Some(sizes) = &args.net.layers {
        // Before the network is drawn: the examples may be what is too large.
        let wanted = usize::try_from(args.examples).unwrap_or(usize::MAX);
        backprop::limits::check_gradcheck_examples(wanted, sizes.0[0])?;
    }
    let subject = example::network(&args.net, Init::Scaled)?;
    let examples = examples(args, &subject.net)?;
    let check = check(&subject.net, &examples, args)?;
    let worst = check.max_relative_error();
    if args.json {
        emit(&format!(
            "{}\n",
            report_json(&subject.description.english(), &examples, &check, args)
        ))?;
    } else {
        emit(&report_text(
            &subject.description.text(),
            &examples,
            &check,
            args,
        ))?;
    }
    if worst < args.tolerance {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "gradient check failed: the largest relative error {worst:.3e} is not below the tolerance {:e}",
            args.tolerance
        )))
    }
}

/// `--examples N` examples: the first of the test split (`--model`) or drawn from the seed
/// (`--layers`), skipping those at a ReLU kink.
fn examples(args: &GradcheckArgs, net: &Network<f64>) -> CliResult<Vec<Example>> {
    let wanted = usize::try_from(args.examples).unwrap_or(usize::MAX);
    let sizes = net.sizes();
    backprop::limits::check_gradcheck_examples(wanted, sizes[0])?;
    let (n_in, n_out) = (sizes[0], net.output_size());
    let mut found = Vec::new();
    if args.net.model.is_some() {
        let splits = data_source::load(&args.data, true)?;
        splits.test.check_fits(net)?;
        if wanted > splits.test.len() {
            return Err(CliError::input(format!(
                "--examples {wanted}: the test split of {} has only {} examples",
                args.data.data,
                splits.test.len()
            )));
        }
        for index in 0..splits.test.len() {
            let e = example::from_test_split(&splits.test, index, &args.data.data)?;
            if !example::near_relu_kink(net, &e.x, args.step) {
                found.push(e);
            }
            if found.len() == wanted {
                break;
            }
        }
    } else {
        for r in 0..wanted * CANDIDATES_PER_EXAMPLE {
            let e = example::drawn(args.net.seed, r, n_in, n_out);
            if !example::near_relu_kink(net, &e.x, args.step) {
                found.push(e);
            }
            if found.len() == wanted {
                break;
            }
        }
    }
    if found.len() < wanted {
        return Err(CliError::input(format!(
            "found only {} of {wanted} examples far enough from ReLU's kink for the step h; try a smaller --step",
            found.len()
        )));
    }
    Ok(found)
}

fn check(net: &Network<f64>, examples: &[Example], args: &GradcheckArgs) -> CliResult<GradCheck> {
    let sizes = net.sizes();
    let (n_in, n_out) = (sizes[0], net.output_size());
    let mut xs = Array2::zeros((examples.len(), n_in)); // (m, n_1)
    let mut ys = Array2::zeros((examples.len(), n_out)); // (m, n_L)
    for (r, e) in examples.iter().enumerate() {
        xs.row_mut(r).assign(&e.x);
        ys.row_mut(r).assign(&e.target(net)?);
    }
    let options = GradCheckOptions {
        step: args.step,
        floor: args.floor,
        max_per_layer: Some(args.max_per_layer as usize),
        seed: args.net.seed,
        ..GradCheckOptions::default()
    };
    Ok(gradient_check(net, xs.view(), ys.view(), &options)?)
}

fn report_json(
    network: &str,
    examples: &[Example],
    check: &GradCheck,
    args: &GradcheckArgs,
) -> serde_json::Value {
    let layers = backprop::json::grad_check_layers(check);
    let examples: Vec<_> = examples
        .iter()
        .map(|e| json!({ "example": e.description.english(), "label": e.label }))
        .collect();
    let worst = check.max_relative_error();
    json!({
        "network": network,
        "examples": examples,
        "step": args.step,
        "floor": args.floor,
        "tolerance": args.tolerance,
        "max_relative_error": worst,
        "ok": worst < args.tolerance,
        "layers": layers,
    })
}

fn report_text(
    network: &str,
    examples: &[Example],
    check: &GradCheck,
    args: &GradcheckArgs,
) -> String {
    let mut out = tr!("gradcheck.of", network = network) + "\n";
    out += &tr!(
        "gradcheck.examples",
        count = examples.len(),
        examples = example::describe_all(examples, false),
    );
    out += "\n";
    out += &tr!(
        "gradcheck.method",
        step = format!("{:e}", args.step),
        floor = format!("{:e}", args.floor)
    );
    out += "\n";
    let (max, mean) = (tr!("gradcheck.max"), tr!("gradcheck.mean"));
    out += &format!(
        "{:>5} {:>6} {:>10} {:>10} {:>6} {:>10} {:>10}  {}\n",
        tr!("gradcheck.layer"),
        "∇W n",
        format!("∇W {max}"),
        format!("∇W {mean}"),
        "∇b n",
        format!("∇b {max}"),
        format!("∇b {mean}"),
        tr!("gradcheck.worst")
    );
    for c in &check.layers {
        let (w, b) = (&c.weights, &c.biases);
        out += &format!(
            "{:>5} {:>6} {:>10.2e} {:>10.2e} {:>6} {:>10.2e} {:>10.2e}  {}\n",
            c.l,
            w.checked,
            w.max,
            w.mean,
            b.checked,
            b.max,
            b.mean,
            worst_entry(c.l, w, b)
        );
    }
    let worst = check.max_relative_error();
    let (tolerance, worst) = (format!("{:e}", args.tolerance), format!("{worst:.2e}"));
    out += &match check.max_relative_error() < args.tolerance {
        true => tr!("gradcheck.ok", tolerance = tolerance, worst = worst),
        false => tr!("gradcheck.failed", tolerance = tolerance, worst = worst),
    };
    out + "\n"
}

/// `∇W^(2)[1,3]: backprop 1.234e-2, numeric 1.234e-2`, for the worse of the two tensors.
fn worst_entry(l: usize, w: &ErrorStats, b: &ErrorStats) -> String {
    let (name, stats) = if b.max > w.max {
        (format!("∇b^({l})"), b)
    } else {
        (format!("∇W^({l})"), w)
    };
    match &stats.worst {
        Some(e) if name.starts_with("∇W") => tr!(
            "gradcheck.entry",
            entry = format!("{name}[{},{}]", e.row, e.col),
            backprop = format!("{:.6e}", e.backprop),
            numeric = format!("{:.6e}", e.numeric)
        ),
        Some(e) => tr!(
            "gradcheck.entry",
            entry = format!("{name}[{}]", e.row),
            backprop = format!("{:.6e}", e.backprop),
            numeric = format!("{:.6e}", e.numeric)
        ),
        None => "-".into(),
    }
}

/// `--all-pairs`: a fresh network of `--layers` for every hidden activation × output activation ×
/// cost for which the cost is defined, one line each.
fn all_pairs(args: &GradcheckArgs) -> CliResult<()> {
    let mut out = tr!(
        "gradcheck.pairs",
        layers = args
            .net
            .layers
            .as_ref()
            .map_or(String::new(), |s| backprop::sizes_text(&s.0)),
        seed = args.net.seed,
        count = args.examples,
        step = format!("{:e}", args.step)
    ) + "\n";
    out += &format!(
        "{:<10} {:<10} {:<15} {:>14}\n",
        tr!("gradcheck.hidden"),
        tr!("gradcheck.output"),
        tr!("gradcheck.cost"),
        tr!("gradcheck.max_error")
    );
    let (mut pairs, mut failed, mut rows) = (0, 0, Vec::new());
    for (hidden, output, cost) in Architecture::combinations() {
        if let Some(sizes) = &args.net.layers {
            let arch = Architecture {
                sizes: sizes.0.clone(),
                hidden,
                output,
                cost,
            };
            if arch.validate().is_err() {
                continue; // e.g. softmax on a single output neuron
            }
        }
        let mut one = args.clone();
        one.all_pairs = false;
        (one.net.activation, one.net.output_activation, one.net.cost) = (hidden, output, cost);
        let net = example::network(&one.net, Init::Scaled)?.net;
        let worst = check(&net, &examples(&one, &net)?, &one)?.max_relative_error();
        let ok = worst < args.tolerance;
        pairs += 1;
        failed += usize::from(!ok);
        out += &format!(
            "{:<10} {:<10} {:<15} {:>14.2e}  {}\n",
            hidden.name(),
            output.name(),
            cost.name(),
            worst,
            if ok {
                tr!("gradcheck.pair_ok")
            } else {
                tr!("gradcheck.pair_failed")
            }
        );
        rows.push(json!({
            "activation": hidden.name(), "output_activation": output.name(),
            "cost": cost.name(), "max_relative_error": worst, "ok": ok,
        }));
    }
    if args.json {
        emit(&format!(
            "{}\n",
            json!({ "tolerance": args.tolerance, "ok": failed == 0, "pairs": rows })
        ))?;
    } else {
        let tolerance = format!("{:e}", args.tolerance);
        out += &if failed == 0 {
            tr!("gradcheck.pairs_ok", pairs = pairs, tolerance = tolerance)
        } else {
            tr!(
                "gradcheck.pairs_failed",
                failed = failed,
                pairs = pairs,
                tolerance = tolerance
            )
        };
        out += "\n";
        emit(&out)?;
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "gradient check failed for {failed} of {pairs} activation × cost pairs"
        )))
    }
}
