//! Comma-separated data: one example per row, the label in one column, numbers elsewhere.
//!
//! A first row whose label field is not a number is taken as a header and skipped. Labels must
//! be whole numbers `0, 1, …` (written `3` or `3.0`); the number of classes is the largest label
//! plus one. Out of scope: quoted text fields, missing values, categorical features.

use crate::error::{Error, Result};
use crate::io::dataset::Dataset;
use std::path::Path;

/// How features are scaled after reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Each column mapped linearly onto `[0, 1]` by its minimum and maximum over the file
    /// (a constant column becomes 0).
    Auto,
    /// Every feature multiplied by this factor (e.g. `1/255` for pixels).
    Factor(f32),
}

/// Parses CSV text; `name` names the source in error messages.
pub fn parse_csv(text: &[u8], label_column: usize, scale: Scale, name: &Path) -> Result<Dataset> {
    let err = |line: usize, message: String| Error::data(name, format!("line {line}: {message}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let (mut features, mut labels, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut width: Option<usize> = None;
    for (row, record) in reader.records().enumerate() {
        let line = row + 1;
        let record = record.map_err(|e| err(line, format!("not CSV ({e})")))?;
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        let label_field = record.get(label_column).ok_or_else(|| {
            err(
                line,
                format!("{} fields, no label column {label_column}", record.len()),
            )
        })?;
        let label = match label_field.parse::<f64>() {
            Ok(v) => v,
            Err(_) if row == 0 => continue, // a header row
            Err(_) => return Err(err(line, format!("label `{label_field}` is not a number"))),
        };
        if !(label >= 0.0 && label.fract() == 0.0 && label < 1e6) {
            return Err(err(
                line,
                format!("label `{label_field}` is not a class number 0, 1, 2, …"),
            ));
        }
        match width {
            None => width = Some(record.len()),
            Some(w) if w != record.len() => {
                return Err(err(
                    line,
                    format!("{} fields where earlier rows have {w}", record.len()),
                ))
            }
            _ => {}
        }
        for (col, field) in record
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != label_column)
        {
            let value: f32 = field
                .parse()
                .map_err(|_| err(line, format!("field {} `{field}` is not a number", col + 1)))?;
            if !value.is_finite() {
                return Err(err(line, format!("field {} is not finite", col + 1)));
            }
            features.push(value);
        }
        labels.push(label as usize);
        lines.push(line);
    }
    let n_inputs = width
        .ok_or_else(|| Error::data(name, "no data rows"))?
        .saturating_sub(1);
    if n_inputs == 0 {
        return Err(Error::data(
            name,
            "rows need at least one feature beside the label",
        ));
    }
    rescale(&mut features, n_inputs, scale);
    if let Some(at) = features.iter().position(|v| !v.is_finite()) {
        let (row, feature) = (at / n_inputs, at % n_inputs);
        let field = if feature < label_column {
            feature
        } else {
            feature + 1
        } + 1;
        let why = match scale {
            Scale::Factor(f) => {
                format!("multiplied by the scale {f} it is {} in f32", features[at])
            }
            Scale::Auto => "its column's range overflows f32".to_string(),
        };
        return Err(err(
            lines[row],
            format!("field {field} is not a finite input feature: {why}"),
        ));
    }
    let n_classes = labels.iter().max().map_or(0, |&k| k + 1);
    Dataset::from_floats(features, n_inputs, labels, n_classes)
        .map_err(|e| Error::data(name, e.to_string()))
}

fn rescale(features: &mut [f32], n_inputs: usize, scale: Scale) {
    match scale {
        Scale::Factor(s) => features.iter_mut().for_each(|v| *v *= s),
        Scale::Auto => {
            for col in 0..n_inputs {
                let column = || features.iter().skip(col).step_by(n_inputs);
                let min = column().fold(f32::INFINITY, |m, &v| m.min(v));
                let max = column().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let range = max - min;
                features
                    .iter_mut()
                    .skip(col)
                    .step_by(n_inputs)
                    .for_each(|v| {
                        *v = if range > 0.0 { (*v - min) / range } else { 0.0 };
                    });
            }
        }
    }
}

/// Reads a CSV file (see [`parse_csv`]).
pub fn read_csv(path: &Path, label_column: usize, scale: Scale) -> Result<Dataset> {
    use std::io::Read;
    let limit = crate::limits::MAX_CSV_BYTES;
    let mut text = Vec::new();
    crate::io::file::open_for_reading(path)?
        .take(limit + 1)
        .read_to_end(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > limit {
        return Err(Error::data(
            path,
            format!("more than {} GiB of CSV (MAX_CSV_BYTES)", limit >> 30),
        ));
    }
    parse_csv(&text, label_column, scale, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Dataset> {
        parse_csv(text.as_bytes(), 0, Scale::Auto, Path::new("t.csv"))
    }

    #[test]
    fn reads_header_labels_and_scales_columns() {
        let d = parse("label,a,b\n1,0,10\n0,5,20\n2,10,20\n").unwrap();
        assert_eq!((d.len(), d.n_inputs(), d.n_classes()), (3, 2, 3));
        assert_eq!(d.labels(), &[1, 0, 2]);
        assert_eq!(d.input::<f64>(1).to_vec(), vec![0.5, 1.0]);
        let moved = parse_csv(
            b"1,4,x\n2,3,y\n".as_ref(),
            2,
            Scale::Factor(0.5),
            Path::new("t"),
        )
        .unwrap_err();
        assert!(moved.to_string().contains("line 2: label `y`"), "{moved}");
    }

    #[test]
    fn refuses_ragged_and_non_numeric_rows() {
        assert!(parse("1,2,3\n0,1\n")
            .unwrap_err()
            .to_string()
            .contains("line 2: 2 fields where earlier rows have 3"));
        assert!(parse("1,2,3\n0,x,1\n")
            .unwrap_err()
            .to_string()
            .contains("line 2: field 2 `x` is not a number"));
        assert!(parse("1,2\n-1,3\n")
            .unwrap_err()
            .to_string()
            .contains("class number"));
        assert!(parse("").unwrap_err().to_string().contains("no data rows"));
        let big = parse_csv(
            b"l,a\n1,2\n0,4e37\n",
            0,
            Scale::Factor(10.0),
            Path::new("t"),
        );
        let big = big.unwrap_err().to_string();
        assert!(
            big.contains("line 3: field 2 is not a finite input feature"),
            "{big}"
        );
        let wide = parse("1,3e38,1\n0,-3e38,2\n").unwrap_err().to_string();
        assert!(wide.contains("range overflows"), "{wide}");
        assert!(parse("1\n2\n")
            .unwrap_err()
            .to_string()
            .contains("at least one feature"));
    }
}
