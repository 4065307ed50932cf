//! The service without HTTP: what is said while an upload is committed, and how partial
//! uploads are bounded.

use doorstep_envelope::ApplicationId;

use super::*;
use crate::store::SledStore;

#[test]
fn nothing_is_said_of_an_upload_while_it_is_committed() {
    let d = tempfile::tempdir().unwrap();
    let hub = pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
    let bundle = hub.enroll("tablet-01", pki::Validity::days(1)).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let peer = doorstep_sync::tls::certificates(&bundle.cert_pem, "client").unwrap()[0].to_vec();
    let service = Service::new(SledStore::open(&d.path().join("store")).unwrap(), &hub).unwrap();
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
