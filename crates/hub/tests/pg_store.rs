//! The PostgreSQL store where several hub processes share it: each claim has one winner,
//! a verdict is taken once, an upload grows only from where its hub found it, an application
//! id names one envelope, and the schema is migrated once by hubs starting together. Two
//! `PgStore`s on one database stand for two hubs (each has its own connections).

mod pg;

use std::sync::{Arc, Barrier};

use doorstep_hub::store::{Appointments, ManifestTaken, PgStore, Received, Records, Status, Store, StoreError, Upload};

fn two_hubs() -> (PgStore, PgStore) {
    let url = pg::shared().new_database();
    (PgStore::open(&url, false).unwrap(), PgStore::open(&url, false).unwrap())
}

fn received(digest: &str, counter: u64) -> Received {
    Received {
        digest: digest.into(),
        device: "tablet-1".into(),
        device_id: "tablet-1".into(),
        size: 3,
        device_counter: counter,
        received_at_unix: 1_790_000_000,
    }
}

/// Runs `f(i)` on `n` threads released at once; their results in order.
fn race<T: Send + 'static>(n: usize, f: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let start = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (start, f) = (start.clone(), f.clone());
            std::thread::spawn(move || {
                start.wait();
                f(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn a_device_counter_racing_between_two_hubs_has_one_winner() {
    let (a, b) = two_hubs();
    let hubs = Arc::new([a, b]);
    let h = hubs.clone();
    let results = race(8, move |i| h[i % 2].claim_counter("tablet-1", 7, &format!("app-{i}")).unwrap());
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_none()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = format!("app-{}", winners[0]);
    for r in results.iter().flatten() {
        assert_eq!(r, &winner, "each loser is told who holds the counter");
    }
    // The winner asking again is still the holder; another counter is free.
    assert_eq!(hubs[1].claim_counter("tablet-1", 7, &winner).unwrap(), None);
    assert_eq!(hubs[0].claim_counter("tablet-1", 8, "app-x").unwrap(), None);
    assert_eq!(hubs[1].claim_counter("tablet-2", 7, "app-y").unwrap(), None, "counters are each device's");
}

#[test]
fn a_device_is_bound_to_one_signing_key_whichever_hub_it_reaches_first() {
    let (a, b) = two_hubs();
    let hubs = Arc::new([a, b]);
    let h = hubs.clone();
    let results = race(6, move |i| h[i % 2].bind_device_key("tablet-1", [i as u8; 32]).unwrap());
    let bound: Vec<u8> = results.iter().enumerate().filter(|(_, r)| r.is_none()).map(|(i, _)| i as u8).collect();
    assert_eq!(bound.len(), 1, "{results:?}");
    assert!(results.iter().flatten().all(|k| *k == [bound[0]; 32]));
    assert_eq!(hubs[0].bind_device_key("tablet-1", [bound[0]; 32]).unwrap(), None);
}

#[test]
fn a_verdict_is_taken_once_when_two_back_offices_decide_together() {
    let (a, b) = two_hubs();
    a.commit("app-1", b"env", &received("d1", 1), b"receipt").unwrap();
    // Not released yet: no verdict.
    match b.decide("app-1", &Status::Accepted) {
        Err(StoreError::Refused(m)) => assert!(m.contains("not released"), "{m}"),
        other => panic!("{other:?}"),
    }
    a.put_manifest(
        "tablet-1",
        "batch-1",
        b"manifest",
        &[("app-1".into(), Status::Approved { batch: "batch-1".into() })],
    )
    .unwrap();
    let hubs = Arc::new([a, b]);
    let h = hubs.clone();
    let results = race(6, move |i| {
        let verdict = if i % 2 == 0 { Status::Accepted } else { Status::Rejected { reason: format!("reason {i}") } };
        h[i % 2].decide("app-1", &verdict).map(|()| verdict)
    });
    let taken: Vec<&Status> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(taken.len(), 1, "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, StoreError::Refused(m) if m.contains("already decided")), "{e}");
        }
    }
    assert_eq!(hubs[0].status("app-1").unwrap().as_ref(), Some(taken[0]));
    // A later manifest returning it is refused, naming it, and changes nothing.
    let later = hubs[1].put_manifest(
        "tablet-1",
        "batch-2",
        b"m2",
        &[("app-1".into(), Status::Returned { batch: "batch-2".into(), reason: "x".into() })],
    );
    assert_eq!(later.unwrap(), ManifestTaken::DecidedBefore(vec!["app-1".to_string()]));
    assert_eq!(hubs[1].manifest("tablet-1", "batch-2").unwrap(), None);
    assert_eq!(hubs[1].status("app-1").unwrap().as_ref(), Some(taken[0]));
}

/// Two hubs taking manifests that decide one application two ways at the same instant: only
/// the manifests of the decision that stands are taken; the others are refused and not kept.
#[test]
fn two_manifests_deciding_one_application_two_ways_at_once_are_not_both_taken() {
    let (a, b) = two_hubs();
    a.commit("app-1", b"env", &received("d1", 1), b"receipt").unwrap();
    let hubs = Arc::new([a, b]);
    let h = hubs.clone();
    let results = race(6, move |i| {
        let batch = format!("batch-{i}");
        let decision = if i % 2 == 0 {
            Status::Approved { batch: batch.clone() }
        } else {
            Status::Returned { batch: batch.clone(), reason: "照片".into() }
        };
        h[i % 2].put_manifest("tablet-1", &batch, batch.as_bytes(), &[("app-1".into(), decision)]).unwrap()
    });
    let standing = hubs[0].status("app-1").unwrap().expect("decided");
    let approved = matches!(standing, Status::Approved { .. });
    for (i, taken) in results.iter().enumerate() {
        let same = (i % 2 == 0) == approved;
        let expected = if same { ManifestTaken::Taken } else { ManifestTaken::DecidedBefore(vec!["app-1".into()]) };
        assert_eq!(taken, &expected, "{i}: {results:?}, {standing:?} stands");
        let kept = hubs[1].manifest("tablet-1", &format!("batch-{i}")).unwrap();
        assert_eq!(kept.is_some(), same, "{i}");
    }
}

#[test]
fn an_application_id_names_one_envelope_whichever_hub_commits_it() {
    let (a, b) = two_hubs();
    assert_eq!(a.commit("app-1", b"envelope", &received("digest-1", 1), b"receipt-a").unwrap(), b"receipt-a");
    // The same envelope committed by the other hub too (its tablet sent it to both): kept
    // once, and the other hub answers with the receipt that stands.
    assert_eq!(b.commit("app-1", b"envelope", &received("digest-1", 1), b"receipt-b").unwrap(), b"receipt-a");
    assert_eq!(a.all_received().unwrap().len(), 1);
    assert_eq!(b.receipt("app-1").unwrap().as_deref(), Some(&b"receipt-a"[..]), "the first receipt stands");
    match b.commit("app-1", b"other", &received("digest-2", 1), b"receipt-c") {
        Err(StoreError::Conflict(m)) => assert!(m.contains("another digest"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.envelope("app-1").unwrap().as_deref(), Some(&b"envelope"[..]));
}

#[test]
fn an_upload_grows_only_from_where_its_hub_found_it() {
    let (a, b) = two_hubs();
    let head = Upload {
        digest: "d".into(),
        length: 9,
        device: "tablet-1".into(),
        offset: 0,
        started_at_unix: 1_790_000_000,
        touched_at_unix: 1_790_000_000,
    };
    assert_eq!(a.append("app-1", &head, b"abc").unwrap(), 3);
    let seen = b.upload("app-1").unwrap().unwrap();
    assert_eq!(seen.offset, 3);
    assert_eq!(b.append("app-1", &seen, b"def").unwrap(), 6);
    // Hub a still thinks 3 bytes are held: its append is refused with where to resume, and
    // nothing changes.
    let stale = Upload { offset: 3, ..head.clone() };
    assert!(matches!(a.append("app-1", &stale, b"XYZ"), Err(StoreError::Offset(6))));
    assert_eq!(a.upload_bytes("app-1").unwrap(), b"abcdef");
    // An empty chunk adds nothing, and the next chunk goes on from the same offset.
    let at6 = Upload { offset: 6, ..head.clone() };
    assert_eq!(a.append("app-1", &at6, b"").unwrap(), 6);
    assert_eq!(b.append("app-1", &at6, b"ghi").unwrap(), 9);
    assert_eq!(a.upload_bytes("app-1").unwrap(), b"abcdefghi");
    // Another device (or another envelope) starting under the id takes nothing over.
    let other = Upload { device: "tablet-2".into(), ..head.clone() };
    assert!(matches!(b.append("app-1", &other, b"zz"), Err(StoreError::Conflict(_))));
    let at9 = Upload { device: "tablet-2".into(), offset: 9, ..head.clone() };
    assert!(matches!(b.append("app-1", &at9, b"zz"), Err(StoreError::Conflict(_))), "not told its offset either");
    assert_eq!(a.upload("app-1").unwrap().unwrap().device, "tablet-1");
    // A sweep drops it only if it has not grown since the sweep's cutoff.
    let touched = a.upload("app-1").unwrap().unwrap().touched_at_unix;
    assert!(!b.expire_upload("app-1", touched - 1).unwrap(), "grown since");
    assert!(a.upload("app-1").unwrap().is_some());
    assert!(b.expire_upload("app-1", touched).unwrap(), "stale since the cutoff");
    assert_eq!(a.upload("app-1").unwrap(), None);
    assert_eq!(a.upload_bytes("app-1").unwrap(), Vec::<u8>::new(), "its chunks went with it");
    // A start again (offset 0) replaces what was held.
    assert_eq!(a.append("app-1", &head, b"a").unwrap(), 1);
    assert_eq!(b.upload_bytes("app-1").unwrap(), b"a");
    // The commit takes the upload away; a drop of one that is gone is not an error.
    a.commit("app-1", b"abcdefghi", &received("d", 1), b"r").unwrap();
    assert_eq!(b.upload("app-1").unwrap(), None);
    assert_eq!(b.upload_bytes("app-1").unwrap(), Vec::<u8>::new());
    b.drop_upload("app-1").unwrap();
}

#[test]
fn hubs_starting_together_migrate_the_schema_once_and_a_newer_schema_is_refused() {
    let url = pg::shared().new_database();
    let u = url.clone();
    let opened = race(4, move |_| PgStore::open(&u, false).map(|s| s.migrated().clone()));
    let froms: Vec<i32> = opened.iter().map(|r| r.as_ref().unwrap().from).collect();
    assert_eq!(froms.iter().filter(|f| **f == 0).count(), 1, "one hub migrated, the others found it done: {froms:?}");
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // A current schema is only read: a hub starts while another process holds the migration
    // lock (0x646f6f7273746570, "doorstep").
    db.execute("SELECT pg_advisory_lock(7237125663561639280)", &[]).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(PgStore::open(&url, false).unwrap().migrated().from, doorstep_hub::store::pg::LATEST);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "it waited for the lock");
    db.execute("SELECT pg_advisory_unlock(7237125663561639280)", &[]).unwrap();
    let versions: Vec<i32> = db
        .query("SELECT version FROM doorstep_schema ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=doorstep_hub::store::pg::LATEST).collect::<Vec<_>>());
    db.execute("INSERT INTO doorstep_schema (version, name) VALUES (999, 'from the future')", &[]).unwrap();
    match PgStore::open(&url, false) {
        Err(StoreError::Refused(m)) => assert!(m.contains("version 999") && m.contains("upgrade this hub"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a hub opened a schema newer than it knows"),
    }
}

#[test]
fn appointments_are_added_all_or_none_across_hubs() {
    use doorstep_hub::store::Booked;
    let (a, b) = two_hubs();
    let booked = |id: &str| -> Booked {
        use doorstep_hub::appointments::{Written, check};
        use doorstep_hub::pki::{Device, Devices};
        let device = Device {
            name: "tablet-1".into(),
            fingerprint: "00".into(),
            enrolled_at_unix: 1_790_000_000,
            not_after_unix: 1_890_000_000,
            revoked_at_unix: None,
        };
        let written = Written {
            id: id.into(),
            device: "tablet-1".into(),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            phone: "010-65123456".into(),
            services: vec!["passport".into()],
            from: "2026-12-05T09:00:00+08:00".into(),
            to: "2026-12-05T11:00:00+08:00".into(),
            mode: "home:bedbound".into(),
            address: "测试市测试路1号".into(),
            ..Written::default()
        };
        let today = time::macros::date!(2026 - 12 - 04);
        check(&written, &Devices { devices: vec![device] }, today, 1_790_000_000).unwrap()
    };
    assert_eq!(a.add_appointments(&[booked("A1"), booked("A2")]).unwrap(), Vec::<String>::new());
    // One taken: none of the three added.
    assert_eq!(b.add_appointments(&[booked("A3"), booked("A2"), booked("A4")]).unwrap(), vec!["A2".to_string()]);
    assert_eq!(b.add_appointments(&[booked("A5"), booked("A5")]).unwrap(), vec!["A5".to_string()], "given twice");
    let ids: Vec<String> = a.appointments(None).unwrap().into_iter().map(|b| b.appointment.id).collect();
    assert_eq!(ids, ["A1", "A2"]);
    // A swap only when it is still what was read.
    let old = a.appointment("A1").unwrap().unwrap();
    let mut new = old.clone();
    new.device = "tablet-2".into();
    assert!(b.replace_appointment(&old, &new).unwrap());
    assert!(!a.replace_appointment(&old, &new).unwrap(), "changed meanwhile");
    assert_eq!(a.appointments(Some("tablet-2")).unwrap().len(), 1);
}

#[test]
fn the_operator_reads_what_the_database_said() {
    let url = pg::shared().url("no_such_database");
    match PgStore::open(&url, false) {
        Err(e @ StoreError::Postgres(_)) => {
            let said = e.to_string();
            assert!(said.contains("3D000") && said.contains("does not exist"), "{said}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened a database that does not exist"),
    }
}

#[test]
fn claims_hold_whatever_isolation_the_database_defaults_to() {
    let url = pg::shared().new_database();
    let name = url.rsplit('/').next().unwrap().to_string();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("ALTER DATABASE {name} SET default_transaction_isolation = 'serializable'")).unwrap();
    let hubs = Arc::new([PgStore::open(&url, false).unwrap(), PgStore::open(&url, false).unwrap()]);
    let h = hubs.clone();
    let results = race(6, move |i| {
        let hub = &h[i % 2];
        let r = received(&format!("digest-{i}"), 1);
        (hub.claim_counter("tablet-1", 1, &format!("app-{i}")).unwrap(), hub.commit("app-x", b"e", &r, b"r"))
    });
    assert_eq!(results.iter().filter(|(c, _)| c.is_none()).count(), 1, "one counter holder");
    let committed = results.iter().filter(|(_, r)| r.is_ok()).count();
    assert_eq!(committed, 1, "one envelope under the id; the others told it is another's");
    assert!(results.iter().all(|(_, r)| matches!(r, Ok(_) | Err(StoreError::Conflict(_)))), "{results:?}");
}

#[test]
fn a_hub_that_requires_a_synchronous_standby_refuses_a_database_without_one() {
    let url = pg::shared().new_database();
    match PgStore::open(&url, true) {
        Err(StoreError::Refused(m)) => assert!(m.contains("synchronous_standby_names"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened without a standby"),
    }
}

#[test]
fn a_hub_with_data_in_its_folder_is_not_switched_to_a_database_by_a_line_in_hub_toml() {
    let d = tempfile::tempdir().unwrap();
    let mut hub =
        doorstep_hub::pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1")
            .unwrap();
    drop(doorstep_hub::store::SledStore::open(&hub.dir.join("store")).unwrap());
    hub.use_store(&pg::shared().new_database(), false).unwrap();
    match doorstep_hub::store::AnyStore::open(&hub.dir, &hub.config) {
        Err(StoreError::Refused(m)) => assert!(m.contains("init --store"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a hub's data was left behind in its folder"),
    }
}

/// A CA for a database server: its PEM, and an issuer to sign the server's certificate with.
fn database_ca(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

#[test]
fn with_the_database_servers_ca_the_hub_speaks_tls_and_refuses_any_other_server() {
    let (ca, issuer) = database_ca("测试 database CA");
    let (cert, key) =
        doorstep_hub::pki::server_certificate(&issuer, &["127.0.0.1".into()], doorstep_hub::pki::Validity::days(1))
            .unwrap();
    let cluster = pg::Cluster::start();
    cluster.enable_tls(&cert, &key);
    let url = cluster.new_database();
    // TLS whatever the address says (`sslmode=disable` included).
    let store = PgStore::open_tls(&format!("{url}?sslmode=disable"), false, Some(&ca)).unwrap();
    store.claim_counter("tablet-1", 1, "app-1").unwrap();
    // Every session of the hub's is TLS 1.3.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = admin
        .query_one(
            "SELECT count(*), bool_and(s.ssl AND s.version = 'TLSv1.3') FROM pg_stat_ssl s
             JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'doorstep-hub'",
            &[],
        )
        .unwrap();
    let (sessions, all_tls): (i64, Option<bool>) = (row.get(0), row.get(1));
    assert!(sessions >= 1 && all_tls == Some(true), "{sessions} sessions, TLS 1.3: {all_tls:?}");

    // A server whose certificate another CA signed (a machine in the middle) is refused.
    let (other_ca, _) = database_ca("another CA");
    match PgStore::open_tls(&url, false, Some(&other_ca)) {
        Err(StoreError::Postgres(m)) => assert!(m.contains("UnknownIssuer"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("trusted a server its CA did not sign"),
    }
    // A server reached under another name than its certificate's is refused.
    let name = url.rsplit('/').next().unwrap();
    let elsewhere = format!("host=db.example hostaddr=127.0.0.1 port={} user=postgres dbname={name}", cluster.port());
    match PgStore::open_tls(&elsewhere, false, Some(&ca)) {
        Err(StoreError::Postgres(m)) => assert!(m.contains("not valid for name \"db.example\""), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("trusted a certificate for another name"),
    }
    // So is a server that offers no TLS: no plain fallback.
    let plain = pg::shared().new_database();
    match PgStore::open_tls(&plain, false, Some(&ca)) {
        Err(StoreError::Postgres(m)) => assert!(m.contains("does not support TLS"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("connected in plain text"),
    }
    // And an address asking for TLS without a CA to verify the server with.
    match PgStore::open(&format!("{url}?sslmode=require"), false) {
        Err(StoreError::Refused(m)) => assert!(m.contains("store_ca"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("TLS asked for, none verified"),
    }
}

/// Two hubs taking manifests of one batch id with other contents at the same instant: one is
/// taken, the others are refused as other contents, and the bytes kept are the one's taken.
#[test]
fn one_batch_id_sent_with_other_contents_at_once_is_taken_once() {
    let (a, b) = two_hubs();
    a.commit("app-1", b"env", &received("d1", 1), b"receipt").unwrap();
    let hubs = Arc::new([a, b]);
    let h = hubs.clone();
    let results = race(6, move |i| {
        let bytes = format!("manifest {i}");
        let decision = ("app-1".to_string(), Status::Approved { batch: "batch-1".into() });
        h[i % 2].put_manifest("tablet-1", "batch-1", bytes.as_bytes(), &[decision]).unwrap()
    });
    let taken: Vec<usize> = (0..6).filter(|&i| results[i] == ManifestTaken::Taken).collect();
    assert_eq!(taken.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(r, ManifestTaken::Taken | ManifestTaken::OtherContents)), "{results:?}");
    let kept = hubs[0].manifest("tablet-1", "batch-1").unwrap();
    assert_eq!(kept, Some(format!("manifest {}", taken[0]).into_bytes()));
}
