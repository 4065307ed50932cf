//! Vault benchmarks, printed as figures (run: `cargo bench -p doorstep-vault`):
//! - sealing and durably storing a 150 KB application, against a plain write + fsync of the
//!   same number of bytes (median, p99, ratio; goal ≤ 2×);
//! - unlocking with Argon2id calibrated on this machine;
//! - re-opening a vault holding 1,000 drafts and 1,000 sealed envelopes.

use std::io::Write;
use std::time::{Duration, Instant};

use doorstep_envelope::*;
use doorstep_vault::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const NOW: i64 = 1_790_000_000;

fn record(n: u64, size: usize) -> ApplicationRecord {
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.resize(size, (n % 251) as u8);
    ApplicationRecord {
        schema_version: SCHEMA_VERSION,
        application_id: ApplicationId::new_v7(1_790_000_000_000 + n, [(n % 251) as u8; 10]),
        application_numbers: vec![format!("BENCH-{n}")],
        form_json: "{}".into(),
        photo_jpeg: photo,
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        other_signatures: Vec::new(),
        capture: CaptureMetadata {
            device_id: "bench".into(),
            officer_id: "officer-bench".into(),
            gnss: None,
            started_at_unix: NOW,
            completed_at_unix: NOW,
            quality: vec![],
        },
    }
}

fn review(r: &ApplicationRecord) -> ReviewSummary {
    ReviewSummary {
        application_id: r.application_id.to_string(),
        application_numbers: vec![],
        summary_json: "{}".into(),
        thumbnail_jpeg: vec![],
        quality_flags: vec![],
    }
}

fn init(dir: &std::path::Path, kdf: KdfParams) {
    let bureau = BureauKeyPair::generate(&mut StdRng::seed_from_u64(1));
    Vault::init(
        dir,
        &InitOptions {
            device_id: "bench",
            bureau: &bureau.public,
            user: "officer-bench",
            role: Role::Officer,
            pin: "123456",
            kdf,
            max_failures: 10,
            now_unix: NOW,
        },
    )
    .expect("init");
}

fn unlock(dir: &std::path::Path) -> Vault {
    Vault::unlock(dir, "officer-bench", "123456", NOW, VaultConfig { reserve_bytes: 0 }).expect("unlock")
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs benches too with no flag: stay quick then.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 200 } else { 5 };
    let tmp = tempfile::tempdir().expect("tempdir");

    // 1. Seal + store vs write + fsync.
    let dir = tmp.path().join("seal");
    init(&dir, KdfParams::INSECURE_TEST);
    let mut v = unlock(&dir);
    let plain_dir = tmp.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    // Interleaved, so both see the same state of the disk.
    let mut seal_times = Vec::new();
    let mut write_times = Vec::new();
    let mut size = 0;
    for n in 0..rounds {
        let r = record(n, 150 * 1024);
        // As in a visit, the steps before the seal were saved as drafts (untimed).
        v.save_draft(&format!("visit-{n}"), "form", b"{}").expect("draft");
        let start = Instant::now();
        let e = v.seal(&format!("visit-{n}"), &r, &review(&r), NOW).expect("seal");
        seal_times.push(start.elapsed());
        size = e.size;
        let bytes = vec![(n % 251) as u8; size as usize];
        let start = Instant::now();
        let mut f = std::fs::File::create(plain_dir.join(format!("{n}.bin"))).unwrap();
        f.write_all(&bytes).unwrap();
        f.sync_all().unwrap();
        write_times.push(start.elapsed());
    }
    let (s50, s99) = (percentile(&mut seal_times, 0.5), percentile(&mut seal_times, 0.99));
    let (w50, w99) = (percentile(&mut write_times, 0.5), percentile(&mut write_times, 0.99));
    println!("seal + durable store of a 150 KB application ({size} bytes sealed), {rounds} rounds:");
    println!("  vault seal      median {}  p99 {}", ms(s50), ms(s99));
    println!("  write + fsync   median {}  p99 {}", ms(w50), ms(w99));
    println!(
        "  ratio           median {:.2}x  p99 {:.2}x  (goal <= 2x)",
        s50.as_secs_f64() / w50.as_secs_f64(),
        s99.as_secs_f64() / w99.as_secs_f64()
    );
    drop(v);

    // 2. Unlock with calibrated Argon2id.
    let (kdf, took) = KdfParams::calibrate(Duration::from_millis(500)).expect("calibrate");
    println!(
        "Argon2id calibrated to {} MiB x {} passes x {} lane: {} per derivation",
        kdf.m_kib / 1024,
        kdf.t,
        kdf.p,
        ms(took)
    );
    let dir = tmp.path().join("unlock");
    init(&dir, kdf);
    let mut unlock_times = Vec::new();
    for _ in 0..if full { 5 } else { 1 } {
        let start = Instant::now();
        drop(unlock(&dir));
        unlock_times.push(start.elapsed());
    }
    println!("unlock (calibrated KDF, empty vault): median {}", ms(percentile(&mut unlock_times, 0.5)));

    // 3. Re-open a full vault.
    let n = if full { 1000 } else { 20 };
    let dir = tmp.path().join("full");
    init(&dir, KdfParams::INSECURE_TEST);
    let mut v = unlock(&dir);
    let draft = vec![0x33u8; 2048];
    for i in 0..n {
        v.save_draft(&format!("open-{i}"), "form", &draft).expect("draft");
        let r = record(10_000 + i, 4096);
        v.seal(&format!("sealed-{i}"), &r, &review(&r), NOW).expect("seal");
    }
    drop(v);
    let mut open_times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let v = unlock(&dir);
        open_times.push(start.elapsed());
        assert_eq!(v.draft_visits().unwrap().len() as u64, n);
        assert_eq!(v.outbox().unwrap().len() as u64, n);
    }
    println!(
        "re-open with {n} drafts and {n} sealed envelopes (fast KDF, so this is the recovery scan): median {}",
        ms(percentile(&mut open_times, 0.5))
    );
}
