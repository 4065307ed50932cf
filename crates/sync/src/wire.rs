//! The hub API (see `API.md` at the repository root).
//!
//! - `HEAD /v1/envelopes/{id}` with `Doorstep-Digest`: 200 with `Upload-Offset` and
//!   `Upload-Length` when the hub has (part of) that envelope, 404 when it has none, 422 when
//!   it holds that id with another digest.
//! - `PATCH /v1/envelopes/{id}` with `Upload-Offset`, `Upload-Length`, `Doorstep-Digest` and
//!   `Upload-Checksum: crc32 HEX` (or `sha256 HEX`) over the chunk: 204 with the new `Upload-Offset`; 200 with
//!   the signed receipt (postcard) once the last byte is in and the envelope verified; 409 when
//!   the offset is not the hub's (the reply carries the hub's); 460 on a checksum mismatch;
//!   413 over the size limit; 422 for a conflicting digest or an envelope that fails its
//!   checks; 409 `in-flight` while another upload of the same id is in flight (SECURITY R16).
//! - `GET /v1/envelopes/{id}/receipt`: 200 with the receipt, 404 when there is none.
//! - `GET /v1/appointments`: 200 with this device's appointments ([`AppointmentList`]).
//! - `POST /v1/appointments/{id}/served` with a [`ServedNotice`]: 200 with the appointment as
//!   the hub now holds it; the same visit again is answered the same.
//!
//! Errors carry a JSON body `{"error": CODE, "message": TEXT}`.

pub use doorstep_core::appointment::{Appointment, AppointmentStatus};
pub use doorstep_core::feedback::Escalation;
pub use doorstep_core::policy::FeedbackKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub const PREFIX: &str = "/v1/envelopes/";
pub const UPLOAD_OFFSET: &str = "upload-offset";
pub const UPLOAD_LENGTH: &str = "upload-length";
pub const UPLOAD_CHECKSUM: &str = "upload-checksum";
pub const DIGEST: &str = "doorstep-digest";
/// An error reply's code, also in the body (a reply to HEAD has none).
pub const ERROR: &str = "doorstep-error";

/// tus's "checksum mismatch".
pub const STATUS_CHECKSUM_MISMATCH: u16 = 460;
/// Another upload of the same application is in flight (SECURITY R16): 409, told apart from
/// an offset mismatch by its error code, [`IN_FLIGHT`].
pub const STATUS_IN_FLIGHT: u16 = 409;
pub const IN_FLIGHT: &str = "in-flight";
/// A manifest deciding an application otherwise than an earlier batch did: 422, with
/// [`DecidedBefore`].
pub const ALREADY_DECIDED: &str = "already-decided";

/// The largest envelope the hub takes by default; the vault checks the same limit before it
/// seals, so nothing unsendable is ever sealed.
pub const MAX_ENVELOPE: u64 = doorstep_envelope::MAX_ENVELOPE as u64;
/// The largest chunk in one PATCH.
pub const MAX_CHUNK: u64 = 1024 * 1024;

/// The body of an error reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// `Upload-Checksum` for a chunk: CRC-32 (IEEE), as tus allows.
///
/// The chunk checksum catches a chunk damaged between the tablet's buffer and the hub's
/// disk, so that a damaged chunk is never stored to be resumed from. It is not what proves the
/// envelope whole: the SHA-256 digest of the whole envelope and its two signatures do that,
/// at the hub, when the last byte is in. CRC-32 runs at several GB/s where SHA-256 ran at 2;
/// hashing every byte twice with SHA-256 was a fifth of the upload's CPU on both sides.
pub fn checksum(chunk: &[u8]) -> String {
    format!("crc32 {:08x}", crc32fast::hash(chunk))
}

/// Whether `header` is the checksum of `chunk`: `crc32 HEX` or `sha256 HEX`. `None` when the
/// header names another algorithm or is malformed.
pub fn checksum_matches(header: &str, chunk: &[u8]) -> Option<bool> {
    let (algorithm, value) = header.trim().split_once(' ')?;
    let value = value.trim().to_ascii_lowercase();
    match algorithm {
        "crc32" if value.len() == 8 => Some(value == format!("{:08x}", crc32fast::hash(chunk))),
        "sha256" if value.len() == 64 => Some(value == hex::encode(Sha256::digest(chunk))),
        _ => None,
    }
}

/// The path of an envelope's upload.
pub fn envelope_path(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// The path of an envelope's receipt.
pub fn receipt_path(id: &str) -> String {
    format!("{PREFIX}{id}/receipt")
}

/// Where a supervisor's signed batch manifest is posted.
pub const MANIFESTS: &str = "/v1/manifests";

/// The path of an application's status at the hub.
pub fn status_path(id: &str) -> String {
    format!("{PREFIX}{id}/status")
}

/// Where a device fetches its appointments.
pub const APPOINTMENTS: &str = "/v1/appointments";

/// `GET`: the hub CA's revocation list (PEM), or 204 when nothing is revoked (SECURITY.md R13:
/// a tablet enrolled before a revocation learns of it at its next sync).
pub const CRL: &str = "/v1/crl";

/// The largest revocation list a tablet reads.
pub const MAX_CRL: u64 = 256 * 1024;

/// Where a device says that it served an appointment.
pub fn served_path(appointment: &str) -> String {
    format!("{APPOINTMENTS}/{appointment}/served")
}

/// The version of [`AppointmentList`] and [`ServedNotice`]: a reader refuses another.
pub const APPOINTMENTS_VERSION: u32 = 1;

/// The longest appointment id.
pub const MAX_APPOINTMENT_ID: usize = 64;

/// Whether `id` can be an appointment's id: 1 to 64 ASCII letters, digits, `-` and `_`, so
/// that it is safe in a path, a file name and a CSV cell.
pub fn appointment_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_APPOINTMENT_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `GET /v1/appointments`: the device's appointments, every state (booked, served, cancelled,
/// no-show), in the order of their windows. Each is core's checked [`Appointment`] in its
/// serde form; reading one checks it again (name, ID number's structure, phone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentList {
    pub version: u32,
    /// The enrolled device they are for (the certificate's name).
    pub device: String,
    pub appointments: Vec<Appointment>,
}

/// `POST /v1/appointments/{id}/served`: the visit that served it, and when (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedNotice {
    pub version: u32,
    pub visit: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// The largest served notice the hub reads.
pub const MAX_SERVED_NOTICE: u64 = 4 * 1024;

/// Where a device sends its sealed feedback and reads what became of it.
pub const FEEDBACK: &str = "/v1/feedback";

/// Where one sealed feedback is put.
pub fn feedback_path(id: &str) -> String {
    format!("{FEEDBACK}/{id}")
}

/// The version of [`FeedbackList`]: a reader refuses another.
pub const FEEDBACK_LIST_VERSION: u32 = 1;

/// The largest body `PUT /v1/feedback/{id}` takes.
pub const MAX_FEEDBACK: u64 = doorstep_envelope::MAX_FEEDBACK as u64;

/// What the hub holds of one feedback, in clear: never its text or contact (those are sealed
/// to the bureau). The state is core's escalation (`open` is received, not yet acknowledged),
/// with the answer or the closing note the back office wrote for the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackStatus {
    pub id: String,
    pub kind: FeedbackKind,
    pub category: String,
    pub created_at_unix: i64,
    pub received_at_unix: i64,
    pub state: Escalation,
}

/// `GET /v1/feedback`: the device's own feedback, every state, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackList {
    pub version: u32,
    /// The enrolled device they are from (the certificate's name).
    pub device: String,
    pub feedback: Vec<FeedbackStatus>,
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Envelope(String),
    Receipt(String),
    Status(String),
    Manifests,
    Appointments,
    /// An appointment's served notice (the id checked by [`appointment_id_ok`]).
    Served(String),
    /// The device's feedback.
    FeedbackList,
    /// One sealed feedback (its id an application-style UUID, compact).
    Feedback(String),
    /// The CA's revocation list.
    Crl,
}

/// The hub's answer to a manifest it cannot take because envelopes are not all there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestProblems {
    pub error: String,
    pub message: String,
    /// Listed, but the hub holds no such envelope: upload these first.
    pub missing: Vec<String>,
    /// Listed with a digest other than the one the hub holds.
    pub mismatched: Vec<String>,
}

/// The hub's answer to a manifest it does not take because it decides applications otherwise
/// than an earlier batch did (that decision, and any verdict on it, stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedBefore {
    pub error: String,
    pub message: String,
    /// The applications decided otherwise before, by id (a hub older than this field names
    /// them only in `message`: [`DecidedBefore::ids`]).
    #[serde(default)]
    pub decided: Vec<String>,
}

impl DecidedBefore {
    /// The applications named, by id: `decided`, or, from a hub that sends none, its message's
    /// words; of either, only what is an application id (anything else is not shown).
    pub fn ids(&self) -> Vec<String> {
        let is_id = |w: &&str| doorstep_envelope::ApplicationId::parse(w).is_some();
        if !self.decided.is_empty() {
            return self.decided.iter().map(String::as_str).filter(is_id).map(str::to_string).collect();
        }
        self.message.split(|c: char| c == ',' || c.is_whitespace()).filter(is_id).map(str::to_string).collect()
    }
}

/// Where an application stands at the hub, as the tablet hears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Status {
    /// Held at the hub; no manifest yet.
    Received,
    /// In an approved batch: released to the back office.
    Approved { batch: String },
    /// The supervisor returned it: a revisit.
    Returned { batch: String, reason: String },
    /// The back office took it.
    Accepted,
    /// The back office refused it: a revisit.
    Rejected { reason: String },
}

/// The hub's answer to a manifest it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestAccepted {
    pub batch_id: String,
    pub approved: usize,
    pub returned: usize,
    /// The hub's signed receipt for the manifest (`doorstep_envelope::BatchReceipt`, postcard,
    /// hex).
    pub receipt: String,
}

/// Parses a request path; `None` for anything else. Ids are 32 hex digits (with or without
/// dashes), nothing else, so a path can never name a file.
pub fn route(path: &str) -> Option<Route> {
    if path == MANIFESTS {
        return Some(Route::Manifests);
    }
    if path == APPOINTMENTS {
        return Some(Route::Appointments);
    }
    if path == CRL {
        return Some(Route::Crl);
    }
    if let Some(rest) = path.strip_prefix(APPOINTMENTS).and_then(|r| r.strip_prefix('/')) {
        let id = rest.strip_suffix("/served")?;
        return appointment_id_ok(id).then(|| Route::Served(id.to_string()));
    }
    let parse = |id: &str| doorstep_envelope::ApplicationId::parse(id).map(|i| i.to_string());
    if path == FEEDBACK {
        return Some(Route::FeedbackList);
    }
    if let Some(id) = path.strip_prefix(FEEDBACK).and_then(|r| r.strip_prefix('/')) {
        return parse(id).map(Route::Feedback);
    }
    let rest = path.strip_prefix(PREFIX)?;
    if let Some(id) = rest.strip_suffix("/receipt") {
        return parse(id).map(Route::Receipt);
    }
    if let Some(id) = rest.strip_suffix("/status") {
        return parse(id).map(Route::Status);
    }
    parse(rest).map(Route::Envelope)
}

/// How much of an upload is done, in percent (0–100), from the offset the hub reports: an
/// offset past the total (a hub's fault) reads as done, and never overflows.
pub fn percent(offset: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    (u128::from(offset) * 100 / u128::from(total)).min(100) as u8
}

/// The next chunk to send: `(start, end)` of the bytes, from the hub's offset.
pub fn next_chunk(offset: u64, length: u64, chunk: u64) -> Option<(u64, u64)> {
    (offset < length).then(|| (offset, (offset + chunk.max(1)).min(length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The applications a hub names as decided before: its `decided` field, or from a hub older
    /// than the field, the ids in its message (the words round them are not ids).
    #[test]
    fn the_applications_decided_before_are_read_from_either_hub() {
        let (a, b) = ("01a0c450-6c0a-7a0a-8a0a-0a0a0a0a0a0a", "01a0c450-6c0a-7a0a-8a0a-0a0a0a0a0a0b");
        let message =
            format!("2 applications were decided otherwise in an earlier batch, and that decision stands: {a}, {b}");
        let new = format!(r#"{{"error":"already-decided","message":"x","decided":["{b}"]}}"#);
        let new: DecidedBefore = serde_json::from_str(&new).unwrap();
        assert_eq!(new.ids(), vec![b.to_string()]);
        // What is not an id is not shown.
        let mixed = format!(r#"{{"error":"already-decided","message":"x","decided":["{a}","not-an-id","{b}"]}}"#);
        let mixed: DecidedBefore = serde_json::from_str(&mixed).unwrap();
        assert_eq!(mixed.ids(), vec![a.to_string(), b.to_string()]);
        let script: DecidedBefore =
            serde_json::from_str(r#"{"error":"already-decided","message":"x","decided":["<script>"]}"#).unwrap();
        assert_eq!(script.ids(), Vec::<String>::new());
        let old = serde_json::json!({"error": "already-decided", "message": message}).to_string();
        let old: DecidedBefore = serde_json::from_str(&old).unwrap();
        assert_eq!(old.ids(), vec![a.to_string(), b.to_string()]);
        let none: DecidedBefore =
            serde_json::from_str(r#"{"error":"already-decided","message":"1 was decided: not-an-id"}"#).unwrap();
        assert_eq!(none.ids(), Vec::<String>::new());
    }

    #[test]
    fn checksums_catch_a_changed_byte() {
        let mut chunk = vec![7u8; 1000];
        let h = checksum(&chunk);
        assert_eq!(checksum_matches(&h, &chunk), Some(true));
        let strong = format!("sha256 {}", hex::encode(Sha256::digest(&chunk)));
        assert_eq!(checksum_matches(&strong, &chunk), Some(true));
        chunk[500] ^= 1;
        assert_eq!(checksum_matches(&h, &chunk), Some(false));
        assert_eq!(checksum_matches(&strong, &chunk), Some(false));
        assert_eq!(checksum_matches("md5 00", &chunk), None);
        assert_eq!(checksum_matches("crc32", &chunk), None);
        assert_eq!(checksum_matches("crc32 1234", &chunk), None);
    }

    #[test]
    fn routes_take_only_application_ids() {
        let id = "0190f0c4-8a2b-7000-8000-000000000001";
        let compact = doorstep_envelope::ApplicationId::parse(id).unwrap().to_string();
        assert_eq!(route(&envelope_path(id)), Some(Route::Envelope(compact.clone())));
        assert_eq!(route(&receipt_path(id)), Some(Route::Receipt(compact.clone())));
        assert_eq!(route(&status_path(id)), Some(Route::Status(compact)));
        assert_eq!(route(MANIFESTS), Some(Route::Manifests));
        assert_eq!((route(CRL), route("/v1/crl/x")), (Some(Route::Crl), None));
        assert_eq!(route("/v1/envelopes/../../etc/passwd"), None);
        assert_eq!(route("/v1/envelopes/"), None);
        assert_eq!(route("/v2/envelopes/0190f0c48a2b70008000000000000001"), None);
        assert_eq!(route(APPOINTMENTS), Some(Route::Appointments));
        assert_eq!(route(&served_path("apt-2026_01")), Some(Route::Served("apt-2026_01".into())));
        for bad in [
            "/v1/appointments/",
            "/v1/appointments/a/b/served",
            "/v1/appointments/../served",
            "/v1/appointments/a.b/served",
            "/v1/appointments/apt-1",
            "/v1/appointments//served",
        ] {
            assert_eq!(route(bad), None, "{bad}");
        }
        assert_eq!(route(&served_path(&"a".repeat(65))), None, "too long");
        assert_eq!(route(FEEDBACK), Some(Route::FeedbackList));
        let compact = doorstep_envelope::ApplicationId::parse(id).unwrap().to_string();
        assert_eq!(route(&feedback_path(id)), Some(Route::Feedback(compact)));
        for bad in [
            "/v1/feedback/",
            "/v1/feedback/apt-1",
            "/v1/feedback/../x",
            "/v1/feedback/0190f0c48a2b7000800000000000000/x",
        ] {
            assert_eq!(route(bad), None, "{bad}");
        }
    }

    /// The appointments' wire form is core's serde form: pinned here, so that a change in core
    /// that would change what a hub sends is seen (and `APPOINTMENTS_VERSION` raised).
    #[test]
    fn the_appointments_wire_form_is_pinned() {
        use doorstep_core::appointment::AppointmentInput;
        use doorstep_core::visit::{HomeReason, VisitMode};
        use time::macros::{date, datetime};
        let a = AppointmentInput {
            id: "apt-1".into(),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            phone: "010-65123456".into(),
            services: vec!["passport".parse().unwrap()],
            from: Some(datetime!(2026-12-05 09:00 +8)),
            to: Some(datetime!(2026-12-05 11:00 +8)),
            mode: Some(VisitMode::Home { reason: HomeReason::Bedbound }),
            address: "测试路1号".into(),
            note: String::new(),
        }
        .validate(date!(2026 - 12 - 04))
        .unwrap();
        let list = AppointmentList { version: APPOINTMENTS_VERSION, device: "tablet-01".into(), appointments: vec![a] };
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, PINNED);
        assert_eq!(serde_json::from_str::<AppointmentList>(&json).unwrap(), list);
        // What is read is checked again: a mistyped ID number is refused.
        let bad = json.replace("11010519491231002X", "110105194912310021");
        assert!(serde_json::from_str::<AppointmentList>(&bad).unwrap_err().to_string().contains("check character"));
        let notice = ServedNotice { version: 1, visit: "visit-1".into(), at: datetime!(2026-12-05 09:30 +8) };
        let text = serde_json::to_string(&notice).unwrap();
        assert_eq!(text, r#"{"version":1,"visit":"visit-1","at":"2026-12-05T09:30:00+08:00"}"#);
    }

    const PINNED: &str = concat!(
        r#"{"version":1,"device":"tablet-01","appointments":[{"id":"apt-1","name":"测试","#,
        r#""id_number":"11010519491231002X","#,
        r#""phone":{"region":"mainland","kind":"landline","national":"1065123456","area_len":2},"#,
        r#""services":[{"service":"passport","reason":"first"}],"#,
        r#""from":"2026-12-05T09:00:00+08:00","to":"2026-12-05T11:00:00+08:00","#,
        r#""mode":{"mode":"home","reason":{"reason":"bedbound"}},"address":"测试路1号","note":"","#,
        r#""status":{"status":"booked"}}]}"#
    );

    #[test]
    fn the_percent_done_stays_in_range_whatever_the_hub_says() {
        for (offset, total, want) in [
            (0, 1000, 0),
            (500, 1000, 50),
            (999, 1000, 99),
            (1000, 1000, 100),
            (5, 0, 100),
            (2000, 1000, 100),
            (u64::MAX, 1000, 100),
            (u64::MAX, u64::MAX, 100),
        ] {
            assert_eq!(percent(offset, total), want, "{offset} of {total}");
        }
    }

    #[test]
    fn chunks_cover_the_envelope_from_any_offset() {
        assert_eq!(next_chunk(0, 10, 4), Some((0, 4)));
        assert_eq!(next_chunk(8, 10, 4), Some((8, 10)));
        assert_eq!(next_chunk(10, 10, 4), None);
        assert_eq!(next_chunk(3, 10, 0), Some((3, 4)), "a zero chunk size still moves");
    }
}
