//! The hub's log (tracing, to standard error, `RUST_LOG` honoured): one line per request with
//! its method, route, status, device and application id; each refusal with its reason code;
//! each failed TLS handshake. Never personal data: the reasons a supervisor or the back office
//! wrote, the envelope's contents and the replies' messages stay out of it (SECURITY.md R11:
//! no personal data outside the encrypted store).

mod common;
mod pg;
mod served;
mod stores;

use doorstep_envelope::*;
use doorstep_hub::pki::{self, Validity};
use doorstep_sync::client::{HubClient, Start, SyncError};

const REASON: &str = "测试原因-CANARY-4711";

/// Runs the hub with `RUST_LOG=filter` through `act`, and returns what it logged.
fn logged(filter: &str, act: impl FnOnce(&pki::Hub, &pki::Bundle)) -> String {
    let d = tempfile::tempdir().unwrap();
    let (mut hub, _) = stores::hub_on_free_port(d.path());
    let supervisor = signing_key_from_seed(&[42; 32]);
    hub.add_supervisor(&hex::encode(supervisor.verifying_key().to_bytes())).unwrap();
    let b = common::bundle(&hub, "tablet-0", Validity::days(1));
    let served = served::Served::start(&hub.dir, filter);
    act(&hub, &b);
    served.stop().1
}

fn tablet_session(hub: &pki::Hub, b: &pki::Bundle) {
    let url = b.hub_url.clone();
    let mut c = HubClient::new(&url, b.client_config().unwrap()).unwrap();
    let envs = common::envelopes(b, 0, 2, |_| 2_000);
    // Refused: the officer is not enrolled yet.
    let e = &envs[0];
    let upload = |c: &mut HubClient, e: &SealedEnvelope| {
        c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::New, None, &mut |_, _| {})
    };
    match upload(&mut c, e) {
        Err(SyncError::Refused { status: 422, code, .. }) => assert_eq!(code, "officer-key"),
        other => panic!("expected officer-key, got {other:?}"),
    }
    common::enroll_officer(hub, &common::officer_key(0), "officer-test");
    for e in &envs {
        upload(&mut c, e).unwrap();
    }
    // A supervisor returns one with a reason, which is the supervisor's words about a person.
    let supervisor = signing_key_from_seed(&[42; 32]);
    let manifest = BatchManifest {
        batch_id: "shift".into(),
        device_id: "tablet-0".into(),
        supervisor_id: "supervisor-test".into(),
        created_at_unix: 1_790_001_000,
        entries: vec![ManifestEntry {
            application_id: e.application_id(),
            digest: e.digest(),
            decision: Decision::Returned { reason: REASON.into() },
        }],
        audit_head: [0; 32],
        audit_length: 0,
    }
    .sign(&supervisor)
    .unwrap()
    .to_bytes();
    c.submit_manifest(&manifest, None).unwrap();
    c.status(&e.application_id().to_string()).unwrap();
    // A stranger without a certificate.
    let config = rustls::ClientConfig::builder_with_provider(doorstep_sync::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(doorstep_sync::tls::roots(&b.ca_pem).unwrap())
        .with_no_client_auth();
    match HubClient::new(&url, config).unwrap().receipt(&e.application_id().to_string()) {
        Err(SyncError::Connection(m)) => assert!(m.contains("CertificateRequired"), "{m}"),
        other => panic!("expected a refused handshake, got {other:?}"),
    }
}

#[test]
fn each_request_refusal_and_failed_handshake_is_logged_without_personal_data() {
    let mut id = String::new();
    let log = logged("info", |hub, b| {
        id = common::envelopes(b, 0, 1, |_| 10)[0].application_id().to_string();
        tablet_session(hub, b);
    });
    let has = |parts: &[&str]| log.lines().any(|l| parts.iter().all(|p| l.contains(p)));
    let device = "device=tablet-0";
    let at = format!("id={id}");
    assert!(has(&["request", "method=PATCH", "route=envelope", "status=200", device, &at]), "{log}");
    assert!(has(&["request refused", "method=PATCH", "status=422", "code=officer-key", device, &at]), "{log}");
    assert!(has(&["method=POST", "route=manifests", "status=200", device]), "{log}");
    assert!(has(&["method=GET", "route=status", "status=200", device, &at]), "{log}");
    assert!(has(&["TLS handshake failed", "peer=127.0.0.1"]), "{log}");
    for secret in [REASON, "测试", "officer-test", "TEST-0-0", "add-officer"] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
    // RUST_LOG is honoured: at warn, refusals and failed handshakes, no lines for requests served.
    let quiet = logged("warn", tablet_session);
    assert!(quiet.contains("code=officer-key") && quiet.contains("TLS handshake failed"), "{quiet}");
    assert!(!quiet.contains("status=200"), "{quiet}");
}
