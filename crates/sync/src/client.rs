//! A small blocking HTTP/1.1 client over rustls, enough for the hub API: one connection kept
//! alive, opened again after any failure. Uploads resume from the offset the hub reports.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_envelope::{ApplicationId, Digest, Receipt, VerifyingKey};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, ServerName};

use crate::wire;
use reply::{read_response, with_hint};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("hub address {0:?}: expected https://HOST:PORT")]
    Url(String),
    /// No connection, a cut connection, or TLS refused (the message says which).
    #[error("connection to the hub: {0}")]
    Connection(String),
    /// The hub answered and refused.
    #[error("the hub refused ({status} {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the hub's reply: {0}")]
    Protocol(String),
    #[error("the hub's receipt does not verify: {0}")]
    Receipt(doorstep_envelope::EnvelopeError),
    #[error("{0} bytes is over the {max} byte limit", max = wire::MAX_ENVELOPE)]
    TooLarge(u64),
    #[error("the hub cannot take the manifest yet: {} missing, {} with another digest", .0.missing.len(), .0.mismatched.len())]
    ManifestIncomplete(wire::ManifestProblems),
    #[error("the hub holds another decision, from an earlier batch, on {}: {}", doorstep_core::text::counted(.0.ids().len() as u64, "application", "applications"), .0.ids().join(", "))]
    DecidedBefore(wire::DecidedBefore),
    #[error("{0:?} is not an appointment id")]
    BadAppointmentId(String),
}

impl SyncError {
    /// Worth trying again later (coverage came and went, the hub restarted).
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Connection(_) | SyncError::Protocol(_))
            || matches!(self, SyncError::Refused { status, .. } if *status >= 500)
            || matches!(self, SyncError::Refused { code, .. } if code == wire::IN_FLIGHT)
    }

    /// TLS refused the certificate that answered (another CA's, revoked, for another name,
    /// expired): not a question of coverage. As far as the unit can tell, what answered is not
    /// its hub (a Wi-Fi login page, or someone in between); nothing was sent.
    pub fn is_untrusted_hub(&self) -> bool {
        matches!(self, SyncError::Connection(m) if m.contains("invalid peer certificate"))
    }

    /// The hub refused this for good: sending it again as it is will not mend it (an officer
    /// it has not enrolled, a revoked unit, data that does not match, too large); someone must
    /// act first. Not an offset race (409), "too many uploads" (429) or chunks that kept
    /// arriving damaged (460): those pass.
    pub fn is_refusal(&self) -> bool {
        match self {
            SyncError::Refused { status, code, .. } => {
                (400..500).contains(status)
                    && !matches!(*status, 409 | 429 | wire::STATUS_CHECKSUM_MISMATCH)
                    && code != wire::IN_FLIGHT
            }
            SyncError::TooLarge(_) | SyncError::DecidedBefore(_) => true,
            _ => false,
        }
    }
}

/// A reply.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str) -> Result<u64, SyncError> {
        self.header(name)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| SyncError::Protocol(format!("{} without a number in {name}", self.status)))
    }

    fn refused(&self) -> SyncError {
        let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(&self.body) {
            Ok(e) => (e.error, e.message),
            Err(_) => (
                self.header(wire::ERROR).unwrap_or_default().to_string(),
                String::from_utf8_lossy(&self.body).into_owned(),
            ),
        };
        SyncError::Refused { status: self.status, code, message }
    }
}

type Stream = StreamOwned<ClientConnection, TcpStream>;

/// A kept-alive connection idle this long gets new traffic keys before its next request (the
/// hub closes one idle past its header timeout, 30 s by default).
pub const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// How one attempt at a request failed.
enum Attempt {
    /// Before any reply: the connection was found closed (sending, or at the reply's first byte).
    Stale(String),
    Failed(SyncError),
}

pub struct HubClient {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    config: Arc<ClientConfig>,
    conn: Option<BufReader<Stream>>,
    /// When the connection last carried a request and its reply.
    used_at: Option<Instant>,
    /// A kept-alive connection idle this long has its traffic keys refreshed before its next
    /// request (SECURITY.md R15: a TLS 1.3 KeyUpdate, the hub's keys too).
    pub refresh_after: Duration,
    /// How many times the keys were refreshed on this client's connections.
    key_updates: u64,
    /// How many connections this client made.
    connections: u64,
    pub timeout: Duration,
    /// Bytes per PATCH (at most `wire::MAX_CHUNK`). Smaller costs less when coverage drops
    /// mid-chunk; larger costs fewer round trips.
    pub chunk: u64,
}

/// Where an upload starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Ask the hub what it holds first (HEAD): the envelope may have been sent before.
    Ask,
    /// Never sent before: the first chunk goes at once. Still safe if the hub does hold it: it
    /// answers with its offset (409) or, when it holds all of it, with the receipt.
    New,
}

impl HubClient {
    /// `url` is `https://HOST:PORT`; the hub's certificate must name HOST.
    pub fn new(url: &str, config: ClientConfig) -> Result<HubClient, SyncError> {
        let (host, port, server_name) = crate::bundle::hub_address(url).ok_or_else(|| SyncError::Url(url.into()))?;
        Ok(HubClient {
            host,
            port,
            server_name,
            config: Arc::new(config),
            conn: None,
            used_at: None,
            refresh_after: REFRESH_AFTER,
            key_updates: 0,
            connections: 0,
            timeout: Duration::from_secs(30),
            chunk: 64 * 1024,
        })
    }

    /// How many times the traffic keys were refreshed (R15), and on how many connections.
    pub fn key_updates(&self) -> (u64, u64) {
        (self.key_updates, self.connections)
    }

    fn connect(&mut self) -> Result<&mut BufReader<Stream>, SyncError> {
        // Idle long enough: new keys before the next request (sent with it). A connection
        // that cannot take them is dropped, and a new one made.
        let idle = self.used_at.is_some_and(|t| t.elapsed() >= self.refresh_after);
        if idle && self.refresh_keys().is_err() {
            self.conn = None;
        }
        if self.conn.is_none() {
            let c = |e: std::io::Error| SyncError::Connection(e.to_string());
            let addr = (self.host.as_str(), self.port)
                .to_socket_addrs()
                .map_err(c)?
                .next()
                .ok_or_else(|| SyncError::Connection(format!("{} does not resolve", self.host)))?;
            let tcp = TcpStream::connect_timeout(&addr, self.timeout).map_err(c)?;
            tcp.set_read_timeout(Some(self.timeout)).map_err(c)?;
            tcp.set_write_timeout(Some(self.timeout)).map_err(c)?;
            let _ = tcp.set_nodelay(true);
            let tls = ClientConnection::new(self.config.clone(), self.server_name.clone())
                .map_err(|e| SyncError::Connection(e.to_string()))?;
            self.conn = Some(BufReader::with_capacity(64 * 1024, StreamOwned::new(tls, tcp)));
            self.connections = self.connections.saturating_add(1);
        }
        Ok(self.conn.as_mut().expect("just connected"))
    }

    /// Sends one request and reads the reply. Any failure drops the connection.
    ///
    /// A kept-alive connection the hub has since closed (it closes idle ones, SECURITY R25)
    /// fails at once; then the request is sent once more on a new connection. Only then: a
    /// request that failed on a fresh connection is the caller's to retry, as is one whose
    /// reply had begun. Resending is safe in any case: every request is idempotent at the hub
    /// (a chunk names its offset, a manifest its batch).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, SyncError> {
        let reused = self.conn.is_some();
        let mut result = self.attempt(method, path, headers, body);
        if reused && matches!(result, Err(Attempt::Stale(_))) {
            result = self.attempt(method, path, headers, body);
        }
        result.map_err(|e| match e {
            Attempt::Stale(m) => SyncError::Connection(with_hint(m)),
            Attempt::Failed(SyncError::Connection(m)) => SyncError::Connection(with_hint(m)),
            Attempt::Failed(other) => other,
        })
    }

    fn attempt(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, Attempt> {
        let host = format!("{}:{}", self.host, self.port);
        let result = (|| {
            let conn = self.connect().map_err(Attempt::Failed)?;
            let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\n", body.len());
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let stale = |e: std::io::Error| match e.kind() {
                ErrorKind::BrokenPipe
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::UnexpectedEof => Attempt::Stale(e.to_string()),
                _ => Attempt::Failed(SyncError::Connection(e.to_string())),
            };
            // One write, so the request goes out as few TLS records and segments as it can.
            let mut request = head.into_bytes();
            request.extend_from_slice(body);
            let stream = conn.get_mut();
            stream.write_all(&request).map_err(stale)?;
            stream.flush().map_err(stale)?;
            // Nothing at all in reply means the peer had closed: the request was not read.
            if conn.fill_buf().map_err(stale)?.is_empty() {
                return Err(Attempt::Stale("the hub closed the connection".into()));
            }
            read_response(conn, method == "HEAD").map_err(Attempt::Failed)
        })();
        if result.is_err() {
            self.conn = None;
        }
        self.used_at = Some(Instant::now());
        result
    }

    /// How much of an envelope the hub holds: `None` when it has none of it.
    pub fn offset(&mut self, id: &str, digest: &Digest) -> Result<Option<(u64, u64)>, SyncError> {
        offset(self, id, digest)
    }

    pub fn receipt(&mut self, id: &str) -> Result<Option<Receipt>, SyncError> {
        receipt(self, id)
    }

    /// Uploads a sealed envelope in chunks of `self.chunk` (see [`upload`]).
    pub fn upload(
        &mut self,
        id: ApplicationId,
        digest: &Digest,
        bytes: &[u8],
        start: Start,
        hub_key: Option<&VerifyingKey>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Receipt, SyncError> {
        let chunk = self.chunk;
        upload(self, chunk, &Outgoing { id, digest, bytes, start }, hub_key, progress)
    }

    /// Where an application stands at the hub.
    pub fn status(&mut self, id: &str) -> Result<wire::Status, SyncError> {
        let r = self.request("GET", &wire::status_path(id), &[], &[])?;
        match r.status {
            200 => serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(e.to_string())),
            _ => Err(r.refused()),
        }
    }

    /// Sends a supervisor's signed manifest, and checks the hub's signed receipt for it
    /// (against `hub_key` when given). When envelopes it lists are not at the hub yet, the error
    /// names them.
    pub fn submit_manifest(
        &mut self,
        manifest: &[u8],
        hub_key: Option<&VerifyingKey>,
    ) -> Result<(wire::ManifestAccepted, doorstep_envelope::BatchReceipt), SyncError> {
        let r =
            self.request("POST", wire::MANIFESTS, &[("content-type", "application/octet-stream".into())], manifest)?;
        match r.status {
            200 => {
                let accepted: wire::ManifestAccepted =
                    serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(e.to_string()))?;
                let receipt = hex::decode(&accepted.receipt)
                    .ok()
                    .and_then(|b| doorstep_envelope::BatchReceipt::from_bytes(&b).ok())
                    .ok_or_else(|| SyncError::Protocol("the manifest's receipt does not parse".into()))?;
                receipt.verify(manifest, hub_key).map_err(SyncError::Receipt)?;
                Ok((accepted, receipt))
            }
            422 if r.header(wire::ERROR) == Some("manifest-incomplete") => {
                let p = serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(e.to_string()))?;
                Err(SyncError::ManifestIncomplete(p))
            }
            422 if r.header(wire::ERROR) == Some(wire::ALREADY_DECIDED) => {
                let p = serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(e.to_string()))?;
                Err(SyncError::DecidedBefore(p))
            }
            _ => Err(r.refused()),
        }
    }

    /// This device's appointments at the hub, every state (the hub knows the device by its
    /// certificate and sends only its own).
    pub fn appointments(&mut self) -> Result<wire::AppointmentList, SyncError> {
        let r = self.request("GET", wire::APPOINTMENTS, &[], &[])?;
        match r.status {
            200 => {
                let list: wire::AppointmentList =
                    serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(format!("appointments: {e}")))?;
                if list.version != wire::APPOINTMENTS_VERSION {
                    return Err(SyncError::Protocol(format!(
                        "appointments version {} (this unit reads {})",
                        list.version,
                        wire::APPOINTMENTS_VERSION
                    )));
                }
                Ok(list)
            }
            _ => Err(r.refused()),
        }
    }

    /// Tells the hub that `visit` served appointment `id` at `at`, and returns the appointment
    /// as the hub now holds it (served by that visit). Safe to send again: the hub answers the
    /// same visit the same. Refused (`SyncError::Refused`) with `404 unknown-appointment`,
    /// `403 other-device` or `409 not-booked`.
    pub fn served(&mut self, id: &str, visit: &str, at: time::OffsetDateTime) -> Result<wire::Appointment, SyncError> {
        if !wire::appointment_id_ok(id) {
            return Err(SyncError::BadAppointmentId(id.to_string()));
        }
        let notice = wire::ServedNotice { version: wire::APPOINTMENTS_VERSION, visit: visit.to_string(), at };
        let body = serde_json::to_vec(&notice).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let r = self.request("POST", &wire::served_path(id), &[("content-type", "application/json".into())], &body)?;
        match r.status {
            200 => serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(format!("appointment: {e}"))),
            _ => Err(r.refused()),
        }
    }

    /// Sends a sealed feedback (`doorstep_envelope::SealedFeedback`'s bytes) and returns what
    /// the hub now holds of it, once durable there. Safe to send again: the same bytes are
    /// answered the same. Refused (`SyncError::Refused`) with `413 too-large`, `422 conflict`
    /// (other bytes under the id), `403 other-device`, or `422` with the check that failed
    /// (`feedback`, `feedback-id`, `signature`, `device-id`, `officer-key`, `device-key`,
    /// `feedback-kind`, `demo-unit`, `real-unit`).
    pub fn put_feedback(&mut self, id: &str, sealed: &[u8]) -> Result<wire::FeedbackStatus, SyncError> {
        if sealed.len() as u64 > wire::MAX_FEEDBACK {
            return Err(SyncError::TooLarge(sealed.len() as u64));
        }
        let r = self.request(
            "PUT",
            &wire::feedback_path(id),
            &[("content-type", "application/octet-stream".into())],
            sealed,
        )?;
        match r.status {
            200 => serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(format!("feedback: {e}"))),
            _ => Err(r.refused()),
        }
    }

    /// This device's feedback at the hub, with each one's state and answer (the hub knows the
    /// device by its certificate and sends only its own).
    pub fn feedback(&mut self) -> Result<wire::FeedbackList, SyncError> {
        let r = self.request("GET", wire::FEEDBACK, &[], &[])?;
        match r.status {
            200 => {
                let list: wire::FeedbackList =
                    serde_json::from_slice(&r.body).map_err(|e| SyncError::Protocol(format!("feedback: {e}")))?;
                if list.version != wire::FEEDBACK_LIST_VERSION {
                    return Err(SyncError::Protocol(format!(
                        "feedback list version {} (this unit reads {})",
                        list.version,
                        wire::FEEDBACK_LIST_VERSION
                    )));
                }
                Ok(list)
            }
            _ => Err(r.refused()),
        }
    }

    /// The hub CA's revocation list (PEM) as the hub holds it now; `None` when nothing is
    /// revoked. Unchecked: see [`crate::tls::newer_list`].
    pub fn crl(&mut self) -> Result<Option<String>, SyncError> {
        let r = self.request("GET", wire::CRL, &[], &[])?;
        match r.status {
            204 => Ok(None),
            200 if r.body.len() as u64 <= wire::MAX_CRL => String::from_utf8(r.body)
                .map(Some)
                .map_err(|_| SyncError::Protocol("the revocation list is not text".into())),
            200 => Err(SyncError::Protocol(format!("a revocation list of {} bytes", r.body.len()))),
            _ => Err(r.refused()),
        }
    }

    /// The certificate the hub presented on the connection open now, and the name it was
    /// checked for.
    pub fn peer(&self) -> Option<(CertificateDer<'static>, ServerName<'static>)> {
        let conn = self.conn.as_ref()?;
        let cert = conn.get_ref().conn.peer_certificates()?.first()?.clone().into_owned();
        Some((cert, self.server_name.clone()))
    }

    /// Asks TLS for new traffic keys (SECURITY R15), sent with the next request: done before
    /// a request on a connection idle for [`HubClient::refresh_after`].
    pub fn refresh_keys(&mut self) -> Result<(), SyncError> {
        if let Some(conn) = self.conn.as_mut() {
            conn.get_mut().conn.refresh_traffic_keys().map_err(|e| SyncError::Connection(e.to_string()))?;
            self.key_updates = self.key_updates.saturating_add(1);
        }
        Ok(())
    }
}

/// One request and its reply: over TLS for [`HubClient`], or handed straight to a hub's
/// service in a simulation, so that both run the same upload protocol.
pub trait Exchange {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, SyncError>;
}

impl Exchange for HubClient {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, SyncError> {
        HubClient::request(self, method, path, headers, body)
    }
}

/// A sealed envelope to upload.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    pub id: ApplicationId,
    pub digest: &'a Digest,
    pub bytes: &'a [u8],
    pub start: Start,
}

/// How much of an envelope the hub holds: `None` when it has none of it.
pub fn offset(x: &mut dyn Exchange, id: &str, digest: &Digest) -> Result<Option<(u64, u64)>, SyncError> {
    let r = x.request("HEAD", &wire::envelope_path(id), &[(wire::DIGEST, hex::encode(digest))], &[])?;
    match r.status {
        404 => Ok(None),
        200 => Ok(Some((r.number(wire::UPLOAD_OFFSET)?, r.number(wire::UPLOAD_LENGTH)?))),
        _ => Err(r.refused()),
    }
}

pub fn receipt(x: &mut dyn Exchange, id: &str) -> Result<Option<Receipt>, SyncError> {
    let r = x.request("GET", &wire::receipt_path(id), &[], &[])?;
    match r.status {
        404 => Ok(None),
        200 => Receipt::from_bytes(&r.body).map(Some).map_err(|e| SyncError::Protocol(e.to_string())),
        _ => Err(r.refused()),
    }
}

/// How many replies in a row may leave the upload where it was (a checksum retried, a 409
/// after the hub's restart) before it is given up as a hub that does not move.
const MAX_STALLED: u32 = 4;

/// Uploads a sealed envelope in chunks of `chunk` bytes, resuming from wherever the hub is,
/// and returns the hub's receipt once it has verified it against this envelope (and against
/// `hub_key` when given). `progress` hears (bytes the hub holds, total).
pub fn upload(
    x: &mut dyn Exchange,
    chunk: u64,
    envelope: &Outgoing<'_>,
    hub_key: Option<&VerifyingKey>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Receipt, SyncError> {
    let Outgoing { id, digest, bytes, start } = *envelope;
    let length = bytes.len() as u64;
    if length > wire::MAX_ENVELOPE {
        return Err(SyncError::TooLarge(length));
    }
    let name = id.to_string();
    let verify = |r: Receipt| r.verify(id, digest, hub_key).map(|()| r).map_err(SyncError::Receipt);
    let asked = match start {
        Start::Ask => offset(x, &name, digest)?,
        Start::New => None,
    };
    let mut offset = match asked {
        Some((o, l)) if l == length => o,
        Some((_, l)) => {
            return Err(SyncError::Protocol(format!("the hub expects {l} bytes, the envelope has {length}")));
        }
        None => 0,
    };
    progress(offset, length);
    let mut checksum_failures = 0;
    // Replies that moved nothing forward, in a row: a hub that keeps answering with the same
    // offset (or an earlier one) is not uploaded to for ever.
    let mut stalled = 0;
    loop {
        if offset >= length {
            // Complete before this call (a reply lost after the hub committed).
            return match receipt(x, &name)? {
                Some(r) => verify(r),
                None => Err(SyncError::Protocol("the hub holds every byte but gives no receipt".into())),
            };
        }
        let (start, end) = wire::next_chunk(offset, length, chunk.min(wire::MAX_CHUNK)).expect("offset < length");
        let part = &bytes[start as usize..end as usize];
        let r = x.request(
            "PATCH",
            &wire::envelope_path(&name),
            &[
                (wire::UPLOAD_OFFSET, start.to_string()),
                (wire::UPLOAD_LENGTH, length.to_string()),
                (wire::DIGEST, hex::encode(digest)),
                (wire::UPLOAD_CHECKSUM, wire::checksum(part)),
                ("content-type", "application/offset+octet-stream".into()),
            ],
            part,
        )?;
        let before = offset;
        match r.status {
            204 => offset = r.number(wire::UPLOAD_OFFSET)?,
            200 => {
                progress(length, length);
                let receipt = Receipt::from_bytes(&r.body).map_err(|e| SyncError::Protocol(e.to_string()))?;
                return verify(receipt);
            }
            409 if r.header(wire::ERROR) == Some(wire::IN_FLIGHT) => return Err(r.refused()),
            409 => offset = r.number(wire::UPLOAD_OFFSET)?,
            wire::STATUS_CHECKSUM_MISMATCH if checksum_failures < 3 => checksum_failures += 1,
            _ => return Err(r.refused()),
        }
        if offset > length {
            return Err(SyncError::Protocol(format!("the hub says it holds {offset} of {length} bytes")));
        }
        stalled = if offset > before { 0 } else { stalled + 1 };
        if stalled > MAX_STALLED {
            return Err(SyncError::Protocol(format!("the hub's offset stays at {offset} of {length} bytes")));
        }
        progress(offset, length);
    }
}

mod reply;

#[cfg(test)]
mod tests;
