//! Replay protection for the hub: a device counter may name one envelope only.
//! (HPKE itself gives no replay protection.)

use std::collections::BTreeMap;

use crate::error::EnvelopeError;
use crate::ids::{ApplicationId, DeviceId};
use crate::seal::{Digest, SealedEnvelope};

/// What the hub has seen, per (device, counter).
#[derive(Debug, Default, Clone)]
pub struct SeenCounters {
    seen: BTreeMap<(DeviceId, u64), (ApplicationId, Digest)>,
}

/// Whether an envelope is new or a retry of one already admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    New,
    /// The same envelope again (a retried upload): accept without storing twice.
    Duplicate,
}

impl SeenCounters {
    pub fn admit(&mut self, envelope: &SealedEnvelope) -> Result<Admission, EnvelopeError> {
        let h = envelope.header();
        let key = (h.device_id.clone(), h.device_counter);
        let value = (h.application_id, envelope.digest());
        match self.seen.get(&key) {
            Some(previous) if *previous == value => Ok(Admission::Duplicate),
            Some(_) => Err(EnvelopeError::ReplayedCounter { counter: h.device_counter }),
            None => {
                self.seen.insert(key, value);
                Ok(Admission::New)
            }
        }
    }
}
