//! `doorstep provision` and `doorstep sync` against a real hub on loopback (mutual TLS, sled),
//! with a vault made by `doorstep vault init` and applications sealed into it. End to end:
//! provision, seal, upload, the supervisor's manifest, and the back office's export through the
//! serving hub, where the opened application equals the one captured.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use doorstep_envelope::{ApplicationId, ApplicationRecord, CaptureMetadata};
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::{Records, Status};
use doorstep_vault::outbox::OutboxState;
use doorstep_vault::{ReviewSummary, Vault, VaultConfig};

pub(crate) const PIN: &str = "246810";

pub(crate) fn doorstep(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(args)
        .env_remove("DOORSTEP_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run doorstep");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Application `n` as captured: an obviously fake person.
pub(crate) fn captured(n: u64) -> ApplicationRecord {
    let now = 1_790_000_000;
    let id = ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10]);
    ApplicationRecord {
        schema_version: doorstep_envelope::SCHEMA_VERSION,
        application_id: id,
        application_numbers: vec![format!("TEST-{n}")],
        form_json: r#"{"name":"测试"}"#.into(),
        photo_jpeg: vec![0x42; 120_000],
        fingerprints: vec![],
        signature_png: vec![],
        consent_json: "{}".into(),
        other_signatures: Vec::new(),
        capture: CaptureMetadata {
            device_id: "tablet-test".into(),
            officer_id: "officer-test".into(),
            gnss: None,
            started_at_unix: now,
            completed_at_unix: now + 600,
            quality: vec![],
        },
    }
}

pub(crate) fn seal_one(dir: &Path, n: u64) -> String {
    seal_as(dir, "officer-test", PIN, n)
}

/// Seals application `n` as `user` (whose PIN is `pin`), signed with that user's key.
pub(crate) fn seal_as(dir: &Path, user: &str, pin: &str, n: u64) -> String {
    let now = 1_790_000_000;
    let mut v = Vault::unlock(dir, user, pin, now, VaultConfig { reserve_bytes: 0 }).unwrap();
    let record = captured(n);
    let id = record.application_id;
    let review = ReviewSummary {
        application_id: id.to_string(),
        application_numbers: record.application_numbers.clone(),
        summary_json: "{}".into(),
        thumbnail_jpeg: vec![],
        quality_flags: vec![],
    };
    let visit = format!("visit-{n}");
    v.save_draft(&visit, "form", b"{}").unwrap();
    v.seal(&visit, &record, &review, now).unwrap().application_id
}

/// Uploads application `id` from the vault at `dir` to its hub and keeps the hub's receipt,
/// without the erase that follows in a sync (as if the unit stopped there); returns its
/// file's name.
pub(crate) fn upload_without_erase(dir: &Path, id: &str) -> String {
    let mut vt = unlocked(dir);
    let bundle = std::fs::read_to_string(dir.join("hub-bundle.toml")).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&bundle).unwrap();
    let mut link = doorstep_sync::escrow::Hub::connect(&mut vt, &bundle, 1_790_000_000).unwrap();
    let e = vt.outbox().unwrap().into_iter().find(|e| e.application_id == id).unwrap();
    let bytes = vt.envelope_bytes(id).unwrap();
    let (app, digest) = (ApplicationId::parse(id).unwrap(), e.digest_bytes().unwrap());
    let key = bundle.hub_receipt_key().unwrap();
    let start = doorstep_sync::client::Start::New;
    let receipt = link.client.upload(app, &digest, &bytes, start, Some(&key), &mut |_, _| {}).unwrap();
    vt.acknowledge(id, &receipt.to_bytes(), Some(&key), 1_790_000_000).unwrap();
    e.file
}

/// The officer's vault at `dir`, unlocked (the tests' clock), once a unit that had it open in
/// this process has let it go (its draft writer finishes its queue first, slower under load).
pub(crate) fn unlocked(dir: &Path) -> Vault {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match Vault::unlock(dir, "officer-test", PIN, 1_790_000_000, VaultConfig { reserve_bytes: 0 }) {
            Err(doorstep_vault::VaultError::Busy { .. }) if std::time::Instant::now() < until => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            other => return other.unwrap(),
        }
    }
}

fn states(dir: &Path) -> Vec<(String, OutboxState)> {
    states_full(dir).into_iter().map(|e| (e.application_id, e.state)).collect()
}

fn states_full(dir: &Path) -> Vec<doorstep_vault::OutboxEntry> {
    unlocked(dir).outbox().unwrap()
}

/// A hub and this unit's vault (officer-test, made by `doorstep vault init` with the hub's
/// bureau key) in `tmp`.
pub(crate) fn hub_and_vault(tmp: &Path) -> (pki::Hub, std::path::PathBuf) {
    hub_and_vault_as(tmp, "tablet-test")
}

/// The same, for the device `device`.
pub(crate) fn hub_and_vault_as(tmp: &Path, device: &str) -> (pki::Hub, std::path::PathBuf) {
    let mut hub = pki::init(&tmp.join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
    // A demo unit's hub is a demo hub: any other refuses it.
    if doorstep_envelope::DeviceId::is_demo(device) {
        hub.make_demo().unwrap();
    }
    let vault = tmp.join("vault");
    let bureau = hub.dir.join("bureau.pub");
    let out = doorstep(
        &[
            "vault",
            "init",
            "--vault",
            vault.to_str().unwrap(),
            "--user",
            "officer-test",
            "--device-id",
            device,
            "--bureau-key",
            bureau.to_str().unwrap(),
            "--pin-stdin",
            "--insecure-fast-kdf",
        ],
        &format!("{PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    // The hub takes envelopes only from officers it has enrolled (SECURITY R24): init prints
    // the line to run there, with the officer's key.
    let officer = unlocked(&vault).user_public_key();
    let key = hex::encode(officer.to_bytes());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("at the hub: doorstep-hub add-officer {key} --id officer-test\n")), "{stdout}");
    hub.add_officer(&key, "officer-test").unwrap();
    (hub, vault)
}

/// Enrols `supervisor-test` (PIN 975310) on the unit's vault at `v`; returns the key to give
/// the hub, as `vault add-user` prints it.
pub(crate) fn add_supervisor(v: &str) -> String {
    add_user(v, "supervisor-test", "supervisor", ("officer-test", PIN), "975310")
}

/// Enrols a second officer `user` with `pin` on the unit's vault at `v`, as `supervisor-test`
/// (only a supervisor enrols users once there is one: `add_supervisor` first); returns the key
/// to give the hub, as `vault add-user` prints it.
pub(crate) fn add_officer(v: &str, user: &str, pin: &str) -> String {
    add_user(v, user, "officer", ("supervisor-test", "975310"), pin)
}

/// `doorstep batch` by `supervisor-test` on the vault at `v`, with `extra` arguments.
fn batch(v: &str, extra: &[&str]) -> Output {
    let mut args = vec!["batch", "--vault", v, "--user", "supervisor-test", "--pin-stdin"];
    args.extend_from_slice(extra);
    doorstep(&args, "975310\n")
}

/// `doorstep vault add-user USER --role ROLE --as BY` with `pin` for the new user; the key it
/// prints for the hub.
pub(crate) fn add_user(v: &str, user: &str, role: &str, (by, by_pin): (&str, &str), pin: &str) -> String {
    let out = doorstep(
        &["vault", "add-user", user, "--role", role, "--vault", v, "--as", by, "--pin-stdin", "--insecure-fast-kdf"],
        &format!("{by_pin}\n{pin}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    let line = said.split(&format!("doorstep-hub add-{role} ")).nth(1).expect("the key to give the hub");
    line.split_whitespace().next().unwrap_or_default().to_string()
}

/// A demo hub serving on a free port, and the demo unit `device`'s vault in `tmp`, enrolled and
/// provisioned for it.
pub(crate) fn served_unit(tmp: &Path, device: &str) -> (doorstep_hub::server::Running, pki::Hub, std::path::PathBuf) {
    let (hub, vault) = hub_and_vault_as(tmp, device);
    let (running, hub) = serve(hub);
    let bundle = hub.enroll(device, Validity::days(30)).unwrap();
    let v = vault.to_str().unwrap();
    let out = doorstep(
        &["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()],
        &format!("{PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    (running, hub, vault)
}

/// Serves the hub on a free port and points its URL there, so bundles enrolled from now on
/// reach it.
pub(crate) fn serve(hub: pki::Hub) -> (doorstep_hub::server::Running, pki::Hub) {
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut config = hub.config.clone();
    config.url = format!("https://localhost:{}", running.addr.port());
    std::fs::write(hub.dir.join("hub.toml"), toml::to_string(&config).unwrap()).unwrap();
    (running, pki::Hub::open(&hub.dir).unwrap())
}

#[test]
fn provision_then_sync_uploads_and_erases_only_with_a_receipt() {
    let tmp = tempfile_dir("sync");
    let (hub, vault) = hub_and_vault(&tmp);
    let v = vault.to_str().unwrap();
    let first = seal_one(&vault, 1);
    let second = seal_one(&vault, 2);

    // Not provisioned yet.
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("not provisioned"), "{}", text(&out));

    let (running, hub) = serve(hub);
    // A bundle for another tablet is refused.
    let other = hub.enroll("tablet-other", Validity::days(30)).unwrap();
    let out = doorstep(&["provision", "--vault", v, other.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("this bundle is for tablet-other"), "{}", text(&out));
    let bundle = hub.enroll("tablet-test", Validity::days(30)).unwrap();
    // Wrong PIN: nothing installed.
    let provision = ["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()];
    assert_eq!(doorstep(&provision, "000000\n").status.code(), Some(1));
    assert!(!Path::new(v).join("hub-bundle.toml").exists());
    let out = doorstep(&provision, &format!("{PIN}\n"));
    assert!(out.status.success(), "{}", text(&out));
    // The unit keeps the bundle without its TLS key, which is sealed in the vault.
    let kept = std::fs::read_to_string(Path::new(v).join("hub-bundle.toml")).unwrap();
    assert!(!kept.contains("PRIVATE KEY") && kept.contains("CERTIFICATE"), "{kept}");
    let sealed = std::fs::read(Path::new(v).join("secret-hub-tls-key.sealed")).unwrap();
    assert!(!sealed.windows(11).any(|w| w == b"PRIVATE KEY"));
    // The installed copy cannot provision another unit.
    let copy = ["provision", "--vault", v, "--user", "officer-test", "--pin-stdin"];
    let kept_path = Path::new(v).join("hub-bundle.toml");
    let out = doorstep(&[&copy[..], &[kept_path.to_str().unwrap()]].concat(), &format!("{PIN}\n"));
    assert!(!out.status.success() && text(&out).contains("no TLS key"), "{}", text(&out));

    // R26: the installed bundle edited without the PIN (another hub's address) is refused
    // before anything is sent, and everything stays sealed.
    let kept_text = std::fs::read_to_string(&kept_path).unwrap();
    let url_line = kept_text.lines().find(|l| l.starts_with("hub_url")).unwrap().to_string();
    std::fs::write(&kept_path, kept_text.replace(&url_line, "hub_url = \"https://localhost:1\"")).unwrap();
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(!out.status.success() && text(&out).contains("hub bundle was changed"), "{}", text(&out));
    assert!(states(&vault).iter().all(|(_, st)| *st == OutboxState::Sealed));
    // Another enrolled tablet's bundle, key and all, put in its place: refused the same way
    // (the certificate is bound too), and the key sealed in the vault is not replaced.
    let sealed_key = std::fs::read(Path::new(v).join("secret-hub-tls-key.sealed")).unwrap();
    std::fs::copy(&other, &kept_path).unwrap();
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(!out.status.success() && text(&out).contains("hub bundle was changed"), "{}", text(&out));
    assert_eq!(std::fs::read(Path::new(v).join("secret-hub-tls-key.sealed")).unwrap(), sealed_key);
    std::fs::write(&kept_path, kept_text).unwrap();

    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("uploaded and erased 2"), "{}", text(&out));
    let s = states(&vault);
    assert!(s.iter().any(|(id, st)| id == &first && *st == OutboxState::Erased), "{s:?}");
    assert!(s.iter().any(|(id, st)| id == &second && *st == OutboxState::Erased), "{s:?}");

    // The back office rejects one: the next sync tells the officer to revisit, with the reason.
    let port = running.addr.port();
    drop(running);
    {
        use doorstep_hub::store::SledStore;
        let store = SledStore::open(&hub.dir.join("store")).unwrap();
        let compact = ApplicationId::parse(&first).unwrap().to_string();
        store.set_status(&compact, &Status::Rejected { reason: "照片背景不合格".into() }).unwrap();
    }
    let running = doorstep_hub::server::start(&hub, &format!("127.0.0.1:{port}")).unwrap();
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("revisit:") && text(&out).contains("照片背景不合格"), "{}", text(&out));
    // Told once: the vault keeps the settled answer and the hub is not asked again.
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(out.status.success() && !text(&out).contains("revisit:"), "{}", text(&out));
    assert!(states_full(&vault).iter().any(|e| e.application_id == first && e.settled), "the verdict is kept");

    // The hub goes away: the next one stays sealed, with a reason, and nothing is erased.
    let third = seal_one(&vault, 3);
    drop(running);
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("connection to the hub"), "{}", text(&out));
    assert!(states(&vault).iter().any(|(id, st)| id == &third && *st == OutboxState::Sealed));

    // Revoked: refused by name, still sealed.
    let running = doorstep_hub::server::start(&hub, &format!("127.0.0.1:{port}")).unwrap();
    hub.revoke("tablet-test").unwrap();
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("revoked"), "{}", text(&out));
    assert!(states(&vault).iter().any(|(id, st)| id == &third && *st == OutboxState::Sealed));
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

pub(crate) fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("doorstep-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_supervisor_releases_the_shift_in_one_signed_batch() {
    let tmp = tempfile_dir("batch");
    let (hub, vault) = hub_and_vault(&tmp);
    let v = vault.to_str().unwrap();
    let enrolled_key = add_supervisor(v);
    let approved = seal_one(&vault, 21);
    let returned = seal_one(&vault, 22);
    let (running, mut hub) = serve(hub);
    let bundle = hub.enroll("tablet-test", Validity::days(30)).unwrap();
    let provision = ["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()];
    assert!(doorstep(&provision, &format!("{PIN}\n")).status.success());
    let batch = |extra: &[&str]| batch(v, extra);
    let reason = format!("{returned}=照片背景不合格");
    // The hub does not know this supervisor yet: told how to fix it, nothing released.
    let out = batch(&["--return", &reason]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    let key = said.split("doorstep-hub add-supervisor ").nth(1).expect(&said).trim().to_string();
    assert_eq!(key, enrolled_key);
    hub.add_supervisor(&key).unwrap();

    let out = batch(&["--return", &reason]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 approved, 1 returned"), "{}", text(&out));
    assert!(text(&out).contains("signed receipt for all 2 is verified"), "{}", text(&out));
    let kept = std::fs::read_dir(vault.join("receipts"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("batch-"));
    assert!(kept, "the batch receipt is kept in the vault");
    let verify =
        doorstep(&["vault", "verify", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&out).contains(&format!("approved  {approved}")), "{}", text(&out));
    let again = batch(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).contains("nothing to decide"), "{}", text(&again));
    // The officer hears of the returned one on the next sync.
    let out = doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    assert!(
        text(&out).contains(&format!("revisit: {returned}")) && text(&out).contains("照片背景不合格"),
        "{}",
        text(&out)
    );

    // The back office, while the hub serves: the approved application opens with the bureau's
    // key to exactly what was captured, and the export folder holds it; the returned one is
    // not released.
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");
    let key = std::fs::read_to_string(pki::bureau_dir(&hub.dir).join("bureau.key")).unwrap();
    let secret = doorstep_envelope::BureauSecretKey::from_bytes(&hex::decode(key.trim()).unwrap()).unwrap();
    let compact = ApplicationId::parse(&approved).unwrap();
    let bytes = records.envelope(&compact.to_string()).unwrap().expect("the approved envelope at the hub");
    let envelope = doorstep_envelope::SealedEnvelope::from_bytes(&bytes).unwrap();
    let opened = doorstep_envelope::open(&envelope, &secret, Some(compact)).unwrap();
    assert_eq!(opened, captured(21), "the application the back office opens is the one captured");
    let out_dir = tmp.join("export");
    assert_eq!(doorstep_hub::export::approved(&records, &secret, &out_dir).unwrap(), 1);
    let folder = out_dir.join(compact.to_string());
    assert_eq!(std::fs::read(folder.join("photo.jpg")).unwrap(), captured(21).photo_jpeg);
    let form: serde_json::Value = serde_json::from_slice(&std::fs::read(folder.join("form.json")).unwrap()).unwrap();
    assert_eq!(form["form"]["name"], "测试");
    assert_eq!(form["application_numbers"][0], "TEST-21");
    assert_eq!(form["sealed_by"], "officer-test", "the officer its key is enrolled for");
    assert!(!out_dir.join(ApplicationId::parse(&returned).unwrap().to_string()).exists());
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An application the hub took whose file cannot be read when the sync would erase it (an I/O
/// error; a folder in its place stands in for a failing card): nothing of it is erased, the
/// sync goes on with the rest and says so, and the next sync erases it once it reads.
#[test]
fn a_file_that_cannot_be_erased_now_is_left_for_the_next_sync() {
    let tmp = tempfile_dir("not-erased");
    let (running, _hub, vault) = served_unit(&tmp, crate::visit::DEVICE);
    let v = vault.to_str().unwrap();
    let taken = seal_one(&vault, 61);
    let file = upload_without_erase(&vault, &taken);
    let path = vault.join("envelopes").join(&file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let other = seal_one(&vault, 62);
    let sync = || doorstep(&["sync", "--vault", v, "--user", "officer-test", "--pin-stdin"], &format!("{PIN}\n"));
    let out = sync();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{taken}: at the hub, but its file on this unit could not be erased now")),
        "{}",
        text(&out)
    );
    let state = |id: &str| states(&vault).into_iter().find(|(i, _)| i == id).map(|(_, s)| s);
    assert_eq!((state(&taken), state(&other)), (Some(OutboxState::Acknowledged), Some(OutboxState::Erased)));
    assert!(path.is_dir(), "nothing of it erased");
    // It reads again: the next sync erases it, its summary kept for the supervisor.
    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let out = sync();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(state(&taken), Some(OutboxState::Erased));
    assert!(!path.exists());
    let vt = unlocked(&vault);
    assert_eq!(vt.review(&taken).unwrap().map(|r| r.application_numbers), Some(vec!["TEST-61".to_string()]));
    drop(vt);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `doorstep batch --hold ID`: an application the hub refuses (its officer is not enrolled
/// there) is named with the hub's reason, and held back the rest is released; it stays sealed
/// on the unit and goes in the next batch once the hub enrols the officer. Holding what cannot
/// be held is refused, and nothing is released.
#[test]
fn a_held_application_waits_for_the_next_batch() {
    let tmp = tempfile_dir("hold-cli");
    let (running, hub, vault) = served_unit(&tmp, "tablet-test");
    let v = vault.to_str().unwrap();
    pki::Hub::open(&hub.dir).unwrap().add_supervisor(&add_supervisor(v)).unwrap();
    let other = add_officer(v, "officer-two", "135791");
    let first = seal_one(&vault, 51);
    let refused = seal_as(&vault, "officer-two", "135791", 52);
    let last = seal_one(&vault, 53);
    let refused_too = seal_as(&vault, "officer-two", "135791", 54);
    let batch = |extra: &[&str]| batch(v, extra);
    let records = doorstep_hub::admin::AdminClient::connect(&hub.dir).expect("the admin socket");
    let compact = |id: &str| ApplicationId::parse(id).unwrap().to_string();

    // Nothing held: the refusal is named, with what to do, and nothing is released.
    let out = batch(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    for id in [&refused, &refused_too] {
        assert!(said.contains(&format!("{id}: the hub refused (422 officer-key)")), "{said}");
    }
    assert!(said.contains(&format!("doorstep-hub add-officer {other} --id officer-two)")), "{said}");
    assert!(said.contains("--hold ID"), "{said}");

    // What cannot be held is refused before anything is sent.
    let both = format!("{refused}=照片背景不合格");
    let cases: [(&[&str], &str); 3] = [
        (&["--hold", &refused, "--return", &both], "is both held for the next batch and returned"),
        (
            &["--hold", "01a0c450-0000-7000-8000-000000000000"],
            "no application waiting on this unit has this id or number",
        ),
        (&["--hold", &refused, "--hold", &first, "--hold", &last, "--hold", &refused_too], "nothing to decide"),
    ];
    for (args, error) in cases {
        let out = batch(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(error), "{args:?}: {}", text(&out));
        assert!(unlocked(&vault).batch_receipts().unwrap().is_empty(), "{args:?} released nothing");
    }

    // One held, the other refused one still holds the release up: only that one is named.
    let out = batch(&["--hold", &refused]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains(&format!("{refused_too}: the hub refused (422 officer-key)")), "{said}");
    assert!(!said.contains(&format!("{refused}:")), "the held one holds nothing up: {said}");
    assert!(unlocked(&vault).batch_receipts().unwrap().is_empty(), "nothing released");

    // Both held (one named without its dashes, in capitals, and twice), the rest is released.
    let spelt = refused.replace('-', "").to_uppercase();
    let out = batch(&["--hold", &spelt, "--hold", &refused, "--hold", &refused_too]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("2 approved, 0 returned"), "{said}");
    assert_eq!(said.matches("held      ").count(), 2, "each named once: {said}");
    assert!(matches!(records.status(&compact(&first)).unwrap(), Some(Status::Approved { .. })));
    assert!(matches!(records.status(&compact(&last)).unwrap(), Some(Status::Approved { .. })));
    assert_eq!(records.status(&compact(&refused)).unwrap(), None, "never at the hub");
    assert_eq!(records.status(&compact(&refused_too)).unwrap(), None, "never at the hub");
    let left = states(&vault).into_iter().find(|(id, _)| *id == refused).expect("still on the unit");
    assert_eq!(left.1, OutboxState::Sealed);

    // The hub enrols the officer: the next batch takes it, at once after the last.
    let mut pki = pki::Hub::open(&hub.dir).unwrap();
    pki.add_officer(&other, "officer-two").unwrap();
    let out = batch(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 approved, 0 returned"), "{}", text(&out));
    assert!(matches!(records.status(&compact(&refused)).unwrap(), Some(Status::Approved { .. })));
    assert!(matches!(records.status(&compact(&refused_too)).unwrap(), Some(Status::Approved { .. })));
    assert_eq!(unlocked(&vault).batch_receipts().unwrap().len(), 2, "two batches");
    drop(records);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// SECURITY R12: a sync asked to stop (the unit locked) stops between two envelopes: the one
/// in hand goes whole, the rest stay sealed on the unit for the next sync.
#[test]
fn a_sync_asked_to_stop_leaves_the_rest_sealed() {
    let tmp = tempfile_dir("cut-short");
    let (running, _hub, vault) = served_unit(&tmp, crate::visit::DEVICE);
    for n in [71, 72, 73] {
        seal_one(&vault, n);
    }
    let mut vt = unlocked(&vault);
    let bundle = std::fs::read_to_string(vault.join("hub-bundle.toml")).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&bundle).unwrap();
    let mut link = doorstep_sync::escrow::Hub::connect(&mut vt, &bundle, 1_790_000_000).unwrap();
    // The session ends after the first envelope.
    let asked = std::cell::Cell::new(0);
    let go_on = || {
        asked.set(asked.get() + 1);
        asked.get() == 1
    };
    let report =
        doorstep_sync::escrow::run(&mut vt, &mut link, 64 * 1024, &|| 1_790_000_000, &go_on, &mut |_, _, _| {})
            .unwrap();
    assert!(report.cut_short);
    assert_eq!(report.uploaded.len(), 1, "{:?}", report.uploaded);
    let sealed = vt.outbox().unwrap().into_iter().filter(|e| e.state == OutboxState::Sealed).count();
    assert_eq!(sealed, 2, "the rest wait on the unit");
    drop(vt);
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
