//! `backprop evaluate`: accuracy, mean cost and confusion matrix on the test split.

use crate::cli::EvaluateArgs;
use crate::data_source;
use crate::error::CliResult;
use crate::io::load_model;
use crate::lang::tr;
use crate::plot::{self, confusion::ConfusionMap};
use ndarray::Array2;

pub fn run(args: &EvaluateArgs) -> CliResult<()> {
    if let Some(path) = &args.confusion {
        plot::check_target(path, "--confusion")?;
    }
    let model = load_model(&args.model)?;
    let splits = data_source::load(&args.data, true)?;
    splits.test.check_fits(&model.network)?;
    let e = model.network.evaluate(&splits.test)?;
    let mut drawn = String::new();
    if let Some(path) = &args.confusion {
        let mut map = ConfusionMap {
            confusion: &e.confusion,
            title: format!(
                "Confusion matrix of {} on {}: {} / {} ({:.2}%)",
                args.model.file_name().map_or_else(
                    || args.model.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                ),
                args.data.data,
                e.correct,
                e.total,
                100.0 * e.accuracy()
            ),
        };
        if map.shown() < map.classes() {
            drawn = tr!(
                "evaluate.classes",
                last = map.shown() - 1,
                count = map.classes()
            );
            map.title += &drawn;
        }
        plot::save(&map, path)?;
    }
    if args.json {
        println!("{}", backprop::json::evaluation(&e));
        return Ok(());
    }
    println!("{}", tr!("model", path = args.model.display()));
    println!("{}", tr!("evaluate.data", data = splits.description));
    println!(
        "{}",
        tr!(
            "evaluate.accuracy",
            correct = e.correct,
            total = e.total,
            percent = format!("{:.2}", 100.0 * e.accuracy())
        )
    );
    println!("{}", tr!("evaluate.cost", cost = format!("{:.6}", e.cost)));
    println!("{}", tr!("evaluate.confusion"));
    print!("{}", confusion_table(&e.confusion));
    if let Some(path) = &args.confusion {
        println!(
            "{}",
            tr!("evaluate.wrote", drawn = drawn, path = path.display())
        );
    }
    Ok(())
}

/// The matrix as a right-aligned text table with row and column labels.
pub fn confusion_table(confusion: &Array2<usize>) -> String {
    let width = confusion
        .iter()
        .map(|v| v.to_string().len())
        .max()
        .unwrap_or(1)
        .max(confusion.ncols().to_string().len())
        + 1;
    let mut out = format!("{:>5}", "");
    for j in 0..confusion.ncols() {
        out += &format!("{j:>width$}");
    }
    out.push('\n');
    for (k, row) in confusion.rows().into_iter().enumerate() {
        out += &format!("{k:>5}");
        for v in row {
            out += &format!("{v:>width$}");
        }
        out.push('\n');
    }
    out
}
