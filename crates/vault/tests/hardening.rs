//! The vault under attack and accident (SECURITY.md R4, R26; issue "nothing lost, nothing
//! forged"): another process holding it, anchors edited without the PIN, loose file modes,
//! counters after the index and the files are gone.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use doorstep_vault::*;

/// `flock -x -o PATH sleep 30` in another process, once it holds the lock.
fn hold_lock_elsewhere(path: &Path) -> Child {
    // -o: the lock stays with flock(1) itself, so killing it lets go of the lock.
    let mut child =
        Command::new("flock").args(["-x", "-o"]).arg(path).args(["sleep", "30"]).spawn().expect("run flock");
    // flock(1) takes the lock before it runs sleep: wait until sleep is its child.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let children = fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id())).unwrap_or_default();
        if !children.trim().is_empty() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("flock did not take the lock");
}

/// R4: an index whose sled lock another process holds is busy, never damage.
#[test]
fn an_index_held_by_another_process_is_busy_not_damaged() {
    let d = tmp();
    init(d.path());
    drop(unlock(d.path()));
    let mut holder = hold_lock_elsewhere(&d.path().join("index").join("db"));
    let start = Instant::now();
    let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig { reserve_bytes: 0 });
    let waited = start.elapsed();
    holder.kill().ok();
    holder.wait().ok();
    assert!(matches!(r, Err(VaultError::Busy { pid: None })), "{:?}", r.err());
    assert!(waited >= Duration::from_secs(2), "it waited briefly first: {waited:?}");
    let quarantined: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("index.damaged"))
        .collect();
    assert!(quarantined.is_empty(), "the live index was not quarantined");
    // Once the holder is gone the vault opens as before.
    let v = unlock(d.path());
    assert_eq!(v.recovery().quarantined, None);
}

/// The unit and the command line: the second writer is told which process holds the vault.
#[test]
fn a_second_writer_is_told_who_holds_the_vault() {
    let d = tmp();
    init(d.path());
    let first = unlock(d.path());
    let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig { reserve_bytes: 0 });
    assert!(matches!(r, Err(VaultError::Busy { pid: Some(p) }) if p == std::process::id()), "{:?}", r.err());
    drop(first);
    drop(unlock(d.path()));
}

fn edit_keyslots(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("keyslots.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// R26: each anchor edited without the PIN is refused, by name.
#[test]
fn anchors_edited_without_the_pin_are_refused_by_name() {
    let other_bureau = hex::encode(
        doorstep_envelope::BureauKeyPair::generate(&mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2))
            .public
            .to_bytes(),
    );
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, Anchor)> = vec![
        (Box::new(move |v| v["bureau_public_key"] = other_bureau.clone().into()), Anchor::BureauKey),
        (Box::new(|v| v["device_id"] = "tablet-other".into()), Anchor::DeviceId),
        (Box::new(|v| v["max_failures"] = 1_000_000.into()), Anchor::FailurePolicy),
        (Box::new(|v| v["device_public_key"] = "00".repeat(32).into()), Anchor::DeviceKey),
    ];
    for (edit, anchor) in cases {
        let d = tmp();
        init(d.path());
        edit_keyslots(d.path(), edit);
        match Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default()) {
            Err(VaultError::AnchorChanged(a)) => assert_eq!(a, anchor),
            other => panic!("{anchor}: expected a refusal, got {:?}", other.err()),
        }
    }
}

/// R26: the sealed copy itself removed, replaced by another vault's, or the file's version set
/// to one from before anchors: each is tampering, refused, and there is no way to re-bind the
/// anchors "as they are now" (an attacker's bureau key would be taken as the truth).
#[test]
fn a_removed_or_foreign_sealed_copy_or_an_old_version_is_refused() {
    let d = tmp();
    init(d.path());
    let other = tmp();
    init(other.path());
    let foreign: serde_json::Value =
        serde_json::from_slice(&fs::read(other.path().join("keyslots.json")).unwrap()).unwrap();
    let foreign = foreign["anchors"].clone();
    let attacker = hex::encode([0xab; 32]);
    let original = fs::read(d.path().join("keyslots.json")).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("removed", Box::new(|v| v["anchors"] = "".into())),
        ("missing", Box::new(|v| drop(v.as_object_mut().unwrap().remove("anchors")))),
        ("another vault's", Box::new(move |v| v["anchors"] = foreign.clone())),
        ("not hex", Box::new(|v| v["anchors"] = "zz".into())),
        ("version 1", Box::new(|v| v["version"] = 1.into())),
        (
            "version 1, no copy, another bureau key",
            Box::new(move |v| {
                v["version"] = 1.into();
                v["anchors"] = "".into();
                v["bureau_public_key"] = attacker.clone().into();
            }),
        ),
    ];
    for (what, edit) in cases {
        fs::write(d.path().join("keyslots.json"), &original).unwrap();
        edit_keyslots(d.path(), edit);
        let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default());
        assert!(matches!(r, Err(VaultError::AnchorChanged(Anchor::SealedCopy))), "{what}: {:?}", r.err());
    }
}

/// R26: the users are anchors. An officer who makes their own slot a supervisor's, or a slot
/// removed or renamed on disk, is refused by name; users added, removed and PINs changed
/// through the vault keep it opening.
#[test]
fn roles_and_users_edited_without_the_pin_are_refused() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW).unwrap();
    drop(v);
    let mut s = Vault::unlock(d.path(), "supervisor-test", "654321", NOW, VaultConfig::default()).unwrap();
    s.add_user("officer-2", Role::Officer, "111111", KdfParams::INSECURE_TEST, NOW).unwrap();
    let listed = doorstep_vault::users(d.path()).unwrap();
    let expected = [(OFFICER, Role::Officer), ("supervisor-test", Role::Supervisor), ("officer-2", Role::Officer)];
    assert_eq!(listed, expected.map(|(u, r)| (u.to_string(), r)), "the unlock screen's list, in enrolment order");
    s.remove_user("officer-2", NOW).unwrap();
    assert_eq!(doorstep_vault::users(d.path()).unwrap().len(), 2, "a removed user is not offered");
    drop(s);
    let mut v = unlock(d.path());
    v.change_pin("222222", KdfParams::INSECURE_TEST, NOW).unwrap();
    v.change_pin(PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
    drop(v);
    let original = fs::read(d.path().join("keyslots.json")).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("officer made supervisor", Box::new(|v| v["slots"][0]["role"] = "supervisor".into())),
        ("supervisor removed", Box::new(|v| drop(v["slots"].as_array_mut().unwrap().remove(1)))),
        ("a public key swapped", Box::new(|v| v["slots"][0]["public_key"] = "00".repeat(32).into())),
    ];
    for (what, edit) in cases {
        fs::write(d.path().join("keyslots.json"), &original).unwrap();
        edit_keyslots(d.path(), edit);
        let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default());
        assert!(matches!(r, Err(VaultError::AnchorChanged(Anchor::Users))), "{what}: {:?}", r.err());
    }
    fs::write(d.path().join("keyslots.json"), &original).unwrap();
    assert_eq!(unlock(d.path()).user().1, Role::Officer);
}

/// A change of users re-seals the anchors from the sealed copy, never from the file: a bureau
/// key edited on disk while the unit runs is not laundered by the next enrolment.
#[test]
fn a_change_of_users_does_not_launder_an_edited_anchor() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    edit_keyslots(d.path(), |v| v["bureau_public_key"] = hex::encode([0xab; 32]).into());
    let r = v.add_user("supervisor-test", Role::Supervisor, "654321", KdfParams::INSECURE_TEST, NOW);
    assert!(matches!(r, Err(VaultError::AnchorChanged(Anchor::BureauKey))), "{r:?}");
    drop(v);
    let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default());
    assert!(matches!(r, Err(VaultError::AnchorChanged(Anchor::BureauKey))), "{:?}", r.err());
}

/// A right PIN on a vault refused for its anchors is not counted as a wrong one: the officer who tries again and again does not destroy the keys.
#[test]
fn a_right_pin_on_a_refused_vault_costs_no_attempt() {
    let d = tmp();
    init(d.path());
    edit_keyslots(d.path(), |v| v["device_id"] = "tablet-other".into());
    for _ in 0..12 {
        let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default());
        assert!(matches!(r, Err(VaultError::AnchorChanged(Anchor::DeviceId))), "{:?}", r.err());
    }
    let slots: serde_json::Value = serde_json::from_slice(&fs::read(d.path().join("keyslots.json")).unwrap()).unwrap();
    assert_eq!(slots["failures"], serde_json::json!([]), "no failure left recorded");
    assert_eq!(slots["destroyed"], false);
    // One wrong PIN is still counted as one.
    let r = Vault::unlock(d.path(), OFFICER, "654321", NOW, VaultConfig::default());
    assert!(matches!(r, Err(VaultError::WrongPin { attempts_left: 9 })), "{:?}", r.err());
}

/// R26: the hub bundle bound at provisioning; another one is refused at sync, and so is any
/// bundle while none is bound (a copy of the key slots from before provisioning put back does
/// not let the next bundle be bound on first use).
#[test]
fn a_changed_or_unbound_hub_bundle_is_refused() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    let bound = "1".repeat(64);
    assert!(matches!(v.check_hub(&bound), Err(VaultError::HubNotBound)));
    let before_provisioning = fs::read(d.path().join("keyslots.json")).unwrap();
    v.bind_hub(&bound, NOW).unwrap();
    v.check_hub(&bound).unwrap();
    drop(v);
    let v = unlock(d.path());
    v.check_hub(&bound).unwrap();
    let other = "2".repeat(64);
    assert!(matches!(v.check_hub(&other), Err(VaultError::HubBundleChanged)));
    drop(v);
    fs::write(d.path().join("keyslots.json"), before_provisioning).unwrap();
    let v = unlock(d.path());
    assert!(matches!(v.check_hub(&other), Err(VaultError::HubNotBound)));
    assert!(matches!(v.check_hub(&bound), Err(VaultError::HubNotBound)));
}

/// R26: files 0600 and folders 0700 from creation.
#[test]
fn every_file_is_0600_and_every_folder_0700() {
    let d = tmp();
    let vault = d.path().join("vault");
    init(&vault);
    let mut v = unlock(&vault);
    v.save_draft("visit-1", "form", b"draft").unwrap();
    let r = record(1, 100);
    v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    v.store_secret("hub-tls-key", b"secret", NOW).unwrap();
    assert!(v.verify().unwrap().problems.is_empty());
    drop(v);
    let mut stack = vec![vault.clone()];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700, "{}", dir.display());
        if dir.file_name().is_some_and(|n| n == "index") {
            continue; // sled's own files, inside a 0700 folder
        }
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                checked += 1;
                assert_eq!(e.metadata().unwrap().permissions().mode() & 0o777, 0o600, "{}", e.path().display());
            }
        }
    }
    assert!(checked >= 6, "{checked} files checked");
    // A folder an earlier version left readable is tightened at unlock, and verify says so
    // until then.
    fs::set_permissions(vault.join("drafts"), fs::Permissions::from_mode(0o755)).unwrap();
    drop(unlock(&vault));
    assert_eq!(fs::metadata(vault.join("drafts")).unwrap().permissions().mode() & 0o777, 0o700);
}

/// The vault tightens its own files only: what else sits in its folder (the bundle the CLI
/// keeps, a file a person put there, a link) keeps its mode; and `init` takes an empty or new
/// folder only, so that it never adopts someone else's files.
#[test]
fn only_the_vaults_own_files_are_tightened_and_init_wants_an_empty_folder() {
    let d = tmp();
    let vault = d.path().join("vault");
    init(&vault);
    fs::write(vault.join("notes.txt"), b"not the vault's").unwrap();
    fs::set_permissions(vault.join("notes.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir(vault.join("other")).unwrap();
    fs::set_permissions(vault.join("other"), fs::Permissions::from_mode(0o755)).unwrap();
    let outside = d.path().join("outside.txt");
    fs::write(&outside, b"outside").unwrap();
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&outside, vault.join("envelopes").join("link")).unwrap();
    fs::set_permissions(vault.join("audit.log"), fs::Permissions::from_mode(0o644)).unwrap();
    // An earlier version's sealed secret, left readable.
    let mut v = unlock(&vault);
    v.store_secret("hub-tls-key", b"secret", NOW).unwrap();
    drop(v);
    fs::set_permissions(vault.join("secret-hub-tls-key.sealed"), fs::Permissions::from_mode(0o644)).unwrap();
    // A folder of the vault's kept elsewhere through a link: used, never changed.
    let elsewhere = d.path().join("receipts-elsewhere");
    fs::rename(vault.join("receipts"), &elsewhere).unwrap();
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, vault.join("receipts")).unwrap();
    drop(unlock(&vault));
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&vault.join("notes.txt")), 0o644);
    assert_eq!(mode(&vault.join("other")), 0o755);
    assert_eq!(mode(&outside), 0o644, "a link inside the vault is not followed");
    assert_eq!(mode(&vault.join("audit.log")), 0o600, "the vault's own file is tightened");
    assert_eq!(mode(&vault.join("secret-hub-tls-key.sealed")), 0o600, "and its sealed secrets");
    assert_eq!(mode(&elsewhere), 0o755, "a linked folder is not changed");
    for entry in fs::read_dir(vault.join("index")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            assert_eq!(mode(&entry.path()), 0o600, "sled's {:?}", entry.file_name());
        }
    }

    let busy = d.path().join("busy");
    fs::create_dir(&busy).unwrap();
    fs::write(busy.join("thesis.txt"), b"someone's").unwrap();
    let r = try_init(&busy);
    assert!(matches!(r, Err(VaultError::NotEmpty)), "{:?}", r.err());
    assert_eq!(fs::read_dir(&busy).unwrap().count(), 1, "nothing was added beside it");
}

/// An init a stop cut short (its folders, the lock and a counter made, the key slots not yet)
/// leaves only the vault's own entries: the next init (the app's demo vault at its next start)
/// starts over instead of refusing the folder for ever.
#[test]
fn an_init_cut_short_is_started_over() {
    let d = tmp();
    let vault = d.path().join("vault");
    fs::create_dir(&vault).unwrap();
    for sub in ["envelopes", "receipts", "drafts"] {
        fs::create_dir(vault.join(sub)).unwrap();
    }
    fs::write(vault.join("lock"), b"4242\n").unwrap();
    fs::write(vault.join("counter.sealed"), b"sealed under a key never stored").unwrap();
    fs::write(vault.join(".keyslots.json.0011223344556677.tmp"), b"half").unwrap();
    init(&vault);
    drop(unlock(&vault));
}

/// A used vault whose keyslots.json is gone (deleted, lost) is not taken for a cut-short init:
/// a new data key would make every sealed application in it unreadable. Refused, nothing
/// changed.
#[test]
fn a_vault_without_its_key_slots_is_not_made_over() {
    let d = tmp();
    let vault = d.path().join("vault");
    init(&vault);
    let mut v = unlock(&vault);
    let r = record(1, 100);
    v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    v.save_draft("visit-2", "form", b"draft").unwrap();
    drop(v);
    fs::remove_file(vault.join("keyslots.json")).unwrap();
    let listing = |dir: &Path| {
        let mut names: Vec<String> = walk(dir).into_iter().map(|p| p.display().to_string()).collect();
        names.sort();
        names
    };
    let before = listing(&vault);
    let r = try_init(&vault);
    assert!(matches!(r, Err(VaultError::KeySlotsMissing)), "{:?}", r.err());
    assert_eq!(listing(&vault), before, "nothing was changed");
    // Only the audit log left (everything else empty): still a used vault.
    let d = tmp();
    fs::write(d.path().join("audit.log"), b"entries").unwrap();
    assert!(matches!(try_init(d.path()), Err(VaultError::KeySlotsMissing)));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// A stop in the middle of an atomic write leaves `.NAME.RANDOM.tmp` beside the file it was
/// to replace, in any of the vault's folders: each is swept at the next unlock, and nothing
/// else is.
#[test]
fn temporary_files_a_stop_left_are_swept_from_every_folder() {
    let d = tmp();
    init(d.path());
    let left = [
        d.path().join(".keyslots.json.0011223344556677.tmp"),
        d.path().join(".counter.sealed.8899aabbccddeeff.tmp"),
        d.path().join("drafts").join(".visit-1.form.draft.0123456789abcdef.tmp"),
        d.path().join("receipts").join(".x.receipt.fedcba9876543210.tmp"),
        d.path().join("envelopes").join(".y.env.0a0b0c0d0e0f0a0b.tmp"),
    ];
    for p in &left {
        fs::write(p, b"half written").unwrap();
    }
    fs::write(d.path().join("drafts").join("kept.tmp"), b"not a temporary name").unwrap();
    // In the vault's folder, only its own files' temporaries are the vault's.
    fs::write(d.path().join(".notes.txt.backup.tmp"), b"someone's").unwrap();
    drop(unlock(d.path()));
    for p in &left {
        assert!(!p.exists(), "{} swept", p.display());
    }
    assert!(d.path().join("drafts").join("kept.tmp").exists());
    assert!(d.path().join(".notes.txt.backup.tmp").exists());
}

fn seal_erase_all(dir: &Path, n: u64) -> u64 {
    let mut v = unlock(dir);
    let mut highest = 0;
    for i in 0..n {
        let r = record(100 + i, 100);
        let e = v.seal(&format!("visit-{i}"), &r, &review(&r), NOW).unwrap();
        v.acknowledge(&e.application_id, &hub_receipt(&e.application_id, &e.digest), None, NOW).unwrap();
        v.erase(&e.application_id, NOW).unwrap();
        highest = highest.max(e.device_counter);
    }
    highest
}

/// The counter never goes backwards: not when the index is rebuilt after every envelope
/// was uploaded and erased (no file names a counter any more), nor when the counter file
/// itself is lost.
#[test]
fn counters_never_go_backwards() {
    let d = tmp();
    init(d.path());
    let highest = seal_erase_all(d.path(), 3);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let mut v = unlock(d.path());
    let r = record(200, 100);
    let next = v.seal("visit-x", &r, &review(&r), NOW).unwrap().device_counter;
    assert!(next > highest, "{next} after {highest}");
    drop(v);

    // The counter file lost too: the audit log's seals still name every counter used.
    fs::remove_dir_all(d.path().join("index")).unwrap();
    fs::remove_file(d.path().join("counter.sealed")).unwrap();
    let mut v = unlock(d.path());
    assert!(v.recovery().counter_recovered);
    let r = record(201, 100);
    let after = v.seal("visit-y", &r, &review(&r), NOW).unwrap().device_counter;
    assert!(after > next, "{after} after {next}");
}
