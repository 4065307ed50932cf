//! Connections: accepted within caps (in all and per peer address), a deadline on the TLS
//! handshake, on each request's headers and on each piece of its body, and a pause after an
//! accept that failed (SECURITY R25). A hub under abuse keeps serving enrolled tablets: what a
//! peer holds open it cannot hold for long, and a full file table makes the hub wait, not spin.
//! When every place is taken, a newcomer takes the place of a connection not yet proven an
//! enrolled tablet's, which is closed (see `gate.rs`): connections that cannot finish a
//! handshake never starve a tablet, and a tablet's proven connection is never closed for a
//! newcomer (up to a few per device; a revoked device's are closed at its next request, by
//! the service's refusal).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;

use super::gate::{Admission, Gate, Proof, Ticket};
use crate::service::{Reply, Request, Service};
use crate::store::AnyStore;

/// What the accept loop needs to know of `[limits]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    pub handshake: Duration,
    pub header: Duration,
    pub body: Duration,
    pub total: usize,
    /// Connections from one address (IPv6: one /64; see `gate::network`).
    pub per_ip: usize,
    /// Proven connections of one device never closed for a newcomer.
    pub protected_per_device: usize,
}

/// At most `per_second` lines a second of one kind; the lines left out are counted in the
/// next one, so a flood cannot turn the log into the bottleneck.
struct Throttle {
    per_second: u32,
    state: Mutex<(Instant, u32, u64)>,
}

impl Throttle {
    fn new(per_second: u32) -> Throttle {
        Throttle { per_second, state: Mutex::new((Instant::now(), 0, 0)) }
    }

    /// `Some(left out since the last line)` when a line may be written now.
    fn allow(&self) -> Option<u64> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.0.elapsed() >= Duration::from_secs(1) {
            st.0 = Instant::now();
            st.1 = 0;
        }
        if st.1 < self.per_second {
            st.1 += 1;
            Some(std::mem::take(&mut st.2))
        } else {
            st.2 += 1;
            None
        }
    }
}

/// Logs of the connection level, each throttled on its own.
struct Logs {
    refused: Throttle,
    evicted: Throttle,
    handshake: Throttle,
    accept: Throttle,
    past_cap: Throttle,
}

/// The longest a newcomer waits for a connection told to close to give its place back.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

pub(super) async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Arc<ServerConfig>,
    service: Arc<Service<AnyStore>>,
    caps: Caps,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let gate = Arc::new(Gate::new(caps));
    let logs = Arc::new(Logs {
        refused: Throttle::new(10),
        evicted: Throttle::new(10),
        handshake: Throttle::new(10),
        accept: Throttle::new(1),
        past_cap: Throttle::new(10),
    });
    let mut pause = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => {
                pause = Duration::ZERO;
                a
            }
            Err(e) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory: the connection waits in
                // the kernel's queue and accept would fail again at once. Wait, longer each
                // time up to a second, so that a full file table costs no CPU; connections
                // that time out meanwhile give their descriptors back.
                pause = (pause * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                if let Some(left_out) = logs.accept.allow() {
                    let pause_ms = pause.as_millis() as u64;
                    tracing::error!(error = %e, pause_ms, left_out, "accept failed; pausing");
                }
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(pause) => continue,
                }
            }
        };
        let waiting = tokio::time::Instant::now() + EVICTION_WAIT;
        let admitted = loop {
            let code = match gate.admit(peer.ip()) {
                Admission::In(ticket) => break Some(ticket),
                Admission::Refused(code) => code,
                Admission::Wait(told) => {
                    if let Some((from, evicted_total)) = told
                        && let Some(left_out) = logs.evicted.allow()
                    {
                        let code = "evicted-unauthenticated";
                        tracing::warn!(
                            peer = %from, code = %code, newcomer = %peer.ip(), evicted_total, left_out,
                            "every place taken: a connection not proven an enrolled tablet's is closed"
                        );
                    }
                    tokio::select! {
                        _ = &mut stopped => return,
                        _ = gate.freed.notified() => continue,
                        _ = tokio::time::sleep_until(waiting) => "connection-limit",
                    }
                }
            };
            if let Some(left_out) = logs.refused.allow() {
                tracing::warn!(peer = %peer.ip(), code = %code, left_out, "connection refused");
            }
            break None;
        };
        let Some(ticket) = admitted else {
            drop(tcp);
            continue;
        };
        // Replies are small and follow requests: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        let (acceptor, service, logs) = (acceptor.clone(), service.clone(), logs.clone());
        tokio::spawn(async move {
            serve_connection(acceptor, tcp, peer, service, caps, &logs, ticket).await;
        });
    }
}

/// Serves one connection until it closes, its deadline passes, or (while it is not proven an
/// enrolled tablet's) it is told to close for a newcomer.
async fn serve_connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    service: Arc<Service<AnyStore>>,
    caps: Caps,
    logs: &Logs,
    mut ticket: Ticket,
) {
    // A failed handshake (no certificate, another CA, expired) ends here; rustls has already
    // sent the client the alert that says why. The gate hears of the first byte (a tablet's
    // ClientHello): connections that have sent nothing are the first closed for a newcomer.
    let spoke = ticket.on_first_byte();
    let handshake = tokio::time::timeout(caps.handshake, async move {
        if tcp.peek(&mut [0u8; 1]).await.is_ok_and(|n| n > 0) {
            spoke();
        }
        acceptor.accept(tcp).await
    });
    let stream = match tokio::select! {
        _ = ticket.evicted() => return,
        done = handshake => done,
    } {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            if let Some(left_out) = logs.handshake.allow() {
                tracing::warn!(peer = %peer.ip(), error = %e, left_out, "TLS handshake failed");
            }
            return;
        }
        Err(_) => {
            if let Some(left_out) = logs.handshake.allow() {
                let code = "handshake-timeout";
                tracing::warn!(peer = %peer.ip(), code = %code, left_out, "TLS handshake failed");
            }
            return;
        }
    };
    let certificate = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec());
    let Some(certificate) = certificate else { return };
    let certificate = Arc::new(certificate);
    // An enrolled device's connection keeps its place (a few per device); one whose
    // certificate no enrolled device has (revoked, or never enrolled) may still be told to
    // close. A device revoked later is refused at its next request, and the connection closed.
    let checking = {
        let (service, certificate) = (service.clone(), certificate.clone());
        tokio::task::spawn_blocking(move || service.enrolled(&certificate))
    };
    let enrolled = tokio::select! {
        _ = ticket.evicted() => return,
        enrolled = checking => enrolled.ok().flatten(),
    };
    if let Some(device) = enrolled {
        match ticket.prove(&device) {
            Proof::Kept => {}
            Proof::Told => return,
            Proof::PastCap => {
                if let Some(left_out) = logs.past_cap.allow() {
                    let code = "protected-per-device";
                    tracing::warn!(
                        peer = %peer.ip(), device = %device, code = %code, left_out,
                        "a device has as many connections kept as it may: this one may be closed for a newcomer"
                    );
                }
            }
        }
    }
    let handler = hyper::service::service_fn(move |req| {
        let (service, certificate) = (service.clone(), certificate.clone());
        async move { Ok::<_, std::convert::Infallible>(respond(service, certificate, req, caps.body).await) }
    });
    // The header deadline runs from the end of the handshake, and again from each reply: an
    // idle connection kept alive is closed when it passes.
    let serving = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(caps.header)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), handler);
    tokio::select! {
        _ = ticket.evicted() => {}
        _ = serving => {}
    }
    drop(ticket);
}

/// Reads a request's body, each piece within `deadline` of the last, up to one chunk.
async fn read_body(mut body: Incoming, deadline: Duration) -> Result<Vec<u8>, Reply> {
    let limit = doorstep_sync::wire::MAX_CHUNK as usize;
    let declared = hyper::body::Body::size_hint(&body).exact().unwrap_or(0) as usize;
    let mut bytes = Vec::with_capacity(declared.min(limit));
    loop {
        let frame = match tokio::time::timeout(deadline, body.frame()).await {
            Err(_) => {
                return Err(Reply::error(408, "body-timeout", "the request's body stopped arriving").closing());
            }
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(_))) => return Err(Reply::error(400, "body", "the request's body was cut short").closing()),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(Reply::error(413, "chunk-too-large", "a request body is at most 1 MiB").closing());
            }
            bytes.extend_from_slice(&data);
        }
    }
}

async fn respond(
    service: Arc<Service<AnyStore>>,
    certificate: Arc<Vec<u8>>,
    req: hyper::Request<Incoming>,
    body_deadline: Duration,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let reply = match read_body(body, body_deadline).await {
        Err(reply) => {
            // Refused before the service knew the device: the certificate's name is not read.
            crate::service::log(parts.method.as_str(), parts.uri.path(), None, &reply);
            crate::service::count(&service.metrics, parts.method.as_str(), parts.uri.path(), 0, &reply);
            reply
        }
        Ok(body) => {
            let (method, path) = (parts.method.as_str().to_string(), parts.uri.path().to_string());
            let metrics = service.metrics.clone();
            let task = tokio::task::spawn_blocking(move || {
                let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                service.handle(&Request {
                    method: parts.method.as_str(),
                    path: parts.uri.path(),
                    header: &header,
                    body: &body,
                    peer: &certificate,
                })
            });
            task.await.unwrap_or_else(|_| {
                tracing::error!(code = %"internal", "a request failed inside the hub");
                let reply = Reply::error(500, "internal", "the request failed inside the hub");
                crate::service::count(&metrics, &method, &path, 0, &reply);
                reply
            })
        }
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_log_counts_what_it_leaves_out() {
        let t = Throttle::new(2);
        assert_eq!((t.allow(), t.allow(), t.allow(), t.allow()), (Some(0), Some(0), None, None));
        t.state.lock().unwrap().0 -= Duration::from_secs(2);
        assert_eq!(t.allow(), Some(2), "the next line says how many were left out");
    }
}
