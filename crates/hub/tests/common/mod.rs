//! Fixtures shared by the hub's tests and its benchmark: an enrolled tablet's bundle, an
//! application of an obviously fake person, a hub on a free port, and a seeded random source.
//! (The root's tests share them; a hub serving in its own process is in `served/`.)

use std::path::Path;

use doorstep_envelope::{
    ApplicationId, ApplicationRecord, CaptureMetadata, DeviceId, OtherSignature, SealContext, SealedEnvelope,
    SigningKey, seal, signing_key_from_seed,
};
use doorstep_hub::pki::{Bundle, Hub, Validity};

/// A new hub in `dir/hub` that will serve on a free port of 127.0.0.1 as `https://localhost:PORT`
/// (its URL, which bundles name).
#[allow(dead_code)]
pub fn hub_on_free_port(dir: &Path) -> (Hub, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("https://localhost:{port}");
    let hub =
        doorstep_hub::pki::init(&dir.join("hub"), &["localhost".into()], &format!("127.0.0.1:{port}"), &url).unwrap();
    (hub, url)
}

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
        schema_version: doorstep_envelope::SCHEMA_VERSION,
        application_id: id,
        application_numbers: vec![number],
        form_json: r#"{"name":"测试"}"#.into(),
        photo_jpeg: photo,
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        // A guardian's, then names a unit should never send: a repeat, a path, a reserved one.
        other_signatures: ["guardian-1", "guardian-1", "../escape", "other-1"]
            .iter()
            .enumerate()
            .map(|(i, s)| OtherSignature { signer: s.to_string(), png: vec![0x89, i as u8] })
            .collect(),
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

/// Enrolls an officer's key at the hub, as `doorstep-hub add-officer` does (SECURITY R24: the
/// hub refuses envelopes signed by officers it has not enrolled).
#[allow(dead_code)]
pub fn enroll_officer(hub: &Hub, key: &SigningKey, officer_id: &str) {
    Hub::open(&hub.dir).unwrap().add_officer(&hex::encode(key.verifying_key().to_bytes()), officer_id).unwrap();
}

/// The officer key of tablet number `tablet` in [`envelopes`].
#[allow(dead_code)]
pub fn officer_key(tablet: usize) -> SigningKey {
    signing_key_from_seed(&[tablet as u8 + 101; 32])
}

/// `count` envelopes sealed by tablet number `tablet` (its own device and officer keys,
/// counters from 1) under the device id of its bundle; envelope `n` has `size(n)` random
/// bytes as its photo. The officer's key must be enrolled ([`enroll_officer`]).
#[allow(dead_code)]
pub fn envelopes(b: &Bundle, tablet: usize, count: usize, size: impl Fn(usize) -> usize) -> Vec<SealedEnvelope> {
    let bureau = b.bureau_key().unwrap();
    let device_key = signing_key_from_seed(&[tablet as u8 + 1; 32]);
    let officer_key = officer_key(tablet);
    let device_id = DeviceId(b.device.clone());
    (0..count)
        .map(|n| {
            let id = ApplicationId::new_v7(1_790_000_000_000 + (tablet * 10_000 + n) as u64, [tablet as u8; 10]);
            let mut photo = vec![0u8; size(n)];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut photo);
            let record = record(id, format!("TEST-{tablet}-{n}"), photo, &device_id.0, "officer-test");
            let ctx = SealContext {
                bureau: &bureau,
                device_id: &device_id,
                device_key: &device_key,
                officer_id: "officer-test",
                officer_key: &officer_key,
                device_counter: n as u64 + 1,
                sealed_at_unix: 1_790_000_600,
            };
            seal(&record, &ctx, &mut rand::rng()).unwrap()
        })
        .collect()
}

/// A small seeded random source (splitmix64), so that a failing run can be repeated from its
/// seed.
#[allow(dead_code)]
pub struct Dice(pub u64);

#[allow(dead_code)]
impl Dice {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille`/1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}
