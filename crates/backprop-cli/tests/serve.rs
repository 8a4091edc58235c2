//! `backprop serve` over HTTP: every route, the training controls, and the bad requests. Each test
//! starts the binary on `127.0.0.1:0` and reads the URL it prints.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    url: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        let start = line
            .find("http://")
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        let url = line[start..].split_whitespace().next().unwrap();
        let url = url.trim_end_matches('/').to_string();
        assert!(url.starts_with("http://"), "{url}");
        Server { child, url, stderr }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// `(status, body)` of a GET.
    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let mut response = Self::agent()
            .get(format!("{}{path}", self.url))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap();
        (status, body)
    }

    fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.get(path);
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// `(status, JSON)` of a POST of `body` (raw text).
    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let mut response = Self::agent()
            .post(format!("{}{path}", self.url))
            .content_type("application/json")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap();
        assert!(
            status < 400 || (text.lines().count() == 1 && !text.contains("panicked")),
            "{path}: error not one line: {text}"
        );
        let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, json)
    }

    /// Waits until the training status is `status`.
    fn wait_for(&self, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, state) = self.get_json("/api/state");
            if state["status"] == status {
                return state;
            }
            assert!(Instant::now() < deadline, "never {status}: {state}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(mut self) -> (Option<i32>, String) {
        interrupt(&self.child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = std::mem::replace(&mut self.stderr, std::thread::spawn(String::new));
        (code, stderr.join().unwrap())
    }
}

#[cfg(unix)]
fn interrupt(child: &Child) {
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pixels(value: f64) -> String {
    json!({ "pixels": vec![value; 784] }).to_string()
}

#[test]
fn health_page_and_assets() {
    let server = Server::start(&[]);
    assert_eq!(
        server.get_json("/api/health"),
        (200, json!({"status": "ok"}))
    );
    let (status, page) = server.get("/");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains(r#"<canvas id="pad""#), "{page}");
    for asset in ["/app.js", "/style.css"] {
        let (status, text) = server.get(asset);
        assert_eq!(status, 200, "{asset}");
        let text = String::from_utf8(text).unwrap();
        // Nothing is fetched from elsewhere: no CDN, no web fonts.
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{asset}"
        );
        assert!(
            !text.contains("@font-face") && !text.contains("@import"),
            "{asset}"
        );
    }
    assert!(!page.contains("https://") && !page.contains("http://"));
    let (_, options) = server.get_json("/api/options");
    assert_eq!(
        options["costs"],
        json!(["quadratic", "cross-entropy", "log-likelihood"])
    );
    assert!(options["data"][0] == "mnist-10k", "{options}");
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn predict_and_example() {
    let server = Server::start(&[]);
    let (status, answer) = server.post("/api/predict", &pixels(0.0));
    assert_eq!(status, 200);
    let output = answer["output"].as_array().unwrap();
    assert_eq!(output.len(), 10);
    let k = answer["class"].as_u64().unwrap() as usize;
    let largest = output
        .iter()
        .map(|v| v.as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(output[k].as_f64().unwrap(), largest);
    let (status, example) = server.get_json("/api/example?index=7");
    assert_eq!(status, 200);
    assert_eq!(example["pixels"].as_array().unwrap().len(), 784);
    assert!(example["label"].as_u64().unwrap() < 10);
}

/// `/api/trace` is `backprop trace --json` of the same network on the same example; only the
/// two description lines differ.
#[test]
fn trace_is_the_json_of_backprop_trace() {
    let server = Server::start(&[]);
    let (_, example) = server.get_json("/api/example?index=3");
    let body = json!({"pixels": example["pixels"], "label": 5}).to_string();
    let (status, mut served) = server.post("/api/trace", &body);
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let (status, bytes) = server.get("/api/model");
    assert_eq!(status, 200);
    std::fs::write(&model, bytes).unwrap();
    let text = common::stdout(&[
        "trace",
        "--model",
        model.to_str().unwrap(),
        "--index",
        "3",
        "--label",
        "5",
        "--json",
    ]);
    let mut cli: Value = serde_json::from_str(&text).unwrap();
    for key in ["network", "example"] {
        assert!(served[key].is_string());
        served[key] = Value::Null;
        cli[key] = Value::Null;
    }
    for (key, value) in cli.as_object().unwrap() {
        let short = |v: &Value| v.to_string().chars().take(300).collect::<String>();
        assert!(
            served[key] == *value,
            "{key}: {} vs {}",
            short(&served[key]),
            short(value)
        );
    }
    assert_eq!(served, cli);
    // The page's view: the same trace, with σ' and BP2's carried error beside it.
    let (status, steps) = server.post("/api/steps", &body);
    assert_eq!(status, 200);
    assert_eq!(steps["trace"]["layers"], served["layers"]);
    assert_eq!(steps["sigma_prime"][2].as_array().unwrap().len(), 30);
    assert_eq!(steps["carried"][2].as_array().unwrap().len(), 30);
    assert!(steps["carried"][3].is_null());
    assert_eq!(steps["saturated_below"], 0.01);
    // Without a label, y is the predicted class.
    let (_, predicted) = server.post(
        "/api/predict",
        &json!({"pixels": example["pixels"]}).to_string(),
    );
    let (_, unlabelled) = server.post(
        "/api/trace",
        &json!({"pixels": example["pixels"]}).to_string(),
    );
    assert_eq!(unlabelled["label"], predicted["class"]);
}

#[test]
fn model_weights_and_confusion() {
    let server = Server::start(&[]);
    let (status, bytes) = server.get("/api/model");
    assert_eq!(status, 200);
    let model = backprop::io::model_file::from_bytes(&bytes).unwrap();
    assert_eq!(model.network.sizes(), [784, 30, 10]);
    let (status, onnx) = server.get("/api/model.onnx");
    assert_eq!(status, 200);
    assert!(onnx.len() > 4 * 23_860);
    let (_, w) = server.get_json("/api/weights?layer=2");
    assert_eq!(
        (w["rows"].as_u64(), w["cols"].as_u64()),
        (Some(30), Some(784))
    );
    let first = w["values"][0].as_f64().unwrap();
    assert_eq!(first, f64::from(model.network.weights(2)[[0, 0]]));
    let (_, c) = server.get_json("/api/confusion");
    assert_eq!(c["total"], 2000);
    let sum: u64 = c["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, 2000);
}

/// Start, a second start (409), Pause, Step (one mini-batch), Reset (same seed, same weights),
/// and a run to the end with its epoch report.
#[test]
fn training_controls() {
    let server = Server::start(&[]);
    let small = json!({"layers": [784, 10], "epochs": 2, "batch_size": 20, "seed": 4}).to_string();
    let (status, state) = server.post("/api/reset", &small);
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["status"], "ready");
    let (_, initial) = server.get_json("/api/weights");

    // Step: exactly one mini-batch.
    let (status, _) = server.post("/api/step", "");
    assert_eq!(status, 200);
    let state = server.wait_for("ready");
    assert_eq!(
        (
            state["progress"]["epoch"].as_u64(),
            state["progress"]["batch"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(state["progress"]["samples"], 20);
    let (_, stepped) = server.get_json("/api/weights");
    assert_ne!(stepped, initial);

    // Reset with the same seed: the same initial weights.
    server.post("/api/reset", &small);
    assert_eq!(server.get_json("/api/weights").1, initial);

    // Start, and a second start while it runs.
    let (status, _) = server.post("/api/start", "");
    assert_eq!(status, 200);
    // Refused whether it still runs or is already over.
    let (status, refused) = server.post("/api/start", "");
    assert_eq!(status, 409, "{refused}");
    let (status, _) = server.post("/api/step", "");
    assert_eq!(status, 409);
    let state = server.wait_for("finished");
    let epochs = state["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    for key in [
        "epoch",
        "train_cost",
        "test_accuracy",
        "test_correct",
        "eta",
    ] {
        assert!(!epochs[1][key].is_null(), "{key}: {}", epochs[1]);
    }
    assert!(
        epochs[1]["test_accuracy"].as_f64().unwrap() > 0.3,
        "{}",
        epochs[1]
    );
    assert!(!state["points"].as_array().unwrap().is_empty());
    let (status, _) = server.post("/api/start", "");
    assert_eq!(status, 409);

    // Pause: a long run stops after a mini-batch and Start continues it.
    server.post(
        "/api/reset",
        &json!({"layers": [784, 10], "epochs": 1000}).to_string(),
    );
    server.post("/api/start", "");
    std::thread::sleep(Duration::from_millis(300));
    server.post("/api/pause", "");
    let paused = server.wait_for("ready");
    let done = paused["progress"]["samples"].as_u64().unwrap();
    assert!(done > 0);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.get_json("/api/state").1["progress"]["samples"], done);
    let (status, _) = server.post("/api/start", "");
    assert_eq!(status, 200);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// The event stream starts with the whole state, then reports progress as training runs.
#[test]
fn events_stream() {
    let server = Server::start(&[]);
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /api/events HTTP/1.1\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = Vec::new();
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(seen.iter().any(|l: &String| l == "event: progress")) {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "stream ended: {seen:?}"
        );
        assert!(Instant::now() < deadline, "no progress event: {seen:?}");
        let l = line.trim_end().to_string();
        if l == "event: state" {
            server.post(
                "/api/reset",
                &json!({"layers": [784, 10], "epochs": 1}).to_string(),
            );
            server.post("/api/step", "");
        }
        seen.push(l);
    }
    assert!(seen[0].starts_with("HTTP/1.1 200"), "{seen:?}");
    assert!(
        seen.iter()
            .any(|l| l.eq_ignore_ascii_case("content-type: text/event-stream")),
        "{seen:?}"
    );
    // Ctrl-C ends the stream and the server, even with the stream open.
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// Every bad request is refused with one line of JSON, and the server lives on.
#[test]
fn bad_requests_are_refused_with_one_line_of_json() {
    let server = Server::start(&[]);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/api/predict", "{".into(), 400, "bad JSON"),
        ("/api/predict", "not json".into(), 400, "bad JSON"),
        ("/api/predict", "".into(), 400, "pixels"),
        ("/api/predict", deep.clone(), 400, "bad JSON"),
        ("/api/predict", r#"{"pixels": [0.5]}"#.into(), 400, "784"),
        ("/api/predict", pixels(2.0), 400, "[0, 1]"),
        ("/api/predict", pixels(-0.1), 400, "[0, 1]"),
        (
            "/api/predict",
            r#"{"pixels": ["x"]}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/predict",
            r#"{"pixels": [NaN]}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/predict",
            r#"{"pixels": [1e999]}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/predict",
            r#"{"pixels": null}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/predict",
            r#"{"pixels": [], "extra": 1}"#.into(),
            400,
            "unknown field",
        ),
        (
            "/api/trace",
            json!({"pixels": vec![0.5; 784], "label": 10}).to_string(),
            400,
            "label",
        ),
        (
            "/api/trace",
            json!({"pixels": vec![0.5; 784], "label": -1}).to_string(),
            400,
            "bad JSON",
        ),
        (
            "/api/trace",
            json!({"pixels": vec![0.5; 784], "label": 1e30}).to_string(),
            400,
            "bad JSON",
        ),
        (
            "/api/trace",
            json!({"pixels": vec![0.5; 784], "label": u64::MAX}).to_string(),
            400,
            "label",
        ),
        (
            "/api/steps",
            json!({"pixels": vec![0.5; 783]}).to_string(),
            400,
            "784",
        ),
        (
            "/api/reset",
            r#"{"layers": [784, 1000000000, 10]}"#.into(),
            400,
            "MAX_SERVE_PARAMETERS",
        ),
        (
            "/api/reset",
            r#"{"layers": [784, 18446744073709551615, 10]}"#.into(),
            400,
            "parameters",
        ),
        (
            "/api/reset",
            json!({"layers": vec![2; 40]}).to_string(),
            400,
            "MAX_SERVE_LAYERS",
        ),
        (
            "/api/reset",
            r#"{"layers": [784, 0, 10]}"#.into(),
            400,
            "no neurons",
        ),
        (
            "/api/reset",
            r#"{"layers": [784]}"#.into(),
            400,
            "two layers",
        ),
        ("/api/reset", r#"{"layers": [100, 10]}"#.into(), 400, "784"),
        (
            "/api/reset",
            r#"{"layers": [784, 30, 3]}"#.into(),
            400,
            "label",
        ),
        (
            "/api/reset",
            r#"{"layers": [784, -5, 10]}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/reset",
            r#"{"layers": [784, 1e9, 10]}"#.into(),
            400,
            "bad JSON",
        ),
        (
            "/api/reset",
            r#"{"activation": "softmax"}"#.into(),
            400,
            "hidden activation",
        ),
        (
            "/api/reset",
            r#"{"activation": "swish"}"#.into(),
            400,
            "hidden activation",
        ),
        (
            "/api/reset",
            r#"{"cost": "hinge"}"#.into(),
            400,
            "unknown cost",
        ),
        (
            "/api/reset",
            r#"{"init": "zeros"}"#.into(),
            400,
            "unknown init",
        ),
        (
            "/api/reset",
            r#"{"output_activation": "relu", "cost": "cross-entropy"}"#.into(),
            400,
            "cross-entropy",
        ),
        ("/api/reset", r#"{"eta": -1}"#.into(), 400, "η"),
        ("/api/reset", r#"{"eta": 0}"#.into(), 400, "η"),
        (
            "/api/reset",
            r#"{"batch_size": 0}"#.into(),
            400,
            "mini-batch",
        ),
        ("/api/reset", r#"{"epochs": 0}"#.into(), 400, "epochs"),
        (
            "/api/reset",
            r#"{"data": "../../etc/passwd"}"#.into(),
            400,
            "unknown data set",
        ),
        (
            "/api/reset",
            r#"{"data": "/etc"}"#.into(),
            400,
            "unknown data set",
        ),
        ("/api/reset", r#"{"seed": "x"}"#.into(), 400, "bad JSON"),
        (
            "/api/reset",
            r#"{"colour": 1}"#.into(),
            400,
            "unknown field",
        ),
        ("/api/reset", "[1, 2]".into(), 400, "bad JSON"),
    ];
    for (path, body, status, needle) in &cases {
        let (got, answer) = server.post(path, body);
        let shown = &body[..body.len().min(80)];
        assert_eq!(got, *status, "{path} {shown}: {answer}");
        let message = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(
            message.contains(needle),
            "{path} {shown}: `{needle}` not in {message}"
        );
    }
    // Too large a body: 413, one line of JSON.
    // (Sent by hand: the server answers before the body is all sent, so a client may see its
    // writes fail; the answer is there to read.)
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!("POST /api/predict HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", 1 << 20);
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&vec![b' '; 1 << 20]);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request body is larger than"#),
        "{answer}"
    );
    // Queries and routes.
    for (path, status) in [
        ("/api/example?index=100000", 400),
        ("/api/example?index=abc", 400),
        ("/api/example?index=-1", 400),
        ("/api/weights?layer=1", 400),
        ("/api/weights?layer=99999999999999999999999", 400),
        ("/api/nothing", 404),
        ("/../../etc/passwd", 404),
        ("/api/../Cargo.toml", 404),
        ("/%2e%2e/%2e%2e/etc/passwd", 404),
        ("/app.js/../../../etc/passwd", 404),
    ] {
        let (got, body) = server.get(path);
        assert_eq!(got, status, "{path}");
        let answer: Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{path}"));
        assert!(answer["error"].is_string(), "{path}");
    }
    let (status, _) = server.post("/api/health", "");
    assert_eq!(status, 405);
    // Still alive and well.
    assert_eq!(server.get_json("/api/health").1, json!({"status": "ok"}));
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0));
    assert!(
        !stderr.contains("panic") && !stderr.contains("internal error"),
        "{stderr}"
    );
}

/// The status of a raw POST of `{}` to `path` with these `Host` and `Origin` headers.
fn post_with(server: &Server, path: &str, host: &str, origin: Option<&str>) -> (u16, String) {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer.lines().last().unwrap_or("").to_string())
}

/// A page of another site open in the user's browser cannot drive the server: a foreign
/// `Origin`, or (on loopback) a `Host` that is not a loopback name as a DNS-rebinding page would
/// send, is refused with 403; the page's own requests and those without `Origin` (curl) pass.
#[test]
fn requests_from_other_sites_are_refused() {
    let server = Server::start(&[]);
    let here = server.url.trim_start_matches("http://").to_string();
    let port = here.rsplit_once(':').unwrap().1;
    let localhost = format!("localhost:{port}");
    let own = format!("http://{here}");
    for (host, origin, expected) in [
        (here.as_str(), None, 200),
        (here.as_str(), Some(own.as_str()), 200),
        (
            localhost.as_str(),
            Some(&*format!("http://{localhost}")),
            200,
        ),
        (here.as_str(), Some("http://evil.example"), 403),
        (here.as_str(), Some("null"), 403),
        (here.as_str(), Some(&*format!("https://{here}")), 403),
        ("evil.example", Some("http://evil.example"), 403),
        (&*format!("evil.example:{port}"), None, 403),
        (&*format!("LOCALHOST:{port}"), None, 200),
        (&*format!("localhost.:{port}"), None, 200),
        (&*format!("[::1]:{port}"), None, 200),
        (&*format!("[::1]evil.example:{port}"), None, 403),
        (&*format!("{here}@evil.example"), None, 403),
        ("127.0.0.1:1", None, 403),
        // Two Host headers (the second one injected by the helper's raw request).
        (&*format!("{here}\r\nHost: evil.example:{port}"), None, 403),
    ] {
        let (status, body) = post_with(&server, "/api/pause", host, origin);
        assert_eq!(status, expected, "Host {host}, Origin {origin:?}: {body}");
        if expected == 403 {
            assert!(body.starts_with("{\"error\":"), "{body}");
        }
    }
    let (status, _) = server.post("/api/pause", "");
    assert_eq!(status, 200);
}

#[test]
fn another_host_is_warned_about() {
    let server = Server::start(&["--host", "0.0.0.0"]);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0));
    assert!(stderr.contains("warning: listening on 0.0.0.0"), "{stderr}");
}

/// Found by attacking the server: of many simultaneous starts exactly one trains; a diverged
/// training is refused a restart until a reset, and its export never crashes.
#[test]
fn concurrent_starts_and_divergence() {
    let server = std::sync::Arc::new(Server::start(&[]));
    server.post(
        "/api/reset",
        &json!({"layers": [784, 30, 10], "epochs": 1000}).to_string(),
    );
    let codes: Vec<u16> = (0..16)
        .map(|_| {
            let server = server.clone();
            std::thread::spawn(move || server.post("/api/start", "").0)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 15, "{codes:?}");
    server.post(
        "/api/reset",
        &json!({"layers": [784, 10], "eta": 1e308, "epochs": 3}).to_string(),
    );
    server.post("/api/start", "");
    let state = server.wait_for("failed");
    assert!(
        state["error"].as_str().unwrap().contains("diverged"),
        "{state}"
    );
    assert_eq!(server.post("/api/start", "").0, 409);
    // The last snapshot may hold NaN (ONNX then refuses it: 400) or not (200); never a crash.
    let (status, body) = server.get("/api/model.onnx");
    assert!(
        status == 200 || (status == 400 && body.starts_with(b"{\"error\"")),
        "{status}"
    );
    assert_eq!(server.post("/api/reset", "").0, 200);
    assert_eq!(server.post("/api/step", "").0, 200);
}

/// The answer to `request`, sent as it is on a new connection, read until the server closes
/// it or nothing comes for `wait`, and how long that took.
fn raw(server: &Server, request: &str, wait: Duration) -> (String, Duration) {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// The threads of process `pid` named `name` (Linux: /proc/PID/task/*/comm).
#[cfg(target_os = "linux")]
fn threads_named(pid: u32, name: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// `key` of /proc/PID/status, in kB (`VmRSS`, `VmHWM`).
#[cfg(target_os = "linux")]
fn memory_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Found by attacking the server: Reset + Start repeated at a large size ran one training thread
/// per reset at once (the old one stopped only after its mini-batch). A reset now stops and
/// joins the old thread first: never more than one trains.
#[cfg(target_os = "linux")]
#[test]
fn a_reset_stops_the_old_training_before_another_starts() {
    let server = Server::start(&[]);
    let pid = server.child.id();
    let large = json!({"layers": [784, 4000, 10], "batch_size": 400, "epochs": 100}).to_string();
    let mut most = 0;
    for _ in 0..4 {
        assert_eq!(server.post("/api/reset", &large).0, 200);
        assert_eq!(server.post("/api/start", "").0, 200);
        most = most.max(threads_named(pid, "training"));
    }
    assert_eq!(most, 1, "training threads at once");
    assert_eq!(server.post("/api/pause", "").0, 200);
}

/// Found by attacking the server: parallel heavy requests ran on the async workers (and on an
/// unbounded blocking pool) and kept `/api/health` from answering for seconds. They now wait
/// for one of a few permits, off the workers.
#[test]
fn heavy_requests_leave_the_server_answering() {
    let server = std::sync::Arc::new(Server::start(&[]));
    let large = json!({"layers": [784, 4000, 10]}).to_string();
    assert_eq!(server.post("/api/reset", &large).0, 200);
    let heavy: Vec<_> = (0..8)
        .map(|i| {
            let server = server.clone();
            std::thread::spawn(move || {
                if i % 2 == 0 {
                    server.post("/api/steps", &pixels(0.5)).0
                } else {
                    server.get("/api/confusion").0
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(server.get_json("/api/health").0, 200);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "/api/health took {took:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    for thread in heavy {
        let status = thread.join().unwrap();
        assert!(status == 200 || status == 503, "{status}");
    }
}

/// Found by attacking the server: answers that clients never read were all held in memory (40
/// unread `/api/steps` of 80 MB each). A large answer now keeps its permit until sent, so
/// unread ones hold at most a few.
#[cfg(target_os = "linux")]
#[test]
fn unread_answers_hold_bounded_memory() {
    let server = Server::start(&[]);
    let pid = server.child.id();
    let large = json!({"layers": [784, 4000, 10]}).to_string();
    assert_eq!(server.post("/api/reset", &large).0, 200);
    let before = memory_kb(pid, "VmRSS");
    let address = server.url.trim_start_matches("http://").to_string();
    let body = pixels(0.5);
    let unread: Vec<TcpStream> = (0..12)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            write!(
                stream,
                "POST /api/steps HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            stream
        })
        .collect();
    // Time for every answer to be computed (were they all computed).
    std::thread::sleep(Duration::from_secs(12));
    let grown = memory_kb(pid, "VmHWM").saturating_sub(before) / 1024;
    eprintln!("12 unread /api/steps: the server grew by {grown} MB at most");
    assert!(grown < 900, "{grown} MB for 12 unread answers");
    drop(unread);
    assert_eq!(server.get_json("/api/health").0, 200);
}

/// Found by attacking the server: a connection that never finished its headers or its body,
/// or stayed idle, was kept forever (1,100 of them used up the file descriptors). Each is now
/// closed after `--timeout`; a body announced larger than the limit is refused at once; the
/// event stream stays open.
#[test]
fn slow_and_idle_connections_are_closed() {
    let server = Server::start(&["--timeout", "1"]);
    let address = server.url.trim_start_matches("http://").to_string();
    let wait = Duration::from_secs(30);
    // Idle: closed without an answer.
    let (answer, took) = raw(&server, "", wait);
    assert!(answer.is_empty(), "{answer}");
    assert!(took < Duration::from_secs(10), "idle for {took:?}");
    // Headers never finished: closed (hyper may answer 408 first).
    let (answer, took) = raw(
        &server,
        &format!("GET /api/health HTTP/1.1\r\nHost: {address}\r\n"),
        wait,
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(took < Duration::from_secs(10), "headers for {took:?}");
    // A body announced and never sent: 408 with one line of JSON.
    let (answer, took) = raw(
        &server,
        &format!(
            "POST /api/predict HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100000\r\n\r\n{{"
        ),
        wait,
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request body was not all sent"#),
        "{answer}"
    );
    assert!(took < Duration::from_secs(10), "body for {took:?}");
    // The same to a route that reads no body: answered, then closed.
    let (answer, took) = raw(
        &server,
        &format!("POST /api/pause HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100000\r\n\r\n"),
        wait,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < Duration::from_secs(10), "unread body for {took:?}");
    // Announced larger than the limit (2^63): 413 at once, nothing read.
    let (answer, took) = raw(
        &server,
        &format!("POST /api/predict HTTP/1.1\r\nHost: {address}\r\nContent-Length: 9223372036854775808\r\n\r\n"),
        wait,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request body is larger than"#),
        "{answer}"
    );
    assert!(took < Duration::from_secs(10), "413 after {took:?}");
    // The event stream outlives the timeout.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /api/events HTTP/1.1\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(3500)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while line.trim_end() != "event: state" {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0);
    }
    let started = Instant::now();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => panic!("the event stream was closed after {:?}", started.elapsed()),
            Ok(_) => continue,
            Err(_) => break, // nothing more to read for 3.5 s, and still open
        }
    }
    assert_eq!(server.get_json("/api/health").0, 200);
}

/// Beyond `--max-connections`, a connection is answered 503 at once; the limit frees up as
/// idle connections time out.
#[test]
fn connections_are_limited() {
    let server = Server::start(&["--max-connections", "4", "--timeout", "2"]);
    let address = server.url.trim_start_matches("http://").to_string();
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let (answer, _) = raw(
        &server,
        &format!("GET /api/health HTTP/1.1\r\nHost: {address}\r\n\r\n"),
        Duration::from_secs(30),
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"too many connections"#),
        "{answer}"
    );
    // The idle ones time out: the server answers again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get("/api/health").0 != 200 {
        assert!(Instant::now() < deadline, "the limit never freed up");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle);
}

/// No page of another site may show this one in a frame (and have the user click in it).
#[test]
fn answers_forbid_framing() {
    let server = Server::start(&[]);
    let address = server.url.trim_start_matches("http://").to_string();
    for path in ["/", "/app.js", "/api/health", "/api/nothing"] {
        let (answer, _) = raw(
            &server,
            &format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"),
            Duration::from_secs(30),
        );
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .to_ascii_lowercase();
        assert!(head.contains("\r\nx-frame-options: deny"), "{path}: {head}");
        assert!(head.contains("frame-ancestors 'none'"), "{path}: {head}");
    }
}

/// Found by attacking the server: a long run on a tiny network grew `/api/state` by an epoch
/// report per epoch, without bound. The reports are thinned like the curve's points.
#[test]
fn the_state_stays_bounded_in_a_long_run() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    let rows: String = (0..20)
        .map(|i| format!("{},{},{}\n", i % 2, i as f64 * 0.1, (i % 2) as f64))
        .collect();
    std::fs::write(&csv, format!("label,a,b\n{rows}")).unwrap();
    let server = Server::start(&["--data", csv.to_str().unwrap()]);
    let long = json!({"layers": [2, 2], "epochs": 1_000_000, "batch_size": 4}).to_string();
    assert_eq!(server.post("/api/reset", &long).0, 200);
    assert_eq!(server.post("/api/start", "").0, 200);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, state) = server.get_json("/api/state");
        if state["progress"]["epoch"].as_u64().unwrap() > 10_000 {
            let epochs = state["epochs"].as_array().unwrap();
            assert!(epochs.len() <= 4000, "{} epoch reports", epochs.len());
            assert!(state["points"].as_array().unwrap().len() <= 4000);
            assert!(epochs.last().unwrap()["epoch"].as_u64().unwrap() > 5000);
            break;
        }
        assert!(Instant::now() < deadline, "10,000 epochs not reached");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.post("/api/pause", "");
}

/// An IPv4-mapped loopback address is loopback (no warning, the DNS-rebinding guard on); the page
/// of one loopback name of this server may send to another.
#[test]
fn ipv4_mapped_loopback_and_both_loopback_names() {
    let server = Server::start(&["--host", "::ffff:127.0.0.1"]);
    let here = server.url.trim_start_matches("http://").to_string();
    let port = here.rsplit_once(':').unwrap().1.to_string();
    let localhost = format!("localhost:{port}");
    for (host, origin, expected) in [
        (&*format!("evil.example:{port}"), None, 403),
        (&*localhost, Some(format!("http://127.0.0.1:{port}")), 200),
        (&*localhost, Some(format!("http://[::1]:{port}")), 200),
        (
            &*format!("127.0.0.1:{port}"),
            Some(format!("http://localhost:{port}")),
            200,
        ),
        (&*localhost, Some("http://localhost:1".to_string()), 403),
        (&*localhost, Some("http://localhost".to_string()), 403),
        (
            &*localhost,
            Some(format!("http://evil.example:{port}")),
            403,
        ),
    ] {
        let (status, body) = post_with(&server, "/api/pause", host, origin.as_deref());
        assert_eq!(status, expected, "Host {host}, Origin {origin:?}: {body}");
    }
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// Found by attacking the server: a ReLU model with huge finite weights (loaded by `--model`)
/// answered `/api/predict` with `null` outputs, and training it ran to "finished" with an all-NaN
/// network to download. Its activations are now refused (422, the library's `NotFinite`
/// message), training ends `failed` with `Diverged`, and the network stays the last finite one.
#[test]
fn a_network_that_overflows_is_refused_and_its_training_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    // Eight ReLU layers of weights 3e38: z grows by about 1e40 a layer, past f32 at once and past
    // f64 (the trace's) in layer 9; the output's alternating signs then make ∞ − ∞ = NaN.
    let sizes = [784, 30, 30, 30, 30, 30, 30, 30, 30, 10];
    let mut net = backprop::Network::<f32>::builder(&sizes)
        .hidden(backprop::Activation::Relu)
        .build()
        .unwrap();
    for l in 2..sizes.len() {
        net.weights_mut(l).fill(3e38);
    }
    for (i, w) in net.weights_mut(sizes.len()).iter_mut().enumerate() {
        *w = if i % 2 == 0 { 3e38 } else { -3e38 };
    }
    backprop::io::model_file::save(&net, &path, &Default::default()).unwrap();
    let server = Server::start(&["--model", path.to_str().unwrap()]);
    for route in ["/api/predict", "/api/trace", "/api/steps"] {
        let (status, answer) = server.post(route, &pixels(0.5));
        assert_eq!(status, 422, "{route}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains("not finite"), "{route}: {message}");
    }
    let (status, answer) = server.get_json("/api/confusion");
    assert_eq!(status, 422, "{answer}");
    drop(server);
    // Found by attacking it: one layer of 3e38 overflows f32 but not f64 (where the trace is
    // computed): trace and steps refuse it as predict does; a ReLU output hides the NaN of the
    // layer below from a check of a^(L) alone, not from the confusion matrix's.
    let mut shallow = backprop::Network::<f32>::builder(&[784, 30, 10])
        .hidden(backprop::Activation::Relu)
        .output(backprop::Activation::Relu)
        .build()
        .unwrap();
    shallow.weights_mut(2).fill(3e38);
    let shallow_path = dir.path().join("shallow.safetensors");
    backprop::io::model_file::save(&shallow, &shallow_path, &Default::default()).unwrap();
    let other = Server::start(&["--model", shallow_path.to_str().unwrap()]);
    for route in ["/api/predict", "/api/trace", "/api/steps"] {
        let (status, answer) = other.post(route, &pixels(0.5));
        assert_eq!(status, 422, "{route}: {answer}");
    }
    assert_eq!(other.get_json("/api/confusion").0, 422);
    drop(other);
    let server = Server::start(&["--model", path.to_str().unwrap()]);
    assert_eq!(server.post("/api/start", "").0, 200);
    let state = server.wait_for("failed");
    let error = state["error"].as_str().unwrap();
    assert!(error.contains("diverged"), "{error}");
    let (status, bytes) = server.get("/api/model");
    assert_eq!(status, 200);
    let served = backprop::io::model_file::from_bytes(&bytes)
        .unwrap()
        .network;
    assert_eq!(served.weights(2), net.weights(2), "the last finite network");
    assert!(served.weights(3).iter().all(|w| w.is_finite()));
}

/// Found by attacking the server: `/api/model` wrote `training` = "plain SGD", losing epochs, η,
/// seed, m and data. It now writes the settings JSON of `backprop train --save`.
#[test]
fn the_model_says_how_it_was_trained() {
    let server = Server::start(&[]);
    let settings = json!({"layers": [784, 10], "epochs": 3, "eta": 0.5, "batch_size": 20,
        "seed": 9, "init": "scaled"});
    assert_eq!(server.post("/api/reset", &settings.to_string()).0, 200);
    let (status, bytes) = server.get("/api/model");
    assert_eq!(status, 200);
    let model = backprop::io::model_file::from_bytes(&bytes).unwrap();
    let training: Value = serde_json::from_str(&model.metadata["training"]).unwrap();
    assert_eq!(training["epochs"], 3, "{training}");
    assert_eq!(training["eta"], 0.5, "{training}");
    assert_eq!(training["batch_size"], 20, "{training}");
    assert_eq!(training["seed"], 9, "{training}");
    assert_eq!(training["data"], "mnist-10k", "{training}");
    assert_eq!(training["init"], "scaled", "{training}");
}
