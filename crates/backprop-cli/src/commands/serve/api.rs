//! The routes: each reads its request, calls the library (or the session), and answers JSON.
//! Every refusal is one line of JSON, `{"error": "…"}`, with status 400 (bad request), 404 (no
//! such route), 405 (wrong method), 409 (training is running, or finished), 413 (body too
//! large) or 500; 403 for a request another site's page sent from the user's browser.

use super::page;
use super::session::{App, Refusal, Settings};
use crate::error::CliError;
use crate::trace_view::{self, Traced};
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use backprop::lecture::reference::{carried_error, sigma_prime_all, SATURATED_BELOW};
use backprop::{argmax, Network};
use ndarray::Array1;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit};

/// The largest request body read: 784 numbers with 17 digits each fit ten times over.
pub const MAX_BODY: usize = 256 * 1024;

type Shared = Arc<App>;

/// A refusal as an HTTP answer: status and one line of JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message.replace('\n', " ") });
        (self.status, Json(body)).into_response()
    }
}

impl From<CliError> for ApiError {
    fn from(e: CliError) -> Self {
        ApiError::bad(e.to_string())
    }
}

impl From<backprop::Error> for ApiError {
    /// 422 for a network whose activations are not finite (the request was fine, the network
    /// cannot answer it), 400 for the rest.
    fn from(e: backprop::Error) -> Self {
        let status = match e {
            backprop::Error::NotFinite { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError {
            status: if r.conflict {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            },
            message: r.message,
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A JSON request body of at most [`MAX_BODY`] bytes, whatever its content type, sent within
/// the server's timeout (408 after it); an empty body reads as `{}`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Shared> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &Shared) -> Result<Self, Self::Rejection> {
        let read = axum::body::to_bytes(req.into_body(), MAX_BODY);
        let bytes = tokio::time::timeout(app.timeout, read)
            .await
            .map_err(|_| ApiError {
                status: StatusCode::REQUEST_TIMEOUT,
                message: format!(
                    "the request body was not all sent within {} s",
                    app.timeout.as_secs_f64()
                ),
            })?
            .map_err(|_| too_large())?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(Body)
            .map_err(|e| ApiError::bad(format!("bad JSON: {e}")))
    }
}

fn too_large() -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("the request body is larger than {MAX_BODY} bytes, or was cut off"),
    }
}

/// Forbids every answer to be shown inside a page of another site (clickjacking: a page that
/// shows this one in an invisible frame and makes the user click Reset or Start):
/// `X-Frame-Options: DENY`, and `Content-Security-Policy: frame-ancestors 'none'` where the
/// answer has no policy of its own (the page's includes it).
async fn not_in_frames(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    response
}

/// Answers 413 at once to a request that announces a body larger than [`MAX_BODY`], without
/// reading it, and closes the connection (its body is never read).
async fn body_limit(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        let mut response = too_large().into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

/// How long a heavy request waits for a permit before it is answered 503.
const HEAVY_WAIT: Duration = Duration::from_secs(10);

/// Answers larger than this are sent in pieces of this size, holding their permit until sent.
const PIECE: usize = 64 * 1024;

/// Runs heavy work (evaluation, a trace, a new network, a large answer) on the blocking pool,
/// holding one of the [`HEAVY_PERMITS`](super::session::HEAVY_PERMITS) permits: the async
/// workers stay free for the light routes, and the threads and memory heavy work takes are
/// bounded. When no permit frees up within [`HEAVY_WAIT`], 503. The permit comes back with the
/// result: an answer that is large keeps it until sent ([`held`]).
async fn heavy<T: Send + 'static>(
    app: &App,
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<(T, OwnedSemaphorePermit)> {
    let permit = tokio::time::timeout(HEAVY_WAIT, app.heavy.clone().acquire_owned())
        .await
        .map_err(|_| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!(
                "the server is busy with other heavy requests (at most {} at once); try again",
                super::session::HEAVY_PERMITS
            ),
        })?
        .map_err(|_| internal())?;
    let result = tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(internal()))?;
    Ok((result, permit))
}

fn internal() -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: "internal error".into(),
    }
}

/// An answer of `bytes`, sent in pieces of [`PIECE`] bytes as the client reads them; `permit`
/// is held until the last piece is handed to the connection (or the connection closes), so
/// that unread answers hold at most [`HEAVY_PERMITS`](super::session::HEAVY_PERMITS) of them
/// in memory.
fn held(bytes: Vec<u8>, content_type: &'static str, permit: OwnedSemaphorePermit) -> Response {
    let length = bytes.len();
    let bytes = axum::body::Bytes::from(bytes);
    let pieces =
        futures_util::stream::unfold((bytes, Some(permit)), |(mut rest, permit)| async move {
            if rest.is_empty() {
                return None; // the permit is dropped with the state
            }
            let piece = rest.split_to(rest.len().min(PIECE));
            Some((Ok::<_, Infallible>(piece), (rest, permit)))
        });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
        ],
        axum::body::Body::from_stream(pieces),
    )
        .into_response()
}

/// A JSON answer serialised on the blocking pool under a permit, and [`held`] until sent.
async fn heavy_json(
    app: &App,
    work: impl FnOnce() -> ApiResult<Value> + Send + 'static,
) -> ApiResult<Response> {
    let (bytes, permit) = heavy(app, move || {
        let value = work()?;
        serde_json::to_vec(&value).map_err(|_| internal())
    })
    .await?;
    Ok(held(bytes, "application/json", permit))
}

/// Every route, for a server listening on `address`.
pub fn router(app: Shared, shutdown: watch::Receiver<bool>, address: SocketAddr) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/api/health", get(health))
        .route("/api/options", get(options))
        .route("/api/state", get(state))
        .route("/api/events", get(move |s| events(s, shutdown.clone())))
        .route("/api/reset", post(reset))
        .route("/api/start", post(start))
        .route("/api/pause", post(pause))
        .route("/api/step", post(step))
        .route("/api/predict", post(predict))
        .route("/api/trace", post(trace))
        .route("/api/steps", post(steps))
        .route("/api/example", get(example))
        .route("/api/weights", get(weights))
        .route("/api/confusion", get(confusion))
        .route("/api/model", get(model))
        .route("/api/model.onnx", get(model_onnx))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
        .layer(middleware::from_fn(body_limit))
        .layer(middleware::from_fn(not_in_frames))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            same_site(request, next, address)
        }))
}

/// Refuses (403) what a page of another site open in the user's browser could send here: a
/// request whose `Origin` (browsers send it with every cross-site POST) is not the address the
/// request was sent to, and, on a loopback server, a request whose `Host` is not a loopback
/// name with this server's port (a DNS-rebinding page reaches 127.0.0.1 under its own name).
/// Requests without `Origin` (curl, scripts) and the page's own pass. A repeated `Host` or
/// `Origin` is refused too. (On another `--host`, DNS rebinding cannot be told from a real name
/// of the machine: `serve` warns about it.)
async fn same_site(request: Request, next: Next, address: SocketAddr) -> Response {
    let headers = request.headers();
    let [host, origin] = [header::HOST, header::ORIGIN].map(|name| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(()),
            (value, _) => Ok(value.map(|v| v.to_str().unwrap_or("(unreadable)"))),
        }
    });
    let (Ok(host), Ok(origin)) = (host, origin) else {
        return forbidden("a request with two Host or two Origin headers is refused".into());
    };
    let loopback = address.ip().to_canonical().is_loopback();
    if loopback {
        let Some(host) = host else {
            return forbidden("a request without a Host header is refused".into());
        };
        if !loopback_name_with_port(host, address.port(), true) {
            return forbidden(format!(
                "Host {} is not a loopback name with port {} (the server listens on loopback only)",
                shortened(host),
                address.port()
            ));
        }
    }
    if let Some(origin) = origin {
        // The same address, or (on loopback) two loopback names of this server: the page of
        // http://127.0.0.1:P may send to localhost:P.
        let same = origin.strip_prefix("http://").is_some_and(|o| {
            Some(o) == host || (loopback && loopback_name_with_port(o, address.port(), false))
        });
        if !same {
            return forbidden(format!(
                "a request from the page of another site ({}) is refused",
                shortened(origin)
            ));
        }
    }
    next.run(request).await
}

/// Whether a `Host` header (or the address of an `Origin`) names this machine's loopback
/// address (`localhost`, `127.x.x.x`, `[::1]`, `[::ffff:127.x.x.x]`, any case, a final dot
/// allowed) with `port`, or with no port where `portless` (a `Host` without one; an `Origin`
/// without one means port 80).
fn loopback_name_with_port(host: &str, port: u16, portless: bool) -> bool {
    let (name, given_port) = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((name, "")) => (name, None),
            Some((name, rest)) => match rest.strip_prefix(':') {
                Some(p) => (name, Some(p)),
                None => return false,
            },
            None => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, p)) => (name, Some(p)),
            None => (host, None),
        },
    };
    let name = name.to_ascii_lowercase();
    let port_ok = match given_port {
        Some(p) => p == port.to_string(),
        None => portless || port == 80,
    };
    port_ok && super::is_loopback(name.strip_suffix('.').unwrap_or(&name))
}

/// At most 100 characters of a header, for a message.
fn shortened(value: &str) -> String {
    match value.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_string(),
    }
}

fn forbidden(message: String) -> Response {
    ApiError {
        status: StatusCode::FORBIDDEN,
        message,
    }
    .into_response()
}

async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: "no such page or route".into(),
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: "this route does not take that method".into(),
    }
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The names the page offers, from the library's lists, and the defaults and limits.
async fn options(State(app): State<Shared>) -> Json<Value> {
    let names = |v: &[backprop::Activation]| v.iter().map(|a| a.name()).collect::<Vec<_>>();
    let combinations: Vec<[&str; 3]> = backprop::Architecture::combinations()
        .into_iter()
        .map(|(h, o, c)| [h.name(), o.name(), c.name()])
        .collect();
    Json(json!({
        "hidden_activations": names(&backprop::Activation::HIDDEN),
        "output_activations": names(&backprop::Activation::ALL),
        "costs": backprop::Cost::ALL.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "inits": backprop::Init::ALL.iter().map(|i| i.name()).collect::<Vec<_>>(),
        "combinations": combinations,
        "data": app.available,
        "defaults": Settings { data: app.available[0].clone(), ..Settings::default() },
        "max_parameters": backprop::limits::MAX_SERVE_PARAMETERS,
        "max_layers": backprop::limits::MAX_SERVE_LAYERS,
        "saturated_below": SATURATED_BELOW,
    }))
}

async fn state(State(app): State<Shared>) -> Json<Value> {
    Json(app.session().state())
}

/// Server-sent events: `state` first, then `progress`, `epoch`, `state` (after a reset) and
/// `failed` as they happen. The stream ends when the server stops.
async fn events(
    State(app): State<Shared>,
    shutdown: watch::Receiver<bool>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.events.subscribe();
    let first = Event::default()
        .event("state")
        .data(app.session().state().to_string());
    let stream = futures_util::stream::unfold(
        (Some(first), receiver, shutdown),
        |(first, mut receiver, mut shutdown)| async move {
            if let Some(event) = first {
                return Some((Ok(event), (None, receiver, shutdown)));
            }
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                tokio::select! {
                    message = receiver.recv() => match message {
                        Ok((name, data)) => {
                            let event = Event::default().event(name).data(data);
                            return Some((Ok(event), (None, receiver, shutdown)));
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = shutdown.changed() => return None,
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn reset(
    State(app): State<Shared>,
    Body(settings): Body<Settings>,
) -> ApiResult<Json<Value>> {
    let worker = app.clone();
    let (state, _permit) = heavy(&app, move || Ok(worker.reset(settings)?)).await?;
    Ok(Json(state))
}

async fn start(State(app): State<Shared>) -> ApiResult<Json<Value>> {
    Ok(Json(app.start(false)?))
}

async fn step(State(app): State<Shared>) -> ApiResult<Json<Value>> {
    Ok(Json(app.start(true)?))
}

async fn pause(State(app): State<Shared>) -> Json<Value> {
    Json(app.pause())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pixels {
    pixels: Vec<f64>,
    /// The class `k` of the target `y` (trace only; default: the predicted class).
    #[serde(default)]
    label: Option<usize>,
}

/// The input `x` of `net`, refused unless it has `n_1` numbers, each in `[0, 1]`.
fn input(net: &Network<f32>, pixels: &[f64]) -> ApiResult<Array1<f64>> {
    net.check_input(pixels.len())?;
    if let Some(i) = pixels.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(ApiError::bad(format!(
            "pixel {i} is {:?}: every pixel must be a number in [0, 1]",
            pixels[i]
        )));
    }
    Ok(Array1::from(pixels.to_vec()))
}

async fn predict(State(app): State<Shared>, Body(body): Body<Pixels>) -> ApiResult<Json<Value>> {
    let net = app.session().network.clone();
    let (answer, _permit) = heavy(&app, move || {
        let x = input(&net, &body.pixels)?.mapv(|v| v as f32);
        let output = net.feedforward(x.view())?;
        Ok(json!({
            "class": argmax(output.view()),
            "output": output.to_vec(),
        }))
    })
    .await?;
    Ok(Json(answer))
}

/// The five steps on the posted example, as `backprop trace` runs them (in `f64`).
fn traced(app: &App, body: &Pixels) -> ApiResult<Traced> {
    let (net, description) = {
        let session = app.session();
        let description = format!(
            "{}, {} after {} epochs and {} mini-batches in backprop serve",
            session.network.architecture(),
            session.origin,
            session.epoch,
            session.batch
        );
        (session.network.clone(), description)
    };
    let x = input(&net, &body.pixels)?;
    // The network the page trains and predicts with is f32: refused as /api/predict refuses it
    // when its activations overflow there (f64, where the trace is computed, would not).
    net.feedforward(x.mapv(|v| v as f32).view())?;
    let net = net.cast::<f64>();
    // Refuses activations that are not finite in f64 too (`Error::NotFinite`), and gives y.
    let output = net.feedforward(x.view())?;
    let label = body.label.unwrap_or_else(|| argmax(output.view()));
    Ok(Traced::new(
        net,
        x.view(),
        label,
        description.into(),
        "pixels posted to backprop serve".into(),
    )?)
}

/// Exactly the JSON of `backprop trace --json`.
async fn trace(State(app): State<Shared>, Body(body): Body<Pixels>) -> ApiResult<Response> {
    let worker = app.clone();
    heavy_json(&app, move || {
        let t = traced(&worker, &body)?;
        Ok(trace_view::json::render(&t))
    })
    .await
}

/// The trace with what the page draws beside it: `σ'(z^(l))` per layer (null for softmax), BP2's
/// first factor `(W^(l+1))ᵀ δ^(l+1)` per hidden layer, the saturation threshold, and whether σ'
/// cancels in BP1 for this cost and output (`δ^(L) = a^(L) − y`); arrays
/// indexed by the layer number `l` (entries 0 and 1 are null).
async fn steps(State(app): State<Shared>, Body(body): Body<Pixels>) -> ApiResult<Response> {
    let worker = app.clone();
    heavy_json(&app, move || steps_of(&worker, &body)).await
}

fn steps_of(app: &App, body: &Pixels) -> ApiResult<Value> {
    let t = traced(app, body)?;
    let big_l = t.big_l();
    let mut sigma_prime = vec![Value::Null; big_l + 1];
    let mut carried = vec![Value::Null; big_l + 1];
    for l in 2..=big_l {
        sigma_prime[l] =
            json!(sigma_prime_all(t.net.activation(l), t.trace.z[l].view()).map(|s| s.to_vec()));
        if l < big_l {
            carried[l] = json!(carried_error(
                t.net.weights(l + 1).view(),
                t.trace.delta[l + 1].view()
            )
            .to_vec());
        }
    }
    Ok(json!({
        "trace": trace_view::json::render(&t),
        "sigma_prime": sigma_prime,
        "carried": carried,
        "saturated_below": SATURATED_BELOW,
        "sigma_prime_cancels": t.net.cost().cancels_sigma_prime(t.net.activation(big_l)),
    }))
}

/// `name=value` of a query string, or `None`.
fn query_value<'a>(query: &'a Option<String>, name: &str) -> Option<&'a str> {
    query
        .as_deref()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_number(query: &Option<String>, name: &str, default: usize) -> ApiResult<usize> {
    match query_value(query, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad(format!("{name}={v}: not a whole number ≥ 0"))),
    }
}

/// `GET /api/example?index=N`: test example `N` of the current data, its pixels and label.
async fn example(State(app): State<Shared>, RawQuery(query): RawQuery) -> ApiResult<Json<Value>> {
    let index = query_number(&query, "index", 0)?;
    let splits = app.session().splits.clone();
    let e = crate::example::from_test_split(&splits.test, index, "the test split")?;
    Ok(Json(json!({
        "index": index,
        "label": e.label,
        "pixels": e.x.to_vec(),
        "test_size": splits.test.len(),
    })))
}

/// `GET /api/weights?layer=l`: `W^(l)` (default `l = 2`), row by row, shape `(n_l, n_(l-1))`.
async fn weights(State(app): State<Shared>, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let l = query_number(&query, "layer", 2)?;
    let net = app.session().network.clone();
    if !(2..=net.num_layers()).contains(&l) {
        return Err(ApiError::bad(format!(
            "layer={l}: layers with weights are 2 … {}",
            net.num_layers()
        )));
    }
    heavy_json(&app, move || {
        let w = net.weights(l);
        Ok(json!({
            "layer": l,
            "rows": w.nrows(),
            "cols": w.ncols(),
            "values": w.iter().copied().collect::<Vec<f32>>(),
        }))
    })
    .await
}

/// `GET /api/confusion`: the current network on the test split (`Network::evaluate`).
async fn confusion(State(app): State<Shared>) -> ApiResult<Response> {
    let (net, splits) = {
        let session = app.session();
        (session.network.clone(), session.splits.clone())
    };
    heavy_json(&app, move || {
        let e = net.evaluate(&splits.test)?;
        let matrix: Vec<Vec<usize>> = e.confusion.rows().into_iter().map(|r| r.to_vec()).collect();
        Ok(json!({
            "matrix": matrix,
            "correct": e.correct,
            "total": e.total,
            "accuracy": e.accuracy(),
            "cost": e.cost,
        }))
    })
    .await
}

/// A file to save, [`held`] until sent.
fn download(bytes: Vec<u8>, name: &str, permit: OwnedSemaphorePermit) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response = held(bytes, "application/octet-stream", permit);
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition);
    response
}

/// A network to export and its metadata entries.
type Export = (
    Arc<Network<f32>>,
    std::collections::BTreeMap<String, String>,
);

/// The current network and its `training` metadata entry, as `backprop train --save` writes
/// it: the session's settings, data and initialisation (`TrainSettings::to_metadata`).
fn model_metadata(app: &App) -> ApiResult<Export> {
    let session = app.session();
    let settings = &session.settings;
    let extra = settings
        .train_settings()?
        .to_metadata(&settings.data, &settings.init)?;
    Ok((session.network.clone(), extra))
}

/// `GET /api/model`: the current network as a safetensors file (`backprop::io::model_file`).
async fn model(State(app): State<Shared>) -> ApiResult<Response> {
    let (net, extra) = model_metadata(&app)?;
    let (bytes, permit) = heavy(&app, move || {
        Ok(backprop::io::model_file::to_bytes(&*net, &extra)?)
    })
    .await?;
    Ok(download(bytes, "backprop.safetensors", permit))
}

/// `GET /api/model.onnx`: the current network as ONNX (`backprop::io::onnx`).
async fn model_onnx(State(app): State<Shared>) -> ApiResult<Response> {
    let (net, extra) = model_metadata(&app)?;
    let (bytes, permit) = heavy(&app, move || {
        Ok(backprop::io::onnx::to_onnx(&*net, &extra)?)
    })
    .await?;
    Ok(download(bytes, "backprop.onnx", permit))
}
