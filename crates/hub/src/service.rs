//! The hub API's logic, apart from HTTP and TLS: a request (method, path, headers, body, and
//! the client certificate TLS verified) in, a reply out. See `doorstep_sync::wire`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use doorstep_envelope::{ApplicationId, Decision, Receipt, SealedEnvelope, SignedManifest, SigningKey, VerifyingKey};
use doorstep_sync::wire::{self, ErrorBody, ManifestAccepted, ManifestProblems, Route, Status};

use crate::pki::{self, Devices};
use crate::store::{Received, Store, StoreError, Upload};

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

    fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        let body = serde_json::to_vec(&ErrorBody { error: code.into(), message: message.into() }).unwrap_or_default();
        // The code in a header too: a reply to HEAD has no body.
        Reply { status, headers: vec![("content-type", "application/json".into()), (wire::ERROR, code.into())], body }
    }

    fn with(mut self, name: &'static str, value: impl ToString) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    fn receipt(bytes: Vec<u8>) -> Reply {
        Reply { status: 200, headers: vec![("content-type", "application/octet-stream".into())], body: bytes }
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

pub struct Service<S: Store> {
    /// Shared with the admin socket (`crate::admin`).
    pub store: std::sync::Arc<S>,
    pub hub_id: String,
    receipt_key: SigningKey,
    /// Where `devices.toml` is: read on every request, so a revocation counts at once.
    dir: PathBuf,
    max_envelope: u64,
    /// `devices.toml` as last read, with the file's modification time and length: read again
    /// whenever either changes, so a revocation counts from the next request.
    devices: Mutex<Option<(std::time::SystemTime, u64, std::sync::Arc<Devices>)>>,
    in_flight: Mutex<HashSet<String>>,
    /// The clock, in unix seconds (tests set it).
    pub now: fn() -> i64,
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Releases an upload's in-flight mark when the request ends, however it ends.
struct InFlight<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.set.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl<S: Store> Service<S> {
    pub fn new(store: S, hub: &pki::Hub) -> Result<Service<S>, pki::PkiError> {
        Ok(Service {
            store: std::sync::Arc::new(store),
            hub_id: hub.config.hub_id.clone(),
            receipt_key: hub.receipt_key()?,
            dir: hub.dir.clone(),
            max_envelope: hub.config.max_envelope,
            devices: Mutex::new(None),
            in_flight: Mutex::new(HashSet::new()),
            now: unix_now,
        })
    }

    fn load_devices(&self) -> Result<std::sync::Arc<Devices>, pki::PkiError> {
        let path = self.dir.join("devices.toml");
        let io = |source| pki::PkiError::Io { path: path.display().to_string(), source };
        let meta = std::fs::metadata(&path).map_err(io)?;
        let stamp = (meta.modified().map_err(io)?, meta.len());
        let mut cache = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, l, d)) = cache.as_ref()
            && (*t, *l) == stamp
        {
            return Ok(d.clone());
        }
        let d = std::sync::Arc::new(pki::load_devices(&self.dir)?);
        *cache = Some((stamp.0, stamp.1, d.clone()));
        Ok(d)
    }

    /// The enrolled device a certificate belongs to, or the reply refusing it.
    fn device(&self, peer: &[u8]) -> Result<String, Reply> {
        let devices = self
            .load_devices()
            .map_err(|e| Reply::error(500, "hub-config", format!("the hub cannot read its devices: {e}")))?;
        let fp = pki::fingerprint(peer);
        match devices.devices.iter().find(|d| d.fingerprint == fp) {
            None => Err(Reply::error(
                403,
                "unknown-device",
                "this certificate is signed by the hub's CA but no enrolled device has it",
            )),
            Some(d) if d.revoked_at_unix.is_some() => {
                Err(Reply::error(403, "revoked-device", format!("device {} was revoked; it may not upload", d.name)))
            }
            Some(d) => Ok(d.name.clone()),
        }
    }

    pub fn handle(&self, req: &Request<'_>) -> Reply {
        let device = match self.device(req.peer) {
            Ok(d) => d,
            Err(reply) => return reply,
        };
        // While an upload of an id is being committed, what the index says of it may not be
        // durable yet: nobody hears of it (a receipt would let a tablet erase) until it is.
        if let Some(Route::Envelope(id) | Route::Receipt(id) | Route::Status(id)) = wire::route(req.path)
            && req.method != "PATCH"
            && self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).contains(&id)
        {
            return Self::in_flight_reply();
        }
        let result = match (req.method, wire::route(req.path)) {
            ("HEAD", Some(Route::Envelope(id))) => self.head(&id, req),
            ("PATCH", Some(Route::Envelope(id))) => self.patch(&id, &device, req),
            ("GET", Some(Route::Receipt(id))) => match self.store.receipt(&id) {
                Ok(Some(r)) => Ok(Reply::receipt(r)),
                Ok(None) => Ok(Reply::error(404, "no-receipt", "the hub has no receipt for this application")),
                Err(e) => Err(e),
            },
            ("GET", Some(Route::Status(id))) => self.status(&id, &device),
            ("POST", Some(Route::Manifests)) => self.manifest(&device, req.body),
            (_, Some(_)) => Ok(Reply::error(405, "method", format!("{} is not allowed here", req.method))),
            (_, None) => Ok(Reply::error(404, "path", "no such resource")),
        };
        result.unwrap_or_else(|e| Reply::error(500, "store", e.to_string()))
    }

    fn in_flight_reply() -> Reply {
        Reply::error(
            wire::STATUS_IN_FLIGHT,
            wire::IN_FLIGHT,
            "an upload of this application is in progress; ask again shortly",
        )
    }

    fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// An application's status, for the device that uploaded it only.
    fn status(&self, id: &str, device: &str) -> Result<Reply, StoreError> {
        match self.store.received(id)? {
            Some(r) if r.device == device => {}
            _ => return Ok(Reply::error(404, "unknown-application", "this device uploaded no such application")),
        }
        Ok(Self::json(200, &self.store.status(id)?.unwrap_or(Status::Received)))
    }

    /// A supervisor's signed manifest for a shift: taken only when every envelope it lists
    /// is here with the digest it names; otherwise the reply lists what is missing.
    fn manifest(&self, device: &str, body: &[u8]) -> Result<Reply, StoreError> {
        let signed = match SignedManifest::from_bytes(body) {
            Ok(m) => m,
            Err(e) => return Ok(Reply::error(422, "manifest", format!("not a signed manifest: {e}"))),
        };
        // Read at each manifest (one a shift), so `add-supervisor` counts without a restart.
        let supervisors: Vec<VerifyingKey> = match pki::Hub::open(&self.dir).and_then(|h| h.supervisors()) {
            Ok(s) => s,
            Err(e) => {
                return Ok(Reply::error(500, "hub-config", format!("the hub cannot read its supervisors: {e}")));
            }
        };
        let manifest = match signed.verify(&supervisors) {
            Ok(m) => m.clone(),
            Err(e) => return Ok(Reply::error(422, "manifest-signature", e.to_string())),
        };
        if let Some(previous) = self.store.manifest(&manifest.batch_id)? {
            return Ok(if previous == body {
                Self::json(200, &self.accepted(&manifest, body))
            } else {
                Reply::error(
                    422,
                    "conflict",
                    format!("batch {} was already sent with other contents", manifest.batch_id),
                )
            });
        }
        let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
        for e in &manifest.entries {
            let id = e.application_id.to_string();
            match self.store.received(&id)? {
                Some(r) if r.device == device && r.digest == hex::encode(e.digest) => {}
                Some(r) if r.device == device => mismatched.push(id),
                _ => missing.push(id),
            }
        }
        if !missing.is_empty() || !mismatched.is_empty() {
            let problems = ManifestProblems {
                error: "manifest-incomplete".into(),
                message: format!(
                    "{} listed application(s) are not at the hub, {} have another digest: upload them, then send the manifest again",
                    missing.len(),
                    mismatched.len()
                ),
                missing,
                mismatched,
            };
            return Ok(Self::json(422, &problems).with(wire::ERROR, "manifest-incomplete"));
        }
        let decisions: Vec<(String, Status)> = manifest
            .entries
            .iter()
            .map(|e| {
                let status = match &e.decision {
                    Decision::Approved => Status::Approved { batch: manifest.batch_id.clone() },
                    Decision::Returned { reason } => {
                        Status::Returned { batch: manifest.batch_id.clone(), reason: reason.clone() }
                    }
                };
                (e.application_id.to_string(), status)
            })
            .collect();
        self.store.put_manifest(&manifest.batch_id, body, &decisions)?;
        Ok(Self::json(200, &self.accepted(&manifest, body)))
    }

    /// The answer to a manifest taken, with the hub's signed receipt for its bytes.
    fn accepted(&self, m: &doorstep_envelope::BatchManifest, body: &[u8]) -> ManifestAccepted {
        let approved = m.entries.iter().filter(|e| e.decision == Decision::Approved).count();
        let receipt = doorstep_envelope::BatchReceipt::sign(
            body,
            &m.batch_id,
            m.entries.len() as u32,
            &self.hub_id,
            (self.now)(),
            &self.receipt_key,
        );
        ManifestAccepted {
            batch_id: m.batch_id.clone(),
            approved,
            returned: m.entries.len() - approved,
            receipt: hex::encode(receipt.to_bytes()),
        }
    }

    fn digest_header(req: &Request<'_>) -> Result<String, Reply> {
        let d = (req.header)(wire::DIGEST).unwrap_or_default().trim().to_ascii_lowercase();
        if d.len() != 64 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Reply::error(400, "digest", "Doorstep-Digest must be 64 hex digits"));
        }
        Ok(d)
    }

    fn conflict(id: &str) -> Reply {
        Reply::error(
            422,
            "conflict",
            format!("the hub holds application {id} with another digest; an application id names one envelope"),
        )
    }

    fn head(&self, id: &str, req: &Request<'_>) -> Result<Reply, StoreError> {
        let digest = match Self::digest_header(req) {
            Ok(d) => d,
            Err(r) => return Ok(r),
        };
        if let Some(r) = self.store.received(id)? {
            return Ok(if r.digest == digest {
                Reply::empty(200).with(wire::UPLOAD_OFFSET, r.size).with(wire::UPLOAD_LENGTH, r.size)
            } else {
                Self::conflict(id)
            });
        }
        Ok(match self.store.upload(id)? {
            Some(u) if u.digest == digest => {
                Reply::empty(200).with(wire::UPLOAD_OFFSET, u.offset).with(wire::UPLOAD_LENGTH, u.length)
            }
            Some(_) => Self::conflict(id),
            None => Reply::empty(404),
        })
    }

    fn number(req: &Request<'_>, name: &str) -> Result<u64, Reply> {
        (req.header)(name)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Reply::error(400, "header", format!("{name} must be a number")))
    }

    fn patch(&self, id: &str, device: &str, req: &Request<'_>) -> Result<Reply, StoreError> {
        let parsed = (|| {
            let digest = Self::digest_header(req)?;
            let offset = Self::number(req, wire::UPLOAD_OFFSET)?;
            let length = Self::number(req, wire::UPLOAD_LENGTH)?;
            Ok((digest, offset, length))
        })();
        let (digest, offset, length) = match parsed {
            Ok(p) => p,
            Err(r) => return Ok(r),
        };
        // One upload of an application at a time.
        let _guard = {
            let mut set = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if !set.insert(id.to_string()) {
                return Ok(Self::in_flight_reply());
            }
            InFlight { set: &self.in_flight, id: id.to_string() }
        };
        if let Some(r) = self.store.received(id)? {
            // Already whole: the same envelope again gets its receipt (a reply was lost).
            if r.digest != digest {
                return Ok(Self::conflict(id));
            }
            return Ok(match self.store.receipt(id)? {
                Some(bytes) => Reply::receipt(bytes),
                None => Reply::error(500, "store", "a received envelope without its receipt"),
            });
        }
        if length > self.max_envelope {
            return Ok(Reply::error(
                413,
                "too-large",
                format!("{length} bytes is over the hub's limit of {}", self.max_envelope),
            ));
        }
        if req.body.len() as u64 > wire::MAX_CHUNK {
            return Ok(Reply::error(413, "chunk-too-large", format!("a chunk is at most {} bytes", wire::MAX_CHUNK)));
        }
        match (req.header)(wire::UPLOAD_CHECKSUM).map(|c| wire::checksum_matches(&c, req.body)) {
            Some(Some(true)) => {}
            Some(Some(false)) => {
                return Ok(Reply::error(
                    wire::STATUS_CHECKSUM_MISMATCH,
                    "checksum",
                    "the chunk does not match its Upload-Checksum",
                ));
            }
            Some(None) => {
                return Ok(Reply::error(400, "checksum", "Upload-Checksum must be \"crc32 HEX\" or \"sha256 HEX\""));
            }
            None => return Ok(Reply::error(400, "checksum", "Upload-Checksum is required")),
        }
        let upload = match self.store.upload(id)? {
            Some(u) if u.digest != digest || u.length != length => return Ok(Self::conflict(id)),
            Some(u) => u,
            None => Upload { digest: digest.clone(), length, device: device.to_string(), offset: 0 },
        };
        let have = upload.offset;
        if offset != have {
            return Ok(Reply::error(409, "offset", format!("the hub holds {have} bytes, not {offset}"))
                .with(wire::UPLOAD_OFFSET, have));
        }
        let end = have + req.body.len() as u64;
        if end > length {
            return Ok(Reply::error(400, "length", "the chunk runs past Upload-Length"));
        }
        if end < length {
            let held = self.store.append(id, &upload, req.body)?;
            return Ok(Reply::empty(204).with(wire::UPLOAD_OFFSET, held));
        }
        // The last chunk: the envelope whole in memory for its checks. Sent in one chunk (the
        // usual case), it is the request's body as it stands.
        if have == 0 {
            return self.complete(id, device, &digest, req.body);
        }
        let mut bytes = self.store.upload_bytes(id)?;
        if bytes.len() as u64 != have {
            return Err(StoreError::Damaged(format!("upload {id} holds {} bytes, not {have}", bytes.len())));
        }
        bytes.extend_from_slice(req.body);
        self.complete(id, device, &digest, &bytes)
    }

    /// The last byte is in: check the envelope, store it durably, then sign the receipt.
    fn complete(&self, id: &str, device: &str, digest: &str, bytes: &[u8]) -> Result<Reply, StoreError> {
        let refuse = |code: &str, message: String| {
            // The bytes are no good: drop them so the tablet can send the envelope again.
            self.store.drop_upload(id)?;
            Ok(Reply::error(422, code, message))
        };
        let envelope = match SealedEnvelope::from_bytes(bytes) {
            Ok(e) => e,
            Err(e) => return refuse("envelope", format!("not a sealed envelope: {e}")),
        };
        let computed = envelope.digest();
        if hex::encode(computed) != digest {
            return refuse("digest", "the bytes do not have the declared digest".into());
        }
        if ApplicationId::parse(id) != Some(envelope.application_id()) {
            return refuse("application-id", "the envelope is for another application id".into());
        }
        if let Err(e) = envelope.verify_self_signed() {
            return refuse("signature", e.to_string());
        }
        let h = envelope.header();
        // The device key: the first one an enrolled tablet uses is the only one it may use.
        if self.store.bind_device_key(device, h.device_key)?.is_some() {
            return refuse("device-key", format!("signed with a device key that is not {device}'s"));
        }
        // Taken atomically: two uploads with one counter cannot both pass.
        if let Some(other) = self.store.claim_counter(&h.device_id.0, h.device_counter, id)? {
            return refuse(
                "replayed-counter",
                format!("device counter {} was already used for application {other}", h.device_counter),
            );
        }
        let now = (self.now)();
        let receipt =
            Receipt::sign(envelope.application_id(), computed, &self.hub_id, now, &self.receipt_key).to_bytes();
        let received = Received {
            digest: digest.to_string(),
            device: device.to_string(),
            device_id: h.device_id.0.clone(),
            size: bytes.len() as u64,
            device_counter: h.device_counter,
            received_at_unix: now,
        };
        // Durable before the receipt leaves.
        self.store.commit(id, bytes, &received, &receipt)?;
        Ok(Reply::receipt(receipt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[test]
    fn nothing_is_said_of_an_upload_while_it_is_committed() {
        let d = tempfile::tempdir().unwrap();
        let hub =
            pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
        let bundle = hub.enroll("tablet-01", pki::Validity::days(1)).unwrap();
        let bundle = doorstep_sync::bundle::Bundle::parse(&std::fs::read_to_string(bundle).unwrap()).unwrap();
        let peer = doorstep_sync::tls::certificates(&bundle.cert_pem, "client").unwrap()[0].to_vec();
        let service = Service::new(SledStore::open(&d.path().join("store")).unwrap(), &hub).unwrap();
        let id = ApplicationId::new_v7(1_790_000_000_000, [1; 10]).to_string();
        let ask = |method: &str, path: &str| {
            let header = |name: &str| (name == wire::DIGEST).then(|| "ab".repeat(32));
            service.handle(&Request { method, path, header: &header, body: &[], peer: &peer })
        };
        let paths =
            [("HEAD", wire::envelope_path(&id)), ("GET", wire::receipt_path(&id)), ("GET", wire::status_path(&id))];
        service.in_flight.lock().unwrap().insert(id.clone());
        for (method, path) in &paths {
            let r = ask(method, path);
            assert_eq!((r.status, r.headers.iter().any(|(_, v)| v == wire::IN_FLIGHT)), (409, true), "{method} {path}");
        }
        service.in_flight.lock().unwrap().remove(&id);
        assert_eq!(ask("HEAD", &paths[0].1).status, 404, "once it is over, the hub answers");
    }
}
