//! The hub's index can be rebuilt (SECURITY R4 for the hub): a serving hub takes envelopes,
//! a supervisor's batch and the back office's verdicts, and is killed; its index is deleted;
//! started again, it rebuilds the index from its segments and journal, and the back office
//! exports every approved envelope byte-identical with its verdict, the tablet hears the same
//! statuses and receipts, and the device's key and counters still hold.

mod common;
mod served;

use std::process::Command;
use std::time::Duration;

use doorstep_envelope::*;
use doorstep_hub::admin::AdminClient;
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::store::Records;
use doorstep_sync::client::{HubClient, Start, SyncError};
use doorstep_sync::wire::Status;

fn hub_cli(hub: &pki::Hub, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep-hub")).arg("--hub").arg(&hub.dir).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn refused(r: Result<impl std::fmt::Debug, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_deleted_index_is_rebuilt_and_export_gives_every_envelope_with_its_verdict_r4() {
    let d = tempfile::tempdir().unwrap();
    let (mut hub, url) = common::hub_on_free_port(d.path());
    let supervisor = signing_key_from_seed(&[42; 32]);
    hub.add_supervisor(&hex::encode(supervisor.verifying_key().to_bytes())).unwrap();
    let b = common::bundle(&hub, "tablet-0", Validity::days(1));
    common::enroll_officer(&hub, &common::officer_key(0), "officer-test");
    // Six envelopes, some in several chunks.
    let envs = common::envelopes(&b, 0, 6, |n| 20_000 + n * 40_000);
    let ids: Vec<String> = envs.iter().map(|e| e.application_id().to_string()).collect();

    let served = served::Served::start(&hub.dir, "warn");
    let mut c = HubClient::new(&url, b.client_config().unwrap()).unwrap();
    c.chunk = 64 * 1024;
    let key = b.hub_receipt_key().unwrap();
    for e in &envs {
        c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::New, Some(&key), &mut |_, _| {}).unwrap();
    }
    // The supervisor approves four and returns one; the sixth waits for its batch.
    let entry = |i: usize, decision: Decision| ManifestEntry {
        application_id: envs[i].application_id(),
        digest: envs[i].digest(),
        decision,
    };
    let manifest = BatchManifest {
        batch_id: "tablet-0-shift".into(),
        device_id: "tablet-0".into(),
        supervisor_id: "supervisor-test".into(),
        created_at_unix: 1_790_001_000,
        entries: vec![
            entry(0, Decision::Approved),
            entry(1, Decision::Approved),
            entry(2, Decision::Approved),
            entry(3, Decision::Approved),
            entry(4, Decision::Returned { reason: "照片背景不合格".into() }),
        ],
        audit_head: [0; 32],
        audit_length: 0,
    }
    .sign(&supervisor)
    .unwrap()
    .to_bytes();
    let (taken, _) = c.submit_manifest(&manifest, Some(&key)).unwrap();
    assert_eq!((taken.approved, taken.returned), (4, 1));
    // The back office decides two, through the serving hub's admin socket.
    assert!(hub_cli(&hub, &["decide", &ids[0], "accept"]).0);
    assert!(hub_cli(&hub, &["decide", &ids[1], "reject", "--reason", "测试原因"]).0);
    let expected = [
        Status::Accepted,
        Status::Rejected { reason: "测试原因".into() },
        Status::Approved { batch: "tablet-0-shift".into() },
        Status::Approved { batch: "tablet-0-shift".into() },
        Status::Returned { batch: "tablet-0-shift".into(), reason: "照片背景不合格".into() },
        Status::Received,
    ];
    let receipts: Vec<Vec<u8>> = ids.iter().map(|id| c.receipt(id).unwrap().unwrap().to_bytes()).collect();
    for (id, status) in ids.iter().zip(&expected) {
        assert_eq!(&c.status(id).unwrap(), status, "{id} before");
    }

    // Killed, and its index lost.
    served.kill();
    std::fs::remove_dir_all(hub.dir.join("store").join("index")).unwrap();

    let served = served::Served::start(&hub.dir, "warn");
    // The back office, through the serving hub: every envelope byte-identical, every status.
    let records = AdminClient::connect(&hub.dir).expect("the serving hub's admin socket");
    assert_eq!(records.all_received().unwrap().len(), envs.len());
    for ((e, id), status) in envs.iter().zip(&ids).zip(&expected) {
        assert_eq!(records.envelope(id).unwrap(), Some(e.to_bytes()), "{id} byte-identical");
        assert_eq!(records.status(id).unwrap().as_ref(), Some(status), "{id}'s status");
    }
    drop(records);
    let key_file = pki::bureau_dir(&hub.dir).join("bureau.key");
    let out = d.path().join("export");
    let (ok, said) =
        hub_cli(&hub, &["export", "--approved", "--key", key_file.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(ok && said.contains("exported 4"), "{said}");
    let secret =
        BureauSecretKey::from_bytes(&hex::decode(std::fs::read_to_string(&key_file).unwrap().trim()).unwrap()).unwrap();
    for (e, id) in envs.iter().zip(&ids).take(4) {
        let record = open(e, &secret, Some(e.application_id())).unwrap();
        assert_eq!(std::fs::read(out.join(id).join("photo.jpg")).unwrap(), record.photo_jpeg, "{id}");
    }
    let (ok, said) = hub_cli(&hub, &["status"]);
    assert!(
        ok && said.contains("received: 6") && said.contains("accepted: 1") && said.contains("rejected: 1"),
        "{said}"
    );
    // The tablet: the same statuses and the same receipts, byte for byte.
    let mut c = HubClient::new(&url, b.client_config().unwrap()).unwrap();
    c.timeout = Duration::from_secs(10);
    for ((id, status), receipt) in ids.iter().zip(&expected).zip(&receipts) {
        assert_eq!(&c.status(id).unwrap(), status, "{id} after");
        assert_eq!(&c.receipt(id).unwrap().unwrap().to_bytes(), receipt, "{id}'s receipt");
    }
    // The device's key and counters outlived the index: another key, or counter 3 again on a
    // new application, is refused.
    common::enroll_officer(&hub, &common::officer_key(7), "officer-test");
    let stranger = common::envelopes(&b, 7, 1, |_| 1_000).remove(0);
    let upload = |c: &mut HubClient, e: &SealedEnvelope| {
        c.upload(e.application_id(), &e.digest(), &e.to_bytes(), Start::New, None, &mut |_, _| {})
    };
    assert_eq!(refused(upload(&mut c, &stranger)), (422, "device-key".into()));
    let replay = {
        let id = ApplicationId::new_v7(1_790_000_900_000, [9; 10]);
        let record = common::record(id, "TEST-R".into(), vec![1; 1_000], "tablet-0", "officer-test");
        let ctx = SealContext {
            bureau: &b.bureau_key().unwrap(),
            device_id: &DeviceId("tablet-0".into()),
            device_key: &signing_key_from_seed(&[1; 32]),
            officer_id: "officer-test",
            officer_key: &common::officer_key(0),
            device_counter: 3,
            sealed_at_unix: 1_790_000_600,
        };
        seal(&record, &ctx, &mut rand::rng()).unwrap()
    };
    assert_eq!(refused(upload(&mut c, &replay)), (422, "replayed-counter".into()));
    // The same batch again gets the same answer: the manifest outlived the index too.
    assert_eq!(c.submit_manifest(&manifest, Some(&key)).unwrap().0.approved, 4);
    let log = served.kill();
    assert!(log.contains("rebuilt") && log.contains("6 envelopes, 1 manifests"), "{log}");
}
