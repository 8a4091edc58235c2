//! The five steps as a Markdown document with the formulas in LaTeX (`$…$`), ready to paste into
//! lecture notes: one section per step, one table row per vector.

use super::{cost_formula, largest, num, steps, summary, Row, Step, Traced, Value};
use crate::lang::tr;
use std::fmt::Write;

/// Values shown per cell without `--full`.
const FIRST: usize = 5;
/// Neurons listed as the most influential.
const TOP: usize = 3;

/// The whole trace as Markdown.
pub fn render(t: &Traced, full: bool) -> String {
    let mut out = format!("# {}\n\n", tr!("trace.md_title"));
    let _ = writeln!(
        out,
        "- {}",
        tr!("trace.md_network", network = t.network.text())
    );
    let _ = writeln!(
        out,
        "- {}",
        tr!("trace.example", example = t.example.text(), label = t.label)
    );
    let _ = writeln!(
        out,
        "- {}",
        tr!(
            "trace.md_notation",
            w = "$W^{(l)}$",
            shape = "$(n_l, n_{l-1})$",
            z = "$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$",
            delta = "$\\delta^{(l)} = \\partial C / \\partial z^{(l)}$"
        )
    );
    for step in steps(t) {
        out += &render_step(&step, full);
    }
    let formula = cost_formula(t.net.cost(), t.big_l(), t.label);
    let _ = write!(
        out,
        "\n## {}\n\n$$\n{} = {}\n$$\n",
        tr!("trace.cost_heading"),
        formula.latex,
        num(t.trace.cost)
    );
    out
}

fn render_step(step: &Step<'_>, full: bool) -> String {
    let mut out = format!(
        "\n## {}\n\n$$\n{}\n$$\n\n",
        tr!("trace.step", number = step.number, title = step.title),
        step.formula.latex
    );
    for note in &step.notes {
        let _ = writeln!(out, "- {}", note.latex);
    }
    if !step.notes.is_empty() {
        out.push('\n');
    }
    if step.rows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "| | {} | {} | {} | {} | {} |\n|---|---:|---:|---:|---:|---|",
        tr!("trace.size"),
        tr!("trace.norm"),
        tr!("trace.min"),
        tr!("trace.max"),
        tr!("trace.values")
    );
    for row in &step.rows {
        out += &table_row(row);
    }
    if full {
        for row in &step.rows {
            out += &all_values(row);
        }
    }
    out
}

fn table_row(row: &Row<'_>) -> String {
    let entries = row.value.entries();
    let (norm, min, max) = summary(&entries);
    let mut shown = match &row.value {
        Value::Vector(_) => {
            let mut v: Vec<String> = entries.iter().take(FIRST).map(|&v| num(v)).collect();
            if entries.len() > FIRST {
                v.push("…".into());
            }
            v.join(", ")
        }
        Value::Matrix(m) => {
            let cols = m.ncols();
            let top: Vec<String> = largest(&entries, TOP)
                .into_iter()
                .map(|k| format!("$[{},{}]$ {}", k / cols, k % cols, num(entries[k])))
                .collect();
            tr!("trace.largest", list = top.join(", "))
        }
    };
    if row.influence {
        let top: Vec<String> = largest(&entries, TOP)
            .into_iter()
            .map(|i| format!("{i}"))
            .collect();
        let delta = "$\\lvert\\delta_i\\rvert$";
        shown += "; ";
        shown += &tr!("trace.md_influential", delta = delta, list = top.join(", "));
    }
    format!(
        "| ${}$ | {} | {} | {} | {} | {} |\n",
        row.name.latex,
        row.value.shape(),
        num(norm),
        num(min),
        num(max),
        shown
    )
}

fn all_values(row: &Row<'_>) -> String {
    let body = match &row.value {
        Value::Vector(v) => format!("{:?}", v.to_vec()),
        Value::Matrix(m) => m
            .rows()
            .into_iter()
            .map(|r| format!("{:?}", r.to_vec()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    format!("\n${}$:\n\n```text\n{body}\n```\n", row.name.latex)
}
