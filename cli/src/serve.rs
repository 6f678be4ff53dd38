//! Serving a router over TCP with time limits: every service `dojang` runs goes through
//! [`serve`].
//!
//! `axum::serve` sets no timeouts: a client that sends half a request line, or its headers a
//! byte a minute, holds a connection and a task for as long as it likes, and enough of them
//! starve the server. Here each connection is served by hyper's HTTP/1.1 server with a
//! header-read timeout — the request line and headers must arrive within
//! [`HEADER_READ_TIMEOUT`], also the next request on an idle keep-alive connection — and each
//! request, body included, must be answered within [`REQUEST_TIMEOUT`] (408 otherwise).
//!
//! At most [`MAX_CONNECTIONS`] connections are served at once (past that, new ones wait in the
//! listen queue), and none lives longer than [`CONNECTION_LIFETIME`] — a client reading its
//! answer a byte at a time gives up its connection then — so what slow or idle clients can
//! hold is bounded.
//!
//! HTTP/1.1 only: hyper's automatic protocol detection waits for a connection's first bytes
//! with no time limit, and its HTTP/2 server has no header timeout. Browsers speak HTTP/2 only
//! over TLS, which a proxy in front of these services terminates — or [`serve_tls`] (for
//! `dojang up --tls`), which offers only HTTP/1.1 in ALPN.
//!
//! Shutdown is graceful, as with `axum::serve(..).with_graceful_shutdown(..)`: once `shutdown`
//! resolves no connection is accepted, idle ones are closed, and the requests in flight finish
//! (each within its time limit) before [`serve`] returns.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutLayer;

/// How long a client has to send a request's line and headers.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take, from its headers to the response (its body included).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 1024;
/// Longest a connection is kept, however busy: long enough to send the largest trust bundle
/// (32 MiB) at 1 Mbit/s, twice.
pub(crate) const CONNECTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, Timeouts::DEFAULT, None).await
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header_read: Duration,
    request: Duration,
    connections: usize,
    lifetime: Duration,
}

impl Timeouts {
    const DEFAULT: Timeouts = Timeouts {
        header_read: HEADER_READ_TIMEOUT,
        request: REQUEST_TIMEOUT,
        connections: MAX_CONNECTIONS,
        lifetime: CONNECTION_LIFETIME,
    };
}

/// [`serve`] over TLS: each connection's handshake must end within [`HEADER_READ_TIMEOUT`].
pub(crate) async fn serve_tls(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    tls: TlsAcceptor,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, Timeouts::DEFAULT, Some(tls)).await
}

async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    timeouts: Timeouts,
    tls: Option<TlsAcceptor>,
) -> io::Result<()> {
    let router = router.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        timeouts.request,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let connections = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(timeouts.connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // As axum::serve: small responses go out at once.
        let _ = stream.set_nodelay(true);
        // The peer's address, for per-client limits (the registry's open appends).
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let (http, watcher, tls) = (http.clone(), connections.watcher(), tls.clone());
        let connection = async move {
            match tls {
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await?;
                }
                // The handshake, like the headers, must come within the header timeout.
                Some(tls) => {
                    let stream =
                        tokio::time::timeout(timeouts.header_read, tls.accept(stream)).await??;
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await?;
                }
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        };
        tokio::spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(timeouts.lifetime, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, "connection closed with an error"),
                Err(_) => tracing::debug!("connection closed at the end of its lifetime"),
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// A refused or reset connection is the client's business; anything else (out of file
/// descriptors, say) is waited out rather than retried in a busy loop.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::SocketAddr;

    use axum::body::Bytes;
    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use super::*;

    /// Generous: only to turn a hang into a failure, never a performance claim.
    const GUARD: Duration = Duration::from_secs(20);

    struct Server {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<io::Result<()>>,
    }

    async fn start(timeouts: Timeouts) -> Server {
        let router = Router::new()
            .route("/", get(|| async { "ok" }))
            .route("/echo", post(|body: Bytes| async move { body }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "done"
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            timeouts,
            None,
        ));
        Server { addr, stop, task }
    }

    fn short() -> Timeouts {
        Timeouts {
            header_read: Duration::from_millis(300),
            request: Duration::from_secs(1),
            connections: 8,
            lifetime: Duration::from_secs(2),
        }
    }

    /// Everything the server sends until it closes the connection.
    async fn until_closed(stream: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        tokio::time::timeout(GUARD, stream.read_to_end(&mut answer))
            .await
            .expect("the server kept the connection open")
            .unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn half_sent_requests_are_closed_after_the_header_timeout() {
        let server = start(short()).await;
        let mut half_line = TcpStream::connect(server.addr).await.unwrap();
        half_line.write_all(b"GET / HT").await.unwrap();
        let mut half_headers = TcpStream::connect(server.addr).await.unwrap();
        half_headers
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        for stream in [&mut half_line, &mut half_headers, &mut silent] {
            let answer = until_closed(stream).await;
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                "{answer}"
            );
        }
        // The server still answers whole requests.
        let mut whole = TcpStream::connect(server.addr).await.unwrap();
        whole
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = until_closed(&mut whole).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("ok"), "{answer}");
        let _ = server.stop.send(());
    }

    /// With every connection slot held, a new client waits in the listen queue and is served
    /// when one frees; a connection kept busy past its lifetime is closed.
    #[tokio::test]
    async fn connections_are_bounded_in_number_and_lifetime() {
        let server = start(Timeouts {
            connections: 2,
            header_read: Duration::from_secs(30),
            ..short()
        })
        .await;
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).await.unwrap();
            assert_eq!(&answer, b"HTTP/1.1 200");
            held.push(stream);
        }
        let mut third = TcpStream::connect(server.addr).await.unwrap();
        third
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut first_byte = [0u8; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(300), third.read(&mut first_byte))
                .await
                .is_err(),
            "served past the connection limit"
        );
        drop(held.pop());
        let answer = until_closed(&mut third).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // The other kept-alive connection is closed at the end of its lifetime (2 s here),
        // with the rest of its one answer and nothing more.
        let rest = until_closed(&mut held[0]).await;
        assert!(!rest.contains("HTTP/1.1"), "{rest}");
        let _ = server.stop.send(());
    }

    #[tokio::test]
    async fn a_body_that_never_finishes_times_the_request_out() {
        let server = start(short()).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..")
            .await
            .unwrap();
        let answer = until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        let _ = server.stop.send(());
    }

    #[tokio::test]
    async fn shutdown_lets_requests_in_flight_finish() {
        let server = start(short()).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // Let the request reach its handler, then stop.
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.stop.send(()).unwrap();
        let answer = until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        tokio::time::timeout(GUARD, server.task)
            .await
            .expect("serve did not return after shutdown")
            .unwrap()
            .unwrap();
        assert!(TcpStream::connect(server.addr).await.is_err());
    }
}
