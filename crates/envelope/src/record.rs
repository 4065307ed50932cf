//! The application record: what is sealed.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::ApplicationId;

/// One finger: the 8-bit grey image, the module's template, and the capture quality; or the
/// documented exception when it could not be captured (then image and template are empty).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct FingerprintCapture {
    /// ISO/IEC 19794-4 finger position, 1–10.
    pub finger: u8,
    pub width: u16,
    pub height: u16,
    #[serde(with = "serde_bytes")]
    pub image: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub template: Vec<u8>,
    pub quality: u8,
    pub exception: Option<String>,
}

/// A GNSS fix in WGS-84, in units of 1e-7 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct GnssFix {
    pub lat_e7: i32,
    pub lon_e7: i32,
    /// Horizontal dilution of precision × 100.
    pub hdop_centi: u16,
    pub satellites: u8,
    pub at_unix: i64,
}

/// The outcome of one automatic check at capture (photo or fingerprint quality).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct QualityResult {
    pub check: String,
    pub value: String,
    pub pass: bool,
}

/// Who captured, where and when.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct CaptureMetadata {
    pub device_id: String,
    pub officer_id: String,
    pub gnss: Option<GnssFix>,
    pub started_at_unix: i64,
    pub completed_at_unix: i64,
    pub quality: Vec<QualityResult>,
}

/// A complete application as sealed. Zeroised when dropped; `Debug` shows only the id.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ApplicationRecord {
    #[zeroize(skip)]
    pub schema_version: u16,
    #[zeroize(skip)]
    pub application_id: ApplicationId,
    /// The bureau's application numbers, one per service applied for in the visit.
    pub application_numbers: Vec<String>,
    /// The validated form (doorstep-core's visit data) as JSON.
    pub form_json: String,
    /// The ID photo, a JPEG meeting the exit-entry standard.
    #[serde(with = "serde_bytes")]
    pub photo_jpeg: Vec<u8>,
    pub fingerprints: Vec<FingerprintCapture>,
    /// The applicant's (or proxy's) signature as a PNG.
    #[serde(with = "serde_bytes")]
    pub signature_png: Vec<u8>,
    /// What was consented to and when, as JSON.
    pub consent_json: String,
    pub capture: CaptureMetadata,
    /// The other signatures given with the application (a guardian's, an entrusted
    /// companion's), each with who gave it (schema 2).
    pub other_signatures: Vec<OtherSignature>,
}

/// A signature other than the applicant's, as a PNG, and who gave it ("guardian-1",
/// "guardian-2", "companion"), as the consent in `consent_json` names them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct OtherSignature {
    pub signer: String,
    #[serde(with = "serde_bytes")]
    pub png: Vec<u8>,
}

impl fmt::Debug for OtherSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OtherSignature({}, <redacted>)", self.signer)
    }
}

/// A record as schema 1 wrote it (before `other_signatures`): still opened, so envelopes
/// sealed before an update reach the back office.
#[derive(Deserialize)]
pub(crate) struct RecordV1 {
    schema_version: u16,
    application_id: ApplicationId,
    application_numbers: Vec<String>,
    form_json: String,
    #[serde(with = "serde_bytes")]
    photo_jpeg: Vec<u8>,
    fingerprints: Vec<FingerprintCapture>,
    #[serde(with = "serde_bytes")]
    signature_png: Vec<u8>,
    consent_json: String,
    capture: CaptureMetadata,
}

impl From<RecordV1> for ApplicationRecord {
    fn from(r: RecordV1) -> ApplicationRecord {
        ApplicationRecord {
            schema_version: r.schema_version,
            application_id: r.application_id,
            application_numbers: r.application_numbers,
            form_json: r.form_json,
            photo_jpeg: r.photo_jpeg,
            fingerprints: r.fingerprints,
            signature_png: r.signature_png,
            consent_json: r.consent_json,
            capture: r.capture,
            other_signatures: Vec::new(),
        }
    }
}

impl fmt::Debug for ApplicationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApplicationRecord({}, <redacted>)", self.application_id)
    }
}

impl fmt::Debug for FingerprintCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FingerprintCapture(finger {}, <redacted>)", self.finger)
    }
}

impl fmt::Debug for CaptureMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureMetadata").field("device_id", &self.device_id).finish_non_exhaustive()
    }
}
