//! The vault end to end on real sled and real files in a temporary folder.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use doorstep_envelope::{SealedEnvelope, open, signing_key_from_seed};
use doorstep_vault::*;

#[test]
fn init_unlock_and_wrong_pins_until_the_keys_are_destroyed() {
    let d = tmp();
    init(d.path());
    assert!(matches!(
        Vault::init(
            d.path(),
            &InitOptions {
                device_id: "x",
                bureau: &bureau().public,
                user: "y",
                role: Role::Officer,
                pin: PIN,
                kdf: KdfParams::INSECURE_TEST,
                max_failures: 10,
                now_unix: NOW
            }
        ),
        Err(VaultError::AlreadyInitialised)
    ));
    drop(unlock(d.path()));
    assert!(matches!(
        Vault::unlock(d.path(), "nobody", PIN, NOW, VaultConfig::default()),
        Err(VaultError::UnknownUser(_))
    ));
    for left in (1..10).rev() {
        match Vault::unlock(d.path(), OFFICER, "000000", NOW, VaultConfig::default()) {
            Err(VaultError::WrongPin { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected a wrong PIN, got {:?}", other.err()),
        }
    }
    assert!(matches!(
        Vault::unlock(d.path(), OFFICER, "000000", NOW, VaultConfig::default()),
        Err(VaultError::Destroyed)
    ));
    // Even the right PIN is useless now, and nothing of the key is left in the file.
    assert!(matches!(Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default()), Err(VaultError::Destroyed)));
    let slots = fs::read_to_string(d.path().join("keyslots.json")).unwrap();
    assert!(!slots.contains("wrapped_data_key"), "{slots}");
}

#[test]
fn a_success_resets_the_counter_and_failures_reach_the_audit_log() {
    let d = tmp();
    init(d.path());
    for _ in 0..3 {
        let r = Vault::unlock(d.path(), OFFICER, "999999", NOW + 5, VaultConfig::default());
        assert!(matches!(r, Err(VaultError::WrongPin { .. })), "{:?}", r.err());
    }
    let v = unlock(d.path());
    let report = v.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    drop(v);
    // The counter restarted: nine more wrong PINs are allowed before destruction.
    match Vault::unlock(d.path(), OFFICER, "999999", NOW, VaultConfig::default()) {
        Err(VaultError::WrongPin { attempts_left }) => assert_eq!(attempts_left, 9),
        other => panic!("{:?}", other.err()),
    }
}

/// What cannot be a PIN (a script with no input, letters, too few or too many digits) is
/// refused as such, and costs no attempt: ten of them in a row erase nothing.
#[test]
fn what_cannot_be_a_pin_costs_no_attempt() {
    let d = tmp();
    init(d.path());
    let cases: [(&str, PinError); 5] = [
        ("", PinError::Length),
        ("\n", PinError::NotDigits),
        ("abcdef", PinError::NotDigits),
        ("12345", PinError::Length),
        ("1234567890123", PinError::Length),
    ];
    for _ in 0..3 {
        for (pin, want) in &cases {
            match Vault::unlock(d.path(), OFFICER, pin, NOW, VaultConfig::default()) {
                Err(VaultError::Pin(got)) => assert_eq!(&got, want, "{pin:?}"),
                other => panic!("{pin:?}: {:?}", other.err()),
            }
        }
    }
    // Not one was counted: the first wrong PIN leaves nine.
    match Vault::unlock(d.path(), OFFICER, "000000", NOW, VaultConfig::default()) {
        Err(VaultError::WrongPin { attempts_left }) => assert_eq!(attempts_left, 9),
        other => panic!("{:?}", other.err()),
    }
    drop(unlock(d.path()));
}

#[test]
fn weak_pins_are_refused() {
    let d = tmp();
    let b = bureau();
    for (pin, want) in
        [("12345", PinError::Length), ("abcdef", PinError::NotDigits), ("1234567890123", PinError::Length)]
    {
        let r = Vault::init(
            d.path(),
            &InitOptions {
                device_id: "t",
                bureau: &b.public,
                user: OFFICER,
                role: Role::Officer,
                pin,
                kdf: KdfParams::INSECURE_TEST,
                max_failures: 10,
                now_unix: NOW,
            },
        );
        assert!(matches!(r, Err(VaultError::Pin(e)) if e == want), "{pin}");
    }
}

#[test]
fn drafts_are_durable_and_resume_after_a_restart() {
    let d = tmp();
    init(d.path());
    let v = unlock(d.path());
    v.save_draft("visit-1", "applicant", b"step one").unwrap();
    v.save_draft("visit-1", "photo", &JPEG).unwrap();
    v.save_draft("visit-2", "applicant", b"other").unwrap();
    drop(v);
    let v = unlock(d.path());
    assert_eq!(v.draft_visits().unwrap(), ["visit-1", "visit-2"]);
    assert_eq!(v.load_draft("visit-1", "applicant").unwrap().unwrap().as_slice(), b"step one");
    assert_eq!(v.load_draft("visit-1", "photo").unwrap().unwrap().as_slice(), &JPEG);
    assert!(v.load_draft("visit-1", "fingers").unwrap().is_none());
    v.erase_draft("visit-1").unwrap();
    assert_eq!(v.draft_visits().unwrap(), ["visit-2"]);
}

#[test]
fn values_moved_between_keys_do_not_decrypt() {
    let d = tmp();
    init(d.path());
    let v = unlock(d.path());
    v.save_draft("visit-a", "form", b"alpha").unwrap();
    v.save_draft("visit-b", "form", b"bravo").unwrap();
    drop(v);
    // Swap the two drafts' files: each is bound to its visit and part.
    let drafts = d.path().join("drafts");
    let mut names: Vec<PathBuf> = fs::read_dir(&drafts).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let (a, b) = (fs::read(&names[0]).unwrap(), fs::read(&names[1]).unwrap());
    fs::write(&names[0], b).unwrap();
    fs::write(&names[1], a).unwrap();
    let v = unlock(d.path());
    assert_eq!(v.recovery().damaged_files.len(), 2, "both swapped files refuse to decrypt and are kept aside");
    assert!(v.load_draft("visit-a", "form").unwrap().is_none());
}

#[test]
fn seal_upload_receipt_erase() {
    let d = tmp();
    let b = init(d.path());
    let mut v = unlock(d.path());
    let r = record(1, 2000);
    v.save_draft("visit-1", "form", b"draft").unwrap();
    let e = v.seal("visit-1", &r, &review(&r), NOW + 10).unwrap();
    assert_eq!(e.state, OutboxState::Sealed);
    assert_eq!(e.device_counter, 1);
    assert!(v.draft_visits().unwrap().is_empty(), "the draft is erased once sealed");

    // The envelope verifies as this device's and only the bureau can open it.
    let bytes = v.envelope_bytes(&e.application_id).unwrap();
    let env = SealedEnvelope::from_bytes(&bytes).unwrap();
    env.verify(&v.device_public_key(), &[v.user_public_key()]).unwrap();
    assert_eq!(open(&env, &b.secret, Some(r.application_id)).unwrap(), r);

    assert!(matches!(v.erase(&e.application_id, NOW), Err(VaultError::Outbox(OutboxError::NoReceipt))));
    v.begin_upload(&e.application_id, NOW + 20).unwrap();
    assert!(matches!(v.erase(&e.application_id, NOW), Err(VaultError::Outbox(OutboxError::NoReceipt))));
    // A receipt for another digest is refused.
    let wrong = hub_receipt(&e.application_id, &"00".repeat(32));
    assert!(matches!(v.acknowledge(&e.application_id, &wrong, None, NOW), Err(VaultError::BadReceipt(_))));
    let receipt = hub_receipt(&e.application_id, &e.digest);
    let hub_key = signing_key_from_seed(&[9; 32]).verifying_key();
    let acked = v.acknowledge(&e.application_id, &receipt, Some(&hub_key), NOW + 30).unwrap();
    assert_eq!(acked.state, OutboxState::Acknowledged);
    let erased = v.erase(&e.application_id, NOW + 40).unwrap();
    assert_eq!(erased.state, OutboxState::Erased);
    assert!(v.envelope_bytes(&e.application_id).is_err());
    // Erasing again is harmless; the tombstone stays for the shift report.
    v.erase(&e.application_id, NOW + 50).unwrap();
    assert_eq!(v.outbox().unwrap().len(), 1);
    let report = v.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // Counters keep rising across restarts (a restart skips the rest of a reserved block).
    drop(v);
    let mut v = unlock(d.path());
    let r2 = record(2, 100);
    let second = v.seal("visit-2", &r2, &review(&r2), NOW + 60).unwrap().device_counter;
    assert!(second > e.device_counter, "{second} after {}", e.device_counter);
}

#[test]
fn an_interrupted_upload_is_resumed_as_sealed() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    let r = record(1, 100);
    let e = v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    v.begin_upload(&e.application_id, NOW).unwrap();
    drop(v);
    let v = unlock(d.path());
    assert_eq!(v.recovery().uploads_reset, 1);
    let again = &v.outbox().unwrap()[0];
    assert_eq!(again.state, OutboxState::Sealed);
    // It was sent before: the next upload asks the hub what it holds before sending.
    assert_eq!((e.attempts, again.attempts), (0, 1));
}

#[test]
fn users_pins_and_roles() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    let officer_key = v.user_public_key();
    // A user id is one word, as the hub enrols it (`add-officer KEY --id ID`).
    for bad in ["", "two words", "tab\tid"] {
        let refused = v.add_user(bad, Role::Officer, "654321", KdfParams::INSECURE_TEST, NOW);
        assert!(matches!(refused, Err(VaultError::NotAllowed(_))), "{bad:?}: {refused:?}");
    }
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    v.change_pin("112233", KdfParams::INSECURE_TEST, NOW).unwrap();
    drop(v);
    assert!(matches!(
        Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default()),
        Err(VaultError::WrongPin { .. })
    ));
    let v = Vault::unlock(d.path(), OFFICER, "112233", NOW, VaultConfig::default()).unwrap();
    assert_eq!(v.user_public_key(), officer_key, "a new PIN keeps the officer's signing key");
    drop(v);
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig::default()).unwrap();
    assert_eq!(s.user().1, Role::Supervisor);
    let r = record(1, 10);
    assert!(matches!(s.seal("v", &r, &review(&r), NOW), Err(VaultError::NotAllowed(_))));
    s.remove_user(OFFICER, NOW).unwrap();
    assert!(matches!(s.remove_user("supervisor-test", NOW), Err(VaultError::NotAllowed(_))));
    drop(s);
    assert!(matches!(
        Vault::unlock(d.path(), OFFICER, "112233", NOW, VaultConfig::default()),
        Err(VaultError::UnknownUser(_))
    ));
}

#[test]
fn the_supervisor_review_summary_is_erased_when_the_batch_is_decided() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    let r = record(1, 10);
    let e = v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    assert!(v.batch_decided(std::slice::from_ref(&e.application_id), NOW).is_err(), "officers do not decide");
    drop(v);
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig::default()).unwrap();
    assert_eq!(s.review(&e.application_id).unwrap().unwrap().application_numbers, ["TEST-0001"]);
    s.batch_decided(std::slice::from_ref(&e.application_id), NOW).unwrap();
    assert!(s.review(&e.application_id).unwrap().is_none());
}

#[test]
fn capture_is_refused_below_the_reserve() {
    let d = tmp();
    init(d.path());
    let v = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig { reserve_bytes: u64::MAX }).unwrap();
    let err = v.check_capture_space().unwrap_err();
    // In MiB, as the configuration's reserve_mb counts it.
    assert!(matches!(err, VaultError::LowSpace { reserve, .. } if reserve == u64::MAX >> 20), "{err:?}");
    drop(v);
    unlock(d.path()).check_capture_space().unwrap();
}

/// Every sealed application of `seal_some` is there, and so is its acknowledged draft.
fn assert_all_sealed_present(dir: &Path, ids: &[String]) -> Vault {
    let v = unlock(dir);
    assert_eq!(v.load_draft("visit-open", "form").unwrap().as_deref().map(Vec::as_slice), Some(&b"in progress"[..]));
    let outbox: Vec<String> = v.outbox().unwrap().into_iter().map(|e| e.application_id).collect();
    for id in ids {
        assert!(outbox.contains(id), "{id} lost");
        let env = SealedEnvelope::from_bytes(&v.envelope_bytes(id).unwrap()).unwrap();
        env.verify_self_signed().unwrap();
    }
    let report = v.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    v
}

#[test]
fn a_deleted_index_is_rebuilt_from_the_envelope_files() {
    let d = tmp();
    init(d.path());
    let ids = seal_some(d.path(), 5);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let v = assert_all_sealed_present(d.path(), &ids);
    assert_eq!(v.recovery().reindexed, 5);
    // The counter continues above every sealed envelope.
    drop(v);
    let mut v = unlock(d.path());
    let r = record(99, 10);
    assert!(v.seal("visit-99", &r, &review(&r), NOW).unwrap().device_counter > 5);
}

fn sled_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = all_files(&dir.join("index"));
    out.sort();
    out
}

#[test]
fn flipped_bytes_in_sled_files_lose_no_sealed_application() {
    let mut quarantined = 0;
    for seed in 0..6u64 {
        let d = tmp();
        init(d.path());
        let ids = seal_some(d.path(), 4);
        let files = sled_files(d.path());
        assert!(!files.is_empty());
        for (i, f) in files.iter().enumerate() {
            let mut bytes = fs::read(f).unwrap();
            if bytes.is_empty() {
                continue;
            }
            for k in 0..8u64 {
                let pos = ((seed * 7919 + k * 104_729 + i as u64 * 31) as usize) % bytes.len();
                bytes[pos] ^= 0xA5;
            }
            fs::write(f, bytes).unwrap();
        }
        let v = assert_all_sealed_present(d.path(), &ids);
        let r = v.recovery();
        assert!(r.quarantined.is_some() || r.dropped_values > 0, "seed {seed}: the damage went unnoticed: {r:?}");
        // An index kept aside is recorded, and listed until handed over.
        if let Some(q) = &r.quarantined {
            quarantined += 1;
            let name = q.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(v.audit_summary().unwrap().by_action.get("set-aside"), Some(&1), "seed {seed}");
            let listed = v.set_aside().unwrap();
            assert_eq!(listed, vec![SetAside { kind: SetAsideKind::Index, name }], "seed {seed}");
        }
    }
    assert!(quarantined > 0, "no seed had the index kept aside");
}

#[test]
fn deleted_snapshots_truncated_segments_and_leftovers_lose_nothing_sealed() {
    let d = tmp();
    init(d.path());
    let ids = seal_some(d.path(), 4);
    for f in sled_files(d.path()) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("snap.") {
            fs::remove_file(&f).unwrap();
        } else if name == "db" || name.starts_with("blob") {
            let len = fs::metadata(&f).unwrap().len();
            fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(len / 2).unwrap();
        }
    }
    fs::write(d.path().join("index").join("snap.0000000000000000.generating"), b"partial").unwrap();
    fs::write(d.path().join("envelopes").join(".something.env.tmp"), b"half written").unwrap();
    assert_all_sealed_present(d.path(), &ids);
    assert!(!d.path().join("envelopes").join(".something.env.tmp").exists());
}

#[test]
fn a_torn_audit_tail_is_cut_and_a_tampered_entry_is_reported() {
    let d = tmp();
    init(d.path());
    drop(unlock(d.path()));
    let log = d.path().join("audit.log");
    let mut bytes = fs::read(&log).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    fs::write(&log, &bytes).unwrap();
    let v = unlock(d.path());
    assert_eq!(v.recovery().audit_torn_tail, 7);
    assert!(v.verify().unwrap().problems.is_empty());
    drop(v);
    let good = fs::read(&log).unwrap();
    let mut bytes = good.clone();
    bytes[10] ^= 1;
    fs::write(&log, &bytes).unwrap();
    // A damaged record in the middle is not a torn tail: the log is kept aside as evidence,
    // a new chain starts, and verify says so.
    let v = unlock(d.path());
    let kept = v.recovery().audit_damaged.clone().expect("the damaged log is kept");
    assert_eq!(fs::read(&kept).unwrap(), bytes);
    let problems = v.verify().unwrap().problems;
    assert!(problems.iter().any(|p| p.contains("audit log was damaged")), "{problems:?}");
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in fs::read_dir(&p).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn canary_data_never_reaches_the_disk_in_clear() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    for i in 0..3u64 {
        let visit = format!("visit-{i}");
        v.save_draft(&visit, "applicant", &canary_draft()).unwrap();
        v.save_draft(&visit, "photo", &JPEG).unwrap();
        let r = record(i + 1, 5000);
        let e = v.seal(&visit, &r, &review(&r), NOW).unwrap();
        if i == 0 {
            v.begin_upload(&e.application_id, NOW).unwrap();
            v.acknowledge(&e.application_id, &hub_receipt(&e.application_id, &e.digest), None, NOW).unwrap();
            v.erase(&e.application_id, NOW).unwrap();
        }
    }
    v.save_draft("visit-open", "applicant", &canary_draft()).unwrap();
    drop(v);
    drop(unlock(d.path()));

    let utf16le: Vec<u8> = CANARY_NAME.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = CANARY_NAME.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let needles: [(&str, &[u8]); 4] = [
        ("name (UTF-8)", CANARY_NAME.as_bytes()),
        ("name (UTF-16LE)", &utf16le),
        ("name (UTF-16BE)", &utf16be),
        ("ID number", CANARY_ID.as_bytes()),
    ];
    let files = all_files(d.path());
    assert!(files.len() > 5);
    for f in files {
        let bytes = fs::read(&f).unwrap();
        for (what, needle) in needles {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{what} in clear in {}", f.display());
        }
        // A JPEG starts FF D8 FF and then a marker (E0–EF application data, DB tables, EE):
        // three bytes alone turn up by chance in a megabyte of ciphertext, four do not.
        let jpeg = bytes.windows(4).any(|w| w[..3] == [0xFF, 0xD8, 0xFF] && (w[3] & 0xF0 == 0xE0 || w[3] == 0xDB));
        assert!(!jpeg, "a JPEG header in clear in {}", f.display());
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for f in all_files(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&f, dest).unwrap();
    }
}

/// A vault holding one draft (visit-a), copied as it was just before that visit was sealed,
/// and the sealed file's bytes from the original: the two ends of a seal, to stop between.
fn before_and_after_a_seal() -> (tempfile::TempDir, tempfile::TempDir, String, Vec<u8>) {
    let original = tmp();
    init(original.path());
    let v = unlock(original.path());
    v.save_draft("visit-a", "form", b"the whole visit").unwrap();
    drop(v);
    let before = tmp();
    copy_dir(original.path(), before.path());
    let mut v = unlock(original.path());
    let r = record(7, 30_000);
    let entry = v.seal("visit-a", &r, &review(&r), NOW).unwrap();
    let bytes = fs::read(original.path().join("envelopes").join(&entry.file)).unwrap();
    (original, before, entry.application_id, bytes)
}

/// Puts `bytes` into one of the empty slots of `dir`, as a seal writing there would.
fn write_into_a_slot(dir: &Path, bytes: &[u8]) {
    let slot = all_files(&dir.join("envelopes"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "slot") && fs::metadata(p).unwrap().len() == 0)
        .expect("an empty slot");
    fs::write(slot, bytes).unwrap();
}

#[test]
fn a_seal_cut_short_while_writing_leaves_the_draft_and_a_clean_vault() {
    let (_original, before, id, bytes) = before_and_after_a_seal();
    for cut in [bytes.len() / 3, 20, bytes.len() - 1] {
        let stop = tmp();
        copy_dir(before.path(), stop.path());
        write_into_a_slot(stop.path(), &bytes[..cut]);
        let v = unlock(stop.path());
        assert_eq!(v.recovery().interrupted_seals, 1, "cut at {cut}");
        assert!(v.recovery().damaged_files.is_empty(), "cut at {cut}: {:?}", v.recovery().damaged_files);
        assert!(v.outbox().unwrap().iter().all(|e| e.application_id != id), "cut at {cut}: a torn seal indexed");
        assert_eq!(v.load_draft("visit-a", "form").unwrap().unwrap().as_slice(), b"the whole visit");
        let problems = v.verify().unwrap().problems;
        assert!(problems.is_empty(), "cut at {cut}: {problems:?}");
        // The officer seals again and it goes through.
        drop(v);
        let mut v = unlock(stop.path());
        let r = record(7, 30_000);
        v.seal("visit-a", &r, &review(&r), NOW).unwrap();
        assert!(v.verify().unwrap().problems.is_empty());
    }
}

#[test]
fn a_whole_seal_whose_rename_was_lost_is_sealed_after_the_restart() {
    let (_original, before, id, bytes) = before_and_after_a_seal();
    write_into_a_slot(before.path(), &bytes);
    let v = unlock(before.path());
    assert_eq!(v.recovery().reindexed, 1);
    assert!(v.outbox().unwrap().iter().any(|e| e.application_id == id && e.file.ends_with(".env")));
    assert_eq!(v.recovery().stale_drafts, 1, "the sealed visit's draft is erased");
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn a_torn_slot_whose_draft_is_gone_is_kept_aside_and_reported() {
    let (_original, before, _id, bytes) = before_and_after_a_seal();
    unlock(before.path()).erase_draft("visit-a").unwrap();
    write_into_a_slot(before.path(), &bytes[..bytes.len() / 2]);
    let v = unlock(before.path());
    assert_eq!(v.recovery().interrupted_seals, 0);
    assert_eq!(v.recovery().damaged_files.len(), 1);
    assert_eq!(fs::read(&v.recovery().damaged_files[0]).unwrap(), &bytes[..bytes.len() / 2], "the bytes are kept");
    let problems = v.verify().unwrap().problems;
    assert!(problems.iter().any(|p| p.contains("damaged")), "{problems:?}");
}

#[test]
fn an_application_too_large_to_send_is_not_sealed_and_its_draft_stays() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.save_draft("visit-big", "form", b"kept").unwrap();
    let r = record(1, doorstep_envelope::MAX_ENVELOPE + 1);
    let err = v.seal("visit-big", &r, &review(&r), NOW).unwrap_err();
    assert!(matches!(err, VaultError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("smaller"));
    assert_eq!(v.load_draft("visit-big", "form").unwrap().unwrap().as_slice(), b"kept");
    assert!(v.outbox().unwrap().is_empty());
    // The counter it took is a gap, which the hub accepts (it refuses only reuse).
    let small = record(2, 1000);
    v.seal("visit-big", &small, &review(&small), NOW).unwrap();
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn a_secret_is_kept_sealed_and_comes_back_only_unlocked() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    let key = b"-----BEGIN PRIVATE KEY-----\nTEST-ONLY\n-----END PRIVATE KEY-----\n";
    assert!(v.secret("hub-tls-key").unwrap().is_none());
    v.store_secret("hub-tls-key", key, NOW).unwrap();
    let on_disk = std::fs::read(d.path().join("secret-hub-tls-key.sealed")).unwrap();
    assert!(!on_disk.windows(11).any(|w| w == b"PRIVATE KEY"), "sealed, not in clear");
    assert!(matches!(v.store_secret("../escape", key, NOW), Err(VaultError::NotAllowed(_))));
    drop(v);
    let v = unlock(d.path());
    assert_eq!(v.secret("hub-tls-key").unwrap().as_deref().map(|s| s.as_slice()), Some(&key[..]));
    // A flipped byte is damage, said so, not a wrong key handed to TLS.
    let mut bad = on_disk.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(d.path().join("secret-hub-tls-key.sealed"), bad).unwrap();
    assert!(matches!(v.secret("hub-tls-key"), Err(VaultError::Corrupt(_))));
}
