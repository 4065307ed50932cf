//! The hub API's logic, apart from HTTP and TLS: a request (method, path, headers, body, and
//! the client certificate TLS verified) in, a reply out. See `doorstep_sync::wire`.
//!
//! Identity (SECURITY R24): a request is answered for the enrolled device its certificate
//! names, and only about that device's applications. An application id belongs to the device
//! that first uploads it; any other device is refused with `403 other-device`, whatever it
//! asks (its offset, its receipt, its status, or to write it). The envelope's device id must
//! be that device's name, its officer key one that `hub.toml` enrolls (`officers`), and its
//! counter is that device's.
//!
//! - [`route`]: the request's method, path and headers parsed, before anything is read;
//! - `upload`: HEAD and PATCH, the envelope's checks, the receipt;
//! - `manifest`: the supervisor's batch manifest;
//! - `appointments`: the device's appointments, and its notices that one was served;
//! - `feedback`: the device's sealed feedback in, and what became of its own out.
//!
//! A device reads only its own appointments and serves only its own (`403 other-device`), and
//! reads only its own feedback.

mod appointments;
mod feedback;
mod fresh;
mod manifest;
mod route;
mod upload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use doorstep_envelope::SigningKey;
use doorstep_sync::wire::{self, ErrorBody, Status};

use crate::metrics::Metrics;
use crate::pki::{self, Devices};
use crate::store::{Store, StoreError};
pub use route::{Call, parse};

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        let body = serde_json::to_vec(&ErrorBody { error: code.into(), message: message.into() }).unwrap_or_default();
        // The code in a header too: a reply to HEAD has no body.
        Reply { status, headers: vec![("content-type", "application/json".into()), (wire::ERROR, code.into())], body }
    }

    /// The same reply, with the connection closed after it (its request was not read whole).
    pub fn closing(self) -> Reply {
        self.with("connection", "close")
    }

    fn with(mut self, name: &'static str, value: impl ToString) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    fn receipt(bytes: Vec<u8>) -> Reply {
        Reply { status: 200, headers: vec![("content-type", "application/octet-stream".into())], body: bytes }
    }

    fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// The error code of a refusal (`None` for a success).
    pub fn code(&self) -> Option<&str> {
        self.headers.iter().find(|(n, _)| *n == wire::ERROR).map(|(_, v)| v.as_str())
    }
}

/// A request as the HTTP layer hands it over.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
    /// The DER of the client certificate TLS verified against the CA.
    pub peer: &'a [u8],
}

/// How partial uploads are bounded (SECURITY R25); from `hub.toml`'s `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Partial uploads one device may hold at once.
    pub per_device: usize,
    /// A partial upload that has not grown for this long is dropped.
    pub expiry_secs: i64,
}

pub struct Service<S: Store> {
    /// Shared with the admin socket (`crate::admin`).
    pub store: Arc<S>,
    pub hub_id: String,
    receipt_key: SigningKey,
    max_envelope: u64,
    pub uploads: UploadLimits,
    /// `devices.toml` and `hub.toml`, read again whenever they change: a revocation, a new
    /// officer or supervisor counts from the next request, without a restart.
    devices: fresh::Fresh<Devices>,
    trusted: fresh::Fresh<pki::Trusted>,
    /// `crl.pem`, once there is one (`replace-server-cert`).
    crl: fresh::Fresh<String>,
    /// Uploads being written, by application id, with the device writing each.
    in_flight: Mutex<HashMap<String, String>>,
    /// The clock, in unix seconds (tests set it).
    pub now: fn() -> i64,
    /// What `/metrics` publishes (`crate::metrics`).
    pub metrics: Arc<Metrics>,
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Releases an upload's in-flight mark when the request ends, however it ends.
struct InFlight<'a> {
    set: &'a Mutex<HashMap<String, String>>,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.set.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

/// Logs a request: method, route, status, device and application id, and the refusal's code;
/// never a header's or the body's contents, nor a reply's message.
pub fn log(method: &str, path: &str, device: Option<&str>, reply: &Reply) {
    let (route, id) = route_of(path);
    let method = known_method(method);
    let (status, device, code) = (reply.status, device.unwrap_or("-"), reply.code().unwrap_or("-"));
    if status >= 500 {
        tracing::error!(
            method = %method, route = %route, status, device = %device, id = %id, code = %code,
            "request failed"
        );
    } else if status >= 400 && status != wire::STATUS_IN_FLIGHT {
        tracing::warn!(
            method = %method, route = %route, status, device = %device, id = %id, code = %code,
            "request refused"
        );
    } else {
        tracing::info!(
            method = %method, route = %route, status, device = %device, id = %id, code = %code,
            "request"
        );
    }
}

/// A path's route, and the application (or appointment, or feedback) id it names.
fn route_of(path: &str) -> (&'static str, String) {
    match wire::route(path) {
        Some(wire::Route::Envelope(id)) => ("envelope", id),
        Some(wire::Route::Receipt(id)) => ("receipt", id),
        Some(wire::Route::Status(id)) => ("status", id),
        Some(wire::Route::Manifests) => ("manifests", "-".into()),
        Some(wire::Route::Appointments) => ("appointments", "-".into()),
        Some(wire::Route::Served(id)) => ("served", id),
        Some(wire::Route::FeedbackList) => ("feedback-list", "-".into()),
        Some(wire::Route::Feedback(id)) => ("feedback", id),
        Some(wire::Route::Crl) => ("crl", "-".into()),
        None => ("unknown", "-".into()),
    }
}

/// A method as logged and counted: only one we know (the rest is input).
fn known_method(method: &str) -> &'static str {
    match method {
        "HEAD" => "HEAD",
        "PATCH" => "PATCH",
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Counts a request in the hub's metrics: its method and route, its status, its refusal's
/// code (the in-flight answer, a "wait", is not a refusal), its body's bytes when it is a
/// chunk the hub took, and a store error.
pub(crate) fn count(metrics: &Metrics, method: &str, path: &str, body: usize, reply: &Reply) {
    let method = known_method(method);
    metrics.request(&format!("{method} {}", route_of(path).0), reply.status);
    if method == "PATCH" && reply.status < 300 {
        metrics.upload_bytes(body as u64);
    }
    match reply.code() {
        Some("store") => metrics.store_error(),
        Some(code) if reply.status >= 400 && reply.status != wire::STATUS_IN_FLIGHT => metrics.refusal(code),
        _ => {}
    }
}

/// `403 other-device`: the application is another enrolled device's (SECURITY R24). Said the
/// same way for a read, a resume and a write.
fn other_device(id: &str) -> Reply {
    Reply::error(
        403,
        "other-device",
        format!("application {id} belongs to another enrolled device: this device may not read, resume or write it"),
    )
}

fn in_flight_reply() -> Reply {
    Reply::error(
        wire::STATUS_IN_FLIGHT,
        wire::IN_FLIGHT,
        "an upload of this application is in progress; ask again shortly",
    )
}

impl<S: Store> Service<S> {
    pub fn new(store: S, hub: &pki::Hub) -> Result<Service<S>, pki::PkiError> {
        let dir: PathBuf = hub.dir.clone();
        let limits = &hub.config.limits;
        Ok(Service {
            store: Arc::new(store),
            hub_id: hub.config.hub_id.clone(),
            receipt_key: hub.receipt_key()?,
            max_envelope: hub.config.max_envelope,
            uploads: UploadLimits {
                per_device: limits.uploads_per_device,
                expiry_secs: limits.upload_expiry_hours.saturating_mul(3600),
            },
            devices: fresh::Fresh::new(dir.join("devices.toml"), {
                let dir = dir.clone();
                Box::new(move || pki::load_devices(&dir))
            }),
            crl: fresh::Fresh::new(dir.join("crl.pem"), {
                let path = dir.join("crl.pem");
                Box::new(move || {
                    std::fs::read_to_string(&path)
                        .map_err(|source| pki::PkiError::Io { path: path.display().to_string(), source })
                })
            }),
            trusted: fresh::Fresh::new(dir.join("hub.toml"), Box::new(move || pki::load_config(&dir)?.trusted())),
            in_flight: Mutex::new(HashMap::new()),
            now: unix_now,
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// The enrolled device a certificate belongs to, or the reply refusing it. A refused
    /// certificate's connection is closed after the reply: a device revoked while its
    /// connections were kept at the gate (SECURITY R25) gives their places back at its next
    /// request.
    fn device(&self, peer: &[u8]) -> Result<String, Reply> {
        let devices = self
            .devices
            .get()
            .map_err(|e| Reply::error(500, "hub-config", format!("the hub cannot read its devices: {e}")))?;
        let fp = pki::fingerprint(peer);
        match devices.devices.iter().find(|d| d.fingerprint == fp) {
            None => Err(Reply::error(
                403,
                "unknown-device",
                "this certificate is signed by the hub's CA but no enrolled device has it",
            )
            .closing()),
            Some(d) if d.revoked_at_unix.is_some() => {
                Err(Reply::error(403, "revoked-device", format!("device {} was revoked; it may not upload", d.name))
                    .closing())
            }
            Some(d) => Ok(d.name.clone()),
        }
    }

    /// The enrolled device a certificate is, when it is one and not revoked: its connection
    /// may then keep its place at the gate when every place is taken (SECURITY R25).
    pub fn enrolled(&self, peer: &[u8]) -> Option<String> {
        self.device(peer).ok()
    }

    /// Answers a request, and logs it: method, route, status, device and application id,
    /// and the refusal's code; never a header's or the body's contents.
    pub fn handle(&self, req: &Request<'_>) -> Reply {
        let (device, reply) = match self.device(req.peer) {
            Ok(device) => {
                let reply = self.answer(&device, req);
                (Some(device), reply)
            }
            Err(reply) => (None, reply),
        };
        log(req.method, req.path, device.as_deref(), &reply);
        count(&self.metrics, req.method, req.path, req.body.len(), &reply);
        reply
    }

    fn answer(&self, device: &str, req: &Request<'_>) -> Reply {
        let call = match route::parse(req.method, req.path, req.header) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Some(id) = call.id() {
            // While an upload of an id is being committed, what the index says of it may not
            // be durable yet: nobody hears of it (a receipt would let a tablet erase) until it
            // is. Another device hears that it is not its own.
            let holder = self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
            match holder {
                Some(d) if d != device => return other_device(id),
                Some(_) if !matches!(call, Call::Patch { .. }) => return in_flight_reply(),
                _ => {}
            }
        }
        let result = match &call {
            Call::Head { id, digest } => self.head(id, digest, device),
            Call::Patch { id, digest, offset, length, checksum } => self.patch(
                id,
                device,
                upload::Chunk { digest, offset: *offset, length: *length, checksum, body: req.body },
            ),
            Call::Receipt { id } => self.receipt(id, device),
            Call::Status { id } => self.status(id, device),
            Call::Manifest => self.manifest(device, req.body),
            Call::Appointments => self.appointments(device),
            Call::Served { appointment } => self.served(device, appointment, req.body),
            Call::PutFeedback { id } => self.put_feedback(device, id, req.body),
            Call::FeedbackList => self.feedback_list(device),
            Call::Crl => Ok(self.crl()),
        };
        // What failed is the operator's to read (in the log); the tablet hears only that the
        // hub's store did, and asks again later.
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the store failed a request");
            Reply::error(500, "store", "the hub's store failed this request; ask again later")
        })
    }

    /// The CA's revocation list as `crl.pem` holds it now; none yet, 204.
    fn crl(&self) -> Reply {
        match self.crl.get() {
            Ok(text) => Reply {
                status: 200,
                headers: vec![("content-type", "application/x-pem-file".into())],
                body: text.as_bytes().to_vec(),
            },
            Err(pki::PkiError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Reply::empty(204),
            Err(e) => {
                tracing::error!(error = %e, "the revocation list cannot be read");
                Reply::error(500, "crl", "the hub cannot read its revocation list; ask again later")
            }
        }
    }

    /// An envelope's receipt, for the device that uploaded it only.
    fn receipt(&self, id: &str, device: &str) -> Result<Reply, StoreError> {
        match self.store.received(id)? {
            Some(r) if r.device != device => return Ok(other_device(id)),
            Some(_) => {}
            None => {
                if self.store.upload(id)?.is_some_and(|u| u.device != device) {
                    return Ok(other_device(id));
                }
                return Ok(Reply::error(404, "no-receipt", "the hub has no receipt for this application"));
            }
        }
        Ok(match self.store.receipt(id)? {
            Some(r) => Reply::receipt(r),
            None => Reply::error(500, "store", "a received envelope without its receipt"),
        })
    }

    /// An application's status, for the device that uploaded it only.
    fn status(&self, id: &str, device: &str) -> Result<Reply, StoreError> {
        match self.store.received(id)? {
            Some(r) if r.device != device => Ok(other_device(id)),
            Some(_) => Ok(Reply::json(200, &self.store.status(id)?.unwrap_or(Status::Received))),
            None if self.store.upload(id)?.is_some_and(|u| u.device != device) => Ok(other_device(id)),
            None => Ok(Reply::error(404, "unknown-application", "this device uploaded no such application")),
        }
    }
}

#[cfg(test)]
mod tests;
