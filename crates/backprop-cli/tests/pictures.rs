//! The pictures through the binary: `train --plot`, `evaluate --confusion`, `show-weights` and
//! `trace --plot`, each as PNG (decoded, of the expected size, with text rendered) and SVG
//! (parsed as XML); and the model-based paths of `trace` and `gradcheck`.

mod common;

use common::{fails, stdout as run};
use std::path::Path;

/// Decodes a PNG, checks its size, and that text was drawn into its top 30 rows (dark pixels on
/// the white background: the title) and that it holds some colour.
fn check_png(path: &Path, size: (u32, u32)) -> image::RgbImage {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let dark_title = (0..30)
        .flat_map(|y| (0..size.0).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark_title > 100,
        "{}: no title text rendered",
        path.display()
    );
    let coloured = img
        .pixels()
        .filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 60)
        .count();
    assert!(coloured > 500, "{}: no colour", path.display());
    img
}

/// Parses an SVG, checks its size and that some `<text>` contains `title`.
fn check_svg(path: &Path, size: (u32, u32), title: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some(size.0.to_string().as_str()));
    assert_eq!(root.attribute("height"), Some(size.1.to_string().as_str()));
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .any(|n| n.text().is_some_and(|t| t.contains(title))),
        "{}: no text `{title}`",
        path.display()
    );
}

#[test]
fn pictures_of_training_evaluation_weights_and_influence() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let s = |name: &str| p(name).to_str().unwrap().to_string();
    let model = s("m.safetensors");
    run(&[
        "train",
        "--layers",
        "784,10,10",
        "--epochs",
        "2",
        "--quiet",
        "--save",
        &model,
        "--plot",
        &s("train.png"),
    ]);
    check_png(&p("train.png"), (900, 700));
    run(&[
        "train",
        "--layers",
        "784,10,10",
        "--epochs",
        "1",
        "--quiet",
        "--plot",
        &s("train.svg"),
    ]);
    check_svg(&p("train.svg"), (900, 700), "Test accuracy per epoch");

    let text = run(&["evaluate", "--model", &model, "--confusion", &s("c.png")]);
    assert!(text.contains("Wrote the confusion matrix to"), "{text}");
    check_png(&p("c.png"), (760, 760));
    run(&["evaluate", "--model", &model, "--confusion", &s("c.svg")]);
    check_svg(&p("c.svg"), (760, 760), "Confusion matrix of m.safetensors");

    // 10 neurons: a 4 × 3 grid of 112-pixel tiles, red and blue weights.
    run(&["show-weights", "--model", &model, "--out", &s("w.png")]);
    let tiles = check_png(&p("w.png"), (560, 470));
    let red = tiles
        .pixels()
        .filter(|p| p.0[0] > 150 && p.0[2] < 120)
        .count();
    let blue = tiles
        .pixels()
        .filter(|p| p.0[2] > 150 && p.0[0] < 120)
        .count();
    assert!(red > 1000 && blue > 1000, "red {red}, blue {blue}");
    run(&[
        "show-weights",
        "--model",
        &model,
        "--layer",
        "2",
        "--out",
        &s("w.svg"),
    ]);
    check_svg(&p("w.svg"), (560, 470), "neuron 9");

    // Two panels, layers 2 and 3.
    run(&[
        "trace",
        "--model",
        &model,
        "--index",
        "3",
        "--plot",
        &s("i.png"),
    ]);
    check_png(&p("i.png"), (900, 510));
    run(&[
        "trace",
        "--layers",
        "4,3,2",
        "--plot",
        &s("i.svg"),
        "--json",
    ]);
    check_svg(&p("i.svg"), (900, 510), "layer 3: |δ_i^(3)|");
}

#[test]
fn trace_and_gradcheck_read_a_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let model = model.to_str().unwrap();
    run(&[
        "train",
        "--layers",
        "784,10,10",
        "--epochs",
        "1",
        "--quiet",
        "--save",
        model,
    ]);
    let t: serde_json::Value =
        serde_json::from_str(&run(&["trace", "--model", model, "--index", "3", "--json"])).unwrap();
    let p: serde_json::Value = serde_json::from_str(&run(&[
        "predict", "--model", model, "--index", "3", "--json",
    ]))
    .unwrap();
    assert_eq!(t["label"], p["label"], "the data's label is the target");
    let a: Vec<f64> = t["layers"][2]["a"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (mine, theirs) in a.iter().zip(p["activations"].as_array().unwrap()) {
        // predict runs in f32, trace in f64 on the same (exactly cast) weights.
        assert!((mine - theirs.as_f64().unwrap()).abs() < 1e-5);
    }
    // An image without --label: the target is the predicted class.
    let img = image::GrayImage::from_fn(28, 28, |x, _| {
        image::Luma([if (12..16).contains(&x) { 255 } else { 0 }])
    });
    let png = dir.path().join("one.png");
    img.save(&png).unwrap();
    let t: serde_json::Value = serde_json::from_str(&run(&[
        "trace",
        "--model",
        model,
        "--image",
        png.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    let a = t["layers"][2]["a"].as_array().unwrap();
    let predicted = (0..a.len())
        .max_by(|&i, &j| a[i].as_f64().unwrap().total_cmp(&a[j].as_f64().unwrap()))
        .unwrap();
    assert_eq!(t["label"], predicted);
    assert!(t["example"].as_str().unwrap().contains("predicted class"));
    let g = run(&[
        "gradcheck",
        "--model",
        model,
        "--examples",
        "2",
        "--max-per-layer",
        "20",
    ]);
    assert!(
        g.contains("test examples 0, 1 of mnist-10k") && g.contains("OK: "),
        "{g}"
    );

    fails(&["trace", "--model", model], 2, "give --index N");
    fails(
        &[
            "trace",
            "--model",
            model,
            "--index",
            "0",
            "--activation",
            "relu",
        ],
        2,
        "cannot be used with",
    );
    fails(
        &[
            "show-weights",
            "--model",
            model,
            "--layer",
            "3",
            "--out",
            "w.png",
        ],
        2,
        "not a square image",
    );
    fails(
        &[
            "show-weights",
            "--model",
            model,
            "--layer",
            "4",
            "--out",
            "w.png",
        ],
        2,
        "layers 2..=3",
    );
    fails(
        &[
            "show-weights",
            "--model",
            model,
            "--layer",
            "1",
            "--out",
            "w.png",
        ],
        2,
        "--layer",
    );
    fails(
        &["show-weights", "--model", model, "--out", "w.gif"],
        2,
        ".svg or .png",
    );
    fails(
        &["show-weights", "--model", "/nonexistent", "--out", "w.png"],
        2,
        "No such file",
    );
    fails(
        &[
            "evaluate",
            "--model",
            model,
            "--confusion",
            "/nonexistent/c.png",
        ],
        2,
        "does not exist",
    );
    fails(&["train", "--plot", "curves.pdf"], 2, ".svg or .png");
}
