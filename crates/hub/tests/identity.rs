//! The hub binds identity (SECURITY R24): an envelope's device id is the enrolled identity of
//! the certificate that uploads it; counters, application ids, uploads, receipts, statuses and
//! batches are per device; officer keys are enrolled like supervisors'. Two enrolled tablets
//! on loopback with real certificates: the second one tries everything against the first.

mod common;
mod pg;
mod stores;

use doorstep_envelope::*;
use doorstep_hub::pki::{self, Bundle, Hub, Validity};
use doorstep_sync::client::{HubClient, Start, SyncError};
use doorstep_sync::wire;

fn refused(r: Result<impl std::fmt::Debug, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn client(b: &Bundle, port: u16) -> HubClient {
    HubClient::new(&format!("https://localhost:{port}"), b.client_config().unwrap()).unwrap()
}

/// Seals application `n` as `device_id` with tablet `keys`' device and officer keys.
fn seal_as(b: &Bundle, device_id: &str, keys: usize, n: u64, counter: u64) -> SealedEnvelope {
    seal_naming(b, device_id, keys, n, counter, "officer-test")
}

/// [`seal_as`], naming officer `officer` in the envelope.
fn seal_naming(b: &Bundle, device_id: &str, keys: usize, n: u64, counter: u64, officer: &str) -> SealedEnvelope {
    let id = ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10]);
    let record = common::record(id, format!("TEST-{n}"), vec![0x42; 30_000], device_id, officer);
    let ctx = SealContext {
        bureau: &b.bureau_key().unwrap(),
        device_id: &DeviceId(device_id.into()),
        device_key: &signing_key_from_seed(&[keys as u8 + 1; 32]),
        officer_id: officer,
        officer_key: &common::officer_key(keys),
        device_counter: counter,
        sealed_at_unix: 1_790_000_600,
    };
    seal(&record, &ctx, &mut rand::rng()).unwrap()
}

fn patch(c: &mut HubClient, e: &SealedEnvelope, at: usize, len: usize) -> doorstep_sync::client::Response {
    let bytes = e.to_bytes();
    let chunk = &bytes[at..at + len];
    c.request(
        "PATCH",
        &wire::envelope_path(&e.application_id().to_string()),
        &[
            (wire::UPLOAD_OFFSET, at.to_string()),
            (wire::UPLOAD_LENGTH, bytes.len().to_string()),
            (wire::DIGEST, hex::encode(e.digest())),
            (wire::UPLOAD_CHECKSUM, wire::checksum(chunk)),
        ],
        chunk,
    )
    .unwrap()
}

fn upload(c: &mut HubClient, e: &SealedEnvelope) -> Result<Receipt, SyncError> {
    c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::Ask, None, &mut |_, _| {})
}

#[test]
fn a_tablet_cannot_upload_as_read_or_resume_another_tablet_r24() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let (a, b) =
        (common::bundle(&hub, "tablet-a", Validity::days(1)), common::bundle(&hub, "tablet-b", Validity::days(1)));
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    common::enroll_officer(&hub, &common::officer_key(1), "officer-test");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let port = running.addr.port();
    let (mut ca, mut cb) = (client(&a, port), client(&b, port));

    // Tablet A: one envelope whole (counter 1), one begun (counter 2, its first 10,000 bytes).
    let whole = seal_as(&a, "tablet-a", 0, 1, 1);
    upload(&mut ca, &whole).unwrap();
    let begun = seal_as(&a, "tablet-a", 0, 2, 2);
    assert_eq!(patch(&mut ca, &begun, 0, 10_000).status, 204);

    // B uploads under A's device id (with its own keys, or with A's counter 1 on a new
    // application): refused by name, whatever the counter.
    for counter in [1, 7] {
        let forged = seal_as(&b, "tablet-a", 1, 10 + counter, counter);
        assert_eq!(refused(upload(&mut cb, &forged)), (422, "device-id".into()), "counter {counter}");
    }
    // B reads, asks after, resumes or overwrites A's applications: 403 other-device, for a
    // whole one and a begun one alike.
    for e in [&whole, &begun] {
        let id = e.application_id().to_string();
        assert_eq!(refused(cb.receipt(&id)), (403, "other-device".into()), "receipt");
        assert_eq!(refused(cb.status(&id)), (403, "other-device".into()), "status");
        assert_eq!(refused(cb.offset(&id, &e.digest())), (403, "other-device".into()), "offset");
        let r = patch(&mut cb, e, 0, 10_000);
        assert_eq!((r.status, r.header(wire::ERROR)), (403, Some("other-device")), "PATCH at 0");
        // A's bytes exactly, as if B were A: still A's.
        assert_eq!(refused(upload(&mut cb, e)), (403, "other-device".into()), "a whole copy of A's envelope");
    }
    let r = patch(&mut cb, &begun, 10_000, 5_000);
    assert_eq!((r.status, r.header(wire::ERROR)), (403, Some("other-device")), "resuming at A's offset");
    // Counters are per device: B's own counter 1 is B's, not a replay of A's.
    let own = seal_as(&b, "tablet-b", 1, 20, 1);
    upload(&mut cb, &own).unwrap();
    // A is untouched: its upload resumes where it stood, and both are its own.
    assert_eq!(
        ca.offset(&begun.application_id().to_string(), &begun.digest()).unwrap(),
        Some((10_000, begun.to_bytes().len() as u64))
    );
    upload(&mut ca, &begun).unwrap();
    assert!(ca.receipt(&whole.application_id().to_string()).unwrap().is_some());
    assert_eq!(refused(ca.receipt(&own.application_id().to_string())), (403, "other-device".into()));

    // A supervisor's batch: B cannot release A's applications, nor send a manifest as A.
    let supervisor = signing_key_from_seed(&[42; 32]);
    Hub::open(&hub.dir).unwrap().add_supervisor(&hex::encode(supervisor.verifying_key().to_bytes())).unwrap();
    let manifest = |device: &str, batch: &str, e: &SealedEnvelope| {
        BatchManifest {
            batch_id: batch.into(),
            device_id: device.into(),
            supervisor_id: "supervisor-test".into(),
            created_at_unix: 1_790_001_000,
            entries: vec![ManifestEntry {
                application_id: e.application_id(),
                digest: e.digest(),
                decision: Decision::Approved,
            }],
            audit_head: [0; 32],
            audit_length: 0,
        }
        .sign(&supervisor)
        .unwrap()
        .to_bytes()
    };
    match cb.submit_manifest(&manifest("tablet-b", "shift-b", &whole), None) {
        Err(SyncError::ManifestIncomplete(p)) => assert_eq!(p.missing, vec![whole.application_id().to_string()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refused(cb.submit_manifest(&manifest("tablet-a", "shift-a", &whole), None)),
        (422, "manifest-device".into())
    );
    // Batch ids are per device: A's "shift-1" and B's "shift-1" are two batches.
    ca.submit_manifest(&manifest("tablet-a", "shift-1", &whole), None).unwrap();
    cb.submit_manifest(&manifest("tablet-b", "shift-1", &own), None).unwrap();
    assert_eq!(
        ca.status(&whole.application_id().to_string()).unwrap(),
        wire::Status::Approved { batch: "shift-1".into() }
    );
    drop(running);
}

#[test]
fn an_envelope_from_an_officer_the_hub_has_not_enrolled_is_refused_until_add_officer_r24() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let a = common::bundle(&hub, "tablet-a", Validity::days(1));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&a, running.addr.port());
    let e = seal_as(&a, "tablet-a", 0, 1, 1);
    assert_eq!(refused(upload(&mut c, &e)), (422, "officer-key".into()));
    // The refused bytes are dropped and nothing is bound: the same envelope goes in once the
    // officer is enrolled, through the command line, while the hub serves (no restart).
    let key = hex::encode(common::officer_key(0).verifying_key().to_bytes());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("--hub")
        .arg(&hub.dir)
        .args(["add-officer", &key, "--id", "officer-test"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(pki::Hub::open(&hub.dir).unwrap().config.officers.contains(&key));
    let receipt = upload(&mut c, &e).unwrap();
    assert_eq!(receipt.application_id, e.application_id());
    // A key that is not an Ed25519 key is refused at the command line, and nothing changes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("--hub")
        .arg(&hub.dir)
        .args(["add-officer", "00", "--id", "officer-test"])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("officer key"));
    assert_eq!(pki::Hub::open(&hub.dir).unwrap().config.officers, vec![key]);
    drop(running);
}

/// An officer's key is enrolled as that officer's: an envelope signed with it that names
/// another officer is refused (`officer-id`), as is enrolling it again for another; a key an
/// earlier version enrolled without an id signs for no one until enrolled again with one.
#[test]
fn an_officer_key_signs_only_for_the_officer_it_was_enrolled_for_r24() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let a = common::bundle(&hub, "tablet-a", Validity::days(1));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&a, running.addr.port());
    let key = hex::encode(common::officer_key(0).verifying_key().to_bytes());
    let add = |key: &str, id: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
            .arg("--hub")
            .arg(&hub.dir)
            .args(["add-officer", key, "--id", id])
            .output()
            .unwrap()
    };
    assert!(add(&key, "officer-test").status.success());
    let posing = seal_naming(&a, "tablet-a", 0, 1, 1, "officer-other");
    assert_eq!(refused(upload(&mut c, &posing)), (422, "officer-id".into()));
    let own = seal_naming(&a, "tablet-a", 0, 2, 2, "officer-test");
    assert_eq!(upload(&mut c, &own).unwrap().application_id, own.application_id());
    // The key cannot be enrolled again for someone else; for its own officer again, harmless.
    let again = add(&key, "officer-other");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already enrolled for officer \"officer-test\""));
    assert!(add(&key, "officer-test").status.success());
    assert!(!add(&key, "has space").status.success(), "not an officer's id");
    // Nor when hub.toml, edited by hand, spells the key in capitals.
    let mut edited = pki::Hub::open(&hub.dir).unwrap();
    edited.config.officer_ids = [(key.to_uppercase(), "officer-test".to_string())].into();
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&edited.config).unwrap()).unwrap();
    assert!(!add(&key, "officer-other").status.success(), "the same key, in capitals");
    assert!(add(&key, "officer-test").status.success());
    let config = pki::Hub::open(&hub.dir).unwrap().config;
    assert_eq!(config.officers, vec![key.clone()]);
    assert_eq!(config.officer_ids, [(key.clone(), "officer-test".to_string())].into(), "kept once, in lower case");
    // A key enrolled by an earlier version (in `officers`, with no id) signs for no one: whose
    // it is is not known. Enrolled again for its officer, it signs for that officer.
    let legacy = hex::encode(common::officer_key(1).verifying_key().to_bytes());
    let mut hub = pki::Hub::open(&hub.dir).unwrap();
    hub.config.officers.push(legacy.clone());
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&hub.config).unwrap()).unwrap();
    let b = common::bundle(&hub, "tablet-b", Validity::days(1));
    let mut cb = client(&b, running.addr.port());
    let named = seal_naming(&b, "tablet-b", 1, 3, 1, "officer-other");
    assert_eq!(refused(upload(&mut cb, &named)), (422, "officer-id".into()));
    assert!(add(&legacy, "officer-other").status.success());
    assert_eq!(upload(&mut cb, &named).unwrap().application_id, named.application_id());
    drop(running);
}

/// Demo and real never mix: a demo unit's captures may be simulated, so a hub that is not a
/// demo hub neither enrolls it nor, should one be enrolled while it was a demo hub, takes its
/// envelopes (`422 demo-unit`); a demo hub takes them, and no real tablet's (`422 real-unit`).
#[test]
fn only_a_demo_hub_enrolls_a_demo_unit_or_takes_its_envelopes() {
    let d = tempfile::tempdir().unwrap();
    let mut hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    match hub.enroll("demo-tablet", Validity::days(1)) {
        Err(pki::PkiError::DemoDevice(name)) => assert_eq!(name, "demo-tablet"),
        other => panic!("a real hub enrolled a demo unit: {other:?}"),
    }
    // The command line says so too, and the real tablet next to it is enrolled as ever.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("--hub")
        .arg(&hub.dir)
        .args(["enroll-device", "demo-other"])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("demo hub"));
    let real = common::bundle(&hub, "tablet-a", Validity::days(1));
    let other = common::bundle(&hub, "tablet-b", Validity::days(1));
    // Only a demo hub takes a demo unit's bureau key in place of its own.
    let demo_bureau = BureauKeyPair::generate(&mut rand::rng());
    let demo_secret = hex::encode(demo_bureau.secret.to_bytes().as_slice());
    assert!(matches!(hub.use_demo_bureau(&demo_secret), Err(pki::PkiError::Key(_))));

    // A demo hub enrolls it and takes its envelope.
    hub = Hub::open(&hub.dir).unwrap(); // with the officer enrolled since it was opened
    hub.make_demo().unwrap();
    hub.use_demo_bureau(&demo_secret).unwrap();
    let demo = common::bundle(&hub, "demo-tablet", Validity::days(1));
    // A demo hub enrolls no real tablet, and refuses the real tablet enrolled before it was
    // made a demo hub.
    assert!(matches!(hub.enroll("tablet-c", Validity::days(1)), Err(pki::PkiError::RealDeviceAtDemoHub(_))));
    assert_eq!(demo.bureau_key().unwrap().to_bytes(), demo_bureau.public.to_bytes(), "the demo unit's bureau");
    let kept = std::fs::read_to_string(pki::bureau_dir(&hub.dir).join("bureau.key")).unwrap();
    assert_eq!(kept, demo_secret, "the back office opens with the demo bureau's key");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&demo, running.addr.port());
    let first = seal_as(&demo, "demo-tablet", 0, 1, 1);
    assert_eq!(upload(&mut c, &first).unwrap().application_id, first.application_id());
    let mut b = client(&other, running.addr.port());
    assert_eq!(refused(upload(&mut b, &seal_as(&other, "tablet-b", 0, 4, 1))), (422, "real-unit".into()));

    // The same hub made real again (its settings edited back) refuses the next one, read at
    // once, and still takes the real tablet's.
    let path = hub.dir.join("hub.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("demo = true"), "{text}");
    std::fs::write(&path, text.replace("demo = true", "demo = false")).unwrap();
    let second = seal_as(&demo, "demo-tablet", 0, 2, 2);
    assert_eq!(refused(upload(&mut c, &second)), (422, "demo-unit".into()));
    let mut r = client(&real, running.addr.port());
    let theirs = seal_as(&real, "tablet-a", 0, 3, 1);
    assert_eq!(upload(&mut r, &theirs).unwrap().application_id, theirs.application_id());
    drop(running);
}
