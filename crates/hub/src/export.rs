//! The back office's export: approved applications opened with the bureau's private key, one
//! folder each. It runs where the bureau key is: a serving hub hands it the sealed envelopes
//! over its admin socket and never sees the key.
//!
//! ```text
//! OUT/APPLICATION-ID/photo.jpg
//! OUT/APPLICATION-ID/finger-N.pgm      8-bit grey, as captured (N: ISO finger position)
//! OUT/APPLICATION-ID/finger-N.template the module's template, as is
//! OUT/APPLICATION-ID/signature.png
//! OUT/APPLICATION-ID/signature-guardian-1.png (each other signature, by its signer; listed in form.json)
//! OUT/APPLICATION-ID/form.json         the form, numbers, consent, capture metadata
//! ```

use std::path::Path;

use doorstep_envelope::{ApplicationId, BureauSecretKey, EnvelopeError, SealedEnvelope};

use crate::store::{Records, Status, StoreError};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: received but its envelope is missing")]
    Missing(String),
    #[error("{id}: stored envelope: {source}")]
    Envelope { id: String, source: EnvelopeError },
    #[error("{id}: cannot open (is this the bureau key the tablets seal to?): {source}")]
    Open { id: String, source: EnvelopeError },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Exported applications are personal data: files 0600 and folders 0700 from their creation.
fn write(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    crate::files::write_private(path, bytes, false)
        .map_err(|source| ExportError::Io { path: path.display().to_string(), source })
}

fn make_dir(path: &Path) -> Result<(), ExportError> {
    crate::files::private_dir(path).map_err(|source| ExportError::Io { path: path.display().to_string(), source })
}

/// Writes every approved application; returns how many.
pub fn approved(store: &dyn Records, bureau: &BureauSecretKey, out: &Path) -> Result<usize, ExportError> {
    make_dir(out)?;
    let mut n = 0;
    for (id, _) in store.all_received()? {
        // Released by a supervisor: approved, and still so once the back office has decided.
        if !matches!(store.status(&id)?, Some(Status::Approved { .. } | Status::Accepted | Status::Rejected { .. })) {
            continue;
        }
        let bytes = store.envelope(&id)?.ok_or_else(|| ExportError::Missing(id.clone()))?;
        let envelope =
            SealedEnvelope::from_bytes(&bytes).map_err(|source| ExportError::Envelope { id: id.clone(), source })?;
        let record = doorstep_envelope::open(&envelope, bureau, ApplicationId::parse(&id))
            .map_err(|source| ExportError::Open { id: id.clone(), source })?;
        let dir = out.join(&id);
        make_dir(&dir)?;
        write(&dir.join("photo.jpg"), &record.photo_jpeg)?;
        for f in &record.fingerprints {
            let mut pgm = format!("P5\n{} {}\n255\n", f.width, f.height).into_bytes();
            pgm.extend_from_slice(&f.image);
            write(&dir.join(format!("finger-{}.pgm", f.finger)), &pgm)?;
            write(&dir.join(format!("finger-{}.template", f.finger)), &f.template)?;
        }
        write(&dir.join("signature.png"), &record.signature_png)?;
        // Each other signature in a file of its own, named by its signer ("guardian-1") when
        // that is plainly a name and not taken; else by its place ("other-2"). The signer comes
        // from the unit: never used as a path.
        let mut used = std::collections::BTreeSet::new();
        let mut signatures = Vec::new();
        for (i, other) in record.other_signatures.iter().enumerate() {
            let s = &other.signer;
            let plain = !s.is_empty()
                && s.len() <= 32
                && !s.starts_with("other-")
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            let file = if plain && !used.contains(s.as_str()) {
                format!("signature-{s}.png")
            } else {
                format!("signature-other-{}.png", i + 1)
            };
            used.insert(s.as_str());
            write(&dir.join(&file), &other.png)?;
            signatures.push(serde_json::json!({ "file": file, "signer": s }));
        }
        let form: serde_json::Value = serde_json::from_str(&record.form_json).unwrap_or(serde_json::Value::Null);
        let consent: serde_json::Value = serde_json::from_str(&record.consent_json).unwrap_or(serde_json::Value::Null);
        let doc = serde_json::json!({
            "application_id": id,
            "application_numbers": record.application_numbers,
            "form": form,
            "consent": consent,
            "other_signatures": signatures,
            // Who sealed it, as the envelope names them: the hub takes it only if its signing
            // key is enrolled for that officer (an envelope a hub took before keys without an
            // id were refused may name anyone). The capture's officer began the visit, which
            // another may have continued after a lock.
            "sealed_by": envelope.header().officer_id,
            "capture": {
                "device_id": record.capture.device_id,
                "officer_id": record.capture.officer_id,
                "started_at_unix": record.capture.started_at_unix,
                "completed_at_unix": record.capture.completed_at_unix,
                "gnss": record.capture.gnss.as_ref().map(|g| serde_json::json!({
                    "latitude": f64::from(g.lat_e7) / 1e7,
                    "longitude": f64::from(g.lon_e7) / 1e7,
                    "hdop": f64::from(g.hdop_centi) / 100.0,
                    "satellites": g.satellites,
                    "at_unix": g.at_unix,
                })),
            },
            "fingerprints": record.fingerprints.iter().map(|f| serde_json::json!({
                "finger": f.finger, "quality": f.quality, "exception": f.exception,
            })).collect::<Vec<_>>(),
        });
        write(&dir.join("form.json"), &serde_json::to_vec_pretty(&doc).unwrap_or_default())?;
        n += 1;
    }
    Ok(n)
}
