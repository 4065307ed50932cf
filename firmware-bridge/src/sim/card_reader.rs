//! The simulated second-generation ID-card reader, with the published example card on it.

use std::time::{Duration, Instant};
use std::vec;
use std::vec::Vec;

use doorstep_devices::sam::{self, CardIdentity};

use super::SimDevice;

/// A SAM ID-card reader with a card on it: `card`, or the one a `card` command put there.
pub struct CardReader {
    decoder: sam::FrameDecoder,
    card: CardIdentity,
    faults: super::SharedFaults,
    read_at: Option<Instant>,
    /// The number of the card last read: another card placed since is one put on the reader
    /// (the one read was lifted), found at once.
    read_number: Option<String>,
}

impl CardReader {
    pub fn new(card: CardIdentity, faults: super::SharedFaults) -> CardReader {
        CardReader { decoder: sam::FrameDecoder::new(), card, faults, read_at: None, read_number: None }
    }
}

impl SimDevice for CardReader {
    fn native_baud(&self) -> u32 {
        115_200
    }

    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for body in self.decoder.push(bytes) {
            let reply = |status: sam::Status, data: Vec<u8>| sam::Response { sw1: 0, sw2: 0, status, data }.encode();
            let Ok(body) = body else {
                out.extend(reply(sam::Status::ChecksumError, vec![]));
                continue;
            };
            let cmd = match body.as_slice() {
                [c, p, ..] => sam::Command::from_bytes(*c, *p),
                _ => None,
            };
            // After a read the card must be lifted and put back: the simulator puts it back
            // after a second, or at once when another card was placed (a guardian's after the
            // child's).
            let on_reader = super::lock(&self.faults).card.clone().unwrap_or_else(|| self.card.clone());
            let another = self.read_number.as_deref() != Some(on_reader.id_number.as_str());
            let card_ready = another || self.read_at.is_none_or(|t| t.elapsed() > Duration::from_secs(1));
            let r = match cmd {
                Some(sam::Command::FindCard) if card_ready => reply(sam::Status::FindSuccess, vec![0; 4]),
                Some(sam::Command::FindCard) => reply(sam::Status::FindFailed, vec![]),
                Some(sam::Command::SelectCard) => reply(sam::Status::Success, vec![0; 8]),
                Some(sam::Command::ReadBase) => {
                    self.read_at = Some(Instant::now());
                    self.read_number = Some(on_reader.id_number.clone());
                    reply(sam::Status::Success, on_reader.to_data())
                }
                Some(sam::Command::SamStatus | sam::Command::ResetSam) => reply(sam::Status::Success, vec![]),
                Some(sam::Command::ReadSamId) => reply(sam::Status::Success, vec![0x05; 16]),
                None => reply(sam::Status::CommandError, vec![]),
            };
            out.extend(r);
        }
    }
}
