//! Files that no longer decrypt or parse: kept aside, never deleted or sent, named until a
//! supervisor hands them over for the bureau.

mod common;

use std::fs;

use common::*;
use doorstep_vault::*;

#[test]
fn a_damaged_envelope_file_is_kept_aside_and_reported_not_fatal() {
    let d = tmp();
    init(d.path());
    let ids = seal_some(d.path(), 2);
    let file = unlock(d.path()).outbox().unwrap().into_iter().find(|e| e.application_id == ids[0]).unwrap().file;
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let victim = d.path().join("envelopes").join(file);
    let mut bytes = fs::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xFF;
    fs::write(&victim, &bytes).unwrap();
    let v = unlock(d.path());
    assert_eq!(v.recovery().damaged_files.len(), 1);
    assert_eq!(fs::read(&v.recovery().damaged_files[0]).unwrap(), bytes, "the damaged bytes are kept");
    let outbox: Vec<String> = v.outbox().unwrap().into_iter().map(|e| e.application_id).collect();
    assert!(outbox.contains(&ids[1]));
    let problems = v.verify().unwrap().problems;
    assert!(problems.iter().any(|p| p.contains("damaged")), "{problems:?}");
    let aside = v.recovery().damaged_files[0].file_name().unwrap().to_string_lossy().into_owned();
    let kind = doorstep_vault::SetAsideKind::Application;
    assert_eq!(v.set_aside().unwrap(), vec![doorstep_vault::SetAside { kind, name: aside }]);
    assert_eq!(v.audit_summary().unwrap().by_action.get("set-aside"), Some(&1));
}

/// The files kept aside go to the bureau by a supervisor's hand: copied out whole into a new
/// folder of their own, recorded, removed; the damaged sealed application is written off, so
/// nothing waits for it any more. Nothing already in the folder named is changed.
#[test]
fn a_supervisor_hands_over_the_files_kept_aside() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    init(d.path());
    let ids = seal_some(d.path(), 3);
    let entry = |id: &str| unlock(d.path()).outbox().unwrap().into_iter().find(|e| e.application_id == id).unwrap();
    let (file, good) = (entry(&ids[0]).file, entry(&ids[1]).file);
    let victim = d.path().join("envelopes").join(&file);
    let bytes = fs::read(&victim).unwrap();
    fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let mut v = unlock(d.path());
    assert_eq!(v.set_aside().unwrap().len(), 1);
    let out = tmp();
    let to = out.path().join("for-the-bureau");
    fs::create_dir(&to).unwrap();
    fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(to.join("already-there"), b"someone else's").unwrap();

    // An officer may not; nor into the vault's own folder, nor a folder that is not there (a
    // medium not mounted); a refusal makes nothing.
    let refused = v.hand_over_set_aside(&to, NOW + 10);
    assert!(matches!(refused, Err(VaultError::NotAllowed(_))), "{refused:?}");
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    drop(v);
    let config = VaultConfig { reserve_bytes: 0 };
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW + 20, config).unwrap();
    let inside = d.path().join("envelopes").join("for-bureau");
    let refused = s.hand_over_set_aside(&inside, NOW + 20);
    assert!(matches!(refused, Err(VaultError::NotAllowed(_))), "{refused:?}");
    assert!(!inside.exists(), "nothing made inside the vault");
    let absent = out.path().join("usb-not-mounted");
    let refused = s.hand_over_set_aside(&absent, NOW + 20);
    assert!(matches!(refused, Err(VaultError::NotAllowed(_))), "{refused:?}");
    assert!(matches!(s.hand_over_plan(&absent), Err(VaultError::NotAllowed(_))), "a plan is refused alike");
    assert!(!absent.exists());
    assert_eq!(s.set_aside().unwrap().len(), 1, "nothing moved by a refusal");

    // A good application's file name with `.damaged` after it, planted: not written off.
    fs::write(d.path().join("envelopes").join(format!("{good}.damaged")), b"planted").unwrap();
    // An index kept aside is a folder: it goes whole.
    let index = d.path().join("index.damaged-7");
    fs::create_dir_all(index.join("blobs")).unwrap();
    fs::write(index.join("blobs").join("b1"), b"old index").unwrap();
    let name = format!("{file}.damaged");
    let app = |name: String, off: Option<&String>| HandedOver {
        file: SetAside { kind: SetAsideKind::Application, name },
        written_off: off.cloned(),
        sent_before: false,
    };
    let old_index = HandedOver {
        file: SetAside { kind: SetAsideKind::Index, name: "index.damaged-7".into() },
        written_off: None,
        sent_before: false,
    };
    let mut want = vec![app(name.clone(), Some(&ids[0])), app(format!("{good}.damaged"), None), old_index];
    want.sort_by(|a, b| a.file.cmp(&b.file));
    // The plan says the same, and changes nothing.
    assert_eq!(s.hand_over_plan(&to).unwrap(), want);
    assert_eq!(s.set_aside().unwrap().len(), 3);
    let (folder, handed) = s.hand_over_set_aside(&to, NOW + 30).unwrap();
    let folder = folder.expect("a folder of its own");
    assert_eq!(folder, to.join(format!("{}-{}", s.device_id(), NOW + 30)));
    assert_eq!(handed, want);
    assert_eq!(fs::read(folder.join("index.damaged-7").join("blobs").join("b1")).unwrap(), b"old index");
    assert!(!index.exists());
    assert_eq!(fs::read(folder.join(&name)).unwrap(), &bytes[..bytes.len() / 2], "copied whole");
    assert!(!d.path().join("envelopes").join(&name).exists(), "and gone from the vault");
    assert_eq!(s.set_aside().unwrap(), vec![]);
    assert_eq!(fs::read(to.join("already-there")).unwrap(), b"someone else's", "left alone");
    assert_eq!(fs::metadata(&to).unwrap().permissions().mode() & 0o777, 0o755, "its mode left alone");
    let outbox: Vec<String> = s.outbox().unwrap().into_iter().map(|e| e.application_id).collect();
    assert_eq!(outbox, vec![ids[1].clone(), ids[2].clone()], "the damaged one written off, the good ones kept");
    let actions = s.audit_summary().unwrap().by_action;
    assert_eq!((actions.get("handed-over"), actions.get("written-off")), (Some(&3), Some(&1)));
    assert!(s.verify().unwrap().problems.is_empty(), "{:?}", s.verify().unwrap().problems);

    // Again, with another file kept aside of the same name as one handed over before: a new
    // folder, the first copy untouched.
    let again = d.path().join("index.damaged-7");
    fs::create_dir(&again).unwrap();
    fs::write(again.join("db"), b"another index").unwrap();
    let (second, _) = s.hand_over_set_aside(&to, NOW + 40).unwrap();
    let second = second.expect("a folder of its own");
    assert_ne!(second, folder);
    assert_eq!(fs::read(folder.join("index.damaged-7").join("blobs").join("b1")).unwrap(), b"old index");
    assert_eq!(fs::read(second.join("index.damaged-7").join("db")).unwrap(), b"another index");
    // Nothing left: no folder made.
    assert_eq!(s.hand_over_set_aside(&to, NOW + 50).unwrap(), (None, vec![]));
}

/// A file that cannot be read at all (an I/O error; a folder in its place stands in for a
/// failing card here, as root reads through permissions) does not stop the vault opening: it is
/// left as it is, named, and not kept aside; the others are there.
#[test]
fn a_file_that_does_not_read_does_not_stop_the_vault_opening() {
    let d = tmp();
    init(d.path());
    let ids = seal_some(d.path(), 1);
    let envelope = d.path().join("envelopes").join("s-00000000000000ff.env");
    let slot = d.path().join("envelopes").join("s-00000000000000fe.slot");
    let draft = d.path().join("drafts").join(format!("{}.{}.draft", hex::encode("visit-9"), hex::encode("visit")));
    for folder in [&envelope, &slot, &draft] {
        fs::create_dir(folder).unwrap();
        fs::write(folder.join("x"), b"x").unwrap();
    }
    let v = unlock(d.path());
    let mut named = v.recovery().unreadable_files.clone();
    named.sort();
    let mut want = vec![envelope.clone(), slot.clone(), draft.clone()];
    want.sort();
    assert_eq!(named, want);
    assert!(v.recovery().damaged_files.is_empty(), "not judged damaged");
    assert!(envelope.is_dir() && slot.is_dir() && draft.is_dir(), "left as they are");
    let outbox: Vec<String> = v.outbox().unwrap().into_iter().map(|e| e.application_id).collect();
    assert_eq!(outbox, ids);
    assert!(v.set_aside().unwrap().is_empty());
}

/// What a sealed application's file does since the unlock decides how its reading fails: a
/// storage fault (a folder in its place stands in for a failing card, as above) is told apart
/// from a file missing or bytes gone bad, for the officer's and the supervisor's words.
#[test]
fn a_file_the_storage_does_not_read_is_a_fault_not_damage() {
    type Spoil = fn(&std::path::Path);
    // (what, how, a storage fault, what `vault verify` says of it)
    let cases: [(&str, Spoil, bool, &str); 4] = [
        (
            "a folder in its place",
            |p| {
                fs::remove_file(p).unwrap();
                fs::create_dir(p).unwrap();
            },
            true,
            "the storage did not read its envelope file",
        ),
        (
            "cut in half",
            |p| {
                let b = fs::read(p).unwrap();
                fs::write(p, &b[..b.len() / 2]).unwrap();
            },
            false,
            "truncated",
        ),
        (
            "a byte of its sealed summary flipped",
            |p| {
                let mut b = fs::read(p).unwrap();
                b[40] ^= 0xFF;
                fs::write(p, &b).unwrap();
            },
            false,
            "damaged data",
        ),
        ("gone", |p| fs::remove_file(p).unwrap(), false, "the envelope file is missing"),
    ];
    for (what, spoil, fault, said) in cases {
        let d = tmp();
        init(d.path());
        let ids = seal_some(d.path(), 1);
        let v = unlock(d.path());
        let file = v.outbox().unwrap().remove(0).file;
        spoil(&d.path().join("envelopes").join(file));
        let sent = v.envelope_bytes(&ids[0]).map(|b| b.len()).expect_err(what);
        assert_eq!(sent.is_storage_fault(), fault, "{what}: sending: {sent}");
        let review = v.review(&ids[0]);
        // A file gone leaves no summary (nothing to read), not an error; the others fail.
        match review {
            Err(e) => assert_eq!(e.is_storage_fault(), fault, "{what}: the summary: {e}"),
            Ok(r) => assert!(what == "gone" && r.is_none(), "{what}: the summary read: {}", r.is_some()),
        }
        let problems = v.verify().unwrap().problems;
        let named = |p: &String| p.starts_with(&ids[0]) && p.contains(said);
        assert!(problems.iter().any(named), "{what}: {problems:?}");
    }
}

/// An application the hub took whose file goes bad before it is erased: the hub has it, so it
/// is not written off, but its review summary went with the file. It stays on the
/// supervisor's list (as one whose summary was lost) until decided, unless it was decided
/// already; a file that merely cannot be read now is not erased at all.
#[test]
fn an_application_at_the_hub_whose_file_went_bad_still_waits_for_a_decision() {
    let d = tmp();
    let (v, sealed) = at_the_hub(d.path(), 4);
    let file = |e: &OutboxEntry| d.path().join("envelopes").join(&e.file);
    let cut = |e: &OutboxEntry| {
        let bytes = fs::read(file(e)).unwrap();
        fs::write(file(e), &bytes[..bytes.len() / 2]).unwrap();
    };
    let [gone_bad, kept_aside, decided, unreadable] = [0, 1, 2, 3].map(|i| sealed[i].application_id.clone());
    drop(v);
    cut(&sealed[1]);
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    assert_eq!(s.recovery().damaged_files.len(), 1);
    // Kept aside at the unlock, before the erase could keep its summary.
    assert!(matches!(s.review(&kept_aside), Err(VaultError::Corrupt(_))));
    // Its hand-over would not write it off: the hub has it, and it waits for a decision.
    let plan = s.hand_over_plan(&std::env::temp_dir()).unwrap();
    assert_eq!(
        plan.iter().map(|h| (h.file.kind, h.written_off.as_deref())).collect::<Vec<_>>(),
        [(SetAsideKind::Application, None)]
    );
    s.batch_decided(std::slice::from_ref(&decided), NOW).unwrap();
    cut(&sealed[0]);
    cut(&sealed[2]);
    for id in [&gone_bad, &kept_aside, &decided] {
        assert_eq!(s.erase(id, NOW).unwrap().state, OutboxState::Erased, "{id}");
    }
    assert!(matches!(s.review(&gone_bad), Err(VaultError::Corrupt(_))), "gone bad since the unlock");
    assert!(matches!(s.review(&kept_aside), Err(VaultError::Corrupt(_))));
    assert!(s.review(&decided).unwrap().is_none(), "decided before its file went bad: nothing waits");
    // A read error is not damage: nothing is erased, and the summary is still there to read.
    fs::remove_file(file(&sealed[3])).unwrap();
    fs::create_dir(file(&sealed[3])).unwrap();
    assert!(matches!(s.erase(&unreadable, NOW), Err(VaultError::Io(_))));
    assert!(file(&sealed[3]).is_dir(), "left in place for the next try");
    let state = |s: &Vault, id: &str| s.outbox().unwrap().into_iter().find(|e| e.application_id == id).unwrap().state;
    assert_eq!(state(&s, &unreadable), OutboxState::Acknowledged);
    // Once decided, neither waits any longer, after a restart too.
    s.batch_decided(&[gone_bad.clone(), kept_aside.clone()], NOW).unwrap();
    drop(s);
    let s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    for id in [&gone_bad, &kept_aside, &decided] {
        assert!(s.review(id).unwrap().is_none(), "{id}");
    }
    let lost = s.audit_summary().unwrap().by_action.get("summary-lost").copied();
    assert_eq!(lost, Some(2));
}

/// The supervisor's decision is kept in the review index: a file that cannot be read when the
/// batch is decided (nor any copy of the summary still in it) never brings its application
/// back undecided; and an erase done again keeps the summary the first one kept.
#[test]
fn a_decision_holds_whatever_the_file_does_and_an_erase_repeats_harmlessly() {
    let d = tmp();
    let (mut v, sealed) = at_the_hub(d.path(), 2);
    let (a, b) = (sealed[0].application_id.clone(), sealed[1].application_id.clone());
    // Erased, then erased again (as after a stop before the first one's state was kept).
    v.erase(&a, NOW).unwrap();
    v.erase(&a, NOW).unwrap();
    assert_eq!(v.review(&a).unwrap().unwrap().application_numbers, ["TEST-0001"], "the summary kept stays");
    assert_eq!(v.audit_summary().unwrap().by_action.get("summary-lost"), None);
    drop(v);

    // B's file cannot be read when the supervisor decides (a folder in its place).
    let file = d.path().join("envelopes").join(&sealed[1].file);
    let bytes = fs::read(&file).unwrap();
    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    assert!(matches!(s.review(&b), Err(VaultError::Io(_))));
    s.batch_decided(&[a.clone(), b.clone()], NOW).expect("decided though one file does not read");
    assert_eq!(s.audit_summary().unwrap().by_action.get("batch-decided"), Some(&2));
    // It reads again, its summary still in it: decided all the same, and so after its erase.
    fs::remove_dir(&file).unwrap();
    fs::write(&file, &bytes).unwrap();
    for id in [&a, &b] {
        assert!(s.review(id).unwrap().is_none(), "{id}");
    }
    // Nor when the index is lost and rebuilt: the audit log's decisions are marked again.
    drop(s);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    assert_eq!(s.recovery().reindexed, 2, "b, whose file is still here, and a from the hub's receipt");
    assert_eq!(s.outbox().unwrap().iter().find(|e| e.application_id == a).map(|e| e.state), Some(OutboxState::Erased));
    assert!(s.review(&a).unwrap().is_none(), "a stays decided");
    assert!(s.review(&b).unwrap().is_none(), "its file still holds its summary, and it is decided");
    s.erase(&b, NOW).unwrap();
    assert!(s.review(&b).unwrap().is_none());
}

/// An application whose upload a stop cut short, then damaged: written off at its hand-over,
/// which says it was sent before (the hub may hold it, for the bureau to find by its id).
#[test]
fn a_hand_over_says_when_an_application_written_off_was_sent_before() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    let r = record(1, 500);
    let e = v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    v.begin_upload(&e.application_id, NOW).unwrap();
    drop(v);
    let file = d.path().join("envelopes").join(&e.file);
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    let plan = s.hand_over_plan(&std::env::temp_dir()).unwrap();
    assert_eq!(
        plan.iter().map(|h| (h.written_off.as_deref(), h.sent_before)).collect::<Vec<_>>(),
        [(Some(e.application_id.as_str()), true)]
    );
}

/// A vault in `dir` with a supervisor (supervisor-test, 654321) and `n` applications sealed by
/// its officer, each taken by the hub (its receipt kept) and not yet erased; the officer's
/// vault, still open, and their entries.
fn at_the_hub(dir: &std::path::Path, n: u64) -> (Vault, Vec<OutboxEntry>) {
    init(dir);
    let mut v = unlock(dir);
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    let mut sealed = Vec::new();
    for i in 0..n {
        let r = record(i + 1, 500);
        let e = v.seal(&format!("visit-{i}"), &r, &review(&r), NOW).unwrap();
        v.acknowledge(&e.application_id, &hub_receipt(&e.application_id, &e.digest), None, NOW).unwrap();
        sealed.push(e);
    }
    (v, sealed)
}
