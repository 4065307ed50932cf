//! Files and folders of the hub are its owner's only from their creation: every folder 0700,
//! every file 0600 (keys, bundles, settings, the store's segments, journal and index folder,
//! the admin socket, and what `export` writes, which is personal data).

mod common;
mod pg;
mod stores;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use doorstep_hub::pki::{self, Validity};
use doorstep_sync::client::{HubClient, Start};

/// Every folder and file under `root`, with its mode. sled's own files inside the index's
/// folder are left out: sled makes them with the process's umask (they are tightened at open,
/// and their folder is 0700 from its creation).
fn modes(root: &Path) -> Vec<(String, u32, bool)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        out.push((d.display().to_string(), std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, true));
        if d.ends_with("store/index") {
            continue;
        }
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let mode = std::fs::symlink_metadata(&path).unwrap().permissions().mode() & 0o777;
                out.push((path.display().to_string(), mode, false));
            }
        }
    }
    out
}

#[test]
fn every_file_and_folder_of_the_hub_is_its_owners_only() {
    let d = tempfile::tempdir().unwrap();
    let mut hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:0");
    let key = doorstep_envelope::signing_key_from_seed(&[5; 32]);
    hub.add_supervisor(&hex::encode(key.verifying_key().to_bytes())).unwrap();
    let b = common::bundle(&hub, "tablet-0", Validity::days(1));
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    let running = doorstep_hub::server::start(&hub, "127.0.0.1:0").unwrap();
    let mut c =
        HubClient::new(&format!("https://localhost:{}", running.addr.port()), b.client_config().unwrap()).unwrap();
    c.chunk = 16 * 1024;
    for e in common::envelopes(&b, 0, 2, |_| 40_000) {
        c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::New, None, &mut |_, _| {}).unwrap();
    }
    // A partial upload left in the store.
    let partial = &common::envelopes(&b, 0, 3, |_| 40_000)[2];
    let bytes = partial.to_bytes();
    let r = c
        .request(
            "PATCH",
            &doorstep_sync::wire::envelope_path(&partial.application_id().to_string()),
            &[
                (doorstep_sync::wire::UPLOAD_OFFSET, "0".into()),
                (doorstep_sync::wire::UPLOAD_LENGTH, bytes.len().to_string()),
                (doorstep_sync::wire::DIGEST, hex::encode(partial.digest())),
                (doorstep_sync::wire::UPLOAD_CHECKSUM, doorstep_sync::wire::checksum(&bytes[..1000])),
            ],
            &bytes[..1000],
        )
        .unwrap();
    assert_eq!(r.status, 204);
    let mut all = modes(&hub.dir);
    all.extend(modes(&pki::bureau_dir(&hub.dir)));
    drop(running);
    let wrong: Vec<_> =
        all.iter().filter(|(_, mode, dir)| *mode != if *dir { 0o700 } else { 0o600 }).cloned().collect();
    assert_eq!(wrong, vec![], "folders 0700, files 0600");
    let mut looked_at = vec!["ca-key.pem", "bundles/tablet-0.toml", "admin.sock"];
    match stores::postgres() {
        false => looked_at.extend(["store/journal.log", "store/envelopes/seg-00000001.log", "store/index", ".part"]),
        // The data is in the database: nothing of it in the hub's folder.
        true => assert!(!hub.dir.join("store").exists(), "a PostgreSQL hub keeps no store in its folder"),
    }
    for must in looked_at {
        assert!(all.iter().any(|(p, _, _)| p.ends_with(must)), "{must} was looked at");
    }
}
