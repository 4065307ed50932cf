//! Fixtures shared by the hub's tests and its benchmark: an enrolled tablet's bundle, and an
//! application of an obviously fake person.

use doorstep_envelope::{ApplicationId, ApplicationRecord, CaptureMetadata};
use doorstep_hub::pki::{Bundle, Hub, Validity};

/// Enrolls a tablet and reads its bundle back as `doorstep provision` would.
pub fn bundle(hub: &Hub, name: &str, v: Validity) -> Bundle {
    let path = hub.enroll(name, v).unwrap();
    Bundle::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An application with `photo` as its only sizeable part.
pub fn record(
    id: ApplicationId,
    number: String,
    photo: Vec<u8>,
    device_id: &str,
    officer_id: &str,
) -> ApplicationRecord {
    ApplicationRecord {
        schema_version: 1,
        application_id: id,
        application_numbers: vec![number],
        form_json: r#"{"name":"测试"}"#.into(),
        photo_jpeg: photo,
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        capture: CaptureMetadata {
            device_id: device_id.into(),
            officer_id: officer_id.into(),
            gnss: None,
            started_at_unix: 1_790_000_000,
            completed_at_unix: 1_790_000_600,
            quality: vec![],
        },
    }
}
