//! `--data`: turning a name or path into a training and a test split.

use crate::cli::DataArgs;
use crate::download::{self, Mirror};
use crate::error::{CliError, CliResult};
use crate::lang::tr;
use backprop::io::csv::{read_csv, Scale};
use backprop::io::idx;
use backprop::Dataset;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};

/// A training split, a test split, and a short description of where they came from.
pub struct Splits {
    pub train: Dataset,
    pub test: Dataset,
    pub description: String,
}

/// The seed of the fixed shuffle that picks a CSV file's test rows (the same for every command).
const CSV_SPLIT_SEED: u64 = 0x5EED;

/// Loads both splits of `--data`; an empty split is refused.
pub fn load(args: &DataArgs, quiet: bool) -> CliResult<Splits> {
    let splits = load_splits(args, quiet)?;
    let name = &args.data;
    splits
        .train
        .check_not_empty(&format!("--data {name}: the training split"))?;
    splits
        .test
        .check_not_empty(&format!("--data {name}: the test split"))?;
    Ok(splits)
}

fn load_splits(args: &DataArgs, quiet: bool) -> CliResult<Splits> {
    match args.data.as_str() {
        "mnist-10k" => {
            let (train, test) = backprop::mnist_10k_split()?;
            Ok(Splits {
                description: tr!(
                    "data.embedded",
                    train = thousands(train.len()),
                    test = thousands(test.len())
                ),
                train,
                test,
            })
        }
        "mnist" | "fashion-mnist" => {
            let dir = standard_dir(args, quiet)?;
            idx_splits(&dir, &args.data)
        }
        other => {
            let path = PathBuf::from(other);
            if path.is_dir() {
                idx_splits(&path, other)
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                || path.is_file()
            {
                csv_splits(&path, args)
            } else {
                Err(CliError::input(format!(
                    "--data `{other}`: not mnist-10k, mnist, fashion-mnist, a directory of IDX files or a .csv file"
                )))
            }
        }
    }
}

fn idx_splits(dir: &Path, name: &str) -> CliResult<Splits> {
    let (train, test) = idx::read_standard_dir(dir)?;
    let description = tr!(
        "data.files",
        name = name,
        dir = dir.display(),
        train = train.len(),
        test = test.len()
    );
    Ok(Splits {
        train,
        test,
        description,
    })
}

/// The directory holding mnist or fashion-mnist: `--data-dir`, `$BACKPROP_DATA`, Debian's
/// package (Fashion-MNIST), then the cache, where it is downloaded when absent.
fn standard_dir(args: &DataArgs, quiet: bool) -> CliResult<PathBuf> {
    let name = args.data.as_str();
    if let Some(found) = find_local(name, args.data_dir.as_deref()) {
        return Ok(found);
    }
    let cache = cache_dir(name);
    let mirror: &Mirror = if name == "mnist" {
        &download::MNIST
    } else {
        &download::FASHION_MNIST
    };
    download::fetch(mirror, &cache, name, quiet)?;
    Ok(cache)
}

fn cache_dir(name: &str) -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("backprop")
        .join(name)
}

/// The directory that already holds mnist or fashion-mnist (`name`) on this machine, without
/// downloading: `data_dir`, `$BACKPROP_DATA`, Debian's package (Fashion-MNIST), then the cache.
pub fn find_local(name: &str, data_dir: Option<&Path>) -> Option<PathBuf> {
    let mut bases: Vec<PathBuf> = data_dir.into_iter().map(Path::to_path_buf).collect();
    bases.extend(std::env::var_os("BACKPROP_DATA").map(PathBuf::from));
    let mut candidates: Vec<PathBuf> = bases
        .iter()
        .flat_map(|b| [b.join(name), b.clone()])
        .collect();
    if name == "fashion-mnist" {
        candidates.push(PathBuf::from("/usr/share/datasets/fashion-mnist"));
    }
    candidates.push(cache_dir(name));
    candidates.into_iter().find(|d| idx::is_standard_dir(d))
}

fn csv_splits(path: &Path, args: &DataArgs) -> CliResult<Splits> {
    let scale = args.scale.map_or(Scale::Auto, |s| Scale::Factor(s as f32));
    let all = read_csv(path, args.label_column, scale)?;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.shuffle(&mut backprop::lecture::init::rng(CSV_SPLIT_SEED, 0));
    let n_test = ((all.len() as f64) * args.test_fraction).round() as usize;
    if n_test == 0 || n_test == all.len() {
        return Err(CliError::input(format!(
            "{}: {} rows cannot be split into training and test rows with --test-fraction {}",
            path.display(),
            all.len(),
            args.test_fraction
        )));
    }
    let (train_rows, test_rows) = order.split_at(all.len() - n_test);
    let description = format!(
        "{} (CSV): {} train, {} test",
        path.display(),
        train_rows.len(),
        test_rows.len()
    );
    Ok(Splits {
        train: all.select(train_rows),
        test: all.select(test_rows),
        description,
    })
}

/// `8,000`: a count with its thousands marked, as the banners print counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
