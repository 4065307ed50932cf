//! The service without HTTP: what is said while an upload is committed, and how partial
//! uploads are bounded.

use doorstep_envelope::ApplicationId;

use super::*;
use crate::store::{AnyStore, test_store};

#[test]
fn nothing_is_said_of_an_upload_while_it_is_committed() {
    let d = tempfile::tempdir().unwrap();
    let hub = pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
    let bundle = hub.enroll("tablet-01", pki::Validity::days(1)).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let peer = doorstep_sync::tls::certificates(&bundle.cert_pem, "client").unwrap()[0].to_vec();
    let service = Service::new(test_store(&d.path().join("store")), &hub).unwrap();
    let id = ApplicationId::new_v7(1_790_000_000_000, [1; 10]).to_string();
    let ask = |method: &str, path: &str| {
        let header = |name: &str| (name == wire::DIGEST).then(|| "ab".repeat(32));
        service.handle(&Request { method, path, header: &header, body: &[], peer: &peer })
    };
    let paths = [("HEAD", wire::envelope_path(&id)), ("GET", wire::receipt_path(&id)), ("GET", wire::status_path(&id))];
    service.in_flight.lock().unwrap().insert(id.clone(), "tablet-01".into());
    for (method, path) in &paths {
        let r = ask(method, path);
        assert_eq!((r.status, r.headers.iter().any(|(_, v)| v == wire::IN_FLIGHT)), (409, true), "{method} {path}");
    }
    service.in_flight.lock().unwrap().remove(&id);
    assert_eq!(ask("HEAD", &paths[0].1).status, 404, "once it is over, the hub answers");
}

/// A PATCH of `len` bytes at 0 of a `total`-byte upload of application `n`, from `peer`.
fn start_upload(service: &Service<AnyStore>, peer: &[u8], n: u64) -> Reply {
    let id = ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10]).to_string();
    let chunk = [7u8; 100];
    let header = |name: &str| match name {
        wire::DIGEST => Some("cd".repeat(32)),
        wire::UPLOAD_OFFSET => Some("0".into()),
        wire::UPLOAD_LENGTH => Some("1000".into()),
        wire::UPLOAD_CHECKSUM => Some(wire::checksum(&chunk)),
        _ => None,
    };
    service.handle(&Request { method: "PATCH", path: &wire::envelope_path(&id), header: &header, body: &chunk, peer })
}

fn peer_of(hub: &pki::Hub, name: &str) -> Vec<u8> {
    let bundle = hub.enroll(name, pki::Validity::days(1)).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    doorstep_sync::tls::certificates(&bundle.cert_pem, "client").unwrap()[0].to_vec()
}

#[test]
fn partial_uploads_are_capped_and_expire_per_device_r25() {
    let d = tempfile::tempdir().unwrap();
    let hub = pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
    let (a, b) = (peer_of(&hub, "tablet-a"), peer_of(&hub, "tablet-b"));
    let mut service = Service::new(test_store(&d.path().join("store")), &hub).unwrap();
    service.uploads = UploadLimits { per_device: 2, expiry_secs: 3600 };
    assert_eq!((start_upload(&service, &a, 1).status, start_upload(&service, &a, 2).status), (204, 204));
    let third = start_upload(&service, &a, 3);
    assert_eq!((third.status, third.code()), (429, Some("too-many-uploads")));
    // Another device has its own allowance.
    assert_eq!(start_upload(&service, &b, 4).status, 204);
    // Nothing is stale yet.
    assert_eq!(service.expire_uploads(None).unwrap(), 0);
    // Two hours on, A's stale uploads make room for its new one as it starts, and the
    // periodic sweep drops B's.
    service.now = || time::OffsetDateTime::now_utc().unix_timestamp() + 7200;
    assert_eq!(start_upload(&service, &a, 3).status, 204);
    let held: Vec<String> = service.store.uploads().unwrap().into_iter().map(|(_, u)| u.device).collect();
    assert_eq!(held.iter().filter(|d| *d == "tablet-a").count(), 1, "{held:?}");
    assert_eq!(service.expire_uploads(None).unwrap(), 1, "B's stale upload");
    assert_eq!(service.store.uploads().unwrap().len(), 1);
}
