//! The hub stays up under abuse (SECURITY R25): `doorstep-hub serve` as its own process, two
//! thousand TCP connections that send nothing, and then the same with the process's file
//! table full, while an enrolled tablet uploads and gets its receipt. The idle connections
//! are closed by the handshake deadline, and the hub's CPU time (from /proc/PID/stat) stays
//! low while they sit there: it waits, it does not spin.
//!
//! The idle connections come from 127.0.0.2 to 127.0.0.21 (Linux routes all of 127/8 to
//! loopback), 100 from each, so that the per-address cap is what they meet; the tablet comes
//! from 127.0.0.1.

mod common;
mod pg;
mod served;
mod stores;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use doorstep_envelope::SealedEnvelope;
use doorstep_hub::pki::{self, Bundle, Hub, Limits, Validity};
use doorstep_sync::client::{HubClient, Start, SyncError};

const IDLE: usize = 2_000;
const ADDRESSES: u8 = 20;
const HANDSHAKE: f64 = 2.0;

/// CPU seconds (user + system) process `pid` has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// How many of the idle connections the hub has closed so far.
type Closed = std::sync::Arc<std::sync::atomic::AtomicUsize>;

/// `IDLE` connections to `addr` that send nothing, 100 from each of `ADDRESSES` loopback
/// addresses; then, for each, how long after `start` the hub closed it (`None`: still open at
/// `give_up`), and meanwhile how many it has closed. Runs on its own thread with its own runtime.
fn idle_connections(
    addr: SocketAddr,
    give_up: Duration,
) -> (std::sync::mpsc::Receiver<usize>, Closed, std::thread::JoinHandle<Vec<Option<Duration>>>) {
    let (opened_tx, opened) = std::sync::mpsc::channel();
    let closed = Closed::default();
    let counting = closed.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let mut connecting = tokio::task::JoinSet::new();
            for n in 0..IDLE {
                let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (n % ADDRESSES as usize) as u8));
                connecting.spawn(async move {
                    let socket = tokio::net::TcpSocket::new_v4().ok()?;
                    socket.bind(SocketAddr::new(from, 0)).ok()?;
                    tokio::time::timeout(Duration::from_secs(5), socket.connect(addr)).await.ok()?.ok()
                });
            }
            let streams: Vec<_> = connecting.join_all().await.into_iter().flatten().collect();
            let _ = opened_tx.send(streams.len());
            let start = tokio::time::Instant::now();
            let mut watching = tokio::task::JoinSet::new();
            for mut s in streams {
                let counting = counting.clone();
                watching.spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 64];
                    loop {
                        match tokio::time::timeout_at(start + give_up, s.read(&mut buf)).await {
                            Err(_) => return None,
                            Ok(Ok(0) | Err(_)) => {
                                counting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                return Some(start.elapsed());
                            }
                            Ok(Ok(_)) => {}
                        }
                    }
                });
            }
            watching.join_all().await
        })
    });
    (opened, closed, thread)
}

fn hub_with(d: &std::path::Path, limits: Limits) -> (Hub, Bundle, Vec<SealedEnvelope>) {
    let (mut hub, _) = stores::hub_on_free_port(d);
    hub.config.limits = limits;
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&hub.config).unwrap()).unwrap();
    let b = common::bundle(&hub, "tablet-0", Validity::days(1));
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    let envs = common::envelopes(&b, 0, 3, |_| 150_000);
    (pki::Hub::open(&hub.dir).unwrap(), b, envs)
}

fn tablet(b: &Bundle) -> HubClient {
    let mut c = HubClient::new(&b.hub_url, b.client_config().unwrap()).unwrap();
    c.timeout = Duration::from_secs(10);
    c.chunk = 256 * 1024;
    c
}

/// Uploads `e` and returns how long it took to get a verified receipt.
fn upload(c: &mut HubClient, b: &Bundle, e: &SealedEnvelope) -> Duration {
    try_upload(c, b, e).unwrap()
}

/// Uploads `e`: how long it took to get a verified receipt, or why there was none.
fn try_upload(c: &mut HubClient, b: &Bundle, e: &SealedEnvelope) -> Result<Duration, SyncError> {
    let t = Instant::now();
    let key = b.hub_receipt_key().unwrap();
    let r = c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::New, Some(&key), &mut |_, _| {})?;
    assert_eq!(r.application_id, e.application_id());
    Ok(t.elapsed())
}

fn enough_files_here() {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let soft: usize = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l["Max open files".len()..].split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(soft >= 4 * IDLE, "this test opens {IDLE} connections and the hub as many: raise `ulimit -n` to 8192");
}

#[test]
fn two_thousand_idle_connections_neither_lock_out_a_tablet_nor_make_the_hub_spin_r25() {
    enough_files_here();
    let d = tempfile::tempdir().unwrap();
    let limits = Limits { handshake_timeout_secs: HANDSHAKE, max_connections_per_ip: 50, ..Limits::default() };
    let (hub, b, envs) = hub_with(d.path(), limits);
    let served = served::Served::start(&hub.dir, "info");
    let pid = served.pid();
    let addr: SocketAddr = hub.config.listen.parse().unwrap();

    let (opened, _, watching) = idle_connections(addr, Duration::from_secs(10));
    let opened = opened.recv().unwrap();
    // The hub takes 50 from each address (and closes the rest at once).
    let taking = Instant::now();
    while open_files(pid) < 50 * ADDRESSES as usize {
        assert!(taking.elapsed() < Duration::from_secs(5), "the hub did not take the connections");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The idle period: the connections sit there, the hub holds 50 from each address.
    let cpu_before = cpu_seconds(pid);
    let idle_for = Instant::now();
    let held = open_files(pid);
    let took = upload(&mut tablet(&b), &b, &envs[0]);
    std::thread::sleep(Duration::from_secs_f64(HANDSHAKE * 0.6).saturating_sub(idle_for.elapsed()));
    let (cpu, idle) = (cpu_seconds(pid) - cpu_before, idle_for.elapsed());
    let closed = watching.join().unwrap();
    let slowest = closed.iter().flatten().max().copied().unwrap_or_default();
    let at_once = closed.iter().flatten().filter(|t| t.as_secs_f64() < HANDSHAKE / 2.0).count();
    eprintln!(
        "{opened} idle connections opened; the hub held {held} files; a tablet's upload took {:.0} ms; \
         hub CPU {cpu:.3} s over {:.2} s idle (upload included); {at_once} closed at once (per-address cap), \
         the last after {:.2} s",
        took.as_secs_f64() * 1e3,
        idle.as_secs_f64(),
        slowest.as_secs_f64()
    );
    assert_eq!(opened, IDLE, "every connection was accepted by the kernel");
    assert!(closed.iter().all(Option::is_some), "every idle connection is closed by the hub");
    assert!(slowest.as_secs_f64() < HANDSHAKE + 2.0, "closed by the handshake deadline ({slowest:?})");
    assert_eq!(at_once, IDLE - 50 * ADDRESSES as usize, "past 50 from one address, closed at once");
    assert!(took < Duration::from_secs(3), "the tablet got its receipt in {took:?}");
    assert!(cpu < 0.5, "the hub used {cpu:.2} s of CPU while connections sat idle");
    // And it serves on.
    assert!(upload(&mut tablet(&b), &b, &envs[1]) < Duration::from_secs(3));
    let log = served.log();
    assert!(log.contains("per-ip-limit") && log.contains("handshake-timeout"), "{}", &log[..log.len().min(2000)]);
}

/// R25 with the default limits (1,024 connections in all, 128 from one address, a 10-second
/// handshake): 2,000 connections from 20 addresses that never send a ClientHello fill the
/// hub's every place, and an enrolled tablet that connects then is served all the same, well
/// within the idle connections' handshake deadline: it takes the place of a connection that
/// has sent nothing, which the hub closes ("evicted-unauthenticated").
#[test]
fn idle_connections_from_many_addresses_do_not_starve_a_tablet_under_the_default_limits_r25() {
    enough_files_here();
    let d = tempfile::tempdir().unwrap();
    let limits = Limits::default();
    let (handshake, total) = (limits.handshake_timeout_secs, limits.max_connections);
    assert!(IDLE > total && IDLE / (ADDRESSES as usize) <= limits.max_connections_per_ip, "the cap in all is met");
    let (hub, b, envs) = hub_with(d.path(), limits);
    let served = served::Served::start(&hub.dir, "info");
    let pid = served.pid();
    let addr: SocketAddr = hub.config.listen.parse().unwrap();
    let before = open_files(pid);

    let (opened, closed_so_far, watching) = idle_connections(addr, Duration::from_secs_f64(handshake + 4.0));
    let opened = opened.recv().unwrap();
    let flooded = Instant::now();
    // The hub holds as many connections as it may, and has taken in the whole flood: its every
    // place is taken, and the connections past the cap have taken idle ones' places.
    while open_files(pid) < before + total || closed_so_far.load(std::sync::atomic::Ordering::SeqCst) < IDLE - total {
        assert!(flooded.elapsed() < Duration::from_secs(5), "the hub did not fill its places");
        std::thread::sleep(Duration::from_millis(10));
    }
    let held = open_files(pid) - before;
    let cpu_before = cpu_seconds(pid);
    let idle_for = Instant::now();
    let took = try_upload(&mut tablet(&b), &b, &envs[0]);
    let served_after = flooded.elapsed();
    std::thread::sleep(Duration::from_secs(3).saturating_sub(idle_for.elapsed()));
    let (cpu, idle) = (cpu_seconds(pid) - cpu_before, idle_for.elapsed());
    let still_held = open_files(pid).saturating_sub(before);
    let took = took.unwrap_or_else(|e| panic!("the tablet was not served with the hub's places full: {e}"));
    let closed = watching.join().unwrap();
    let slowest = closed.iter().flatten().max().copied().unwrap_or_default();
    let evicted = closed.iter().flatten().filter(|t| t.as_secs_f64() < handshake / 2.0).count();
    eprintln!(
        "{opened} idle connections opened; the hub held {held} connections; a tablet's upload took {:.0} ms, \
         done {:.2} s after the flood; hub CPU {cpu:.3} s over {:.2} s (upload included), then {still_held} held; \
         {evicted} evicted, the last closed after {:.2} s",
        took.as_secs_f64() * 1e3,
        served_after.as_secs_f64(),
        idle.as_secs_f64(),
        slowest.as_secs_f64()
    );
    assert_eq!(opened, IDLE, "every connection was accepted by the kernel");
    assert!(held >= total, "the hub's every place was taken ({held} of {total})");
    assert!(took < Duration::from_secs(3), "the tablet got its receipt in {took:?}");
    assert!(
        served_after.as_secs_f64() < handshake / 2.0,
        "the tablet was served while the idle connections were within their handshake deadline ({served_after:?})"
    );
    assert!(still_held >= total - 10, "the idle connections were still held after the upload ({still_held})");
    assert!(cpu < 0.5, "the hub used {cpu:.2} s of CPU while connections sat idle");
    assert!(closed.iter().all(Option::is_some), "every idle connection is closed by the hub");
    assert!(slowest.as_secs_f64() < handshake + 2.0, "the rest closed by the handshake deadline ({slowest:?})");
    // The flood past the cap took idle ones' places, and the tablet took one more; no more
    // than that was closed early.
    assert!((IDLE - total + 1..=IDLE - total + 4).contains(&evicted), "{evicted} evicted");
    // And it serves on.
    assert!(upload(&mut tablet(&b), &b, &envs[1]) < Duration::from_secs(3));
    let log = served.log();
    assert!(log.contains("evicted-unauthenticated"), "{}", &log[..log.len().min(2000)]);
    assert!(!log.contains("connection-limit"), "nobody was refused: {}", &log[..log.len().min(2000)]);
}

#[test]
fn a_full_file_table_makes_the_hub_wait_not_spin_and_a_connected_tablet_is_served_r25() {
    enough_files_here();
    let d = tempfile::tempdir().unwrap();
    // The caps allow more connections than the file table will hold.
    let limits = Limits { handshake_timeout_secs: HANDSHAKE, max_connections: 10_000, ..Limits::default() };
    let (hub, b, envs) = hub_with(d.path(), limits);
    let served = served::Served::start(&hub.dir, "info");
    let pid = served.pid();
    let addr: SocketAddr = hub.config.listen.parse().unwrap();
    // The tablet is connected (and its first envelope in) before the file table fills.
    let mut connected = tablet(&b);
    upload(&mut connected, &b, &envs[0]);
    // The hub's open-file limit lowered while it runs, under what the connections take.
    let files = 128;
    let status =
        Command::new("prlimit").args(["--pid", &pid.to_string(), &format!("--nofile={files}:{files}")]).status();
    assert!(status.is_ok_and(|s| s.success()), "prlimit (util-linux) lowers the hub's file limit");

    let (opened, _, watching) = idle_connections(addr, Duration::from_secs(8));
    let opened = opened.recv().unwrap();
    // The file table fills as the hub accepts what it can.
    let filling = Instant::now();
    while open_files(pid) < files - 2 {
        assert!(filling.elapsed() < Duration::from_secs(5), "the hub's file table did not fill");
        std::thread::sleep(Duration::from_millis(10));
    }
    let cpu_before = cpu_seconds(pid);
    let idle_for = Instant::now();
    let took = upload(&mut connected, &b, &envs[1]);
    let full = open_files(pid);
    std::thread::sleep(Duration::from_secs(3).saturating_sub(idle_for.elapsed()));
    let (cpu, idle) = (cpu_seconds(pid) - cpu_before, idle_for.elapsed());
    let log = served.log();
    eprintln!(
        "file limit {files}: {opened} connections opened, the hub holds {full} files; the connected tablet's upload \
         took {:.0} ms; hub CPU {cpu:.3} s over {:.2} s",
        took.as_secs_f64() * 1e3,
        idle.as_secs_f64()
    );
    assert!(log.contains("accept failed") && log.contains("Too many open files"), "the file table was full: {log}");
    assert!(full >= files - 2, "the file table was full ({full} of {files})");
    assert!(took < Duration::from_secs(3), "the connected tablet got its receipt in {took:?}");
    assert!(cpu < 0.6, "the hub used {cpu:.2} s of CPU with its file table full: it spins");
    // The idle connections go as their deadlines pass, in turns as descriptors come back.
    let closed = watching.join().unwrap();
    let still_open = closed.iter().filter(|c| c.is_none()).count();
    eprintln!(
        "after 8 s, {} of {opened} idle connections closed by the hub, {still_open} still in its queue",
        opened - still_open
    );
    assert!(opened - still_open >= files, "the hub closed idle connections as their deadline passed");
    drop(served);
}
