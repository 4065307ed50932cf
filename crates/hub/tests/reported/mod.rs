//! The report test's fixtures: applications as the unit seals them (a real doorstep-core visit
//! at the seal step, of an obviously fake person), uploaded through the hub's service on a clock
//! the test sets, released or returned by a signed supervisor's manifest, and decided by the
//! back office.

use std::sync::atomic::{AtomicI64, Ordering};

use doorstep_core::fingerprint::{Attempt, Finger, FingerResult};
use doorstep_core::policy::{EndorsementFacts, PaymentMethod, Policy};
use doorstep_core::visit::*;
use doorstep_core::{ApplicantInput, Visit, VisitEvent};
use doorstep_envelope::*;
use doorstep_hub::pki::{Bundle, Hub};
use doorstep_hub::service::{Request, Service};
use doorstep_hub::store::{AnyStore, Records, Status};
use doorstep_sync::wire;
use time::OffsetDateTime;

/// The hub's clock in the test (unix seconds): what the service stamps as the time of receipt.
pub static CLOCK: AtomicI64 = AtomicI64::new(0);

const DIGEST: &str = "5f2b1c0e8a7d6b4c3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2";

/// Who applies: 测试, born 1949 (over 60 on every visit), or born 1990.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Elder,
    Adult,
}

/// What happened to an application after it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// No manifest yet.
    Waiting,
    Approved,
    Returned(&'static str),
    Accepted,
    Rejected(&'static str),
}

/// One application of the test.
#[derive(Debug, Clone)]
pub struct Spec {
    pub device: usize,
    pub officer: usize,
    /// When the hub received it.
    pub received: OffsetDateTime,
    /// How long before that the unit sealed it (the end of the capture).
    pub lag_secs: i64,
    pub who: Who,
    pub services: &'static [&'static str],
    /// An urgent ground with the evidence seen.
    pub urgent: Option<(&'static str, &'static [&'static str])>,
    pub declared: &'static [&'static str],
    pub fate: Fate,
}

fn id_number(yyyymmdd: &str, seq: &str) -> String {
    let body = format!("110105{yyyymmdd}{seq}");
    format!("{body}{}", doorstep_core::id_number::check_character(&body))
}

/// The form as the unit seals it (`src/screens/visit/closing.rs`): the visit at the seal step.
pub fn form_json(spec: &Spec, officer: &str, at: OffsetDateTime) -> String {
    let policy = Policy::builtin().unwrap();
    let start = VisitStart {
        id: "visit-test".into(),
        officer: officer.into(),
        mode: VisitMode::Home { reason: HomeReason::Bedbound },
        appointment: None,
    };
    let mut v = Visit::start(start, at).unwrap();
    let id = match spec.who {
        Who::Elder => id_number("19491231", "002"),
        Who::Adult => id_number("19900101", "001"),
    };
    let who = Identification {
        applicant: ApplicantInput { name: "测试".into(), id_number: id, ..Default::default() },
        ..Default::default()
    };
    let details = DetailsInput {
        phone: "010-65123456".into(),
        address: "测试省测试市测试路1号".into(),
        delivery: DeliveryInput::Pickup { office: "测试出入境大厅".into() },
        urgent: spec.urgent.map(|(ground, seen)| UrgentRequest {
            ground: ground.into(),
            evidence_seen: seen.iter().map(|s| s.to_string()).collect(),
        }),
        declared_priority: spec.declared.iter().map(|s| s.to_string()).collect(),
    };
    let print = |n| Attempt {
        finger: Finger::new(n).unwrap(),
        result: FingerResult::Print { quality: 80, digest: DIGEST.into() },
    };
    let events = vec![
        VisitEvent::Identified(who),
        VisitEvent::ServicesChosen(ServicesInput {
            services: spec.services.iter().map(|s| s.parse().unwrap()).collect(),
            facts: EndorsementFacts::default(),
        }),
        VisitEvent::PhotoTaken(PhotoInput::Captured(TakenPhoto {
            digest: DIGEST.into(),
            failed_checks: vec![],
            override_reason: None,
            to_look_at: vec![],
            looked: None,
        })),
        VisitEvent::FingerprintsTaken(FingerprintsInput::Taken {
            attempts: vec![print(1), print(6)],
            no_valid_print_confirmed: false,
        }),
        VisitEvent::DetailsEntered(details),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(ConsentInput {
            application: true,
            biometrics: true,
            applicant: Some(Strokes { digest: DIGEST.into(), strokes: 3 }),
            ..Default::default()
        }),
    ];
    for e in events {
        let kind = e.kind();
        v.apply(&policy, at, e).unwrap_or_else(|err| panic!("{spec:?}: {kind:?}: {err:?}"));
    }
    let amount = v.amount_due(&policy).unwrap();
    v.apply(
        &policy,
        at,
        VisitEvent::Paid(PaymentInput { method: PaymentMethod::Cash, amount, reference: String::new() }),
    )
    .unwrap();
    assert_eq!(v.step(), doorstep_core::Step::Seal);
    serde_json::json!({ "visit": v, "capture_sources": {} }).to_string()
}

/// A tablet of the test: its bundle, device key, and the officers who use it.
pub struct Tablet {
    pub bundle: Bundle,
    pub peer: Vec<u8>,
    pub device_key: SigningKey,
    pub counter: u64,
}

impl Tablet {
    pub fn new(hub: &Hub, name: &str, seed: u8) -> Tablet {
        let bundle = crate::common::bundle(hub, name, doorstep_hub::pki::Validity::days(30));
        let peer = doorstep_sync::tls::certificates(&bundle.cert_pem, "client").unwrap()[0].to_vec();
        Tablet { bundle, peer, device_key: signing_key_from_seed(&[seed; 32]), counter: 0 }
    }
}

/// The officer's id and key of officer number `n` (enrolled by the test).
/// Number 3's id is in Chinese, as a unit may send one.
pub fn officer(n: usize) -> (String, SigningKey) {
    let id = if n == 3 { format!("测试-{n:02}") } else { format!("officer-{n:02}") };
    (id, signing_key_from_seed(&[150 + n as u8; 32]))
}

pub fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap().to_offset(doorstep_hub::report::CHINA_STANDARD_TIME)
}

/// Seals `spec` on `tablet` and uploads it in one chunk while the hub's clock says
/// `spec.received`; returns its id and digest.
pub fn upload(service: &Service<AnyStore>, tablet: &mut Tablet, n: usize, spec: &Spec) -> (ApplicationId, Digest) {
    tablet.counter += 1;
    let received = spec.received.unix_timestamp();
    let sealed = received - spec.lag_secs;
    let (officer_id, officer_key) = officer(spec.officer);
    let id = ApplicationId::new_v7(sealed as u64 * 1000, [n as u8; 10]);
    let record = ApplicationRecord {
        schema_version: SCHEMA_VERSION,
        application_id: id,
        application_numbers: spec.services.iter().enumerate().map(|(i, _)| format!("TEST-{n}-{i}")).collect(),
        form_json: form_json(spec, &officer_id, at(sealed)),
        photo_jpeg: vec![0xFF, 0xD8, 0xFF, n as u8],
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        other_signatures: vec![],
        capture: CaptureMetadata {
            device_id: tablet.bundle.device.clone(),
            officer_id: officer_id.clone(),
            gnss: None,
            started_at_unix: sealed - 900,
            completed_at_unix: sealed,
            quality: vec![],
        },
    };
    let ctx = SealContext {
        bureau: &tablet.bundle.bureau_key().unwrap(),
        device_id: &DeviceId(tablet.bundle.device.clone()),
        device_key: &tablet.device_key,
        officer_id: &officer_id,
        officer_key: &officer_key,
        device_counter: tablet.counter,
        sealed_at_unix: sealed,
    };
    let envelope = seal(&record, &ctx, &mut rand::rng()).unwrap();
    let bytes = envelope.to_bytes();
    let digest = hex::encode(envelope.digest());
    let header = |name: &str| match name {
        wire::DIGEST => Some(digest.clone()),
        wire::UPLOAD_OFFSET => Some("0".into()),
        wire::UPLOAD_LENGTH => Some(bytes.len().to_string()),
        wire::UPLOAD_CHECKSUM => Some(wire::checksum(&bytes)),
        _ => None,
    };
    CLOCK.store(received, Ordering::SeqCst);
    let path = wire::envelope_path(&id.to_string());
    let reply =
        service.handle(&Request { method: "PATCH", path: &path, header: &header, body: &bytes, peer: &tablet.peer });
    assert!(reply.status < 300, "upload {n}: {} {:?}", reply.status, String::from_utf8_lossy(&reply.body));
    (id, envelope.digest())
}

/// Each tablet's supervisor signs one manifest for its applications that have a fate, and the
/// back office decides those the test accepts or rejects.
pub fn decide(
    service: &Service<AnyStore>,
    tablets: &[Tablet],
    supervisor: &SigningKey,
    done: &[(usize, ApplicationId, Digest, Fate)],
) {
    for (t, tablet) in tablets.iter().enumerate() {
        let entries: Vec<ManifestEntry> = done
            .iter()
            .filter(|(d, _, _, fate)| *d == t && *fate != Fate::Waiting)
            .map(|(_, id, digest, fate)| ManifestEntry {
                application_id: *id,
                digest: *digest,
                decision: match fate {
                    Fate::Returned(reason) => Decision::Returned { reason: reason.to_string() },
                    _ => Decision::Approved,
                },
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let manifest = BatchManifest {
            batch_id: format!("{}-shift", tablet.bundle.device),
            device_id: tablet.bundle.device.clone(),
            supervisor_id: "supervisor-test".into(),
            created_at_unix: CLOCK.load(Ordering::SeqCst),
            entries,
            audit_head: [0; 32],
            audit_length: 0,
        }
        .sign(supervisor)
        .unwrap()
        .to_bytes();
        let reply = service.handle(&Request {
            method: "POST",
            path: wire::MANIFESTS,
            header: &|_| None,
            body: &manifest,
            peer: &tablet.peer,
        });
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    }
    for (_, id, _, fate) in done {
        let verdict = match fate {
            Fate::Accepted => Status::Accepted,
            Fate::Rejected(reason) => Status::Rejected { reason: reason.to_string() },
            _ => continue,
        };
        service.store.decide(&id.to_string(), &verdict).unwrap();
    }
}
