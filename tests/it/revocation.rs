//! SECURITY.md R13 on a unit provisioned before its hub revoked anything: the hub's old server
//! certificate replaced (its key copied, say), the unit learns the CA's revocation list at its
//! next sync, keeps it sealed in its vault, and from then on refuses a hub that presents the
//! old certificate; a list sent again that takes a revocation back is not taken.

use doorstep_sync::client::SyncError;
use doorstep_sync::escrow::{Hub, run};

use crate::sync::{PIN, doorstep, served_unit, tempfile_dir, text, unlocked};
use crate::visit::DEVICE;

const NOW: i64 = 1_790_000_000;

/// The unit's vault at `vault`, unlocked, and its hub as the installed bundle names it.
fn connect(vault: &std::path::Path) -> (doorstep_vault::Vault, Hub) {
    let mut v = unlocked(vault);
    let bundle = std::fs::read_to_string(vault.join("hub-bundle.toml")).unwrap();
    let bundle = doorstep_sync::bundle::Bundle::parse(&bundle).unwrap();
    let hub = Hub::connect(&mut v, &bundle, NOW).unwrap();
    (v, hub)
}

/// A sync of the unit's vault at `vault` with its hub (nothing to upload): what the run said of
/// the hub's revocation list.
fn sync_once(vault: &std::path::Path) -> Option<Result<bool, String>> {
    let (mut v, mut hub) = connect(vault);
    let report = run(&mut v, &mut hub, 64 * 1024, &|| NOW, &|| true, &mut |_, _, _| {});
    report.unwrap().revocations.map(|r| r.map_err(|e| e.to_string()))
}

/// The unit's vault at `vault` asking its hub for anything: how the connection went.
fn reach(vault: &std::path::Path) -> Result<Option<String>, SyncError> {
    connect(vault).1.client.crl()
}

#[test]
fn a_unit_learns_the_revocation_list_at_a_sync_and_refuses_the_old_certificate_after() {
    let tmp = tempfile_dir("revocation");
    let (running, hub, vault) = served_unit(&tmp, DEVICE);
    let port = running.addr.port();
    let at = format!("127.0.0.1:{port}");
    let read = |f: &str| std::fs::read_to_string(hub.dir.join(f)).unwrap();
    let (old_pem, old_key) = (read("server.pem"), read("server-key.pem"));
    // Nothing revoked: nothing to learn, nothing kept.
    assert_eq!(sync_once(&vault), Some(Ok(false)));
    assert_eq!(unlocked(&vault).hub_crl().unwrap(), None);

    // The hub's certificate replaced, and the hub serving the new one on its address.
    hub.replace_server_certificate(&["localhost".into()]).unwrap();
    drop(running);
    let running = doorstep_hub::server::start(&hub, &at).unwrap();
    assert_eq!(sync_once(&vault), Some(Ok(true)), "the newer list kept");
    let kept = unlocked(&vault).hub_crl().unwrap().map(|(_, l)| l).expect("kept in the vault");
    assert_eq!(kept, read("crl.pem"));
    assert_eq!(sync_once(&vault), Some(Ok(false)), "the same list again: nothing new");
    drop(running);

    // Someone serving the old certificate with its key, for the same name, in date, signed by
    // the same CA: refused, and by name.
    let new = (read("server.pem"), read("server-key.pem"));
    std::fs::write(hub.dir.join("server.pem"), &old_pem).unwrap();
    std::fs::write(hub.dir.join("server-key.pem"), &old_key).unwrap();
    let running = doorstep_hub::server::start(&hub, &at).unwrap();
    match reach(&vault) {
        Err(e @ SyncError::Connection(_)) => {
            assert!(e.to_string().contains("Revoked"), "{e}");
            assert!(e.is_untrusted_hub(), "said as a hub not trusted, not as no coverage");
        }
        other => panic!("the old certificate was not refused: {other:?}"),
    }
    // A whole sync with nothing to upload meets it at the list's request.
    let met = sync_once(&vault).expect("asked");
    assert!(matches!(&met, Err(m) if m.contains("Revoked")), "{met:?}");
    drop(running);

    // Back on the new certificate, a list that leaves the revocation out (an older one) is
    // not taken, and the one kept stays.
    std::fs::write(hub.dir.join("server.pem"), &new.0).unwrap();
    std::fs::write(hub.dir.join("server-key.pem"), &new.1).unwrap();
    std::fs::remove_file(hub.dir.join("revoked-servers.toml")).unwrap();
    let other =
        doorstep_hub::pki::init(&tmp.join("other"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1")
            .unwrap();
    other.replace_server_certificate(&["localhost".into()]).unwrap();
    std::fs::write(hub.dir.join("crl.pem"), std::fs::read_to_string(other.dir.join("crl.pem")).unwrap()).unwrap();
    let running = doorstep_hub::server::start(&hub, &at).unwrap();
    let refused = sync_once(&vault).expect("asked");
    assert!(matches!(&refused, Err(m) if m.contains("leaves out")), "{refused:?}");
    assert_eq!(unlocked(&vault).hub_crl().unwrap().map(|(_, l)| l).as_ref(), Some(&kept));
    drop(running);

    // Provisioned again with its first bundle, from before the list (its TLS key still in it):
    // the list learnt for this CA stays, and the old certificate is still refused.
    std::fs::write(hub.dir.join("crl.pem"), &kept).unwrap();
    let bundle = hub.dir.join("bundles").join(format!("{DEVICE}.toml"));
    let v = vault.to_str().unwrap();
    let out = doorstep(
        &["provision", "--vault", v, "--user", "officer-test", "--pin-stdin", bundle.to_str().unwrap()],
        &format!("{PIN}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(unlocked(&vault).hub_crl().unwrap().map(|(_, l)| l).as_ref(), Some(&kept));
    std::fs::write(hub.dir.join("server.pem"), &old_pem).unwrap();
    std::fs::write(hub.dir.join("server-key.pem"), &old_key).unwrap();
    let running = doorstep_hub::server::start(&hub, &at).unwrap();
    assert!(matches!(reach(&vault), Err(e) if e.is_untrusted_hub()));
    drop(running);
    let _ = std::fs::remove_dir_all(&tmp);
}
