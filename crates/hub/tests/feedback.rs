//! Feedback through a serving hub: tablets put sealed feedback over mutual TLS with their real
//! certificates; the hub keeps it sealed (its files never hold the text or contact), answers
//! the same bytes the same and refuses other bytes under an id; the back office lists,
//! opens with the bureau's key in its own process, acknowledges, answers and closes by core's
//! rules through the admin socket; each tablet reads only its own.

mod common;
mod pg;
mod stores;

use doorstep_core::feedback::{ContactInput, Escalation, Feedback, FeedbackError, FeedbackInput};
use doorstep_core::policy::{FeedbackKind, Policy};
use doorstep_envelope::{
    ApplicationId, DeviceId, FeedbackContext, SealedFeedback, seal_feedback, signing_key_from_seed,
};
use doorstep_hub::admin::AdminClient;
use doorstep_hub::feedback::FeedbackOfficeError;
use doorstep_hub::feedback::cli::{FeedbackCommand, run};
use doorstep_hub::pki::{self, Bundle, Validity};
use doorstep_hub::store::{AnyStore, FeedbackBox};
use doorstep_sync::client::{HubClient, SyncError};
use doorstep_sync::wire;
use time::OffsetDateTime;
use time::macros::datetime;

const TEXT: &str = "测试意见：等候太久";
const PHONE: &str = "13800138000";
const NOW: OffsetDateTime = datetime!(2026-12-05 10:00 +8);

fn client(b: &Bundle, port: u16) -> HubClient {
    HubClient::new(&format!("https://localhost:{port}"), b.client_config().unwrap()).unwrap()
}

fn refused<T: std::fmt::Debug>(r: Result<T, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A complaint with a contact, sealed by tablet number `tablet` of bundle `b`, as the vault
/// seals one; its id is made from `n` alone.
fn sealed(b: &Bundle, tablet: u8, n: u8, text: &str) -> (String, Vec<u8>) {
    let policy = Policy::builtin().unwrap().feedback;
    let id = ApplicationId::new_v7(1_790_000_000_000 + n as u64, [n; 10]);
    let input = FeedbackInput {
        kind: FeedbackKind::Complaint,
        category: "attitude".into(),
        text: text.into(),
        contact: Some(ContactInput { name: "测试".into(), phone: PHONE.into(), consent: true }),
        visit: Some("visit-test".into()),
    };
    let feedback = Feedback::new(id.to_string(), "officer-test", input, &policy, NOW).unwrap();
    let content = serde_json::to_vec(&feedback).unwrap();
    let device_key = signing_key_from_seed(&[tablet + 1; 32]);
    let officer_key = common::officer_key(tablet as usize);
    let ctx = FeedbackContext {
        bureau: &b.bureau_key().unwrap(),
        device_id: &DeviceId(b.device.clone()),
        device_key: &device_key,
        officer_key: &officer_key,
        feedback_id: id,
        kind: "complaint",
        category: "attitude",
        created_at_unix: NOW.unix_timestamp(),
    };
    (id.to_string(), seal_feedback(&content, &ctx, &mut rand::rng()).unwrap().to_bytes())
}

/// The back office's command on `hub`'s feedback, with the officers `hub.toml` enrolls now.
fn office(store: &dyn FeedbackBox, hub: &pki::Hub, command: FeedbackCommand) -> Result<String, FeedbackOfficeError> {
    let mut out = Vec::new();
    let trusted = pki::Hub::open(&hub.dir).unwrap().config.trusted().unwrap();
    run(store, command, NOW, &trusted, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

fn files_hold(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_hold(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn feedback_is_kept_sealed_answered_by_core_rules_and_read_only_by_its_tablet() {
    let d = tempfile::tempdir().unwrap();
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let (a, b) =
        (common::bundle(&hub, "tablet-a", Validity::days(1)), common::bundle(&hub, "tablet-b", Validity::days(1)));
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    common::enroll_officer(&hub, &common::officer_key(1), "officer-test");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let port = running.addr.port();
    let (mut ca, mut cb) = (client(&a, port), client(&b, port));

    // Tablet A sends two, tablet B one.
    let (a1, a1_bytes) = sealed(&a, 0, 1, TEXT);
    let (a2, a2_bytes) = sealed(&a, 0, 2, "测试表扬");
    let (b1, b1_bytes) = sealed(&b, 1, 3, "测试办不成");
    let got = ca.put_feedback(&a1, &a1_bytes).unwrap();
    assert_eq!((got.id.as_str(), &got.state, got.kind), (a1.as_str(), &Escalation::Open, FeedbackKind::Complaint));
    assert_eq!(ca.put_feedback(&a1, &a1_bytes).unwrap(), got, "the same bytes again: the same answer");
    ca.put_feedback(&a2, &a2_bytes).unwrap();
    cb.put_feedback(&b1, &b1_bytes).unwrap();

    // Refusals, each by its code.
    let (_, other_bytes) = sealed(&a, 0, 1, "测试另一段");
    let mut flipped = a2_bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    // (From tablet B?, the id put under, the body, the refusal.)
    type Case<'a> = (bool, &'a str, Vec<u8>, (u16, &'a str));
    let cases: [Case; 6] = [
        (false, &a1, other_bytes, (422, "conflict")),
        (true, &a1, a1_bytes.clone(), (422, "device-id")),
        (false, &a2, flipped, (422, "signature")),
        (false, &a2, b"not a feedback".to_vec(), (422, "feedback")),
        (false, &b1, a2_bytes.clone(), (422, "feedback-id")),
        (false, &a2, vec![0; wire::MAX_FEEDBACK as usize + 1], (413, "too-large")),
    ];
    for (from_b, id, body, (status, code)) in cases {
        let c = if from_b { &mut cb } else { &mut ca };
        let r = c.request("PUT", &wire::feedback_path(id), &[], &body).unwrap();
        assert_eq!((r.status, r.header(wire::ERROR).unwrap_or_default()), (status, code), "{code}");
    }
    // Signed with an officer key not enrolled, then with one an earlier version enrolled with
    // no id: whose it is is not known, so it signs for no one.
    let (c1, c1_bytes) = sealed(&a, 2, 4, TEXT);
    assert_eq!(refused(ca.put_feedback(&c1, &c1_bytes)), (422, "officer-key".into()));
    let mut edited = pki::Hub::open(&hub.dir).unwrap();
    edited.config.officers.push(hex::encode(common::officer_key(2).verifying_key().to_bytes()));
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&edited.config).unwrap()).unwrap();
    assert_eq!(refused(ca.put_feedback(&c1, &c1_bytes)), (422, "officer-id".into()));
    // Another tablet's feedback id, under its own well-made seal.
    let (_, b_under_a1) = sealed(&b, 1, 1, TEXT);
    assert_eq!(refused(cb.put_feedback(&a1, &b_under_a1)), (403, "other-device".into()));
    assert_eq!(ca.request("POST", &wire::feedback_path(&a1), &[], &a1_bytes).unwrap().status, 405);

    // Each tablet reads its own only.
    let ids = |l: &wire::FeedbackList| l.feedback.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    let list_a = ca.feedback().unwrap();
    assert_eq!((list_a.version, list_a.device.as_str()), (wire::FEEDBACK_LIST_VERSION, "tablet-a"));
    assert_eq!(ids(&list_a), [a1.clone(), a2.clone()]);
    assert_eq!(ids(&cb.feedback().unwrap()), std::slice::from_ref(&b1));

    // The hub's files hold neither the text nor the contact.
    for secret in [TEXT.as_bytes(), PHONE.as_bytes(), "测试".as_bytes()] {
        assert_eq!(files_hold(&hub.dir, secret), Vec::<std::path::PathBuf>::new());
    }

    // The back office, through the serving hub's admin socket, by core's rules.
    let admin = AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");
    let listed = office(&admin, &hub, FeedbackCommand::List { device: None, json: false, key: None }).unwrap();
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(!listed.contains(TEXT), "no text without the key");
    let ack = || FeedbackCommand::Acknowledge { id: a1.clone(), by: None };
    let answer = |t: &str| FeedbackCommand::Answer { id: a1.clone(), text: t.into(), by: None };
    let close = |id: &str, n: &str| FeedbackCommand::Close { id: id.into(), note: n.into(), by: None };
    let rule = |e: Result<String, FeedbackOfficeError>| match e {
        Err(FeedbackOfficeError::Rule { rule, .. }) => Some(rule),
        Ok(_) => None,
        Err(other) => panic!("{other}"),
    };
    let steps: Vec<(FeedbackCommand, Option<FeedbackError>)> = vec![
        (answer(" "), Some(FeedbackError::AnswerMissing)),
        (ack(), None),
        (ack(), Some(FeedbackError::WrongState)),
        (answer("已电话回访，致歉"), None),
        (answer("again"), Some(FeedbackError::WrongState)),
        (close(&a1, " "), Some(FeedbackError::NoteMissing)),
        (close(&a1, "已办结"), None),
        (close(&a1, "again"), Some(FeedbackError::WrongState)),
        // An answer without an acknowledgement first, and a close straight from received.
        (FeedbackCommand::Answer { id: a2.clone(), text: "谢谢".into(), by: Some("测试科".into()) }, None),
        (close(&b1, "已转窗口办理"), None),
    ];
    for (i, (command, want)) in steps.into_iter().enumerate() {
        assert_eq!(rule(office(&admin, &hub, command)), want, "step {i}");
    }
    assert!(matches!(
        office(&admin, &hub, FeedbackCommand::Acknowledge { id: "0190f0c48a2b70008000000000000009".into(), by: None }),
        Err(FeedbackOfficeError::NoSuchFeedback(_))
    ));
    assert!(matches!(
        office(&admin, &hub, FeedbackCommand::Acknowledge { id: "../x".into(), by: None }),
        Err(FeedbackOfficeError::BadId(_))
    ));

    // The tablet hears its own: the answer stays in the closed state's history as the note.
    let list_a = ca.feedback().unwrap();
    assert!(matches!(&list_a.feedback[0].state, Escalation::Closed { note, .. } if note == "已办结"));
    assert!(
        matches!(&list_a.feedback[1].state, Escalation::Answered { answer, by, .. } if answer == "谢谢" && by == "测试科")
    );
    assert!(matches!(&cb.feedback().unwrap().feedback[0].state, Escalation::Closed { .. }));

    // With the bureau's key, in this process, the back office reads the text and contact.
    let key = pki::bureau_dir(&hub.dir).join("bureau.key");
    let opened = office(
        &admin,
        &hub,
        FeedbackCommand::List { device: Some("tablet-a".into()), json: true, key: Some(key.clone()) },
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&opened).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["content"]["text"], TEXT);
    assert_eq!(v[0]["content"]["contact_phone"], "+8613800138000");
    assert_eq!(v[0]["state"]["state"], "closed");
    // Its officer is sealed: the back office checks it against whose the key was enrolled as.
    let mut edited = pki::Hub::open(&hub.dir).unwrap();
    let officer = hex::encode(common::officer_key(0).verifying_key().to_bytes());
    // Why the first of tablet A's is not opened, with hub.toml as `edited` has it now.
    let unopened = |edited: &pki::Hub| {
        std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&edited.config).unwrap()).unwrap();
        let listed = office(
            &admin,
            &hub,
            FeedbackCommand::List { device: Some("tablet-a".into()), json: true, key: Some(key.clone()) },
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&listed).unwrap();
        assert!(v[0].get("content").is_none(), "{v}");
        v[0]["unopened"].as_str().unwrap_or_default().to_string()
    };
    edited.config.officer_ids.insert(officer.clone(), "officer-other".into());
    let why = unopened(&edited);
    assert!(
        why.contains(r#"names officer "officer-test", but its signing key is enrolled for officer "officer-other""#),
        "{why}"
    );
    // A key enrolled by an earlier version, with no id: whose it is is not known either.
    edited.config.officer_ids.remove(&officer);
    let why = unopened(&edited);
    assert!(
        why.contains(r#"names officer "officer-test", but its signing key is enrolled with no officer id"#),
        "{why}"
    );
    edited.config.officer_ids.insert(officer, "officer-test".into());
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&edited.config).unwrap()).unwrap();
    // A wrong key opens nothing and says so, row by row: every feedback is still listed (one
    // that does not open never hides the others).
    let wrong = d.path().join("wrong.key");
    std::fs::write(&wrong, hex::encode([7u8; 32])).unwrap();
    let listed = office(&admin, &hub, FeedbackCommand::List { device: None, json: true, key: Some(wrong) }).unwrap();
    let v: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let rows = v.as_array().unwrap();
    assert!(rows.len() >= 2);
    for r in rows {
        assert!(r.get("content").is_none(), "{r}");
        assert!(r["unopened"].as_str().is_some_and(|why| !why.is_empty()), "{r}");
    }
    drop(admin);
    drop(running);

    // Stopped, the store is read directly: the embedded one's lost index is rebuilt with every
    // feedback as it stood and its sealed bytes; the database has no index of the hub's.
    let store = match stores::postgres() {
        false => {
            std::fs::remove_dir_all(hub.dir.join("store").join("index")).unwrap();
            let store = stores::open(&hub);
            let AnyStore::Sled(sled) = &store else { panic!("the embedded store") };
            assert_eq!(sled.recovery().rebuilt.as_ref().map(|r| r.feedback), Some(3));
            store
        }
        true => stores::open(&hub),
    };
    assert_eq!(store.feedback_list(None).unwrap().len(), 3);
    let held = store.held_feedback(&a1).unwrap().unwrap();
    assert!(matches!(held.state, Escalation::Closed { .. }));
    assert_eq!(store.sealed_feedback(&a1).unwrap(), Some(a1_bytes.clone()));
    SealedFeedback::from_bytes(&a1_bytes).unwrap().verify_self_signed().unwrap();
}
