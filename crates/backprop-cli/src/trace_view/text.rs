//! The five steps as compact tables for a terminal: per vector its size, norm, min, max and the
//! first few values (all of them with `--full`); per `δ` the most influential neurons.

use super::{cost_formula, largest, num, steps, summary, Row, Step, Traced, Value};
use crate::lang::tr;
use std::fmt::Write;

/// Values shown per row without `--full`.
const FIRST: usize = 5;
/// Neurons listed as the most influential (largest `|δ_i|`) and entries of a matrix listed.
const TOP: usize = 3;
/// Values per line with `--full`.
const PER_LINE: usize = 8;

/// The whole trace as text.
pub fn render(t: &Traced, full: bool) -> String {
    let steps = steps(t);
    let width = steps
        .iter()
        .flat_map(|s| &s.rows)
        .map(|r| r.name.text.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{}\n{}\n",
        tr!("trace.through", network = t.network.text()),
        tr!("trace.example", example = t.example.text(), label = t.label)
    );
    for step in &steps {
        out += &render_step(step, width, full);
    }
    let formula = cost_formula(t.net.cost(), t.big_l(), t.label);
    let _ = writeln!(
        out,
        "\n{}: {} = {}",
        tr!("trace.cost_heading"),
        formula.text,
        num(t.trace.cost)
    );
    out
}

fn render_step(step: &Step<'_>, width: usize, full: bool) -> String {
    let title = tr!("trace.step", number = step.number, title = step.title);
    let mut out = format!("\n{title}: {}\n", step.formula.text);
    for note in &step.notes {
        let _ = writeln!(out, "  {}", note.text);
    }
    if step.rows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "  {:<width$} {:>8} {:>11} {:>11} {:>11}  {}",
        "",
        tr!("trace.size"),
        tr!("trace.norm"),
        tr!("trace.min"),
        tr!("trace.max"),
        tr!("trace.values")
    );
    for row in &step.rows {
        out += &render_row(row, width, full);
    }
    out
}

fn render_row(row: &Row<'_>, width: usize, full: bool) -> String {
    let entries = row.value.entries();
    let (norm, min, max) = summary(&entries);
    let shown = match &row.value {
        Value::Vector(_) => first_values(&entries),
        Value::Matrix(m) => largest_entries(&entries, m.ncols()),
    };
    let mut out = format!(
        "  {:<width$} {:>8} {:>11} {:>11} {:>11}  {shown}\n",
        row.name.text,
        row.value.shape(),
        num(norm),
        num(min),
        num(max)
    );
    if row.influence {
        let top: Vec<String> = largest(&entries, TOP)
            .into_iter()
            .map(|i| tr!("trace.neuron", i = i, value = num(entries[i])))
            .collect();
        let line = tr!("trace.influential", list = top.join(", "));
        let _ = writeln!(out, "  {:<width$} {line}", "");
    }
    if full {
        out += &all_values(&row.value, width);
    }
    out
}

fn first_values(entries: &[f64]) -> String {
    let mut shown: Vec<String> = entries.iter().take(FIRST).map(|&v| num(v)).collect();
    if entries.len() > FIRST {
        shown.push("…".into());
    }
    shown.join(" ")
}

fn largest_entries(entries: &[f64], cols: usize) -> String {
    let top: Vec<String> = largest(entries, TOP)
        .into_iter()
        .map(|k| format!("[{},{}] {}", k / cols, k % cols, num(entries[k])))
        .collect();
    tr!("trace.largest", list = top.join(", "))
}

fn all_values(value: &Value<'_>, width: usize) -> String {
    let indent = " ".repeat(width + 4);
    let mut out = String::new();
    let mut line = |label: String, values: &[f64]| {
        for (c, chunk) in values.chunks(PER_LINE).enumerate() {
            let head = if c == 0 { label.clone() } else { String::new() };
            let cells: Vec<String> = chunk.iter().map(|&v| format!("{:>11}", num(v))).collect();
            let _ = writeln!(out, "{indent}{head:>8}{}", cells.join(""));
        }
    };
    match value {
        Value::Vector(v) => line(String::new(), &v.to_vec()),
        Value::Matrix(m) => {
            for (i, r) in m.rows().into_iter().enumerate() {
                line(tr!("trace.row", i = i), &r.to_vec());
            }
        }
    }
    out
}
