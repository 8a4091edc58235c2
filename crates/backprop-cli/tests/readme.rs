//! The README's output blocks are what their commands print: every `$ backprop …` line of a
//! `text` block is run, in order, in one directory, and its output (stdout and stderr) must
//! match the lines below it. Since every machine computes the same bits (issue 20), so do the
//! numbers. What may differ is masked on both sides: durations (`0.02 s`) and the number of
//! threads. A line `...` stands for any lines, a line ending in ` …` or `    ...` too.
//! Commands that describe the machine or run forever (`backprop info` without a model,
//! `backprop serve`) are skipped.

mod common;

use common::backprop;

/// `(command line, expected output lines)` of every `$ backprop` line in a `text` block.
fn blocks(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut in_text = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_text = line == "```text";
            continue;
        }
        if !in_text {
            continue;
        }
        match line.strip_prefix("$ ") {
            Some(command) => found.push((command.to_string(), Vec::new())),
            None => {
                if let Some((_, lines)) = found.last_mut() {
                    lines.push(line.to_string());
                }
            }
        }
    }
    for (_, lines) in &mut found {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
    }
    found
}

/// `line` with durations (a number before `s` or `s/epoch)`) and thread counts (a number
/// before `thread(s)`) replaced by placeholders.
fn masked(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    for (i, pair) in words.windows(2).enumerate() {
        let (number, unit) = (pair[0].trim_start_matches('('), pair[1]);
        if number.parse::<f64>().is_err() {
            continue;
        }
        let open = if pair[0].starts_with('(') { "(" } else { "" };
        if unit == "s" || unit.starts_with("s/epoch") || unit == "с" || unit == "с)" {
            out[i] = format!("{open}<duration>");
        } else if unit.starts_with("thread(s)") || unit.starts_with("поток(ов)") {
            out[i] = "<threads>".into();
        }
    }
    out.join(" ")
}

/// Whether `actual` matches `expected`, where a line `...` (or `    ...`) stands for any lines.
fn matches(expected: &[String], actual: &[String]) -> Result<(), String> {
    let segments: Vec<&[String]> = expected.split(|l| l.trim() == "...").collect();
    let mut at = 0;
    for (k, segment) in segments.iter().enumerate() {
        let found = (at..=actual.len().saturating_sub(segment.len()))
            .find(|&i| actual[i..i + segment.len()] == **segment)
            .filter(|&i| k > 0 || i == 0);
        match found {
            Some(i) => at = i + segment.len(),
            None => return Err(format!("not found in order: {segment:#?}")),
        }
    }
    if segments.len() > 1 && !segments.last().unwrap().is_empty() && at != actual.len() {
        return Err("the last lines differ".into());
    }
    if segments.len() == 1 && at != actual.len() {
        return Err(format!("{} more lines printed", actual.len() - at));
    }
    Ok(())
}

#[test]
fn every_output_block_of_the_readme_is_what_its_command_prints() {
    check("README.md", 8);
}

/// The Russian README's tour: the same commands with `--lang ru`.
#[test]
fn every_output_block_of_the_russian_readme_is_what_its_command_prints() {
    check("README.ru.md", 4);
}

fn check(name: &str, at_least: usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    let readme = std::fs::read_to_string(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (command, expected) in blocks(&readme) {
        let command = command.split(" #").next().unwrap().trim().to_string();
        let args: Vec<&str> = command.split_whitespace().collect();
        if args[0] != "backprop" || args.len() == 1 || args[1..] == ["info"] || args[1] == "serve" {
            continue;
        }
        let out = backprop()
            .args(&args[1..])
            .current_dir(dir.path())
            .env_remove("BACKPROP_KERNEL")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let actual: Vec<String> = text.lines().map(masked).collect();
        let expected: Vec<String> = expected.iter().map(|l| masked(l)).collect();
        if let Err(why) = matches(&expected, &actual) {
            panic!("{name}: `$ {command}`: {why}\nprinted:\n{text}");
        }
        checked += 1;
    }
    assert!(checked >= at_least, "{name}: {checked} blocks checked");
}
