//! The hub killed (SIGKILL) while tablets upload, again and again: every receipt a tablet got
//! must name an envelope the hub still holds, byte-identical, when it comes back; uploads cut
//! by the kill resume; in the end the hub holds each application exactly once.
//!
//! A SIGKILL loses what the process had not handed to the kernel, not what the kernel had not
//! written to the disk; the order of fsyncs (envelope bytes, then the index) is what this
//! leans on, and the vault's power-cut argument (ARCHITECTURE.md) applies to it the same way.
//! `DOORSTEP_HUB_KILLS` sets the number of kills (25 by default). A hub stopped with SIGTERM
//! (systemd's stop) must instead close cleanly.

mod common;
mod pg;
mod served;
mod stores;

use std::collections::HashMap;
use std::net::TcpListener;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_envelope::{Receipt, SealedEnvelope};
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::{Records, SledStore};
use doorstep_sync::client::{HubClient, Start, SyncError};

const TABLETS: usize = 4;

#[test]
fn a_hub_killed_mid_upload_keeps_every_envelope_it_gave_a_receipt_for() {
    let kills: usize = std::env::var("DOORSTEP_HUB_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(25);
    let seed = 0xC0FF_EE00_u64 + kills as u64;
    // Enough work that every kill lands while uploads are running.
    let per_tablet = (kills * 4).max(100);
    let mut rng = common::Dice(seed);
    let d = tempfile::tempdir().unwrap();
    let (hub, url) = stores::hub_on_free_port(d.path());
    let tablets: Vec<_> = (0..TABLETS)
        .map(|t| {
            let b = common::bundle(&hub, &format!("tablet-{t}"), Validity::days(1));
            common::enroll_officer(&hub, &common::officer_key(t), "officer-test");
            // Sizes from 4 KB to 400 KB, so some go up in several chunks.
            let envs: Vec<SealedEnvelope> = common::envelopes(&b, t, per_tablet, |n| 4_000 + (n % 40) * 10_000);
            (b, envs)
        })
        .collect();
    // Each tablet's envelopes have ids from its own sequence; a receipt once got is kept.
    let receipts: Arc<Mutex<HashMap<String, Receipt>>> = Arc::default();
    let tried: Arc<Mutex<HashMap<String, u32>>> = Arc::default();

    let (mut cycles, mut killed) = (0, 0);
    loop {
        let done = receipts.lock().unwrap().len();
        if done == TABLETS * per_tablet {
            break;
        }
        assert!(cycles <= kills + 1, "after {cycles} cycles only {done} of {} have receipts", TABLETS * per_tablet);
        cycles += 1;
        let mut served = served::Served::start(&hub.dir, "warn");
        let threads: Vec<_> = tablets
            .iter()
            .cloned()
            .map(|(b, envs)| {
                let (url, receipts, tried) = (url.clone(), receipts.clone(), tried.clone());
                std::thread::spawn(move || {
                    let mut c = HubClient::new(&url, b.client_config().unwrap()).unwrap();
                    c.chunk = 64 * 1024;
                    c.timeout = Duration::from_secs(5);
                    let key = b.hub_receipt_key().unwrap();
                    for e in &envs {
                        let id = e.application_id().to_string();
                        if receipts.lock().unwrap().contains_key(&id) {
                            continue;
                        }
                        let start = {
                            let mut t = tried.lock().unwrap();
                            let n = t.entry(id.clone()).or_default();
                            *n += 1;
                            if *n == 1 { Start::New } else { Start::Ask }
                        };
                        match c.upload(
                            e.application_id(),
                            &e.digest(),
                            &e.to_bytes(),
                            start,
                            Some(&key),
                            &mut |_, _| {},
                        ) {
                            Ok(r) => {
                                receipts.lock().unwrap().insert(id, r);
                            }
                            // The hub went away: this tablet waits for the next cycle.
                            Err(SyncError::Connection(_) | SyncError::Protocol(_)) => return,
                            Err(e) => panic!("{id}: {e}"),
                        }
                    }
                })
            })
            .collect();
        let last = killed >= kills;
        if !last {
            std::thread::sleep(Duration::from_millis(3 + rng.below(40)));
            served.child.kill().unwrap();
            killed += 1;
        }
        for t in threads {
            t.join().unwrap();
        }
        if last {
            served.child.kill().unwrap();
        }
        served.child.wait().unwrap();

        // With the hub down, its store as it was left: every receipt names an envelope that is
        // there, whole, as the tablet sent it.
        let store = stores::open(&hub);
        let got = receipts.lock().unwrap().clone();
        for (_, envs) in &tablets {
            for e in envs {
                let id = e.application_id().to_string();
                if got.contains_key(&id) {
                    assert_eq!(
                        store.envelope(&id).unwrap().as_deref(),
                        Some(e.to_bytes().as_slice()),
                        "cycle {cycle}: {id} has a receipt but the hub lost its bytes (seed {seed:#x})",
                        cycle = cycles
                    );
                }
            }
        }
    }
    assert!(killed * 2 >= kills, "only {killed} kills landed mid-upload: the test no longer tests much");
    let store = stores::open(&hub);
    let held = store.all_received().unwrap();
    assert_eq!(held.len(), TABLETS * per_tablet, "each application exactly once");
    for (_, envs) in &tablets {
        for e in envs {
            let id = e.application_id().to_string();
            assert_eq!(store.envelope(&id).unwrap().as_deref(), Some(e.to_bytes().as_slice()), "{id} byte-identical");
        }
    }
    eprintln!(
        "{cycles} hub runs, {killed} killed mid-upload; {} envelopes, each held once (seed {seed:#x})",
        TABLETS * per_tablet
    );
}

#[test]
fn a_hub_stopped_with_sigterm_closes_its_store_and_socket_and_exits_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hub =
        pki::init(&d.path().join("hub"), &["localhost".into()], &format!("127.0.0.1:{port}"), "https://localhost:1")
            .unwrap();
    let served = served::Served::start(&hub.dir, "warn");
    let socket = doorstep_hub::admin::socket_path(&hub.dir);
    assert!(socket.exists());
    let (status, _) = served.stop();
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "the admin socket goes with the hub");
    SledStore::open(&hub.dir.join("store")).expect("the store is free at once");
}

/// A hub whose admin socket file was deleted while it served (by an operator tidying up, or
/// a tmp cleaner) still stops on SIGTERM, at once and cleanly.
#[test]
fn a_hub_whose_admin_socket_file_was_deleted_still_stops_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    let (hub, _) = common::hub_on_free_port(d.path());
    let served = served::Served::start(&hub.dir, "warn");
    let socket = doorstep_hub::admin::socket_path(&hub.dir);
    std::fs::remove_file(&socket).expect("the hub made its admin socket");
    let stopped = served.stop_within(Duration::from_secs(5));
    let (status, log) =
        stopped.unwrap_or_else(|log| panic!("the hub did not stop within 5 s of SIGTERM; it logged: {log}"));
    assert!(status.success(), "{status:?}: {log}");
    assert!(!socket.exists());
    SledStore::open(&hub.dir.join("store")).expect("the store is free at once");
}

/// A stop that comes while the hub is still starting (its store and admin socket made, not yet
/// saying it serves) is a clean stop too, not death by the signal: systemd may stop a unit the
/// moment it started.
#[test]
fn a_hub_stopped_with_sigterm_while_it_starts_exits_cleanly() {
    for round in 0..10 {
        let d = tempfile::tempdir().unwrap();
        let (hub, _) = common::hub_on_free_port(d.path());
        let socket = doorstep_hub::admin::socket_path(&hub.dir);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
            .env("RUST_LOG", "warn")
            .arg("--hub")
            .arg(&hub.dir)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !socket.exists() {
            assert!(started.elapsed() < Duration::from_secs(10), "the hub made no admin socket");
            std::thread::sleep(Duration::from_micros(200));
        }
        let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(term.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "round {round}: {status:?}");
    }
}

/// A stop that comes while the hub opens its store (a long index rebuild, here a store another
/// process holds a moment longer) is acted on once the store is open, before the hub listens:
/// it exits cleanly without ever saying it serves or taking a connection (review 2, N6).
#[test]
fn a_hub_stopped_with_sigterm_while_its_store_opens_exits_without_serving() {
    let d = tempfile::tempdir().unwrap();
    let (hub, _) = common::hub_on_free_port(d.path());
    let held = SledStore::open(&hub.dir.join("store")).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
        .env("RUST_LOG", "warn")
        .arg("--hub")
        .arg(&hub.dir)
        .arg("serve")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The hub has opened the store's journal and waits for the index's lock.
    let journal = hub.dir.join("store").join("journal.log");
    let opening = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == journal))
    };
    let started = std::time::Instant::now();
    while !opening(child.id()) {
        assert!(started.elapsed() < Duration::from_secs(10), "the hub did not open its store");
        std::thread::sleep(Duration::from_millis(1));
    }
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(200));
    drop(held);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{:?}: {stdout} {stderr}", out.status);
    assert!(!stdout.contains("serving"), "the hub said it serves after it was told to stop: {stdout}");
    assert!(stdout.contains("stopped before it served"), "{stdout}");
    assert!(!doorstep_hub::admin::socket_path(&hub.dir).exists(), "no admin socket left");
    SledStore::open(&hub.dir.join("store")).expect("the store is free");
}
