//! The store on its own: poisoning, the layouts it refuses, and its index rebuilt from the
//! segments and the journal (SECURITY R4 for the hub).

use super::*;
use doorstep_envelope::*;

/// A sealed envelope of tablet `device`, application `n`, with its facts.
fn envelope(device: &str, n: u64) -> (String, Vec<u8>, Received) {
    let bureau = BureauKeyPair::generate(&mut rand::rng());
    let id = ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10]);
    let record = ApplicationRecord {
        schema_version: doorstep_envelope::SCHEMA_VERSION,
        application_id: id,
        application_numbers: vec![format!("TEST-{n}")],
        form_json: r#"{"name":"测试"}"#.into(),
        photo_jpeg: vec![n as u8; 3_000 + n as usize],
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        other_signatures: Vec::new(),
        capture: CaptureMetadata {
            device_id: device.into(),
            officer_id: "officer-test".into(),
            gnss: None,
            started_at_unix: 1_790_000_000,
            completed_at_unix: 1_790_000_600,
            quality: vec![],
        },
    };
    let ctx = SealContext {
        bureau: &bureau.public,
        device_id: &DeviceId(device.into()),
        device_key: &signing_key_from_seed(&[device.len() as u8; 32]),
        officer_id: "officer-test",
        officer_key: &signing_key_from_seed(&[9; 32]),
        device_counter: n,
        sealed_at_unix: 1_790_000_600,
    };
    let e = seal(&record, &ctx, &mut rand::rng()).unwrap();
    let received = Received {
        digest: hex::encode(e.digest()),
        device: device.into(),
        device_id: device.into(),
        size: e.to_bytes().len() as u64,
        device_counter: n,
        received_at_unix: 1_790_001_000 + n as i64,
    };
    (id.to_string(), e.to_bytes(), received)
}

/// Everything the index says, tree by tree (the layout mark and partial uploads aside).
fn snapshot(store: &SledStore) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut all = Vec::new();
    for name in ["records", "device-keys", "manifests", "statuses"] {
        for item in store.db.open_tree(name).unwrap().iter() {
            let (k, v) = item.unwrap();
            if name == "records" && k.first() == Some(&index::UPLOAD) {
                continue;
            }
            all.push((name.to_string(), k.to_vec(), v.to_vec()));
        }
    }
    all
}

/// A store with envelopes from two devices, a manifest, verdicts, a repair and a partial
/// upload; returns the envelopes.
fn fill(store: &SledStore) -> Vec<(String, Vec<u8>)> {
    let mut sent = Vec::new();
    for n in 1..=5 {
        let device = if n % 2 == 0 { "tablet-b" } else { "tablet-a" };
        let (id, bytes, received) = envelope(device, n);
        let key = SealedEnvelope::from_bytes(&bytes).unwrap().header().device_key;
        assert_eq!(store.bind_device_key(device, key).unwrap(), None);
        assert_eq!(store.claim_counter(device, n, &id).unwrap(), None);
        store.commit(&id, &bytes, &received, format!("receipt of {id}").as_bytes()).unwrap();
        sent.push((id, bytes));
    }
    let approved = |i: usize| (sent[i].0.clone(), Status::Approved { batch: "shift-1".into() });
    let returned = (sent[2].0.clone(), Status::Returned { batch: "shift-1".into(), reason: "照片".into() });
    let taken = store.put_manifest("tablet-a", "shift-1", b"manifest bytes", &[approved(0), returned, approved(4)]);
    assert_eq!(taken.unwrap(), ManifestTaken::Taken);
    // The same bytes again are taken (stored already); other bytes under the batch id are not.
    let again = store.put_manifest("tablet-a", "shift-1", b"manifest bytes", &[approved(0)]).unwrap();
    assert_eq!(again, ManifestTaken::Taken);
    let other = store.put_manifest("tablet-a", "shift-1", b"other bytes", &[approved(0)]).unwrap();
    assert_eq!(other, ManifestTaken::OtherContents);
    assert_eq!(store.manifest("tablet-a", "shift-1").unwrap().as_deref(), Some(&b"manifest bytes"[..]));
    store.decide(&sent[0].0, &Status::Accepted).unwrap();
    store.decide(&sent[4].0, &Status::Rejected { reason: "测试".into() }).unwrap();
    // A later batch deciding a decided one the same way is taken and changes nothing; one
    // deciding it otherwise is refused, naming it, and nothing of it is kept (not in the
    // journal either: the rebuilt index has no such manifest).
    let again = (sent[0].0.clone(), Status::Approved { batch: "shift-2".into() });
    assert_eq!(store.put_manifest("tablet-a", "shift-2", b"later", &[again]).unwrap(), ManifestTaken::Taken);
    let otherwise = [
        (sent[1].0.clone(), Status::Approved { batch: "shift-3".into() }),
        (sent[0].0.clone(), Status::Returned { batch: "shift-3".into(), reason: "照片".into() }),
    ];
    let refused = store.put_manifest("tablet-a", "shift-3", b"otherwise", &otherwise).unwrap();
    assert_eq!(refused, ManifestTaken::DecidedBefore(vec![sent[0].0.clone()]));
    assert_eq!(store.manifest("tablet-a", "shift-3").unwrap(), None);
    assert_eq!(store.status(&sent[1].0).unwrap(), Some(Status::Received), "nothing of it taken");
    assert_eq!(store.status(&sent[0].0).unwrap(), Some(Status::Accepted));
    store.set_status(&sent[1].0, &Status::Rejected { reason: "repair".into() }).unwrap();
    // A device bound, with no envelope in.
    assert_eq!(store.bind_device_key("tablet-c", [3; 32]).unwrap(), None);
    let upload = Upload {
        digest: "ab".repeat(32),
        length: 100,
        device: "tablet-a".into(),
        offset: 0,
        started_at_unix: 1,
        touched_at_unix: 1,
    };
    store.append("0190f0c4-8a2b-7000-8000-0000000000ff", &upload, b"part").unwrap();
    sent
}

#[test]
fn a_lost_index_is_rebuilt_from_the_segments_and_the_journal_r4() {
    let d = tempfile::tempdir().unwrap();
    let store = SledStore::open(d.path()).unwrap();
    let sent = fill(&store);
    let before = snapshot(&store);
    assert_eq!(store.recovery(), &Recovery::default(), "a new store recovers nothing");
    drop(store);
    std::fs::remove_dir_all(d.path().join("index")).unwrap();
    let store = SledStore::open(d.path()).unwrap();
    let rebuilt = store.recovery().rebuilt.clone().expect("rebuilt");
    assert_eq!(
        rebuilt,
        Rebuilt { envelopes: 5, manifests: 2, device_keys: 3, statuses: 3, appointments: 0, feedback: 0 }
    );
    assert_eq!(snapshot(&store), before, "the index as it was, record for record");
    for (id, bytes) in &sent {
        assert_eq!(store.envelope(id).unwrap().as_ref(), Some(bytes), "{id} byte-identical");
    }
    assert_eq!(store.status(&sent[0].0).unwrap(), Some(Status::Accepted));
    assert_eq!(store.claim_counter("tablet-a", 1, "another").unwrap(), Some(sent[0].0.clone()), "counters kept");
    assert_eq!(store.bind_device_key("tablet-c", [4; 32]).unwrap(), Some([3; 32]), "bindings kept");
    assert_eq!(store.uploads().unwrap(), vec![], "partial uploads start again");
    assert!(store.recovery().report().iter().any(|l| l.contains("rebuilt")), "{:?}", store.recovery().report());
    // Opened again, the rebuilt index is used as it is.
    drop(store);
    assert_eq!(SledStore::open(d.path()).unwrap().recovery(), &Recovery::default());
}

#[test]
fn a_damaged_index_is_moved_aside_and_damaged_frames_are_skipped_r4() {
    let d = tempfile::tempdir().unwrap();
    let store = SledStore::open(d.path()).unwrap();
    let sent = fill(&store);
    let before = snapshot(&store);
    drop(store);
    // Garbage over sled's files, and in the segment: between two envelopes, and a torn tail.
    for name in ["db", "conf"] {
        std::fs::write(d.path().join("index").join(name), vec![0xA5; 4096]).unwrap();
    }
    let segment = d.path().join("envelopes").join("seg-00000001.log");
    let bytes = std::fs::read(&segment).unwrap();
    let second = frame::scan(&bytes[8..], 8)
        .into_iter()
        .filter_map(|f| match f {
            frame::Found::Frame(f) => Some(f),
            frame::Found::Damaged { .. } => None,
        })
        .nth(1)
        .unwrap();
    let mut damaged = bytes[..second.at as usize].to_vec();
    damaged.extend_from_slice(b"not a frame at all");
    damaged.extend_from_slice(&bytes[second.at as usize..]);
    damaged.extend_from_slice(&bytes[8..40]);
    std::fs::write(&segment, &damaged).unwrap();
    let store = SledStore::open(d.path()).unwrap();
    let recovery = store.recovery().clone();
    assert_eq!(recovery.quarantined, Some(d.path().join("index.damaged-0")));
    assert!(d.path().join("index.damaged-0").join("db").exists(), "kept aside, as evidence");
    assert_eq!(recovery.damaged.len(), 2, "{:?}", recovery.report());
    assert_eq!((recovery.damaged[0].1, recovery.damaged[0].2), (second.at, 18));
    assert_eq!(snapshot(&store).len(), before.len());
    for (id, bytes) in &sent {
        assert_eq!(store.envelope(id).unwrap().as_ref(), Some(bytes), "{id} byte-identical");
    }
    // And asked for, a rebuild moves the (good) index aside and gives the same again.
    drop(store);
    let store = SledStore::rebuild_index(d.path()).unwrap();
    assert_eq!(store.recovery().quarantined, Some(d.path().join("index.damaged-1")));
    assert_eq!(snapshot(&store).len(), before.len());
}

#[test]
fn a_frame_whose_envelope_is_not_what_it_says_is_not_taken_r4() {
    let d = tempfile::tempdir().unwrap();
    let store = SledStore::open(d.path()).unwrap();
    let (id, bytes, mut received) = envelope("tablet-a", 1);
    received.digest = "00".repeat(32);
    store.commit(&id, &bytes, &received, b"receipt").unwrap();
    drop(store);
    std::fs::remove_dir_all(d.path().join("index")).unwrap();
    let store = SledStore::open(d.path()).unwrap();
    assert_eq!(store.received(&id).unwrap(), None);
    assert_eq!(store.recovery().damaged.len(), 1, "{:?}", store.recovery().report());
}

#[test]
fn a_poisoned_store_answers_nothing() {
    let d = tempfile::tempdir().unwrap();
    let store = SledStore::open(d.path()).unwrap();
    assert_eq!(store.received("x").unwrap(), None);
    let _ = store.poison.set("EIO on fsync".into());
    let e = store.received("x").unwrap_err();
    assert!(matches!(e, StoreError::Poisoned(_)), "{e}");
    assert!(e.to_string().contains("restart the hub"), "{e}");
    assert!(matches!(store.all_received(), Err(StoreError::Poisoned(_))));
    assert!(matches!(store.receipt("x"), Err(StoreError::Poisoned(_))));
    assert!(matches!(store.decide("x", &Status::Accepted), Err(StoreError::Poisoned(_))));
}

#[test]
fn opening_sweeps_partial_files_without_an_upload_and_refuses_earlier_layouts() {
    let d = tempfile::tempdir().unwrap();
    drop(SledStore::open(d.path()).unwrap());
    let orphan = d.path().join("uploads").join("0190f0c48a2b70008000000000000001.part");
    std::fs::write(&orphan, b"left by a stop between commit and removal").unwrap();
    drop(SledStore::open(d.path()).unwrap());
    assert!(!orphan.exists(), "a .part file nobody is uploading is removed");

    // sled at the top of the store (the first layout).
    let old = tempfile::tempdir().unwrap();
    std::fs::write(old.path().join("db"), b"an earlier hub's sled").unwrap();
    let e = SledStore::open(old.path()).err().expect("refused");
    assert!(e.to_string().contains("earlier doorstep-hub"), "{e}");
    // Bare envelopes in segments (the second layout).
    let old = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(old.path().join("envelopes")).unwrap();
    let (_, bytes, _) = envelope("tablet-a", 1);
    std::fs::write(old.path().join("envelopes").join("seg-00000001.log"), bytes).unwrap();
    let e = SledStore::open(old.path()).err().expect("refused");
    assert!(e.to_string().contains("earlier doorstep-hub") && e.to_string().contains("seg-00000001"), "{e}");
    // An index without this layout's mark, with records in it.
    let old = tempfile::tempdir().unwrap();
    let db = sled::open(old.path().join("index")).unwrap();
    db.open_tree("records").unwrap().insert(b"rX", b"{}").unwrap();
    db.flush().unwrap();
    drop(db);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let e = SledStore::open(old.path()).err().expect("refused");
    assert!(e.to_string().contains("no mark of this layout"), "{e}");
}

#[test]
fn the_stores_files_and_folders_are_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("store");
    let store = SledStore::open(&dir).unwrap();
    fill(&store);
    drop(store);
    let mut seen = 0;
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "segments, journal, a partial upload and the index's files: {seen}");
}

/// Manifests deciding one application two ways, taken at the same instant: only those of the
/// decision that stands are taken; the others are refused and nothing of them is kept.
#[test]
fn two_manifests_deciding_one_application_two_ways_at_once_are_not_both_taken() {
    let d = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SledStore::open(d.path()).unwrap());
    let (id, bytes, received) = envelope("tablet-a", 1);
    store.commit(&id, &bytes, &received, b"receipt").unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let (store, start, id) = (store.clone(), start.clone(), id.clone());
            std::thread::spawn(move || {
                let batch = format!("shift-{i}");
                let decision = if i % 2 == 0 {
                    Status::Approved { batch: batch.clone() }
                } else {
                    Status::Returned { batch: batch.clone(), reason: "照片".into() }
                };
                start.wait();
                store.put_manifest("tablet-a", &batch, batch.as_bytes(), &[(id, decision)]).unwrap()
            })
        })
        .collect();
    let results: Vec<ManifestTaken> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let approved = matches!(store.status(&id).unwrap(), Some(Status::Approved { .. }));
    for (i, taken) in results.iter().enumerate() {
        let same = (i % 2 == 0) == approved;
        let expected = if same { ManifestTaken::Taken } else { ManifestTaken::DecidedBefore(vec![id.clone()]) };
        assert_eq!(taken, &expected, "{i}: {results:?}");
        assert_eq!(store.manifest("tablet-a", &format!("shift-{i}")).unwrap().is_some(), same, "{i}");
    }
}

#[test]
fn a_decision_is_the_same_only_as_the_one_held() {
    let approved = |b: &str| Status::Approved { batch: b.into() };
    let returned = |b: &str, r: &str| Status::Returned { batch: b.into(), reason: r.into() };
    let rejected = Status::Rejected { reason: "照片不合格".into() };
    let table = [
        (Status::Received, approved("b"), true),
        (Status::Received, returned("b", "photo"), true),
        (approved("a"), approved("b"), true),
        (approved("a"), returned("b", "photo"), false),
        (Status::Accepted, approved("b"), true),
        (Status::Accepted, returned("b", "photo"), false),
        (rejected.clone(), approved("b"), true),
        (rejected, returned("b", "photo"), false),
        (returned("a", "photo"), returned("b", "photo"), true),
        (returned("a", "photo"), returned("b", "signature"), false),
        (returned("a", "photo"), approved("b"), false),
    ];
    for (standing, new, same) in table {
        assert_eq!(same_decision(&standing, &new), same, "{standing:?} then {new:?}");
    }
}
