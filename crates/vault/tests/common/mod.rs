//! Shared test fixtures: a vault in a temporary folder, a record with canary data.

#![allow(dead_code)]

use std::path::Path;

use doorstep_envelope::*;
use doorstep_vault::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

pub const OFFICER: &str = "officer-test";
pub const PIN: &str = "123456";
pub const NOW: i64 = 1_790_000_000;
/// An obviously fake applicant, whose name and number must never appear in clear on disk.
pub const CANARY_NAME: &str = "测试金丝雀";
pub const CANARY_ID: &str = "11010519491231002X";
pub const JPEG: [u8; 8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F'];

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The test hub's signed receipt for application `id` of digest `digest` (hex).
pub fn hub_receipt(id: &str, digest: &str) -> Vec<u8> {
    let hub = signing_key_from_seed(&[9; 32]);
    let digest: [u8; 32] = hex::decode(digest).unwrap().try_into().unwrap();
    Receipt::sign(ApplicationId::parse(id).unwrap(), digest, "hub-test", NOW + 60, &hub).to_bytes()
}

pub fn bureau() -> BureauKeyPair {
    BureauKeyPair::generate(&mut StdRng::seed_from_u64(1))
}

pub fn init(dir: &Path) -> BureauKeyPair {
    try_init(dir).unwrap()
}

/// `init`, its error returned.
pub fn try_init(dir: &Path) -> Result<BureauKeyPair, VaultError> {
    let b = bureau();
    Vault::init(
        dir,
        &InitOptions {
            device_id: "tablet-test-01",
            bureau: &b.public,
            user: OFFICER,
            role: Role::Officer,
            pin: PIN,
            kdf: KdfParams::INSECURE_TEST,
            max_failures: 10,
            now_unix: NOW,
        },
    )?;
    Ok(b)
}

pub fn unlock(dir: &Path) -> Vault {
    Vault::unlock(dir, OFFICER, PIN, NOW, VaultConfig { reserve_bytes: 0 }).unwrap()
}

pub fn record(n: u64, photo_len: usize) -> ApplicationRecord {
    let mut photo = JPEG.to_vec();
    photo.resize(photo_len.max(JPEG.len()), 0x42);
    ApplicationRecord {
        schema_version: SCHEMA_VERSION,
        application_id: ApplicationId::new_v7(1_790_000_000_000 + n, [(n % 251) as u8; 10]),
        application_numbers: vec![format!("TEST-{n:04}")],
        form_json: format!(r#"{{"name":"{CANARY_NAME}","id":"{CANARY_ID}"}}"#),
        photo_jpeg: photo,
        fingerprints: vec![FingerprintCapture {
            finger: 2,
            width: 16,
            height: 16,
            image: vec![0x80; 256],
            template: vec![7; 64],
            quality: 80,
            exception: None,
        }],
        signature_png: vec![0x89, b'P', b'N', b'G'],
        consent_json: r#"{"application":true,"biometrics":true}"#.into(),
        other_signatures: Vec::new(),
        capture: CaptureMetadata {
            device_id: "tablet-test-01".into(),
            officer_id: OFFICER.into(),
            gnss: None,
            started_at_unix: NOW,
            completed_at_unix: NOW + 600,
            quality: vec![],
        },
    }
}

pub fn review(r: &ApplicationRecord) -> ReviewSummary {
    ReviewSummary {
        application_id: r.application_id.to_string(),
        application_numbers: r.application_numbers.clone(),
        summary_json: format!(r#"{{"name":"{CANARY_NAME}"}}"#),
        thumbnail_jpeg: JPEG.to_vec(),
        quality_flags: vec![],
    }
}

/// Draft bytes that carry the canary in every form the test looks for.
pub fn canary_draft() -> Vec<u8> {
    let mut bytes = format!(r#"{{"name":"{CANARY_NAME}","id":"{CANARY_ID}"}}"#).into_bytes();
    bytes.extend(CANARY_NAME.encode_utf16().flat_map(u16::to_le_bytes));
    bytes.extend_from_slice(&JPEG);
    bytes
}

pub fn seal_some(dir: &Path, n: u64) -> Vec<String> {
    let mut v = unlock(dir);
    let mut ids = Vec::new();
    for i in 0..n {
        let r = record(i + 1, 3000);
        v.save_draft(&format!("visit-{i}"), "form", b"draft").unwrap();
        ids.push(v.seal(&format!("visit-{i}"), &r, &review(&r), NOW + i as i64).unwrap().application_id);
    }
    v.save_draft("visit-open", "form", b"in progress").unwrap();
    ids
}
