//! The upload protocol under simulated bad coverage, seed by seed (SECURITY R17: at least
//! 10,000 seeds). The tablet's real upload code ([`doorstep_sync::client::upload`]) talks to
//! the hub's real service and store through a channel that, by the seed's dice, loses requests
//! before the hub, loses replies after it committed, damages a chunk in transit, delivers a
//! request twice, re-delivers a stale chunk out of order, and restarts the hub. Every seed
//! must end with the envelope at the hub once, byte-identical, under a receipt that verifies.
//!
//! The network and TLS are left out (the proxy test `faults.rs` has them), and the store sits
//! on tmpfs when there is one, so that ten thousand seeds take seconds. `DOORSTEP_SIM_SEEDS`
//! sets the number of seeds; `DOORSTEP_SIM_SEED=N` runs one.

mod common;
mod pg;
mod stores;

use common::Dice;
use doorstep_envelope::*;
use doorstep_hub::pki::{self, Validity};
use doorstep_hub::service::{Request, Service};
use doorstep_hub::store::{AnyStore, Records, SledStore};
use doorstep_sync::client::{self, Exchange, Outgoing, Response, Start, SyncError};

type Sent = (String, String, Vec<(String, String)>, Vec<u8>);

#[derive(Default, Debug)]
struct Tally {
    requests: u64,
    lost_before: u64,
    lost_after: u64,
    damaged: u64,
    duplicated: u64,
    stale: u64,
    restarts: u64,
}

/// The channel between the tablet and the hub, and the hub itself.
struct Sim {
    hub: pki::Hub,
    store_dir: std::path::PathBuf,
    service: Option<Service<AnyStore>>,
    peer: Vec<u8>,
    dice: Dice,
    /// Recent PATCH requests, for stale re-delivery.
    sent: Vec<Sent>,
    tally: Tally,
}

impl Sim {
    fn service(&mut self) -> &Service<AnyStore> {
        if self.service.is_none() {
            // The embedded store in memory's folder (the seeds run faster), or the run's
            // PostgreSQL database.
            let store = match stores::postgres() {
                false => AnyStore::Sled(SledStore::open(&self.store_dir).unwrap()),
                true => stores::open(&self.hub),
            };
            self.service = Some(Service::new(store, &self.hub).unwrap());
        }
        self.service.as_ref().unwrap()
    }

    fn deliver(&mut self, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Response {
        let peer = self.peer.clone();
        let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let reply = self.service().handle(&Request { method, path, header: &header, body, peer: &peer });
        Response {
            status: reply.status,
            headers: reply.headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
            body: reply.body,
        }
    }
}

impl Exchange for Sim {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, SyncError> {
        self.tally.requests += 1;
        let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        if self.dice.chance(10) {
            // The hub restarts, cleanly: the store is closed and opened again. (A process
            // killed mid-write is `crash.rs`; lost writes after a failed fsync, the store's
            // unit tests.)
            self.tally.restarts += 1;
            self.service = None;
        }
        if !self.sent.is_empty() && self.dice.chance(40) {
            // A stale chunk arrives late, out of order; its reply goes nowhere.
            self.tally.stale += 1;
            let (m, p, h, b) = self.sent[self.dice.below(self.sent.len() as u64) as usize].clone();
            self.deliver(&m, &p, &h, &b);
        }
        if self.dice.chance(60) {
            self.tally.lost_before += 1;
            return Err(SyncError::Connection("simulated: lost on the way to the hub".into()));
        }
        let mut body = body.to_vec();
        if !body.is_empty() && self.dice.chance(30) {
            self.tally.damaged += 1;
            let i = self.dice.below(body.len() as u64) as usize;
            body[i] ^= 1 << self.dice.below(8);
        }
        if method == "PATCH" {
            if self.sent.len() == 16 {
                self.sent.remove(0);
            }
            self.sent.push((method.into(), path.into(), headers.clone(), body.clone()));
        }
        let mut reply = self.deliver(method, path, &headers, &body);
        if self.dice.chance(20) {
            // Delivered twice: the tablet hears the second answer.
            self.tally.duplicated += 1;
            reply = self.deliver(method, path, &headers, &body);
        }
        if self.dice.chance(60) {
            self.tally.lost_after += 1;
            return Err(SyncError::Connection("simulated: the reply was lost".into()));
        }
        Ok(reply)
    }
}

fn seal_one(bureau: &BureauPublicKey, n: u64, size: usize, dice: &mut Dice) -> SealedEnvelope {
    let device_id = DeviceId("tablet-sim".into());
    let id = ApplicationId::new_v7(1_790_000_000_000 + n, [7; 10]);
    let photo: Vec<u8> = (0..size).map(|_| dice.next() as u8).collect();
    let record = common::record(id, format!("SIM-{n}"), photo, &device_id.0, "officer-sim");
    let ctx = SealContext {
        bureau,
        device_id: &device_id,
        device_key: &signing_key_from_seed(&[1; 32]),
        officer_id: "officer-sim",
        officer_key: &signing_key_from_seed(&[2; 32]),
        device_counter: n + 1,
        sealed_at_unix: 1_790_000_600,
    };
    seal(&record, &ctx, &mut rand::rng()).unwrap()
}

#[test]
fn ten_thousand_seeds_of_bad_coverage_leave_each_envelope_once_and_whole() {
    let one: Option<u64> = std::env::var("DOORSTEP_SIM_SEED").ok().and_then(|v| v.parse().ok());
    let seeds: u64 = std::env::var("DOORSTEP_SIM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let d = tempfile::tempdir().unwrap();
    let shm = std::path::Path::new("/dev/shm");
    let store_dir = if shm.is_dir() { tempfile::tempdir_in(shm).unwrap() } else { tempfile::tempdir().unwrap() };
    let hub = stores::init(&d.path().join("hub"), &["localhost".into()], "127.0.0.1:0", "https://localhost:1");
    let b = common::bundle(&hub, "tablet-sim", Validity::days(1));
    common::enroll_officer(&hub, &signing_key_from_seed(&[2; 32]), "officer-sim");
    let peer = doorstep_sync::tls::certificates(&b.cert_pem, "client").unwrap()[0].to_vec();
    let bureau = b.bureau_key().unwrap();
    let hub_key = b.hub_receipt_key().unwrap();
    let mut sim = Sim {
        hub: pki::Hub::open(&hub.dir).unwrap(),
        store_dir: store_dir.path().to_path_buf(),
        service: None,
        peer,
        dice: Dice(0),
        sent: Vec::new(),
        tally: Tally::default(),
    };
    let range = match one {
        Some(s) => s..s + 1,
        None => 0..seeds,
    };
    let mut digests = Vec::new();
    for seed in range.clone() {
        let mut dice = Dice(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x5EED);
        let size = 1 + dice.below(24_000) as usize;
        let chunk = 128 + dice.below(8_000);
        let env = seal_one(&bureau, seed, size, &mut dice);
        let bytes = env.to_bytes();
        sim.dice = Dice(dice.next());
        let mut start = Start::New;
        let mut tries = 0;
        let receipt = loop {
            tries += 1;
            assert!(tries <= 200, "seed {seed}: no receipt after 200 tries ({:?})", sim.tally);
            let outgoing = Outgoing { id: env.application_id(), digest: &env.digest(), bytes: &bytes, start };
            match client::upload(&mut sim, chunk, &outgoing, Some(&hub_key), &mut |_, _| {}) {
                Ok(r) => break r,
                Err(SyncError::Connection(_)) => {}
                // Damaged three times running: the tablet tries again later.
                Err(SyncError::Refused { status: 460, .. }) => {}
                Err(e) => panic!("seed {seed}: {e}"),
            }
            // Usually the tablet remembers it tried; now and then it lost count.
            start = if sim.dice.chance(100) { Start::New } else { Start::Ask };
        };
        assert_eq!((receipt.application_id, receipt.digest), (env.application_id(), env.digest()), "seed {seed}");
        let id = env.application_id().to_string();
        let held = sim.service().store.envelope(&id).unwrap();
        assert_eq!(held.as_deref(), Some(bytes.as_slice()), "seed {seed}: the hub's copy differs");
        digests.push((id, env.digest()));
    }
    // Every seed's envelope once, and still whole after all the restarts.
    let store = sim.service().store.clone();
    assert_eq!(store.all_received().unwrap().len(), digests.len(), "each application exactly once");
    for (id, digest) in &digests {
        let bytes = store.envelope(id).unwrap().unwrap();
        assert_eq!(SealedEnvelope::from_bytes(&bytes).unwrap().digest(), *digest, "{id}");
    }
    eprintln!("{} seeds ({range:?}): {:?}", digests.len(), sim.tally);
}
