//! Hub benchmark (`cargo bench -p doorstep-hub`): 50 simulated tablets at once, each with its
//! own enrolled certificate, upload 150 KB sealed envelopes on loopback to
//! - one `doorstep-hub serve` process on the embedded store,
//! - one on PostgreSQL (a cluster this benchmark starts, `tests/pg`),
//! - two on the same PostgreSQL database (tablets split between them),
//!
//! each with a store of its own. Prints for each: applications per second, MB/s, p50/p99
//! latency per envelope, each hub's peak RSS and CPU, and the database server's CPU; then the
//! same bytes over plain rustls (TLS 1.3, no HTTP, no storage) in the same run, for comparison
//! (goal: one hub on the embedded store ≥ 70 % of it).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/pg/mod.rs"]
mod pg;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_envelope::*;
use doorstep_hub::pki::{self, Bundle, Validity};
use doorstep_sync::client::{HubClient, Start};

const TABLETS: usize = 50;
const SIZE: usize = 150 * 1024;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3
}

trait WaitTimeout {
    fn wait_timeout_secs(&mut self, secs: u64) -> Option<std::process::ExitStatus>;
}

impl WaitTimeout for std::process::Child {
    fn wait_timeout_secs(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if let Ok(Some(s)) = self.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let per_tablet = if full { 20 } else { 1 };
    let d = tempfile::tempdir().unwrap();
    let mut hub =
        pki::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
    let bundles: Vec<Bundle> =
        (0..TABLETS).map(|i| common::bundle(&hub, &format!("bench-{i}"), Validity::days(1))).collect();
    for i in 0..TABLETS {
        common::enroll_officer(&hub, &common::officer_key(i), "officer-test");
    }
    let work: Vec<Vec<SealedEnvelope>> =
        bundles.iter().enumerate().map(|(i, b)| common::envelopes(b, i, per_tablet, |_| SIZE)).collect();
    // As the officers' enrolment left it.
    hub = pki::Hub::open(&hub.dir).unwrap();
    // The same hub (its CA, tablets and officers) in copies of its folder, each with an empty
    // store of its own: the embedded one, then a database for one hub, then one for two.
    let copy = |from: &Path, name: &str| {
        let to = d.path().join(name);
        assert!(Command::new("cp").arg("-a").arg(from).arg(&to).status().unwrap().success());
        to
    };
    let cluster = pg::Cluster::start();
    let on_db = |name: &str| {
        let mut h = pki::Hub::open(&copy(&hub.dir, name)).unwrap();
        h.use_store(&cluster.new_database(), false).unwrap();
        h.dir
    };
    let (one, two) = (on_db("hub-pg"), on_db("hub-pg-a"));
    let two_b = copy(&two, "hub-pg-b");

    let embedded = run("one hub, embedded store", &[hub.dir.clone()], None, &bundles, &work);
    run("one hub, PostgreSQL", &[one], Some(&cluster), &bundles, &work);
    run("two hubs, one PostgreSQL", &[two, two_b], Some(&cluster), &bundles, &work);

    // The same bytes over plain rustls: a sink that reads each envelope and acknowledges it.
    let plain_cpu_before = cpu_seconds(std::process::id());
    let plain_mbs = plain_rustls(&hub, &bundles, &work);
    let plain_cpu = cpu_seconds(std::process::id()).zip(plain_cpu_before).map(|(a, b)| a - b);
    println!(
        "plain rustls, same bytes and connections: {plain_mbs:.1} MB/s, CPU (both ends) {}; one hub on the embedded store moves {:.0} % of it (goal ≥ 70 %)",
        plain_cpu.map_or("unknown".into(), |c| format!("{c:.2} s")),
        100.0 * embedded / plain_mbs
    );
}

/// A hub process, killed when dropped (a benchmark that fails leaves none behind).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `serve` process for the hub in `dir`, on a free port; its URL.
fn serve(dir: &Path) -> (Serving, String) {
    let port = free_port();
    // DOORSTEP_BENCH_WRAP runs the hub under a profiler, e.g. "perf record -g -o perf.data".
    let mut args: Vec<String> =
        std::env::var("DOORSTEP_BENCH_WRAP").unwrap_or_default().split_whitespace().map(String::from).collect();
    args.extend([
        env!("CARGO_BIN_EXE_doorstep-hub").to_string(),
        "--hub".into(),
        dir.display().to_string(),
        "serve".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
    ]);
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("doorstep-hub serve");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("serving"), "{line}");
    (Serving(child), format!("https://localhost:{port}"))
}

/// CPU seconds of a PostgreSQL cluster's processes now alive: the postmaster and its children
/// (the hubs' sessions, the writers).
fn cluster_cpu(cluster: &pg::Cluster) -> Option<f64> {
    let pid: u32 =
        std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).ok()?.lines().next()?.parse().ok()?;
    let mut total = cpu_seconds(pid)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            total += cpu_seconds(child).unwrap_or(0.0);
        }
    }
    Some(total)
}

/// 50 tablets upload their envelopes at once, tablet `i` to hub `i % hubs`; prints the
/// figures and returns the MB/s.
fn run(
    label: &str,
    hubs: &[PathBuf],
    db: Option<&pg::Cluster>,
    bundles: &[Bundle],
    work: &[Vec<SealedEnvelope>],
) -> f64 {
    let total_bytes: usize = work.iter().flatten().map(|e| e.to_bytes().len()).sum();
    let count: usize = work.iter().map(Vec::len).sum();
    let served: Vec<(Serving, String)> = hubs.iter().map(|h| serve(h)).collect();
    let db_cpu_before = db.and_then(cluster_cpu);
    let tablets_cpu_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let threads: Vec<_> = bundles
        .iter()
        .cloned()
        .zip(work.to_vec())
        .enumerate()
        .map(|(i, (b, envs))| {
            let url = served[i % served.len()].1.clone();
            std::thread::spawn(move || {
                let mut c = HubClient::new(&url, b.client_config().unwrap()).unwrap();
                c.chunk = 256 * 1024;
                let key = b.hub_receipt_key().unwrap();
                envs.iter()
                    .map(|e| {
                        let t = Instant::now();
                        c.upload(
                            e.application_id(),
                            &e.digest(),
                            &e.to_bytes(),
                            Start::New,
                            Some(&key),
                            &mut |_, _| {},
                        )
                        .unwrap();
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let wall = started.elapsed().as_secs_f64();
    let tablets_cpu = cpu_seconds(std::process::id()).zip(tablets_cpu_before).map(|(a, b)| a - b);
    let db_cpu = db.and_then(cluster_cpu).zip(db_cpu_before).map(|(a, b)| a - b);
    let mut hub_figures = Vec::new();
    for (mut serving, _) in served {
        let child = &mut serving.0;
        let rss = peak_rss_kib(child.id());
        let cpu = cpu_seconds(child.id());
        hub_figures.push(format!(
            "CPU {}, peak RSS {}",
            cpu.map_or("unknown".into(), |c| format!("{c:.2} s")),
            rss.map_or("unknown".into(), |k| format!("{:.1} MB", k as f64 / 1024.0)),
        ));
        // SIGINT: a profiler wrapping the hub writes its data and ends the hub with it.
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        if child.wait_timeout_secs(10).is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    latencies.sort();
    let mbs = total_bytes as f64 / wall / 1e6;
    println!(
        "{label}: {TABLETS} tablets, {count} envelopes of {} KB ({:.1} MB) in {wall:.2} s: {:.0} applications/s, {mbs:.1} MB/s; \
         latency per envelope p50 {:.1} ms, p99 {:.1} ms; hub {}; PostgreSQL CPU {}; tablets CPU {}",
        total_bytes / count / 1024,
        total_bytes as f64 / 1e6,
        count as f64 / wall,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        hub_figures.join("; hub "),
        db_cpu.map_or("-".into(), |c| format!("{c:.2} s")),
        tablets_cpu.map_or("unknown".into(), |c| format!("{c:.2} s")),
    );
    mbs
}

fn plain_rustls(hub: &pki::Hub, bundles: &[Bundle], work: &[Vec<SealedEnvelope>]) -> f64 {
    let config = Arc::new(doorstep_hub::server::tls_config(hub).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().map_while(Result::ok) {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_nodelay(true);
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut s = rustls::StreamOwned::new(conn, tcp);
                let mut len = [0u8; 8];
                let mut buf = Vec::new();
                while s.read_exact(&mut len).is_ok() {
                    buf.resize(u64::from_le_bytes(len) as usize, 0);
                    if s.read_exact(&mut buf).is_err() || s.write_all(&[1]).and_then(|_| s.flush()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let total: usize = work.iter().flatten().map(|e| e.to_bytes().len()).sum();
    let started = Instant::now();
    let threads: Vec<_> = bundles
        .iter()
        .cloned()
        .zip(work.to_vec())
        .map(|(b, envs)| {
            std::thread::spawn(move || {
                let config = Arc::new(b.client_config().unwrap());
                let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let _ = tcp.set_nodelay(true);
                let conn = rustls::ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
                let mut s = rustls::StreamOwned::new(conn, tcp);
                for e in envs {
                    let bytes = e.to_bytes();
                    let mut msg = (bytes.len() as u64).to_le_bytes().to_vec();
                    msg.extend_from_slice(&bytes);
                    s.write_all(&msg).unwrap();
                    s.flush().unwrap();
                    let mut ack = [0u8; 1];
                    s.read_exact(&mut ack).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64() / 1e6
}
