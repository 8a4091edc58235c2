//! The table of training options that every front runs (`tests/fronts/train_options.json`),
//! through the library's translator: the settings and the validation split each case expects, or
//! the words of its error. The command line and Python run the same table through their syntax.

use backprop::{hold_out, Dataset, Rule, Schedule, Spelling, TrainOptions, Validation};
use serde_json::Value;

fn table() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fronts/train_options.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().clone()
}

/// The options of `given` (Python's keywords), as the library reads them; a name that does not
/// parse is the case's error.
fn options(given: &Value) -> Result<TrainOptions, String> {
    let number = |key: &str| given.get(key).and_then(Value::as_f64);
    let count = |key: &str| given.get(key).and_then(Value::as_u64).map(|n| n as usize);
    let text = |key: &str| given.get(key).and_then(Value::as_str);
    let validation = given.get("validation").map(|v| match v.as_u64() {
        Some(k) => Validation::Count(k as usize),
        None => Validation::Fraction(v.as_f64().unwrap()),
    });
    Ok(TrainOptions {
        epochs: Some(2),
        batch_size: count("batch_size"),
        eta: number("eta"),
        seed: given.get("seed").and_then(Value::as_u64),
        optimizer: text("optimizer")
            .map(str::parse::<Rule>)
            .transpose()
            .map_err(|e| e.to_string())?,
        momentum: number("momentum"),
        nesterov: given
            .get("nesterov")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        beta1: number("beta1"),
        beta2: number("beta2"),
        epsilon: number("epsilon"),
        lambda: number("lambda"),
        l1: number("l1"),
        schedule: text("schedule").map(Schedule::parse).transpose()?,
        dropout: number("dropout"),
        early_stop: count("early_stop"),
        validation,
        threads: count("threads"),
        processes_here: 1,
    })
}

/// The settings' JSON and whether a split is held out from 32 examples, or the error.
fn outcome(given: &Value) -> Result<(Value, bool), String> {
    let plan = options(given)?
        .plan(Spelling::Keywords)
        .map_err(|e| e.to_string())?;
    let examples = Dataset::from_floats(vec![0.5; 32 * 4], 4, vec![0; 32], 2).unwrap();
    let (_, held) = hold_out(examples, plan.validation).map_err(|e| e.to_string())?;
    Ok((
        serde_json::to_value(&plan.settings).unwrap(),
        held.is_some(),
    ))
}

#[test]
fn every_case_of_the_table() {
    let cases = table();
    assert!(cases.len() >= 20);
    for case in &cases {
        let given = &case["given"];
        match (outcome(given), case.get("error").and_then(Value::as_str)) {
            (Err(e), Some(words)) => assert!(e.contains(words), "{given}: `{words}` not in: {e}"),
            (Ok(_), Some(words)) => panic!("{given}: accepted, but the table expects `{words}`"),
            (Err(e), None) => panic!("{given}: refused: {e}"),
            (Ok((settings, held)), None) => {
                for (key, want) in case["settings"].as_object().into_iter().flatten() {
                    assert_eq!(&settings[key], want, "{given}: {key} in {settings}");
                }
                if let Some(want) = case.get("validation").and_then(Value::as_bool) {
                    assert_eq!(held, want, "{given}: validation split");
                }
            }
        }
    }
}
