//! Several `doorstep-hub serve` processes on one PostgreSQL database, as a province runs
//! them: each has its own copy of the hub's folder (its CA, keys, devices and `hub.toml`,
//! which names the database) and its own address. Tablets upload through either; the back
//! office reads and decides through the database while they serve; a hub killed mid-upload
//! leaves no receipt naming bytes the database does not hold; and with a synchronous standby,
//! every receipted envelope is on the standby when the primary dies and it is promoted.

mod common;
mod pg;
mod served;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_envelope::{Receipt, SealedEnvelope};
use doorstep_hub::pki::{Bundle, Hub, Validity};
use doorstep_hub::store::{PgStore, Records};
use doorstep_sync::client::{HubClient, Start, SyncError};

const TABLETS: usize = 4;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A hub made as an operator makes one, `doorstep-hub init --store DB` (with `options`),
/// with four tablets enrolled (and their officers), and a copy of its folder for a second hub
/// process.
fn hub_on(dir: &Path, db: &str, options: &[&str]) -> (Hub, PathBuf, Vec<Bundle>) {
    let folder = dir.join("hub-a");
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("init")
        .arg(&folder)
        .args(["--host", "localhost", "--store", db])
        .args(options)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&init.stdout);
    assert!(
        init.status.success() && said.contains("its data: in PostgreSQL"),
        "{said}{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(said.contains("migrated from version 0"), "init made the tables: {said}");
    let hub = Hub::open(&folder).unwrap();
    let bundles: Vec<Bundle> = (0..TABLETS)
        .map(|t| {
            common::enroll_officer(&hub, &common::officer_key(t), "officer-test");
            common::bundle(&hub, &format!("tablet-{t}"), Validity::days(1))
        })
        .collect();
    // The second machine's folder: the same CA, keys, devices and settings.
    let copy = dir.join("hub-b");
    let status = std::process::Command::new("cp").arg("-a").arg(&hub.dir).arg(&copy).status().unwrap();
    assert!(status.success(), "cp -a");
    (Hub::open(&hub.dir).unwrap(), copy, bundles)
}

/// `serve` on a free port of 127.0.0.1; its URL.
fn serve(dir: &Path, extra: &[&str]) -> (served::Served, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut options = vec!["--listen", listen.as_str()];
    options.extend_from_slice(extra);
    (served::Served::start_with(dir, "warn", &options), format!("https://localhost:{port}"))
}

/// Uploads every envelope of `envs` not yet receipted, through `urls` in turn (envelope `n`
/// through `urls[n % len]`); stops at the first connection failure (its hub went away).
fn upload_all(b: &Bundle, urls: &[String], envs: &[SealedEnvelope], receipts: &Mutex<HashMap<String, Receipt>>) {
    let key = b.hub_receipt_key().unwrap();
    let mut clients: Vec<HubClient> = urls
        .iter()
        .map(|u| {
            let mut c = HubClient::new(u, b.client_config().unwrap()).unwrap();
            c.chunk = 64 * 1024;
            c.timeout = Duration::from_secs(5);
            c
        })
        .collect();
    let n = clients.len();
    for (i, e) in envs.iter().enumerate() {
        let id = e.application_id().to_string();
        if receipts.lock().unwrap().contains_key(&id) {
            continue;
        }
        match clients[i % n].upload(
            e.application_id(),
            &e.digest(),
            &e.to_bytes(),
            Start::Ask,
            Some(&key),
            &mut |_, _| {},
        ) {
            Ok(r) => {
                receipts.lock().unwrap().insert(id, r);
            }
            Err(SyncError::Connection(_) | SyncError::Protocol(_)) => return,
            Err(e) => panic!("{id}: {e}"),
        }
    }
}

/// Every envelope held once, byte-identical, and every receipt's envelope among them.
fn assert_held_once(db: &str, all: &[(Bundle, Vec<SealedEnvelope>)], receipts: &HashMap<String, Receipt>) {
    let store = PgStore::open(db, false).unwrap();
    let held = store.all_received().unwrap();
    let total: usize = all.iter().map(|(_, e)| e.len()).sum();
    assert_eq!(held.len(), total, "each application exactly once");
    for (_, envs) in all {
        for e in envs {
            let id = e.application_id().to_string();
            assert_eq!(store.envelope(&id).unwrap().as_deref(), Some(e.to_bytes().as_slice()), "{id} byte-identical");
            if let Some(r) = receipts.get(&id) {
                assert_eq!(r.digest, e.digest(), "{id}: the receipt names the bytes held");
            }
        }
    }
}

/// A back-office command on the hub's folder: whether it succeeded, and all it said.
fn office(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .arg("--hub")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn fetch_metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn two_hubs_on_one_database_take_four_tablets_at_once_and_the_back_office_works_meanwhile() {
    let d = tempfile::tempdir().unwrap();
    let db = pg::shared().new_database();
    let (hub, copy, bundles) = hub_on(d.path(), &db, &[]);
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let (a, url_a) = serve(&hub.dir, &["--metrics", &metrics]);
    let (b, url_b) = serve(&copy, &[]);
    // Sizes from 4 KB to 300 KB: some go up in several chunks.
    let all: Vec<(Bundle, Vec<SealedEnvelope>)> = bundles
        .into_iter()
        .enumerate()
        .map(|(t, b)| {
            let envs = common::envelopes(&b, t, 24, |n| 4_000 + (n % 10) * 30_000);
            (b, envs)
        })
        .collect();
    let receipts: Arc<Mutex<HashMap<String, Receipt>>> = Arc::default();
    let threads: Vec<_> = all
        .iter()
        .cloned()
        .enumerate()
        .map(|(t, (b, envs))| {
            // Half the tablets start with hub A, half with B; each alternates.
            let urls = if t % 2 == 0 { vec![url_a.clone(), url_b.clone()] } else { vec![url_b.clone(), url_a.clone()] };
            let receipts = receipts.clone();
            std::thread::spawn(move || upload_all(&b, &urls, &envs, &receipts))
        })
        .collect();
    // Meanwhile the back office reads the database through the hub's command.
    let (ok, said) = office(&hub.dir, &["status"]);
    assert!(ok && said.contains("received: "), "status while serving: {said}");
    for t in threads {
        t.join().unwrap();
    }
    let receipts = receipts.lock().unwrap().clone();
    assert_eq!(receipts.len(), TABLETS * 24, "every envelope receipted");
    assert_held_once(&db, &all, &receipts);
    // The back office, while both hubs serve: the report counts every application once, and a
    // verdict on one not yet released is refused with the reason.
    let today = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8)).date();
    let day = format!("{today}");
    let (ok, said) = office(&hub.dir, &["report", "--from", &day, "--to", &day]);
    assert!(ok && said.contains(&format!("by device: {}", TABLETS * 24)), "{said}");
    let id = all[1].1[3].application_id().to_string();
    let (ok, said) = office(&hub.dir, &["decide", &id, "accept"]);
    assert!(!ok && said.contains("not released yet"), "{said}");

    // The same envelope again through the other hub: its receipt, nothing stored twice.
    let (b0, envs0) = &all[0];
    let mut c = HubClient::new(&url_b, b0.client_config().unwrap()).unwrap();
    let again = c
        .upload(envs0[0].application_id(), &envs0[0].digest(), &envs0[0].to_bytes(), Start::New, None, &mut |_, _| {})
        .unwrap();
    assert_eq!(again.digest, envs0[0].digest());
    assert_held_once(&db, &all, &receipts);

    // Hub A's metrics counted its share of the uploads.
    let text = fetch_metrics(metrics_port);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let committed: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("doorstep_hub_commit_seconds_count "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no commit count in {text}"));
    assert!(committed > 0 && committed < (TABLETS * 24) as u64, "hub A committed {committed}: a share, not all");
    let bytes: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("doorstep_hub_upload_bytes_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(bytes > 0, "{text}");
    drop((a, b));
}

#[test]
fn a_hub_killed_mid_upload_while_another_serves_leaves_no_receipt_without_its_bytes() {
    let d = tempfile::tempdir().unwrap();
    let db = pg::shared().new_database();
    let (hub, copy, bundles) = hub_on(d.path(), &db, &[]);
    let all: Vec<(Bundle, Vec<SealedEnvelope>)> = bundles
        .into_iter()
        .enumerate()
        .map(|(t, b)| {
            let envs = common::envelopes(&b, t, 60, |n| 4_000 + (n % 20) * 20_000);
            (b, envs)
        })
        .collect();
    let receipts: Arc<Mutex<HashMap<String, Receipt>>> = Arc::default();
    // Hub B serves throughout; hub A is killed again and again while tablets 0 and 1 use it.
    let (_b, url_b) = serve(&copy, &[]);
    let mut dice = common::Dice(0xB0B);
    let mut kills = 0;
    for cycle in 0..30 {
        if receipts.lock().unwrap().len() == TABLETS * 60 {
            break;
        }
        let (mut a, url_a) = serve(&hub.dir, &[]);
        let threads: Vec<_> = all
            .iter()
            .cloned()
            .enumerate()
            .map(|(t, (b, envs))| {
                let urls = if t < 2 { vec![url_a.clone()] } else { vec![url_b.clone()] };
                let receipts = receipts.clone();
                std::thread::spawn(move || upload_all(&b, &urls, &envs, &receipts))
            })
            .collect();
        // Killed while its tablets still have envelopes to send, in the first cycles.
        let theirs_done = |r: &HashMap<String, Receipt>| {
            all[..2].iter().flat_map(|(_, e)| e).all(|e| r.contains_key(&e.application_id().to_string()))
        };
        if cycle < 8 && !theirs_done(&receipts.lock().unwrap()) {
            std::thread::sleep(Duration::from_millis(10 + dice.below(120)));
            a.child.kill().unwrap();
            kills += 1;
        }
        for t in threads {
            t.join().unwrap();
        }
        drop(a);
        // With hub A dead and B still serving: every receipt names bytes the database holds.
        let store = PgStore::open(&db, false).unwrap();
        for (id, r) in receipts.lock().unwrap().iter() {
            let bytes =
                store.envelope(id).unwrap().unwrap_or_else(|| panic!("cycle {cycle}: {id} receipted, not held"));
            assert_eq!(SealedEnvelope::from_bytes(&bytes).unwrap().digest(), r.digest, "{id}");
        }
    }
    assert!(kills >= 4, "hub A was killed only {kills} times mid-upload: the test no longer tests much");
    let receipts = receipts.lock().unwrap().clone();
    assert_eq!(receipts.len(), TABLETS * 60, "every envelope receipted in the end");
    assert_held_once(&db, &all, &receipts);
}

/// Uploads `e` through `c` until a receipt comes or `tries` attempts have failed; the errors.
fn keep_trying(c: &mut HubClient, e: &SealedEnvelope, tries: usize) -> Result<Receipt, Vec<String>> {
    let mut errors = Vec::new();
    for _ in 0..tries {
        match c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::Ask, None, &mut |_, _| {}) {
            Ok(r) => return Ok(r),
            Err(err) => errors.push(err.to_string()),
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(errors)
}

#[test]
fn every_receipted_envelope_is_on_the_synchronous_standby_when_the_primary_dies() {
    let d = tempfile::tempdir().unwrap();
    let primary = pg::Cluster::start();
    let replica = primary.replica("hub_standby");
    primary.set_synchronous_standby("hub_standby");
    let db = primary.new_database();
    let name = db.rsplit('/').next().unwrap();
    // Both servers in the address, the writable one wanted: the hub follows a failover.
    let both = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{name}?target_session_attrs=read-write",
        primary.port(),
        replica.port()
    );
    let (hub, _copy, bundles) = hub_on(d.path(), &both, &["--require-synchronous-standby"]);
    let (serving, url) = serve(&hub.dir, &[]);
    let all: Vec<(Bundle, Vec<SealedEnvelope>)> = bundles
        .into_iter()
        .enumerate()
        .map(|(t, b)| {
            let envs = common::envelopes(&b, t, 10, |n| 4_000 + n * 25_000);
            (b, envs)
        })
        .collect();
    let receipts: Mutex<HashMap<String, Receipt>> = Mutex::default();
    for (b, envs) in &all {
        upload_all(b, std::slice::from_ref(&url), envs, &receipts);
    }
    let receipts = receipts.into_inner().unwrap();
    assert_eq!(receipts.len(), TABLETS * 10);

    // The standby stops: an envelope is taken in but gets no receipt while it is only on the
    // primary's disk; once the standby is back, its receipt comes.
    let (b0, _) = &all[0];
    let later = common::envelopes(b0, 0, 12, |_| 5_000);
    let mut c = HubClient::new(&url, b0.client_config().unwrap()).unwrap();
    c.timeout = Duration::from_secs(2);
    replica.stop();
    let waiting = keep_trying(&mut c, &later[10], 3);
    assert!(waiting.is_err(), "a receipt came while the standby was down: {waiting:?}");
    replica.restart();
    let r = keep_trying(&mut c, &later[10], 30).expect("the receipt once the standby is back");
    assert_eq!(r.digest, later[10].digest());
    let mut all = all;
    all[0].1.push(later[10].clone());
    let mut receipts = receipts;
    receipts.insert(later[10].application_id().to_string(), r);

    // The primary dies at once (no shutdown, no checkpoint); the standby is promoted.
    primary.kill();
    replica.promote();
    // Every receipted envelope is there.
    let promoted = replica.url(name);
    assert_held_once(&promoted, &all, &receipts);
    // The same hub, not restarted, reads from the promoted server: a tablet asking after a
    // receipted envelope hears it is held.
    let again = keep_trying(&mut c, &later[10], 30).expect("the hub follows the failover");
    assert_eq!(again.digest, later[10].digest());
    // But it takes nothing new: the promoted server has no synchronous standby of its own,
    // and this hub requires one.
    let refused = keep_trying(&mut c, &later[11], 3);
    assert!(refused.as_ref().is_err_and(|e| e.iter().all(|m| m.contains("store"))), "{refused:?}");
    let log = serving.log();
    assert!(log.contains("synchronous_standby_names is empty"), "the hub's log says why: {log}");
}
