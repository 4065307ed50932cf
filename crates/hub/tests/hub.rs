//! The hub end to end on loopback: real certificates from its own CA, rustls TLS 1.3 with
//! client certificates, sled underneath, and the tablet's blocking client.

mod common;
mod pg;
mod stores;

use std::path::Path;

use common::bundle;

use doorstep_envelope::*;
use doorstep_hub::pki::{self, Bundle, Hub, Validity};
use doorstep_sync::client::{HubClient, Start, SyncError};
use doorstep_sync::wire;

fn hub(dir: &Path, hosts: &[&str]) -> Hub {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    stores::init(dir, &hosts, "127.0.0.1:0", "https://localhost:0")
}

fn client(b: &Bundle, url: &str) -> HubClient {
    let config = doorstep_sync::tls::client_config(&b.ca_pem, &b.crl_pem, &b.cert_pem, &b.key_pem).unwrap();
    HubClient::new(url, config).unwrap()
}

fn receipt_key(b: &Bundle) -> VerifyingKey {
    VerifyingKey::from_bytes(&hex::decode(&b.hub_receipt_key).unwrap().try_into().unwrap()).unwrap()
}

/// A sealed application of about `size` bytes from a fake tablet, with an obviously fake person.
struct Tablet {
    device: String,
    bureau: BureauPublicKey,
    device_key: SigningKey,
    officer_key: SigningKey,
    counter: u64,
}

impl Tablet {
    /// A tablet with `b`'s device name whose officer's key the hub has enrolled.
    fn new(hub: &Hub, b: &Bundle, seed: u8) -> Tablet {
        let bureau = BureauPublicKey::from_bytes(&hex::decode(&b.bureau_public_key).unwrap()).unwrap();
        let officer_key = signing_key_from_seed(&[seed.wrapping_add(100); 32]);
        common::enroll_officer(hub, &officer_key, "officer-test");
        Tablet {
            device: b.device.clone(),
            bureau,
            device_key: signing_key_from_seed(&[seed; 32]),
            officer_key,
            counter: 0,
        }
    }

    fn seal(&mut self, id: ApplicationId, size: usize) -> SealedEnvelope {
        self.counter += 1;
        let record =
            common::record(id, format!("TEST-{}", self.counter), vec![0x42; size], &self.device, "officer-test");
        let ctx = SealContext {
            bureau: &self.bureau,
            device_id: &DeviceId(self.device.clone()),
            device_key: &self.device_key,
            officer_id: "officer-test",
            officer_key: &self.officer_key,
            device_counter: self.counter,
            sealed_at_unix: 1_790_000_600,
        };
        seal(&record, &ctx, &mut rand::rng()).unwrap()
    }
}

fn id(n: u64) -> ApplicationId {
    ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10])
}

fn refused(r: Result<impl std::fmt::Debug, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_envelope_goes_up_in_chunks_and_comes_back_as_a_verified_receipt_once() {
    let d = tempfile::tempdir().unwrap();
    let hub = hub(&d.path().join("hub"), &["localhost", "127.0.0.1"]);
    let b = bundle(&hub, "tablet-01", Validity::days(30));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let mut c = client(&b, &url);
    c.chunk = 16 * 1024;
    let mut t = Tablet::new(&hub, &b, 1);
    let env = t.seal(id(1), 150_000);
    let bytes = env.to_bytes();
    let mut seen = Vec::new();
    let r =
        c.upload(id(1), &env.digest(), &bytes, Start::Ask, Some(&receipt_key(&b)), &mut |o, _| seen.push(o)).unwrap();
    assert_eq!(r.application_id, id(1));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.len() > 9, "{seen:?}");
    assert_eq!(c.offset(&id(1).to_string(), &env.digest()).unwrap(), Some((bytes.len() as u64, bytes.len() as u64)));
    // The same envelope again (a reply lost after the hub committed): the same receipt, one copy.
    let again = c.upload(id(1), &env.digest(), &bytes, Start::Ask, Some(&receipt_key(&b)), &mut |_, _| {}).unwrap();
    assert_eq!(again, r);
    // Even sent as new (without asking first), it gets that receipt and is not stored twice.
    let new = c.upload(id(1), &env.digest(), &bytes, Start::New, Some(&receipt_key(&b)), &mut |_, _| {}).unwrap();
    assert_eq!(new, r);
    // Requests in quick succession: the same keys throughout.
    let (updates, connections) = c.key_updates();
    assert_eq!(updates, 0);
    // Keys refreshed on a long-lived connection, and it keeps working (SECURITY R15): by hand,
    // then before every request on a connection idle (here, for any time at all), through a
    // whole upload of another envelope and the hub's verified receipt.
    c.refresh_keys().unwrap();
    assert!(c.receipt(&id(1).to_string()).unwrap().is_some());
    c.refresh_after = std::time::Duration::ZERO;
    let env2 = t.seal(id(2), 60_000);
    let bytes2 = env2.to_bytes();
    let r2 = c.upload(id(2), &env2.digest(), &bytes2, Start::Ask, Some(&receipt_key(&b)), &mut |_, _| {}).unwrap();
    assert_eq!(r2.application_id, id(2));
    assert!(c.receipt(&id(2).to_string()).unwrap().is_some());
    // One by hand, one before each request after it (the receipt, HEAD, four chunks, the
    // receipt), all on the connection kept alive from the start.
    assert!(c.key_updates().0 >= 7, "{:?}", c.key_updates());
    assert_eq!(c.key_updates().1, connections, "no new connection");
    drop(running);
    let store = stores::open(&hub);
    use doorstep_hub::store::Records;
    assert_eq!(store.all_received().unwrap().len(), 2);
    assert_eq!(store.envelope(&id(1).to_string()).unwrap().unwrap(), bytes, "byte-identical");
}

#[test]
fn an_upload_cut_short_resumes_from_the_hubs_offset() {
    let d = tempfile::tempdir().unwrap();
    let hub = hub(&d.path().join("hub"), &["localhost"]);
    let b = bundle(&hub, "tablet-01", Validity::days(30));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let mut c = client(&b, &url);
    let mut t = Tablet::new(&hub, &b, 2);
    let env = t.seal(id(2), 100_000);
    let bytes = env.to_bytes();
    let digest = hex::encode(env.digest());
    let path = wire::envelope_path(&id(2).to_string());
    let patch = |c: &mut HubClient, at: usize, chunk: &[u8], checksum: String| {
        c.request(
            "PATCH",
            &path,
            &[
                (wire::UPLOAD_OFFSET, at.to_string()),
                (wire::UPLOAD_LENGTH, bytes.len().to_string()),
                (wire::DIGEST, digest.clone()),
                (wire::UPLOAD_CHECKSUM, checksum),
            ],
            chunk,
        )
        .unwrap()
    };
    let first = &bytes[..40_000];
    assert_eq!(patch(&mut c, 0, first, wire::checksum(first)).status, 204);
    // A chunk damaged on the way is refused (tus 460) and not kept.
    let mut damaged = bytes[40_000..50_000].to_vec();
    damaged[10] ^= 1;
    assert_eq!(patch(&mut c, 40_000, &damaged, wire::checksum(&bytes[40_000..50_000])).status, 460);
    // A checksum in an algorithm the hub does not take is refused by name, not as a mismatch.
    let md5 = patch(&mut c, 40_000, &bytes[40_000..50_000], "md5 0123456789abcdef0123456789abcdef".into());
    assert_eq!((md5.status, md5.header(wire::ERROR)), (400, Some("checksum")));
    // A chunk at the wrong offset: 409 and the hub's offset.
    let wrong = patch(&mut c, 50_000, &bytes[50_000..60_000], wire::checksum(&bytes[50_000..60_000]));
    assert_eq!((wrong.status, wrong.header(wire::UPLOAD_OFFSET)), (409, Some("40000")));
    // The hub restarts; the upload resumes where it stood.
    drop(running);
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&b, &format!("https://localhost:{}", running.addr.port()));
    c.chunk = 32 * 1024;
    let mut first_offset = None;
    c.upload(id(2), &env.digest(), &bytes, Start::Ask, None, &mut |o, _| {
        first_offset.get_or_insert(o);
    })
    .unwrap();
    assert_eq!(first_offset, Some(40_000), "resumed, not started over");
}

#[test]
fn conflicts_replays_and_bad_envelopes_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let hub = hub(&d.path().join("hub"), &["localhost"]);
    let b = bundle(&hub, "tablet-01", Validity::days(30));
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&b, &format!("https://localhost:{}", running.addr.port()));
    let mut t = Tablet::new(&hub, &b, 3);
    let first = t.seal(id(3), 2_000);
    c.upload(id(3), &first.digest(), &first.to_bytes(), Start::Ask, None, &mut |_, _| {}).unwrap();
    // The same application id with other bytes.
    let other = t.seal(id(3), 2_100);
    assert_eq!(
        refused(c.upload(id(3), &other.digest(), &other.to_bytes(), Start::Ask, None, &mut |_, _| {})),
        (422, "conflict".into())
    );
    // A device counter used again for another application.
    let mut replay = Tablet::new(&hub, &b, 3);
    let again = replay.seal(id(4), 2_000);
    assert_eq!(
        refused(c.upload(id(4), &again.digest(), &again.to_bytes(), Start::Ask, None, &mut |_, _| {})),
        (422, "replayed-counter".into())
    );
    // Another signing key from the same enrolled tablet.
    let mut stranger = Tablet::new(&hub, &b, 9);
    stranger.counter = 100;
    let strange = stranger.seal(id(5), 2_000);
    assert_eq!(
        refused(c.upload(id(5), &strange.digest(), &strange.to_bytes(), Start::Ask, None, &mut |_, _| {})),
        (422, "device-key".into())
    );
    // A flipped byte: the digest no longer matches.
    let good = t.seal(id(6), 2_000);
    let mut bytes = good.to_bytes();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    assert_eq!(refused(c.upload(id(6), &good.digest(), &bytes, Start::Ask, None, &mut |_, _| {})).0, 422);
    // Over the size limit: refused before a byte is sent.
    let big = vec![0u8; wire::MAX_ENVELOPE as usize + 1];
    assert!(matches!(c.upload(id(7), &[0; 32], &big, Start::Ask, None, &mut |_, _| {}), Err(SyncError::TooLarge(_))));
}

fn connection_error(r: Result<impl std::fmt::Debug, SyncError>) -> String {
    match r {
        Err(SyncError::Connection(m)) => m,
        other => panic!("expected a refused connection, got {other:?}"),
    }
}

#[test]
fn tls_refuses_strangers_on_both_sides_with_a_reason() {
    let d = tempfile::tempdir().unwrap();
    let hub1 = hub(&d.path().join("hub1"), &["localhost"]);
    let hub2 = hub(&d.path().join("hub2"), &["localhost"]);
    let b1 = bundle(&hub1, "tablet-01", Validity::days(30));
    let b2 = bundle(&hub2, "tablet-02", Validity::days(30));
    let running = doorstep_hub::server::start(&hub1, "127.0.0.1:0").unwrap();
    let port = running.addr.port();
    let url = format!("https://localhost:{port}");
    let probe = |c: &mut HubClient| c.offset(&id(1).to_string(), &[0; 32]);
    assert_eq!(probe(&mut client(&b1, &url)).unwrap(), None, "the enrolled tablet gets in");

    // The hub's certificate from another CA: the tablet trusts only its own hub's CA.
    let other_ca = Bundle { ca_pem: b2.ca_pem.clone(), ..b1.clone() };
    let m = connection_error(probe(&mut client(&other_ca, &url)));
    eprintln!("refused: {m}");
    assert!(m.contains("UnknownIssuer"), "{m}");
    // The wrong host name: the certificate names localhost only.
    let m = connection_error(probe(&mut client(&b1, &format!("https://127.0.0.1:{port}"))));
    eprintln!("refused: {m}");
    assert!(m.contains("not valid for name"), "{m}");
    // A tablet of another hub (its certificate from another CA).
    let stranger = Bundle { ca_pem: b1.ca_pem.clone(), ..b2.clone() };
    let m = connection_error(probe(&mut client(&stranger, &url)));
    eprintln!("refused: {m}");
    assert!(m.to_lowercase().contains("alert"), "{m}");
    // No client certificate at all.
    let config = rustls::ClientConfig::builder_with_provider(doorstep_sync::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(doorstep_sync::tls::roots(&b1.ca_pem).unwrap())
        .with_no_client_auth();
    let m = connection_error(probe(&mut HubClient::new(&url, config).unwrap()));
    eprintln!("refused: {m}");
    assert!(m.contains("CertificateRequired"), "{m}");
    // An expired tablet certificate.
    let now = time::OffsetDateTime::now_utc();
    let old = Validity { not_before: now - time::Duration::days(400), not_after: now - time::Duration::days(35) };
    let expired = bundle(&hub1, "tablet-old", old);
    let m = connection_error(probe(&mut client(&expired, &url)));
    eprintln!("refused: {m}");
    assert!(m.contains("CertificateExpired"), "{m}");
    // Signed by the hub's CA but never enrolled: TLS lets it in, the hub does not.
    let (cert_pem, key_pem) =
        pki::client_certificate(&hub1.issuer().unwrap(), "tablet-forged", &Validity::days(30)).unwrap();
    let unknown = Bundle { cert_pem, key_pem, ..b1.clone() };
    assert_eq!(refused(probe(&mut client(&unknown, &url))), (403, "unknown-device".into()));
    // A revoked (lost) tablet: refused from its next request.
    hub1.revoke("tablet-01").unwrap();
    assert_eq!(refused(probe(&mut client(&b1, &url))), (403, "revoked-device".into()));
    drop(running);

    // The hub's own certificate expired.
    let past = Validity { not_before: now - time::Duration::days(400), not_after: now - time::Duration::days(1) };
    let (pem, key) = pki::server_certificate(&hub2.issuer().unwrap(), &["localhost".into()], past).unwrap();
    std::fs::write(hub2.dir.join("server.pem"), pem).unwrap();
    std::fs::write(hub2.dir.join("server-key.pem"), key).unwrap();
    let running = doorstep_hub::server::start(&hub2, "127.0.0.1:0").unwrap();
    let m = connection_error(probe(&mut client(&b2, &format!("https://localhost:{}", running.addr.port()))));
    eprintln!("refused: {m}");
    assert!(m.contains("certificate expired"), "{m}");
    drop(running);

    // A self-signed certificate, on either side: the hub's for localhost, in date, signed by
    // its own key; and a tablet's of its own making.
    let self_signed = || {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (pem, key) = self_signed();
    std::fs::write(hub2.dir.join("server.pem"), pem).unwrap();
    std::fs::write(hub2.dir.join("server-key.pem"), key).unwrap();
    let running = doorstep_hub::server::start(&hub2, "127.0.0.1:0").unwrap();
    let m = connection_error(probe(&mut client(&b2, &format!("https://localhost:{}", running.addr.port()))));
    eprintln!("refused: {m}");
    assert!(m.contains("UnknownIssuer"), "{m}");
    drop(running);
    let running = doorstep_hub::server::start(&hub1, "127.0.0.1:0").unwrap();
    let (cert_pem, key_pem) = self_signed();
    let own_making = Bundle { cert_pem, key_pem, ..b1.clone() };
    let m = connection_error(probe(&mut client(&own_making, &format!("https://localhost:{}", running.addr.port()))));
    eprintln!("refused: {m}");
    assert!(m.to_lowercase().contains("alert"), "{m}");
}

/// SECURITY.md R13, a revoked certificate fails closed: the hub's server certificate replaced
/// (its key copied, say) is on the CA's list, which every bundle enrolled from then on carries;
/// those tablets refuse a hub that presents it and take the new one. A tablet enrolled before
/// has no list in its bundle (it learns the list at its next sync: `tests/it/revocation.rs`).
#[test]
fn a_replaced_server_certificate_is_refused_by_the_tablets_that_carry_the_list() {
    let d = tempfile::tempdir().unwrap();
    let hub = hub(&d.path().join("hub"), &["localhost"]);
    let before = bundle(&hub, "tablet-01", Validity::days(30));
    assert_eq!(before.crl_pem, "", "nothing revoked yet: no list");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    assert_eq!(client(&before, &url).crl().unwrap(), None, "nor from the hub");
    drop(running);
    let read = |f: &str| std::fs::read_to_string(hub.dir.join(f)).unwrap();
    let (old_pem, old_key) = (read("server.pem"), read("server-key.pem"));
    let old_der = doorstep_sync::tls::certificates(&old_pem, "old").unwrap();

    // The new certificate must name the host the tablets use.
    let e = hub.replace_server_certificate(&["hub.other.test".into()]).unwrap_err();
    assert!(matches!(&e, pki::PkiError::Address(pki::Address::UrlHost { .. })), "{e}");
    let e = hub.replace_server_certificate(&["a b".into(), "localhost".into()]).unwrap_err();
    assert!(matches!(&e, pki::PkiError::Address(pki::Address::Host(h)) if h == "a b"), "{e}");
    assert_eq!(read("server.pem"), old_pem, "refused: nothing replaced");
    let r = hub.replace_server_certificate(&["localhost".into()]).unwrap();
    assert_eq!((r.revoked, r.listed), (hex::encode(pki::serial_of(&old_der[0]).unwrap()), 1));
    assert_ne!(read("server.pem"), old_pem);
    let after = bundle(&hub, "tablet-02", Validity::days(30));
    assert_eq!(after.crl_pem, read("crl.pem"));
    assert_ne!(after.anchor_digest(), Bundle { crl_pem: String::new(), ..after.clone() }.anchor_digest());

    let probe =
        |b: &Bundle, port: u16| client(b, &format!("https://localhost:{port}")).offset(&id(1).to_string(), &[0; 32]);
    // The new certificate: both get in, and the hub gives its list to either.
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    assert_eq!(client(&before, &url).crl().unwrap(), Some(read("crl.pem")));
    assert_eq!(probe(&after, running.addr.port()).unwrap(), None);
    assert_eq!(probe(&before, running.addr.port()).unwrap(), None);
    drop(running);
    // A hub presenting the old one (signed by the same CA, for the same name, in date): the
    // tablet with the list refuses it; the one without cannot tell.
    std::fs::write(hub.dir.join("server.pem"), &old_pem).unwrap();
    std::fs::write(hub.dir.join("server-key.pem"), &old_key).unwrap();
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let m = connection_error(probe(&after, running.addr.port()));
    eprintln!("refused: {m}");
    assert!(m.contains("Revoked"), "{m}");
    assert_eq!(probe(&before, running.addr.port()).unwrap(), None);
    drop(running);
}

#[test]
fn a_manifest_is_taken_only_with_every_envelope_and_releases_them_to_the_back_office() {
    let d = tempfile::tempdir().unwrap();
    let mut hub = hub(&d.path().join("hub"), &["localhost"]);
    let supervisor = signing_key_from_seed(&[42; 32]);
    hub.add_supervisor(&hex::encode(supervisor.verifying_key().to_bytes())).unwrap();
    let b = bundle(&hub, "tablet-01", Validity::days(30));
    assert_eq!(b.supervisors.len(), 1, "the bundle carries the supervisors' keys");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c = client(&b, &format!("https://localhost:{}", running.addr.port()));
    let mut t = Tablet::new(&hub, &b, 4);
    let envs: Vec<SealedEnvelope> = (10..13).map(|n| t.seal(id(n), 5_000)).collect();
    for e in &envs[..2] {
        c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::Ask, None, &mut |_, _| {}).unwrap();
    }
    let entry = |e: &SealedEnvelope, decision: Decision| ManifestEntry {
        application_id: e.application_id(),
        digest: e.digest(),
        decision,
    };
    let manifest = |batch: &str, key: &SigningKey| {
        BatchManifest {
            batch_id: batch.into(),
            device_id: "tablet-01".into(),
            supervisor_id: "supervisor-test".into(),
            created_at_unix: 1_790_001_000,
            entries: vec![
                entry(&envs[0], Decision::Approved),
                entry(&envs[1], Decision::Returned { reason: "照片背景不合格".into() }),
                entry(&envs[2], Decision::Approved),
            ],
            audit_head: [0; 32],
            audit_length: 0,
        }
        .sign(key)
        .unwrap()
        .to_bytes()
    };
    let shift = manifest("shift-a", &supervisor);
    // The third envelope is not at the hub yet: named, and nothing is released.
    let hub_key = receipt_key(&b);
    match c.submit_manifest(&shift, Some(&hub_key)) {
        Err(SyncError::ManifestIncomplete(p)) => assert_eq!(p.missing, vec![envs[2].application_id().to_string()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.status(&envs[0].application_id().to_string()).unwrap(), wire::Status::Received);
    let e = &envs[2];
    c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::Ask, None, &mut |_, _| {}).unwrap();
    let (taken, receipt) = c.submit_manifest(&shift, Some(&hub_key)).unwrap();
    assert_eq!((taken.approved, taken.returned), (2, 1));
    assert_eq!((receipt.batch_id.as_str(), receipt.applications), ("shift-a", 3), "the hub signed for the whole batch");
    let (again, _) = c.submit_manifest(&shift, Some(&hub_key)).unwrap();
    assert_eq!(
        (again.batch_id, again.approved, again.returned),
        (taken.batch_id, 2, 1),
        "the same manifest again is fine"
    );
    assert_eq!(
        c.status(&envs[1].application_id().to_string()).unwrap(),
        wire::Status::Returned { batch: "shift-a".into(), reason: "照片背景不合格".into() }
    );
    // Signed by someone the hub does not trust; the same batch id with other contents.
    let stranger = signing_key_from_seed(&[43; 32]);
    assert_eq!(refused(c.submit_manifest(&manifest("shift-b", &stranger), None)), (422, "manifest-signature".into()));
    let mut other = BatchManifest {
        batch_id: "shift-a".into(),
        device_id: "tablet-01".into(),
        supervisor_id: "supervisor-test".into(),
        created_at_unix: 1_790_002_000,
        entries: vec![entry(&envs[0], Decision::Approved)],
        audit_head: [0; 32],
        audit_length: 0,
    };
    assert_eq!(
        refused(c.submit_manifest(&other.clone().sign(&supervisor).unwrap().to_bytes(), None)),
        (422, "conflict".into())
    );
    // Another batch deciding them again: the same decisions change nothing and are taken (a
    // unit that lost the mark of its release); another decision is refused, naming the one
    // decided otherwise, and its status stays as the first batch left it.
    other.batch_id = "shift-c".into();
    other.entries.push(entry(&envs[1], Decision::Returned { reason: "照片背景不合格".into() }));
    let (same, _) = c.submit_manifest(&other.clone().sign(&supervisor).unwrap().to_bytes(), Some(&hub_key)).unwrap();
    assert_eq!((same.approved, same.returned), (1, 1));
    other.batch_id = "shift-d".into();
    other.entries[1].decision = Decision::Approved;
    let changed = other.clone().sign(&supervisor).unwrap().to_bytes();
    match c.submit_manifest(&changed, Some(&hub_key)) {
        Err(SyncError::DecidedBefore(p)) => {
            assert_eq!(p.error, "already-decided");
            assert_eq!(p.decided, vec![envs[1].application_id().to_string()]);
            assert!(p.message.contains(&envs[1].application_id().to_string()), "{}", p.message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.status(&envs[1].application_id().to_string()).unwrap(),
        wire::Status::Returned { batch: "shift-a".into(), reason: "照片背景不合格".into() }
    );

    // While the hub serves (and holds its store), the back office works through its admin
    // socket: the supervisor's release shows in `status`, a verdict is taken, and `export`
    // opens the approved envelopes with a key the hub never sees.
    let hub_cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
            .arg("--hub")
            .arg(&hub.dir)
            .args(args)
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let sock = std::fs::metadata(doorstep_hub::admin::socket_path(&hub.dir)).unwrap();
        assert_eq!(sock.permissions().mode() & 0o777, 0o600, "only the hub's user may use the admin socket");
        let folder = std::fs::metadata(&hub.dir).unwrap();
        assert_eq!(folder.permissions().mode() & 0o777, 0o700);
    }
    let (ok, status) = hub_cli(&["status"]);
    assert!(ok && status.contains("received: 3") && status.contains("approved: 2"), "{status}");
    let first = envs[0].application_id().to_string();
    let (ok, said) = hub_cli(&["decide", &first, "accept"]);
    assert!(ok, "{said}");
    assert_eq!(c.status(&first).unwrap(), wire::Status::Accepted, "the tablet hears the verdict");
    let (ok, said) = hub_cli(&["decide", &first, "reject", "--reason", "照片不合格"]);
    assert!(!ok && said.contains("already decided"), "{said}");
    // A later batch that returns it is refused, and does not undo the verdict its tablet
    // settled on.
    let later = BatchManifest {
        batch_id: "shift-later".into(),
        device_id: "tablet-01".into(),
        supervisor_id: "supervisor-test".into(),
        created_at_unix: 1_790_003_000,
        entries: vec![entry(&envs[0], Decision::Returned { reason: "再次".into() })],
        audit_head: [0; 32],
        audit_length: 0,
    };
    match c.submit_manifest(&later.sign(&supervisor).unwrap().to_bytes(), None) {
        Err(SyncError::DecidedBefore(p)) => assert_eq!(p.decided, vec![first.clone()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.status(&first).unwrap(), wire::Status::Accepted, "a verdict stands");
    let (ok, said) = hub_cli(&["decide", &envs[2].application_id().to_string(), "reject"]);
    assert!(!ok && said.contains("--reason"), "{said}");
    let returned = envs[1].application_id().to_string();
    let (ok, said) = hub_cli(&["decide", &returned, "accept"]);
    assert!(!ok && said.contains("returned by its supervisor"), "{said}");
    let key_file = pki::bureau_dir(&hub.dir).join("bureau.key");
    let live = d.path().join("export-live");
    let (ok, said) = hub_cli(&["export", "--approved", "--key", key_file.to_str().unwrap(), live.to_str().unwrap()]);
    // Both the supervisor approved, the decided one too; not the returned one.
    assert!(ok && said.contains("exported 2"), "{said}");
    assert!(live.join(envs[2].application_id().to_string()).join("form.json").exists());
    drop(running);
    assert!(!doorstep_hub::admin::socket_path(&hub.dir).exists(), "the socket goes with the hub");

    // The back office opens the approved ones with the bureau's key.
    let store = stores::open(&hub);
    let key = std::fs::read_to_string(pki::bureau_dir(&hub.dir).join("bureau.key")).unwrap();
    let secret = BureauSecretKey::from_bytes(&hex::decode(key.trim()).unwrap()).unwrap();
    let out = d.path().join("export");
    assert_eq!(doorstep_hub::export::approved(&store, &secret, &out).unwrap(), 2);
    let folder = out.join(envs[0].application_id().to_string());
    assert_eq!(std::fs::read(folder.join("photo.jpg")).unwrap(), vec![0x42; 5_000]);
    {
        // Personal data: the export's folders and files are its owner's only.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&out), mode(&folder), mode(&folder.join("photo.jpg"))), (0o700, 0o700, 0o600));
    }
    let form = std::fs::read_to_string(folder.join("form.json")).unwrap();
    assert!(form.contains("测试"), "{form}");
    // Each other signature in its own file, in the folder, by its signer where that is plainly a
    // name and not taken; listed in form.json.
    for (file, byte) in [
        ("signature-guardian-1.png", 0u8),
        ("signature-other-2.png", 1),
        ("signature-other-3.png", 2),
        ("signature-other-4.png", 3),
    ] {
        assert_eq!(std::fs::read(folder.join(file)).unwrap(), vec![0x89, byte], "{file}");
    }
    assert!(!out.join("escape").exists() && !folder.join("signature-../escape.png").exists());
    let doc: serde_json::Value = serde_json::from_str(&form).unwrap();
    assert_eq!(doc["other_signatures"][2]["signer"], "../escape");
    assert_eq!(doc["other_signatures"][2]["file"], "signature-other-3.png");
    assert!(!out.join(envs[1].application_id().to_string()).exists(), "a returned application is not exported");
    let wrong = BureauKeyPair::generate(&mut rand::rng()).secret;
    let r = doorstep_hub::export::approved(&store, &wrong, &d.path().join("x"));
    assert!(matches!(r, Err(doorstep_hub::export::ExportError::Open { .. })), "{:?}", r.err());
}
