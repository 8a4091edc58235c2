//! The accept loop: every connection served by hyper's HTTP/1 with limits that `axum::serve`
//! does not offer. A connection must send its request headers within the timeout
//! (`header_read_timeout`), and is closed when it has been idle, nothing read or written and no
//! request being answered, for as long; the event stream (`/api/events`) is exempt, as it is
//! meant to stay open. At most `max_connections` are open at once (the event streams count):
//! beyond them a connection is answered 503 at once and closed, so that file descriptors and
//! the memory of connections stay bounded. (The request body has its own timeout, in
//! `api::Body`.)

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// The limits on connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a connection may take to send its request headers (and, in `api::Body`, its
    /// body), or stay idle.
    pub timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
}

/// The answer to a connection beyond [`Limits::max_connections`].
const TOO_MANY: &str = "{\"error\":\"too many connections are open; try again later\"}";

/// Serves `router` on `listener` until `shutdown` turns true, then lets open connections finish
/// for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was accepted: wait a
            // moment rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let (router, shutdown) = (router.clone(), shutdown.clone());
                tokio::spawn(async move {
                    connection(stream, router, limits.timeout, shutdown).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(refuse(stream));
            }
        }
    }
    // Every permit back: every connection closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, open.acquire_many(all)).await;
}

/// Answers 503 to a connection beyond the limit, without reading its request, and closes it.
async fn refuse(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-frame-options: DENY\r\ncontent-security-policy: frame-ancestors 'none'\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n{TOO_MANY}\n",
        TOO_MANY.len() + 1
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// What the idle timer of a connection watches.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last byte read or written.
    last: AtomicU64,
    /// Requests being answered (from the head read to the response handed over).
    busy: AtomicUsize,
    /// The connection carries an event stream: never idle.
    streaming: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        if self.busy.load(Ordering::SeqCst) > 0 || self.streaming.load(Ordering::SeqCst) {
            return Duration::ZERO;
        }
        self.started.elapsed().saturating_sub(last)
    }
}

/// Serves one connection until it ends, idles past `timeout`, or the server stops.
async fn connection(
    stream: TcpStream,
    router: Router,
    timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity {
        started: Instant::now(),
        last: AtomicU64::new(0),
        busy: AtomicUsize::new(0),
        streaming: AtomicBool::new(false),
    });
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = Counted {
        inner: TowerToHyperService::new(router),
        activity: activity.clone(),
    };
    let mut conn = pin!(http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(io, service));
    let tick = (timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep(tick) => {
                if activity.idle_for() >= timeout {
                    return; // dropping the connection closes it
                }
            }
        }
    }
}

/// The socket of a connection, noting every byte read or written.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The router, counting the requests being answered and noting an event stream.
struct Counted {
    inner: TowerToHyperService<Router>,
    activity: Arc<Activity>,
}

/// One request being answered, for as long as it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::SeqCst);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

type Answer = Result<axum::response::Response, std::convert::Infallible>;

impl hyper::service::Service<hyper::Request<Incoming>> for Counted {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        if request.uri().path() == "/api/events" {
            self.activity.streaming.store(true, Ordering::SeqCst);
        }
        let busy = Busy::new(self.activity.clone());
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            drop(busy);
            answer
        })
    }
}
