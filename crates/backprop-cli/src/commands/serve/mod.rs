//! `backprop serve`: a local web page that trains a network live, classifies what you draw, and
//! shows the five steps of back-propagation on one example in the lecture's notation.
//!
//! The page (HTML, JavaScript, CSS; no fonts, no CDN) is compiled into the binary. The server
//! only translates requests into library calls ([`api`]); the state of training is in
//! [`session`]. The routes and their JSON are listed in the README ("Serve").

mod api;
mod listen;
mod page;
mod session;

use crate::cli::ServeArgs;
use crate::error::{CliError, CliResult};
use session::App;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long open connections (the event streams) get to close after Ctrl-C.
const GRACE: Duration = Duration::from_secs(2);

pub fn run(args: &ServeArgs) -> CliResult<()> {
    // A panic in one request must not end the server: print it on one line and go on (the
    // connection that caused it is closed).
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: internal error: {}",
            info.to_string().replace('\n', " ")
        );
    }));
    let mut app = App::new(args.data.clone(), args.model.as_deref())?;
    app.timeout = Duration::from_secs(args.timeout);
    let app = Arc::new(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the server: {e}")))?;
    runtime.block_on(serve(args, app))
}

/// Whether `host` names this machine's loopback: `localhost`, `127.x.x.x`, `::1`, or
/// `::ffff:127.x.x.x` (IPv4-mapped).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

async fn serve(args: &ServeArgs, app: Arc<App>) -> CliResult<()> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| {
            CliError::failure(format!("cannot listen on {}:{}: {e}", args.host, args.port))
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot listen: {e}")))?;
    if !is_loopback(&args.host) {
        eprintln!(
            "warning: listening on {address}: anyone who can reach this machine can use the page (no password, no TLS), and so can a web page you open that renames itself to this machine's address (DNS rebinding)"
        );
    }
    // Listen for Ctrl-C before the URL is printed: whoever reads the URL may interrupt at once.
    let mut interrupt = Interrupt::new()?;
    let host = match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    crate::io::emit(&format!(
        "Serving backprop on http://{host}:{}/ (Ctrl-C stops)\n",
        address.port()
    ))?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let router = api::router(app.clone(), shutdown_rx.clone(), address);
    let limits = listen::Limits {
        timeout: Duration::from_secs(args.timeout),
        max_connections: args.max_connections as usize,
    };
    let server = listen::serve(listener, router, limits, shutdown_rx, GRACE);
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => return Ok(()),
        () = interrupt.wait() => {}
    }
    // Ctrl-C: stop training, end the event streams, give the rest a moment.
    app.stop();
    let _ = shutdown_tx.send(true);
    let _ = tokio::time::timeout(GRACE + GRACE, server).await;
    eprintln!("Stopped.");
    Ok(())
}

/// Ctrl-C (SIGINT), listened for from the moment it is made.
struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn new() -> CliResult<Interrupt> {
        Ok(Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| CliError::failure(format!("cannot listen for Ctrl-C: {e}")))?,
        })
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        self.signal.recv().await;
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
