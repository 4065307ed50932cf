//! Uploads: HEAD (how much the hub holds), PATCH (a chunk), and the whole envelope's checks
//! once its last byte is in, then the receipt.

use doorstep_envelope::{ApplicationId, Receipt, SealedEnvelope};
use doorstep_sync::wire;

use super::{InFlight, Reply, Service, in_flight_reply, other_device};
use crate::store::{Received, Store, StoreError, Upload};

fn conflict(id: &str) -> Reply {
    Reply::error(
        422,
        "conflict",
        format!("the hub holds application {id} with another digest; an application id names one envelope"),
    )
}

/// `409 offset`: the hub holds `held` bytes, not the chunk's `offset`; resume from `held`.
fn offset_moved(held: u64, offset: u64) -> Reply {
    Reply::error(409, "offset", format!("the hub holds {held} bytes, not {offset}")).with(wire::UPLOAD_OFFSET, held)
}

/// A PATCH's chunk and what its headers declare.
pub(super) struct Chunk<'a> {
    pub digest: &'a str,
    pub offset: u64,
    pub length: u64,
    pub checksum: &'a Option<String>,
    pub body: &'a [u8],
}

impl<S: Store> Service<S> {
    pub(super) fn head(&self, id: &str, digest: &str, device: &str) -> Result<Reply, StoreError> {
        if let Some(r) = self.store.received(id)? {
            return Ok(if r.device != device {
                other_device(id)
            } else if r.digest == digest {
                Reply::empty(200).with(wire::UPLOAD_OFFSET, r.size).with(wire::UPLOAD_LENGTH, r.size)
            } else {
                conflict(id)
            });
        }
        Ok(match self.store.upload(id)? {
            Some(u) if u.device != device => other_device(id),
            Some(u) if u.digest == digest => {
                Reply::empty(200).with(wire::UPLOAD_OFFSET, u.offset).with(wire::UPLOAD_LENGTH, u.length)
            }
            Some(_) => conflict(id),
            None => Reply::empty(404),
        })
    }

    /// Marks `id` as being written by `device`; `Err` is the reply when it already is.
    fn claim(&self, id: &str, device: &str) -> Result<InFlight<'_>, Reply> {
        let mut set = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        match set.get(id) {
            Some(d) if d != device => Err(other_device(id)),
            Some(_) => Err(in_flight_reply()),
            None => {
                set.insert(id.to_string(), device.to_string());
                Ok(InFlight { set: &self.in_flight, id: id.to_string() })
            }
        }
    }

    pub(super) fn patch(&self, id: &str, device: &str, chunk: Chunk<'_>) -> Result<Reply, StoreError> {
        let Chunk { digest, offset, length, checksum, body } = chunk;
        // One upload of an application at a time.
        let _guard = match self.claim(id, device) {
            Ok(g) => g,
            Err(reply) => return Ok(reply),
        };
        if let Some(r) = self.store.received(id)? {
            if r.device != device {
                return Ok(other_device(id));
            }
            // Already whole: the same envelope again gets its receipt (a reply was lost).
            if r.digest != digest {
                return Ok(conflict(id));
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
        if body.len() as u64 > wire::MAX_CHUNK {
            return Ok(Reply::error(413, "chunk-too-large", format!("a chunk is at most {} bytes", wire::MAX_CHUNK)));
        }
        match checksum.as_deref().map(|c| wire::checksum_matches(c, body)) {
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
            Some(u) if u.device != device => return Ok(other_device(id)),
            Some(u) if u.digest != digest || u.length != length => return Ok(conflict(id)),
            Some(u) => u,
            None => Upload {
                digest: digest.to_string(),
                length,
                device: device.to_string(),
                offset: 0,
                started_at_unix: (self.now)(),
                touched_at_unix: (self.now)(),
            },
        };
        let have = upload.offset;
        if offset != have {
            return Ok(offset_moved(have, offset));
        }
        let end = have + body.len() as u64;
        if end > length {
            return Ok(Reply::error(400, "length", "the chunk runs past Upload-Length"));
        }
        if end < length {
            if have == 0
                && let Some(refusal) = self.room_for_upload(device)?
            {
                return Ok(refusal);
            }
            return match self.store.append(id, &upload, body) {
                Ok(held) => Ok(Reply::empty(204).with(wire::UPLOAD_OFFSET, held)),
                // Another hub on a shared store appended, dropped or took it meanwhile.
                Err(StoreError::Offset(held)) => Ok(offset_moved(held, offset)),
                Err(StoreError::Conflict(_)) => self.taken_meanwhile(id, device),
                Err(e) => Err(e),
            };
        }
        // The last chunk: the envelope whole in memory for its checks. Sent in one chunk (the
        // usual case), it is the request's body as it stands.
        if have == 0 {
            return self.complete(id, device, digest, body);
        }
        let mut bytes = self.store.upload_bytes(id)?;
        if bytes.len() as u64 != have {
            // Another hub on a shared store appended or dropped it since it was read.
            return Ok(offset_moved(bytes.len() as u64, offset));
        }
        bytes.extend_from_slice(body);
        self.complete(id, device, digest, &bytes)
    }

    /// The reply when another hub on a shared store took the id meanwhile: another device's
    /// upload is 403, this device's of another envelope 422.
    fn taken_meanwhile(&self, id: &str, device: &str) -> Result<Reply, StoreError> {
        Ok(match self.store.upload(id)? {
            Some(u) if u.device != device => other_device(id),
            _ => conflict(id),
        })
    }

    /// Whether `device` may start another partial upload (SECURITY R25): its stale ones are
    /// dropped first; `Some` is the refusal when it still holds its limit.
    fn room_for_upload(&self, device: &str) -> Result<Option<Reply>, StoreError> {
        let held = |s: &Self| -> Result<usize, StoreError> {
            Ok(s.store.uploads()?.iter().filter(|(_, u)| u.device == device).count())
        };
        if held(self)? < self.uploads.per_device {
            return Ok(None);
        }
        self.expire_uploads(Some(device))?;
        if held(self)? < self.uploads.per_device {
            return Ok(None);
        }
        Ok(Some(Reply::error(
            429,
            "too-many-uploads",
            format!(
                "this device already holds {} unfinished uploads at the hub: finish or wait for them to expire",
                self.uploads.per_device
            ),
        )))
    }

    /// Drops partial uploads that have not grown for the expiry time (of one device, or of
    /// all), except those being written now; returns how many.
    pub fn expire_uploads(&self, device: Option<&str>) -> Result<usize, StoreError> {
        let cutoff = (self.now)().saturating_sub(self.uploads.expiry_secs);
        let mut dropped = 0;
        for (id, u) in self.store.uploads()? {
            if device.is_some_and(|d| d != u.device) || u.touched_at_unix > cutoff {
                continue;
            }
            // Marked as its own device's upload while it goes: a PATCH meanwhile hears 409.
            let Ok(_guard) = self.claim(&id, &u.device) else { continue };
            // Only if still stale: another hub on a shared store may have appended meanwhile.
            if self.store.expire_upload(&id, cutoff)? {
                tracing::info!(device = %u.device, id = %id, held = u.offset, "a stale partial upload expired");
                dropped += 1;
            }
        }
        Ok(dropped)
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
        // The envelope's device is the one whose certificate uploads it (SECURITY R24).
        if h.device_id.0 != device {
            return refuse(
                "device-id",
                format!("the envelope names another device than {device}, whose certificate uploads it"),
            );
        }
        // Its officer is one the hub enrolled, read now (`add-officer` needs no restart).
        let trusted = match self.trusted.get() {
            Ok(t) => t,
            Err(e) => return Ok(Reply::error(500, "hub-config", format!("the hub cannot read its officers: {e}"))),
        };
        // Demo and real never mix: a demo unit's captures may be simulated, and a demo hub's
        // bureau key is a demo's.
        match (doorstep_envelope::DeviceId::is_demo(&h.device_id.0), trusted.demo) {
            (true, false) => {
                let why = "is a demo unit, whose captures may be simulated; only a demo hub takes them";
                return refuse("demo-unit", format!("{} {why}", h.device_id.0));
            }
            (false, true) => {
                let why = "this is a demo hub: it takes demo units' envelopes only, not";
                return refuse("real-unit", format!("{why} {}'s", h.device_id.0));
            }
            _ => {}
        }
        if let Some((code, why)) = trusted.officer_refusal(&h.officer_key, Some(&h.officer_id)) {
            return refuse(code, why);
        }
        // The device key: the first one an enrolled tablet uses is the only one it may use.
        if self.store.bind_device_key(device, h.device_key)?.is_some() {
            return refuse("device-key", format!("signed with a device key that is not {device}'s"));
        }
        // Taken atomically: two uploads with one counter cannot both pass. Counters are the
        // device's own: the device id is its name.
        if let Some(other) = self.store.claim_counter(device, h.device_counter, id)? {
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
        // Durable before the receipt leaves; the receipt that stands (another hub on a shared
        // store may have committed the same envelope first).
        let started = std::time::Instant::now();
        let stands = match self.store.commit(id, bytes, &received, &receipt) {
            Ok(stands) => stands,
            Err(StoreError::Conflict(_)) => return Ok(conflict(id)),
            Err(e) => return Err(e),
        };
        self.metrics.commit(started.elapsed().as_secs_f64());
        Ok(Reply::receipt(stands))
    }
}
