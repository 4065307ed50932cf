//! Exactly once through bad coverage: a tablet's vault escrows applications to the hub through
//! a loopback proxy that cuts connections at random byte offsets in either direction (an upload
//! cut mid-chunk, a reply lost after the hub committed), restarts the hub mid-upload, sends the
//! same envelope twice at once and replays stale chunks. After every round the hub must hold
//! each application exactly once, byte-identical, and the tablet must have erased only what
//! has a receipt. `DOORSTEP_SYNC_ROUNDS` sets the number of rounds (200 by default).

// The hub's own test fixtures (an enrolled tablet's bundle, a fake application, the seeded
// dice), shared rather than copied.
#[path = "../../crates/hub/tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_envelope::*;
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::{Records, SledStore};
use doorstep_sync::client::{HubClient, Start};
use doorstep_vault::outbox::OutboxState;
use doorstep_vault::{InitOptions, KdfParams, ReviewSummary, Role, Vault, VaultConfig};

const PIN: &str = "135790";

/// How the next connection through the proxy is cut: after this many bytes up (tablet to
/// hub) and down (hub to tablet), or never.
#[derive(Clone, Copy, Default)]
struct Cut {
    up: Option<u64>,
    down: Option<u64>,
}

struct Proxy {
    addr: SocketAddr,
    /// Percent of connections that are cut.
    rate: Arc<AtomicU64>,
    cuts: Arc<AtomicU64>,
}

impl Proxy {
    fn start(target: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let plan = Arc::new(Mutex::new(common::Dice(seed)));
        let rate = Arc::new(AtomicU64::new(0));
        let cuts = Arc::new(AtomicU64::new(0));
        let (p, r, c) = (plan.clone(), rate.clone(), cuts.clone());
        std::thread::spawn(move || {
            for tablet in listener.incoming().map_while(Result::ok) {
                let cut = {
                    let mut rng = p.lock().unwrap();
                    if rng.below(100) < r.load(Ordering::Relaxed) {
                        c.fetch_add(1, Ordering::Relaxed);
                        // Up: anywhere in a 150 KB upload. Down: in the handshake or a reply.
                        if rng.below(3) == 0 {
                            Cut { up: None, down: Some(rng.below(6_000)) }
                        } else {
                            Cut { up: Some(rng.below(200_000)), down: None }
                        }
                    } else {
                        Cut::default()
                    }
                };
                let Ok(hub) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = (tablet.set_nodelay(true), hub.set_nodelay(true));
                let closed = Arc::new(AtomicBool::new(false));
                for (from, to, budget) in [
                    (tablet.try_clone().unwrap(), hub.try_clone().unwrap(), cut.up),
                    (hub.try_clone().unwrap(), tablet.try_clone().unwrap(), cut.down),
                ] {
                    let closed = closed.clone();
                    std::thread::spawn(move || pump(from, to, budget, &closed));
                }
            }
        });
        Proxy { addr, rate, cuts }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, budget: Option<u64>, closed: &AtomicBool) {
    let mut sent = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = budget.map_or(n as u64, |b| (b.saturating_sub(sent)).min(n as u64)) as usize;
        if to.write_all(&buf[..allowed]).is_err() {
            break;
        }
        sent += allowed as u64;
        if allowed < n {
            // Coverage gone: both ends see the connection die.
            closed.store(true, Ordering::Relaxed);
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

fn record(n: u64) -> ApplicationRecord {
    common::record(
        ApplicationId::new_v7(1_790_000_000_000 + n, [(n % 251) as u8; 10]),
        format!("TEST-{n}"),
        vec![(n % 256) as u8; 150_000],
        "tablet-test",
        "officer-test",
    )
}

fn review(r: &ApplicationRecord) -> ReviewSummary {
    ReviewSummary {
        application_id: r.application_id.to_string(),
        application_numbers: r.application_numbers.clone(),
        summary_json: "{}".into(),
        thumbnail_jpeg: vec![],
        quality_flags: vec![],
    }
}

#[test]
fn each_application_reaches_the_hub_exactly_once_whatever_the_network_does() {
    let rounds: u64 = std::env::var("DOORSTEP_SYNC_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let d = tempfile::tempdir().unwrap();
    let hub = pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0").unwrap();
    let bundle = common::bundle(&hub, "tablet-test", Validity::days(30));
    let mut running = Some(doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap());
    let hub_addr = running.as_ref().unwrap().addr;
    let proxy = Proxy::start(hub_addr, 0x5EED_0001);
    let url = format!("https://localhost:{}", proxy.addr.port());

    let vault_dir = d.path().join("vault");
    Vault::init(
        &vault_dir,
        &InitOptions {
            device_id: "tablet-test",
            bureau: &bundle.bureau_key().unwrap(),
            user: "officer-test",
            role: Role::Officer,
            pin: PIN,
            kdf: KdfParams::INSECURE_TEST,
            max_failures: 10,
            now_unix: 1_790_000_000,
        },
    )
    .unwrap();
    let mut vault =
        Vault::unlock(&vault_dir, "officer-test", PIN, 1_790_000_000, VaultConfig { reserve_bytes: 0 }).unwrap();
    // The unit is provisioned for its hub as seen through the proxy: that bundle is bound.
    let via_proxy = doorstep_sync::bundle::Bundle { hub_url: url.clone(), ..bundle.clone() };
    vault.bind_hub(&via_proxy.anchor_digest(), 1_790_000_000).unwrap();
    // The hub takes envelopes only from officers it has enrolled (SECURITY R24).
    pki::Hub::open(&hub.dir)
        .unwrap()
        .add_officer(&hex::encode(vault.user_public_key().to_bytes()), "officer-test")
        .unwrap();

    let mut rng = common::Dice(0xC0FFEE);
    let mut sent: Vec<(String, Vec<u8>)> = Vec::new();
    let (mut attempts, mut restarts, mut duplicates, mut stale, mut lost_replies) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut restart_time, mut escrow_time, mut seal_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for n in 0..rounds {
        let r = record(n + 1);
        let visit = format!("visit-{n}");
        vault.save_draft(&visit, "form", b"{}").unwrap();
        let t = std::time::Instant::now();
        let entry = vault.seal(&visit, &r, &review(&r), 1_790_000_000).unwrap();
        seal_time += t.elapsed();
        let bytes = vault.envelope_bytes(&entry.application_id).unwrap();
        sent.push((entry.application_id.clone(), bytes.clone()));
        proxy.rate.store(60, Ordering::Relaxed);
        // Coverage comes back: a new connection.
        let mut hub_link = doorstep_sync::escrow::Hub::connect(&mut vault, &via_proxy, 1_790_000_000).unwrap();
        hub_link.client.timeout = Duration::from_secs(10);

        // Now and then the same envelope from a second connection at once (a duplicate).
        let twin = (rng.below(10) == 0).then(|| {
            duplicates += 1;
            let (url, config) = (url.clone(), bundle.client_config().unwrap());
            let id = ApplicationId::parse(&entry.application_id).unwrap();
            let digest: Digest = entry.digest_bytes().unwrap();
            let bytes = bytes.clone();
            std::thread::spawn(move || {
                let mut c = HubClient::new(&url, config).unwrap();
                c.chunk = 16 * 1024;
                // As a tablet that lost count of its attempts: straight in at offset 0, so the
                // hub must answer a stale start with its offset or the receipt.
                for _ in 0..20 {
                    if c.upload(id, &digest, &bytes, Start::New, None, &mut |_, _| {}).is_ok() {
                        break;
                    }
                }
            })
        });
        // Now and then a stale chunk (out of order): the first chunk again at offset 0.
        if rng.below(8) == 0 {
            stale += 1;
            let _ = hub_link.client.request(
                "PATCH",
                &doorstep_sync::wire::envelope_path(&entry.application_id),
                &[
                    (doorstep_sync::wire::UPLOAD_OFFSET, "0".into()),
                    (doorstep_sync::wire::UPLOAD_LENGTH, bytes.len().to_string()),
                    (doorstep_sync::wire::DIGEST, entry.digest.clone()),
                    (doorstep_sync::wire::UPLOAD_CHECKSUM, doorstep_sync::wire::checksum(&bytes[..1000])),
                ],
                &bytes[..1000],
            );
        }
        let twinned = twin.is_some();
        let mut done = false;
        for attempt in 0..100 {
            attempts += 1;
            // Now and then the hub restarts between two tries (mid-upload: part is held).
            if rng.below(15) == 0 {
                restarts += 1;
                let t = std::time::Instant::now();
                drop(running.take());
                running = Some(doorstep_hub::server::start(&hub, &hub_addr.to_string()).unwrap());
                restart_time += t.elapsed();
            }
            if attempt > 40 {
                proxy.rate.store(0, Ordering::Relaxed);
            }
            let t = std::time::Instant::now();
            // The first thing heard of an upload: the hub already holds all of it when the
            // reply carrying the receipt was lost after the hub committed.
            let mut first = true;
            let report = doorstep_sync::escrow::run(
                &mut vault,
                &mut hub_link,
                16 * 1024,
                &|| 1_790_000_000,
                &|| true,
                &mut |_, o, l| {
                    if first && attempt > 0 && o == l && !twinned {
                        lost_replies += 1;
                    }
                    first = false;
                },
            )
            .unwrap();
            escrow_time += t.elapsed();
            for (id, e) in &report.failed {
                assert!(e.is_transient(), "round {n}: {id} refused for good: {e}");
            }
            if report.failed.is_empty() {
                done = true;
                break;
            }
        }
        assert!(done, "round {n}: not uploaded after 100 tries");
        if let Some(t) = twin {
            t.join().unwrap();
        }
    }
    drop(running);

    // The tablet: everything erased, and only with a receipt (the vault refuses otherwise).
    let outbox = vault.outbox().unwrap();
    assert_eq!(outbox.len() as u64, rounds);
    assert!(outbox.iter().all(|e| e.state == OutboxState::Erased), "not all erased");
    assert!(vault.verify().unwrap().problems.is_empty(), "{:?}", vault.verify().unwrap().problems);
    // The hub: each application exactly once, byte-identical.
    let store = SledStore::open(&hub.dir.join("store")).unwrap();
    let received = store.all_received().unwrap();
    assert_eq!(received.len() as u64, rounds, "exactly once");
    for (id, bytes) in &sent {
        let compact = ApplicationId::parse(id).unwrap().to_string();
        assert_eq!(store.envelope(&compact).unwrap().as_deref(), Some(bytes.as_slice()), "{id} byte-identical");
    }
    println!(
        "{rounds} rounds: {attempts} escrow attempts, {} connections cut, {restarts} hub restarts, {lost_replies} \
         receipts lost after the hub committed, {duplicates} duplicate uploads at once, {stale} stale chunks; each application held once, byte-identical \
         (time: escrow {:.1} s, hub restarts {:.1} s, seals {:.1} s)",
        proxy.cuts.load(Ordering::Relaxed),
        escrow_time.as_secs_f64(),
        restart_time.as_secs_f64(),
        seal_time.as_secs_f64()
    );
}
