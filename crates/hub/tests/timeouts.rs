//! Deadlines and caps of each connection (SECURITY R25), on an in-process hub with short
//! limits: a peer that does not finish its handshake, one that sends no request, one whose
//! body stops, and a kept-alive connection left idle are each closed when their deadline
//! passes; connections from one address past its cap are closed at once. One enrolled device
//! keeps only a few of the places for good, and a revoked one gives them back at its next
//! request.

mod common;
mod pg;
mod stores;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_hub::pki::{self, Bundle, Limits, Validity};
use doorstep_sync::wire;

const HANDSHAKE: f64 = 0.6;
const HEADER: f64 = 0.8;
const BODY: f64 = 0.7;

/// How long until the hub closes `s` (reads until end of stream or an error), at most `within`.
fn closed_after(s: &mut dyn Read, within: Duration) -> Duration {
    let t = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return t.elapsed(),
            Ok(_) => assert!(t.elapsed() < within, "still open after {within:?}"),
        }
    }
}

fn tls(b: &Bundle, addr: SocketAddr) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let config = Arc::new(b.client_config().unwrap());
    let mut conn = rustls::ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    rustls::StreamOwned::new(conn, tcp)
}

/// Asserts that `took` is the deadline `secs`, give or take the scheduler.
fn about(took: Duration, secs: f64, what: &str) {
    let s = took.as_secs_f64();
    eprintln!("{what}: closed after {s:.2} s (deadline {secs} s)");
    assert!(s >= secs * 0.9 && s < secs + 1.5, "{what}: closed after {s:.2} s, the deadline is {secs} s");
}

#[test]
fn each_deadline_closes_what_holds_a_connection_open_r25() {
    let d = tempfile::tempdir().unwrap();
    let mut hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    hub.config.limits = Limits {
        handshake_timeout_secs: HANDSHAKE,
        header_timeout_secs: HEADER,
        body_timeout_secs: BODY,
        max_connections_per_ip: 4,
        ..Limits::default()
    };
    let b = common::bundle(&hub, "tablet-01", Validity::days(1));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let addr = running.addr;
    let window = Duration::from_secs(5);

    // A TCP connection that never starts its handshake.
    let mut silent = TcpStream::connect(addr).unwrap();
    about(closed_after(&mut silent, window), HANDSHAKE, "no handshake");

    // A handshake, then no request.
    let mut quiet = tls(&b, addr);
    about(closed_after(&mut quiet, window), HEADER, "no request");

    // Headers, then a body that stops: 408 body-timeout, and the connection closed.
    let mut slow = tls(&b, addr);
    let id = doorstep_envelope::ApplicationId::new_v7(1_790_000_000_000, [1; 10]).to_string();
    let head = format!(
        "PATCH {} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1000\r\n{}: 0\r\n{}: 1000\r\n{}: {}\r\n{}: crc32 00000000\r\n\r\n",
        wire::envelope_path(&id),
        wire::UPLOAD_OFFSET,
        wire::UPLOAD_LENGTH,
        wire::DIGEST,
        "ab".repeat(32),
        wire::UPLOAD_CHECKSUM,
    );
    slow.write_all(head.as_bytes()).unwrap();
    slow.write_all(&[0u8; 10]).unwrap();
    slow.flush().unwrap();
    let t = Instant::now();
    let mut reply = Vec::new();
    let _ = slow.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).to_lowercase();
    assert!(reply.starts_with("http/1.1 408") && reply.contains("doorstep-error: body-timeout"), "{reply}");
    about(t.elapsed(), BODY, "a body that stops");

    // A request answered, then the connection left idle: closed like one that never asked.
    let mut idle = tls(&b, addr);
    let get = format!("GET {} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n", wire::receipt_path(&id));
    idle.write_all(get.as_bytes()).unwrap();
    idle.flush().unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 404", "answered first");
    about(closed_after(&mut idle, window), HEADER, "an idle kept-alive connection");

    // Past its cap, an address's connections are closed at once; the others wait their turn.
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut fifth = TcpStream::connect(addr).unwrap();
    fifth.set_read_timeout(Some(window)).unwrap();
    let took = closed_after(&mut fifth, window);
    assert!(took.as_secs_f64() < HANDSHAKE / 2.0, "the fifth from one address waited {took:?}");
    drop(held);
    drop(running);
}

/// The hub closes a tablet's kept-alive connection once it idles past the header deadline; the
/// tablet's next request is sent again on a new connection, so the officer sees no failure.
#[test]
fn a_tablet_reconnects_once_when_its_idle_connection_was_closed() {
    let d = tempfile::tempdir().unwrap();
    let mut hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    hub.config.limits = Limits { header_timeout_secs: 0.3, ..Limits::default() };
    let b = common::bundle(&hub, "tablet-01", Validity::days(1));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let mut c = doorstep_sync::client::HubClient::new(&url, b.client_config().unwrap()).unwrap();
    let id = doorstep_envelope::ApplicationId::new_v7(1_790_000_000_000, [2; 10]).to_string();
    assert_eq!(c.receipt(&id).unwrap(), None, "nothing uploaded yet");
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(c.receipt(&id).unwrap(), None, "asked again on a new connection");
    // And a connection in use is kept: a request soon after reuses it without a retry.
    assert_eq!(c.receipt(&id).unwrap(), None);
    drop(running);
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A GET of an application's receipt on `s`, kept alive: the reply's status and error code,
/// or `None` when the hub has closed the connection.
fn ask(s: &mut Tls) -> Option<(u16, String)> {
    let id = doorstep_envelope::ApplicationId::new_v7(1_790_000_000_000, [3; 10]).to_string();
    let get = format!("GET {} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n", wire::receipt_path(&id));
    s.write_all(get.as_bytes()).ok()?;
    s.flush().ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let field =
        |name: &str| head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(|v| v.trim().to_string()));
    let status = head.get(9..12)?.parse().ok()?;
    let mut body = vec![0u8; field("content-length").and_then(|n| n.parse().ok()).unwrap_or(0)];
    s.read_exact(&mut body).ok()?;
    Some((status, field(wire::ERROR).unwrap_or_default()))
}

/// Whether the hub closes `s` within `within` (an end of stream, or the connection reset; not
/// the read's own timeout).
fn closes_within(s: &mut Tls, within: Duration) -> bool {
    s.get_ref().set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        }
    }
}

fn hub_with_two_tablets(d: &std::path::Path, limits: Limits) -> (pki::Hub, Bundle, Bundle) {
    let mut hub = stores::init(&d.join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    hub.config.limits = limits;
    let insider = common::bundle(&hub, "tablet-09", Validity::days(1));
    let tablet = common::bundle(&hub, "tablet-01", Validity::days(1));
    (hub, insider, tablet)
}

/// R25 (review 2, S5): one enrolled device's certificate, on as many connections as the hub
/// has places, holds only a few of them for good (four by default); the rest may be closed for
/// a newcomer like any connection not proven an enrolled tablet's, and another tablet is served.
#[test]
fn one_enrolled_device_cannot_hold_every_place_r25() {
    let d = tempfile::tempdir().unwrap();
    let (hub, insider, tablet) = hub_with_two_tablets(d.path(), Limits { max_connections: 8, ..Limits::default() });
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut held: Vec<Tls> = (0..8).map(|_| tls(&insider, running.addr)).collect();
    for (n, s) in held.iter_mut().enumerate() {
        assert_eq!(ask(s), Some((404, "no-receipt".into())), "the insider's connection {n} is served");
    }
    let url = format!("https://localhost:{}", running.addr.port());
    let mut c = doorstep_sync::client::HubClient::new(&url, tablet.client_config().unwrap()).unwrap();
    let id = doorstep_envelope::ApplicationId::new_v7(1_790_000_000_000, [4; 10]).to_string();
    let served = c.receipt(&id);
    assert!(matches!(served, Ok(None)), "another tablet is served with every place the insider's: {served:?}");
    let answered: Vec<bool> = held.iter_mut().map(|s| ask(s).is_some()).collect();
    assert_eq!(&answered[..4], &[true; 4], "the insider's first four connections are kept");
    assert_eq!(answered.iter().filter(|a| !**a).count(), 1, "one of the others made room: {answered:?}");
    drop(running);
}

/// R25 (review 2, S5): a device revoked while its connections hold the hub's every place is
/// answered `403 revoked-device` at its next request on each, and each is closed; another
/// tablet is then served.
#[test]
fn a_revoked_devices_connections_are_closed_at_its_next_request_r25() {
    let d = tempfile::tempdir().unwrap();
    let (hub, insider, tablet) = hub_with_two_tablets(d.path(), Limits { max_connections: 4, ..Limits::default() });
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut held: Vec<Tls> = (0..4).map(|_| tls(&insider, running.addr)).collect();
    for s in &mut held {
        assert_eq!(ask(s), Some((404, "no-receipt".into())));
    }
    hub.revoke("tablet-09").unwrap();
    for (n, s) in held.iter_mut().enumerate() {
        assert_eq!(ask(s), Some((403, "revoked-device".into())), "connection {n}");
        assert!(closes_within(s, Duration::from_secs(2)), "connection {n} is closed after its refusal");
    }
    let url = format!("https://localhost:{}", running.addr.port());
    let mut c = doorstep_sync::client::HubClient::new(&url, tablet.client_config().unwrap()).unwrap();
    let id = doorstep_envelope::ApplicationId::new_v7(1_790_000_000_000, [5; 10]).to_string();
    let served = c.receipt(&id);
    assert!(matches!(served, Ok(None)), "another tablet is served: {served:?}");
    drop(running);
}
