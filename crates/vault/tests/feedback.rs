//! Feedback's whole round with real parts: an officer seals a complaint on the unit while the
//! hub is unreachable (the vault folder then holds neither its text nor its contact), the next
//! sync puts it to a serving hub over mutual TLS and the vault drops its sealed copy on the
//! hub's answer; the back office opens it with the bureau's key in its own process and answers
//! it through the admin socket; the sync after hears the answer. A poor rating opens one by
//! core's `Feedback::from_poor_rating`.

mod common;

use common::*;
use doorstep_core::feedback::{ContactInput, Escalation, Feedback, FeedbackError, FeedbackInput};
use doorstep_core::policy::{FeedbackKind, POOR_RATING, Policy};
use doorstep_core::visit::Visit;
use doorstep_hub::admin::AdminClient;
use doorstep_hub::feedback::{Move, change, open_held};
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::FeedbackBox;
use doorstep_sync::bundle::Bundle;
use doorstep_sync::client::SyncError;
use doorstep_sync::escrow::Hub;
use doorstep_sync::feedback::sync;
use doorstep_vault::VaultError;
use time::OffsetDateTime;

const TEXT: &str = "测试投诉：窗口说材料不全，办不成";
const PHONE: &str = "13800138000";

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn complaint() -> FeedbackInput {
    FeedbackInput {
        kind: FeedbackKind::CouldNotGetDone,
        category: "materials".into(),
        text: TEXT.into(),
        contact: Some(ContactInput { name: "测试".into(), phone: PHONE.into(), consent: true }),
        visit: None,
    }
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
fn core_refuses_what_is_not_feedback_before_anything_is_sealed() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut vault = unlock(d.path());
    let policy = Policy::builtin().unwrap().feedback;
    let cases = [
        (FeedbackInput { text: " ".into(), ..complaint() }, FeedbackError::TextMissing),
        (
            FeedbackInput {
                contact: Some(ContactInput { name: String::new(), phone: PHONE.into(), consent: false }),
                ..complaint()
            },
            FeedbackError::ContactWithoutConsent,
        ),
        (
            FeedbackInput { category: "attitude".into(), ..complaint() },
            FeedbackError::UnknownCategory { kind: FeedbackKind::CouldNotGetDone, category: "attitude".into() },
        ),
    ];
    for (input, want) in cases {
        match vault.seal_feedback_input(input, &policy, at(NOW)) {
            Err(VaultError::Feedback(e)) => assert_eq!(e, want),
            other => panic!("{want:?}: {other:?}"),
        }
    }
    assert_eq!(vault.feedback().unwrap(), vec![]);
    // An id that is not one the vault made is refused too.
    let mut f = Feedback::new("fb-1", OFFICER, complaint(), &policy, at(NOW)).unwrap();
    assert!(matches!(vault.seal_feedback(&f, NOW), Err(VaultError::Seal(_))));
    // The same feedback sealed twice is kept once.
    f.id = doorstep_vault::Vault::new_feedback_id(at(NOW));
    let first = vault.seal_feedback(&f, NOW).unwrap();
    assert_eq!(vault.seal_feedback(&f, NOW + 1).unwrap(), first);
    assert_eq!(vault.feedback_to_send().unwrap().len(), 1);
}

#[test]
fn feedback_sealed_offline_reaches_the_hub_and_its_answer_comes_back() {
    let d = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let hub =
        pki::init(&d.path().join("hub"), &["localhost".into()], &listen, &format!("https://localhost:{port}")).unwrap();
    let bundle_path = hub.enroll("tablet-test-01", Validity::days(1)).unwrap();
    let bundle = Bundle::parse(&std::fs::read_to_string(bundle_path).unwrap()).unwrap();

    // The unit, provisioned for the hub; its officer enrolled there.
    let vault_dir = d.path().join("vault");
    let bureau = init(&vault_dir);
    let mut vault = unlock(&vault_dir);
    vault.bind_hub(&bundle.anchor_digest(), NOW).unwrap();
    pki::Hub::open(&hub.dir).unwrap().add_officer(&hex::encode(vault.user_public_key().to_bytes()), OFFICER).unwrap();
    let mut link = Hub::connect(&mut vault, &bundle, NOW).unwrap();

    // No coverage: the officer takes a "could not get it done" down, and it is sealed.
    let policy = Policy::builtin().unwrap().feedback;
    let entry = vault.seal_feedback_input(complaint(), &policy, at(NOW)).unwrap();
    assert_eq!(
        (entry.kind, entry.category.as_str(), entry.received),
        (FeedbackKind::CouldNotGetDone, "materials", false)
    );
    assert_eq!(entry.state, Escalation::Open);
    let offline = sync(&mut vault, &mut link, NOW + 60).unwrap();
    assert!(offline.stopped && offline.sent.is_empty(), "{offline:?}");
    assert!(matches!(offline.kept.as_slice(), [(id, SyncError::Connection(_))] if *id == entry.id), "{offline:?}");
    assert_eq!(vault.feedback_to_send().unwrap().len(), 1, "still sealed, waiting");

    // A copy of the folder, without the PIN, shows neither the text nor the contact (nor the
    // category).
    for secret in [TEXT.as_bytes(), PHONE.as_bytes(), "测试".as_bytes(), b"materials"] {
        assert_eq!(files_hold(&vault_dir, secret), Vec::<std::path::PathBuf>::new());
    }

    // The unit stops and starts again: the feedback is still there.
    drop(link);
    drop(vault);
    let mut vault = unlock(&vault_dir);
    let mut link = Hub::connect(&mut vault, &bundle, NOW + 120).unwrap();
    assert_eq!(vault.feedback().unwrap(), vec![entry.clone()]);

    // Coverage returns: the sync puts it, the vault drops its sealed copy on the hub's answer.
    let running = doorstep_hub::server::start(&hub, &listen).unwrap();
    let report = sync(&mut vault, &mut link, NOW + 180).unwrap();
    assert_eq!(report.sent, std::slice::from_ref(&entry.id));
    assert!(report.refused.is_empty() && report.kept.is_empty(), "{report:?}");
    assert_eq!(vault.feedback_to_send().unwrap(), vec![], "the hub has it: no copy to send");
    let kept = report.feedback.expect("downloaded");
    assert!(kept[0].received && kept[0].state == Escalation::Open, "{kept:?}");

    // The hub keeps it sealed; the back office opens it with the bureau's key here, not there.
    for secret in [TEXT.as_bytes(), PHONE.as_bytes()] {
        assert_eq!(files_hold(&hub.dir, secret), Vec::<std::path::PathBuf>::new());
    }
    let admin = AdminClient::connect(&hub.dir).unwrap();
    let held = admin.held_feedback(&entry.id).unwrap().expect("at the hub");
    assert_eq!((held.device.as_str(), held.category.as_str()), ("tablet-test-01", "materials"));
    // Against whose the hub enrolled the signing key: this officer's.
    let enrolled = [(vault.user_public_key().to_bytes(), OFFICER.to_string())].into();
    let opened = open_held(&admin, &held, &bureau.secret, &enrolled).unwrap();
    assert_eq!((opened.text.as_str(), opened.officer.as_str()), (TEXT, OFFICER));
    assert_eq!(opened.contact.as_ref().map(|c| c.phone.e164()).as_deref(), Some("+8613800138000"));

    // The back office answers it at once (no acknowledgement first: core allows it).
    let when = at(NOW + 200);
    change(&admin, &entry.id, "测试科", &Move::Answer("已联系申请人补齐材料".into()), when).unwrap();

    // The next sync hears the answer; the one after changes nothing.
    let report = sync(&mut vault, &mut link, NOW + 240).unwrap();
    assert_eq!(report.heard, std::slice::from_ref(&entry.id));
    let answered =
        Escalation::Answered { by: "测试科".into(), answer: "已联系申请人补齐材料".into(), at: when };
    assert_eq!(vault.feedback().unwrap()[0].state, answered);
    assert_eq!(sync(&mut vault, &mut link, NOW + 300).unwrap().heard, Vec::<String>::new());
    drop(vault);
    let vault = unlock(&vault_dir);
    assert_eq!(vault.feedback().unwrap()[0].state, answered, "kept, readable after unlock");
    drop(admin);
    drop(running);
}

#[test]
fn a_poor_rating_opens_a_complaint_that_is_sealed_like_any_feedback() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut vault = unlock(d.path());
    let policy = Policy::builtin().unwrap().feedback;
    // A visit rated two stars for the wait, with a call back asked for (made by core's own
    // visit test, of the fake person 测试).
    let visit: Visit = serde_json::from_str(include_str!("data/rated-visit.json")).unwrap();
    let id = doorstep_vault::Vault::new_feedback_id(at(NOW));
    let follow_up = Feedback::from_poor_rating(id.clone(), &visit, &policy, at(NOW)).expect("a poor rating");
    let entry = vault.seal_feedback(&follow_up, NOW).unwrap();
    assert_eq!((entry.kind, entry.category.as_str()), (FeedbackKind::Complaint, POOR_RATING));
    assert_eq!(entry.visit.as_deref(), Some("visit-1"));
    assert_eq!(vault.feedback().unwrap(), vec![entry]);
    assert_eq!(vault.feedback_to_send().unwrap()[0].0, id);
}

/// A feedback file that cannot be read (an I/O error; a folder in its place stands in for it)
/// is named and passed over, and left as it is when the vault opens again: only one that does
/// not decrypt is kept aside.
#[test]
fn a_feedback_file_that_does_not_read_is_left_in_place() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut vault = unlock(d.path());
    let policy = Policy::builtin().unwrap().feedback;
    let kept = vault.seal_feedback_input(complaint(), &policy, at(NOW)).unwrap();
    let name = format!("{}.sealed", hex::encode("01900000-0000-7000-8000-000000000001"));
    let folder = d.path().join("feedback").join(&name);
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("x"), b"x").unwrap();
    assert_eq!(vault.feedback_unreadable().unwrap(), vec![name.clone()]);
    let to_send: Vec<String> = vault.feedback_to_send().unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(to_send, vec![kept.id.clone()], "the other is still sent");
    drop(vault);
    let vault = unlock(d.path());
    assert!(folder.is_dir(), "left where it was, not renamed");
    assert!(vault.recovery().damaged_files.is_empty());
    assert!(vault.set_aside().unwrap().is_empty());
    assert_eq!(vault.feedback_unreadable().unwrap(), vec![name]);
}

/// One damaged feedback file (a bad sector, a stray write) is named and left as it is; the
/// others are still listed and sent.
#[test]
fn a_damaged_feedback_file_is_named_and_does_not_stop_the_others() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut vault = unlock(d.path());
    let policy = Policy::builtin().unwrap().feedback;
    let first = vault.seal_feedback_input(complaint(), &policy, at(NOW)).unwrap();
    let second = vault.seal_feedback_input(complaint(), &policy, at(NOW + 1)).unwrap();
    assert_eq!(vault.feedback_to_send().unwrap().len(), 2);
    assert_eq!(vault.feedback_unreadable().unwrap(), Vec::<String>::new());

    let name = format!("{}.sealed", hex::encode(&first.id));
    let path = d.path().join("feedback").join(&name);
    let mut bytes = std::fs::read(&path).expect("the first feedback's file");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    assert_eq!(vault.feedback().unwrap(), vec![second.clone()], "the other is still listed");
    let to_send: Vec<String> = vault.feedback_to_send().unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(to_send, vec![second.id.clone()], "and still sent");
    assert_eq!(vault.feedback_unreadable().unwrap(), vec![name.clone()]);
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the damaged file is left as it was");
    // The hub's states for both: the other's is kept, the damaged one is passed over.
    let states = [(first.id.clone(), Escalation::Open), (second.id.clone(), Escalation::Open)];
    assert_eq!(vault.store_feedback_states(&states, NOW + 2).unwrap(), vec![second.id.clone()]);
    assert!(vault.feedback().unwrap()[0].received, "the other's state is kept");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "and the damaged file is still as it was");

    // Opened again: it is kept aside as a damaged application's file is, named by the
    // recovery, the audit log and the list of files kept aside, and the rest goes on.
    drop(vault);
    let vault = unlock(d.path());
    let aside = d.path().join("feedback").join(format!("{name}.damaged"));
    assert_eq!(vault.recovery().damaged_files, vec![aside.clone()]);
    assert_eq!(std::fs::read(&aside).unwrap(), bytes, "the damaged bytes are kept");
    assert!(!path.exists());
    let kept = vec![doorstep_vault::SetAside {
        kind: doorstep_vault::SetAsideKind::Feedback,
        name: format!("{name}.damaged"),
    }];
    assert_eq!(vault.set_aside().unwrap(), kept);
    assert_eq!(vault.status().unwrap().set_aside, kept);
    assert_eq!(vault.audit_summary().unwrap().by_action.get("set-aside"), Some(&1));
    assert_eq!(vault.feedback_unreadable().unwrap(), Vec::<String>::new(), "no longer among the feedback");
    assert_eq!(vault.feedback().unwrap().len(), 1);
    let problems = vault.verify().unwrap().problems;
    assert!(problems.iter().any(|p| p.contains("a feedback's file is damaged")), "{problems:?}");
    // Opened once more: set aside once, recorded once.
    drop(vault);
    let vault = unlock(d.path());
    assert!(vault.recovery().damaged_files.is_empty());
    assert_eq!(vault.set_aside().unwrap(), kept);
    assert_eq!(vault.audit_summary().unwrap().by_action.get("set-aside"), Some(&1));
}

/// What the officer is typing in the feedback box is kept sealed as it is typed: a lock or a
/// restart loses none of it, the folder holds none of its words, it is never listed or sent
/// as a feedback, the next keep replaces it, another officer neither sees it nor touches it,
/// and once dropped it is gone.
#[test]
fn the_words_in_hand_are_kept_sealed_until_dropped() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let vault = unlock(d.path());
    assert!(vault.feedback_in_hand().unwrap().is_none(), "nothing typed yet");
    vault.keep_feedback_in_hand(TEXT.as_bytes()).unwrap();
    vault.keep_feedback_in_hand(format!("{TEXT}，又补充一句").as_bytes()).unwrap();
    assert!(files_hold(d.path(), "窗口说材料不全".as_bytes()).is_empty(), "no words in the clear");
    assert!(vault.feedback().unwrap().is_empty(), "not a feedback");
    assert!(vault.feedback_to_send().unwrap().is_empty(), "never sent");
    assert!(vault.feedback_unreadable().unwrap().is_empty());
    drop(vault);

    // Locked and opened again (a restart): the last words kept, whole.
    let vault = unlock(d.path());
    let kept = vault.feedback_in_hand().unwrap().expect("kept across the lock");
    assert_eq!(kept.as_slice(), format!("{TEXT}，又补充一句").as_bytes());
    assert!(vault.set_aside().unwrap().is_empty());
    // Another officer has none of them, and keeps their own apart.
    let mut vault = vault;
    vault
        .add_user("officer-two", doorstep_vault::Role::Officer, "135791", doorstep_vault::KdfParams::INSECURE_TEST, NOW)
        .unwrap();
    drop(vault);
    let two = doorstep_vault::Vault::unlock(
        d.path(),
        "officer-two",
        "135791",
        NOW,
        doorstep_vault::VaultConfig { reserve_bytes: 0 },
    )
    .unwrap();
    assert!(two.feedback_in_hand().unwrap().is_none(), "not offered to another officer");
    two.keep_feedback_in_hand(b"two's").unwrap();
    two.drop_feedback_in_hand().unwrap();
    drop(two);
    let vault = unlock(d.path());
    assert!(vault.feedback_in_hand().unwrap().is_some(), "the first officer's are still there");
    vault.drop_feedback_in_hand().unwrap();
    assert!(vault.feedback_in_hand().unwrap().is_none());
    vault.drop_feedback_in_hand().unwrap();

    // Damaged on disk: said, not taken for words.
    vault.keep_feedback_in_hand(b"x").unwrap();
    let path = d.path().join("feedback").join(format!("in-hand-{}.draft", hex::encode(OFFICER)));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(vault.feedback_in_hand(), Err(VaultError::Corrupt(_))));
}

/// A feedback sealed under an id taken beforehand (the words in hand carry it) is sealed once:
/// sealed again under it (the words came back after a power cut between the seal and their
/// drop), nothing more is sealed, and the unit can tell it is sealed.
#[test]
fn a_feedback_sealed_again_under_its_id_is_sealed_once() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let mut vault = unlock(d.path());
    let policy = Policy::builtin().unwrap().feedback;
    let id = doorstep_vault::Vault::new_feedback_id(at(NOW));
    assert!(!vault.feedback_sealed(&id).unwrap());
    let first = vault.seal_feedback_input_as(&id, complaint(), &policy, at(NOW)).unwrap();
    assert!(vault.feedback_sealed(&id).unwrap());
    let again = vault.seal_feedback_input_as(&id, complaint(), &policy, at(NOW + 60)).unwrap();
    assert_eq!(first, again);
    assert_eq!(vault.feedback_to_send().unwrap().len(), 1, "sealed once");
}
