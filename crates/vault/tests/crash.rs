//! Crash harness: a child process writes drafts and seals applications, printing each one
//! only after the vault said it was durable; the parent kills it with SIGKILL at a random
//! moment, reopens the vault, and checks that everything acknowledged is there, every record
//! verifies, and the vault opens. `DOORSTEP_CRASH_CYCLES` sets the number of cycles (200 by
//! default; run thousands before a release).
//!
//! This is a `harness = false` test: the same binary is the parent and, with
//! `DOORSTEP_CRASH_CHILD` set, the child.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use doorstep_envelope::SealedEnvelope;
use sha2::{Digest, Sha256};

fn draft_bytes(cycle: u64, n: u64) -> Vec<u8> {
    let mut b = format!("cycle {cycle} draft {n} ").into_bytes();
    b.resize(200 + (n as usize % 7) * 300, b'x');
    b
}

fn child(dir: &Path, cycle: u64) {
    let mut v = unlock(dir);
    println!("READY");
    for n in 0.. {
        let visit = format!("c{cycle}-v{n}");
        let bytes = draft_bytes(cycle, n);
        v.save_draft(&visit, "form", &bytes).expect("save draft");
        println!("DRAFT {visit} {}", hex::encode(Sha256::digest(&bytes)));
        if n % 3 == 2 {
            let r = record(cycle * 10_000 + n, 4000);
            let e = v.seal(&visit, &r, &review(&r), NOW).expect("seal");
            println!("SEALED {visit} {} {}", e.application_id, e.digest);
        }
    }
}

fn main() {
    if let Ok(spec) = std::env::var("DOORSTEP_CRASH_CHILD") {
        let (dir, cycle) = spec.split_once('|').expect("dir|cycle");
        child(Path::new(dir), cycle.parse().expect("cycle"));
        return;
    }
    // Speak libtest's summary line either way, so a failure is counted like any other test's.
    if std::panic::catch_unwind(parent).is_err() {
        println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        std::process::exit(101);
    }
}

fn parent() {
    let cycles: u64 = std::env::var("DOORSTEP_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let mut tmp = tempfile::tempdir().expect("tempdir");
    let mut total_sealed = 0;
    let exe = std::env::current_exe().expect("current exe");
    // Drafts acknowledged and not yet sealed, and applications acknowledged as sealed.
    let mut drafts: BTreeMap<String, String> = BTreeMap::new();
    let mut sealed: BTreeMap<String, String> = BTreeMap::new();
    let mut rng_state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next_rand = || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let started = Instant::now();
    let mut interrupted = 0;
    for cycle in 0..cycles {
        // A fresh vault every 50 cycles: each reopen verifies everything, and a vault holding
        // every seal of the run would make the run quadratic.
        if cycle % 50 == 0 {
            total_sealed += sealed.len();
            sealed.clear();
            drafts.clear();
            tmp = tempfile::tempdir().expect("tempdir");
            init(tmp.path());
        }
        let dir = tmp.path();
        let mut child = Command::new(&exe)
            .env("DOORSTEP_CRASH_CHILD", format!("{}|{cycle}", dir.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill at a random moment: on even cycles counted from the start (often during unlock
        // and recovery), on odd ones from the moment the child starts writing.
        let mut early = Vec::new();
        if cycle % 2 == 1 {
            while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
                let ready = line == "READY";
                early.push(line);
                if ready {
                    break;
                }
            }
        }
        let delay = Duration::from_millis(next_rand() % if cycle % 2 == 1 { 40 } else { 120 });
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        reader.join().expect("reader");
        for line in early.into_iter().chain(rx.try_iter()) {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["DRAFT", visit, hash] => {
                    drafts.insert(visit.to_string(), hash.to_string());
                }
                ["SEALED", visit, id, digest] => {
                    drafts.remove(*visit);
                    sealed.insert(id.to_string(), digest.to_string());
                }
                _ => {}
            }
        }
        // Reopen as the next shift would, and check every acknowledgement.
        let v = unlock(dir);
        interrupted += v.recovery().interrupted_seals;
        let entries = v.outbox().expect("outbox");
        let outbox: BTreeMap<String, String> =
            entries.iter().map(|e| (e.application_id.clone(), e.digest.clone())).collect();
        let sealed_visits: BTreeSet<&str> = entries.iter().map(|e| e.visit_id.as_str()).collect();
        for (id, digest) in &sealed {
            assert_eq!(outbox.get(id), Some(digest), "cycle {cycle}: sealed {id} lost or changed");
            let env = SealedEnvelope::from_bytes(&v.envelope_bytes(id).expect("envelope file")).expect("parses");
            env.verify_self_signed().expect("verifies");
        }
        let visits: BTreeSet<String> = v.draft_visits().expect("drafts").into_iter().collect();
        for (visit, hash) in &drafts {
            // Killed while sealing, after the envelope was written: the draft became an envelope.
            if !visits.contains(visit) && sealed_visits.contains(visit.as_str()) {
                continue;
            }
            assert!(visits.contains(visit), "cycle {cycle}: draft {visit} lost");
            let bytes = v.load_draft(visit, "form").expect("load").expect("present");
            assert_eq!(&hex::encode(Sha256::digest(bytes.as_slice())), hash, "cycle {cycle}: draft {visit} changed");
        }
        let report = v.verify().expect("verify");
        assert!(report.problems.is_empty(), "cycle {cycle}: {:?}", report.problems);
        // Keep the vault small: forget the drafts checked so far.
        for visit in std::mem::take(&mut drafts).keys() {
            v.erase_draft(visit).expect("erase");
        }
    }
    println!(
        "crash harness: {cycles} SIGKILL cycles, {} sealed and every acknowledged draft recovered \
         ({interrupted} seals cut short mid-write were undone), in {:.1} s",
        total_sealed + sealed.len(),
        started.elapsed().as_secs_f64()
    );
    println!("test result: ok. {cycles} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
