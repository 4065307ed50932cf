//! The link state machine: version handshake, heartbeats, acknowledged control messages, and
//! gap detection on data channels. Time is passed in, in milliseconds.
//!
//! Use: feed every decoded frame to [`Link::receive`]; call [`Link::poll_transmit`] regularly
//! (and after `receive`) until it returns `None`, sending each frame it writes; send
//! peripheral bytes with [`Link::encode_data`] and control messages with
//! [`Link::send_control`].

use crate::frame::{Channel, EncodeError, Frame, Kind, MAX_ENCODED, MAX_PAYLOAD, encode};

/// The protocol version spoken by this crate.
pub const PROTOCOL_VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// How often to send a heartbeat (and, while connecting, a hello).
    pub heartbeat_ms: u64,
    /// Silence after which the peer is considered gone.
    pub dead_after_ms: u64,
    /// Time to wait for a control acknowledgement before resending.
    pub ack_timeout_ms: u64,
    /// Resends before a control message is reported failed.
    pub max_retries: u8,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig { heartbeat_ms: 500, dead_after_ms: 2000, ack_timeout_ms: 200, max_retries: 5 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Saying hello, waiting for the peer's.
    Connecting,
    /// Both sides speak the same version.
    Up,
    /// The peer speaks another version: nothing is exchanged.
    Incompatible { peer_version: u8 },
}

/// What the bridge says in its heartbeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heartbeat {
    pub battery_percent: u8,
    /// Bit per channel index: the peripheral on that channel answers.
    pub present: u8,
    /// Bytes dropped per channel because a buffer was full (never silently).
    pub overflows: [u16; Channel::COUNT],
    /// The devices behind this bridge are simulated (the simulator says so of itself): the
    /// tablet then records its captures as simulated, and a provisioned unit refuses to seal
    /// them (SECURITY.md R23), however the simulator was reached.
    pub simulated: bool,
}

impl Heartbeat {
    /// Battery, presence, the overflows, and a flags byte (bit 0: simulated).
    const LEN: usize = 3 + 2 * Channel::COUNT;

    pub fn to_bytes(&self) -> [u8; Heartbeat::LEN] {
        let mut b = [0u8; Heartbeat::LEN];
        b[0] = self.battery_percent;
        b[1] = self.present;
        for (i, o) in self.overflows.iter().enumerate() {
            b[2 + 2 * i..4 + 2 * i].copy_from_slice(&o.to_le_bytes());
        }
        b[Heartbeat::LEN - 1] = u8::from(self.simulated);
        b
    }

    /// How many of [`Heartbeat::to_bytes`]'s bytes are sent: the flags byte only when a flag is
    /// set, so a real bridge's heartbeat is the first firmware's, which tablets of that version
    /// read (they take only that length).
    pub fn wire_len(&self) -> usize {
        if self.simulated { Heartbeat::LEN } else { Heartbeat::LEN - 1 }
    }

    /// A heartbeat as sent; one without the flags byte (the first firmware's) is not simulated.
    pub fn from_bytes(b: &[u8]) -> Option<Heartbeat> {
        if b.len() != Heartbeat::LEN && b.len() != Heartbeat::LEN - 1 {
            return None;
        }
        let mut overflows = [0u16; Channel::COUNT];
        for (i, o) in overflows.iter_mut().enumerate() {
            *o = u16::from_le_bytes([b[2 + 2 * i], b[3 + 2 * i]]);
        }
        let simulated = b.get(Heartbeat::LEN - 1).is_some_and(|f| f & 1 != 0);
        Some(Heartbeat { battery_percent: b[0], present: b[1], overflows, simulated })
    }

    pub fn is_present(&self, channel: Channel) -> bool {
        self.present & (1 << channel.index()) != 0
    }
}

/// What a received frame meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The handshake completed.
    Up,
    /// The peer speaks another protocol version.
    VersionMismatch {
        peer_version: u8,
    },
    /// Peripheral bytes, in order. `missing_before` counts frames lost on this channel just
    /// before this one (a gap in sequence numbers): the bytes are not contiguous.
    Data {
        channel: Channel,
        payload: &'a [u8],
        missing_before: u8,
    },
    /// A control message from the peer (already acknowledged).
    Control {
        payload: &'a [u8],
    },
    /// A repeated control message (its acknowledgement was lost): ignore it.
    DuplicateControl,
    /// Our control message was acknowledged.
    ControlAcked,
    Heartbeat(Heartbeat),
}

/// What `poll_transmit` reports besides frames to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing {
    /// Send these many bytes from the buffer.
    Frame(usize),
    /// The peer has been silent for too long.
    PeerSilent,
    /// A control message went unacknowledged after every retry.
    ControlFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    NotUp,
    /// A control message is still waiting for its acknowledgement.
    Busy,
    Encode(EncodeError),
}

struct PendingControl {
    seq: u8,
    payload: [u8; MAX_PAYLOAD],
    len: usize,
    sent_at: Option<u64>,
    retries: u8,
}

/// One end of the link.
pub struct Link {
    cfg: LinkConfig,
    state: LinkState,
    last_rx: u64,
    last_hb: Option<u64>,
    silent_reported: bool,
    tx_seq: [u8; Channel::COUNT],
    rx_seq: [Option<u8>; Channel::COUNT],
    control_seq: u8,
    last_control_rx: Option<u8>,
    pending: Option<PendingControl>,
    acks_due: [Option<u8>; 4],
    hello_ack_due: bool,
    heartbeat: Option<Heartbeat>,
}

impl Link {
    pub fn new(cfg: LinkConfig, now: u64) -> Link {
        Link {
            cfg,
            state: LinkState::Connecting,
            last_rx: now,
            last_hb: None,
            silent_reported: false,
            tx_seq: [0; Channel::COUNT],
            rx_seq: [None; Channel::COUNT],
            control_seq: 0,
            last_control_rx: None,
            pending: None,
            acks_due: [None; 4],
            hello_ack_due: false,
            heartbeat: None,
        }
    }

    pub fn state(&self) -> LinkState {
        self.state
    }

    /// What this side puts in its heartbeats (the bridge's battery, peripherals, overflows).
    pub fn set_heartbeat(&mut self, hb: Heartbeat) {
        self.heartbeat = Some(hb);
    }

    /// Forgets the peer (a cable was pulled): start the handshake again.
    pub fn reset(&mut self, now: u64) {
        *self = Link::new(self.cfg, now);
    }

    /// Handles one decoded frame.
    pub fn receive<'a>(&mut self, now: u64, frame: &Frame<'a>) -> Option<Event<'a>> {
        self.last_rx = now;
        self.silent_reported = false;
        match frame.kind {
            Kind::Hello | Kind::HelloAck => {
                let version = frame.payload.first().copied().unwrap_or(0);
                if frame.kind == Kind::Hello {
                    self.hello_ack_due = true;
                }
                if version != PROTOCOL_VERSION {
                    self.state = LinkState::Incompatible { peer_version: version };
                    return Some(Event::VersionMismatch { peer_version: version });
                }
                if self.state != LinkState::Up {
                    self.state = LinkState::Up;
                    self.rx_seq = [None; Channel::COUNT];
                    return Some(Event::Up);
                }
                None
            }
            _ if self.state != LinkState::Up => None,
            Kind::Heartbeat => Heartbeat::from_bytes(frame.payload).map(Event::Heartbeat),
            Kind::Ack => match &self.pending {
                Some(p) if p.seq == frame.seq => {
                    self.pending = None;
                    Some(Event::ControlAcked)
                }
                _ => None,
            },
            Kind::Control => {
                if let Some(slot) = self.acks_due.iter_mut().find(|s| s.is_none()) {
                    *slot = Some(frame.seq);
                }
                if self.last_control_rx == Some(frame.seq) {
                    return Some(Event::DuplicateControl);
                }
                self.last_control_rx = Some(frame.seq);
                Some(Event::Control { payload: frame.payload })
            }
            Kind::Data => {
                let i = frame.channel.index();
                let missing_before = self.rx_seq[i].map_or(0, |s| frame.seq.wrapping_sub(s.wrapping_add(1)));
                self.rx_seq[i] = Some(frame.seq);
                Some(Event::Data { channel: frame.channel, payload: frame.payload, missing_before })
            }
        }
    }

    /// Writes the next frame to send into `buf`, if any is due, or reports a timeout.
    /// Call it until it returns `None`.
    pub fn poll_transmit(&mut self, now: u64, buf: &mut [u8; MAX_ENCODED]) -> Option<Outgoing> {
        if self.hello_ack_due {
            self.hello_ack_due = false;
            return self.emit(buf, Channel::Control, Kind::HelloAck, 0, &[PROTOCOL_VERSION]);
        }
        if let Some(slot) = self.acks_due.iter_mut().find(|s| s.is_some())
            && let Some(seq) = slot.take()
        {
            return self.emit(buf, Channel::Control, Kind::Ack, seq, &[]);
        }
        if now.saturating_sub(self.last_rx) >= self.cfg.dead_after_ms && !self.silent_reported {
            self.silent_reported = true;
            if self.state == LinkState::Up {
                self.state = LinkState::Connecting;
            }
            return Some(Outgoing::PeerSilent);
        }
        if let Some(p) = &mut self.pending {
            let due = p.sent_at.is_none_or(|t| now.saturating_sub(t) >= self.cfg.ack_timeout_ms);
            if due && self.state == LinkState::Up {
                if p.sent_at.is_some() {
                    if p.retries >= self.cfg.max_retries {
                        self.pending = None;
                        return Some(Outgoing::ControlFailed);
                    }
                    p.retries += 1;
                }
                p.sent_at = Some(now);
                let (seq, len) = (p.seq, p.len);
                let mut payload = [0u8; MAX_PAYLOAD];
                payload[..len].copy_from_slice(&p.payload[..len]);
                return self.emit(buf, Channel::Control, Kind::Control, seq, &payload[..len]);
            }
        }
        if self.last_hb.is_none_or(|t| now.saturating_sub(t) >= self.cfg.heartbeat_ms) {
            self.last_hb = Some(now);
            return match self.state {
                LinkState::Up => {
                    let hb = self.heartbeat.map(|h| (h.to_bytes(), h.wire_len()));
                    let payload: &[u8] = hb.as_ref().map_or(&[], |(b, n)| &b[..*n]);
                    let mut copy = [0u8; Heartbeat::LEN];
                    copy[..payload.len()].copy_from_slice(payload);
                    let n = payload.len();
                    self.emit(buf, Channel::Control, Kind::Heartbeat, 0, &copy[..n])
                }
                _ => self.emit(buf, Channel::Control, Kind::Hello, 0, &[PROTOCOL_VERSION]),
            };
        }
        None
    }

    fn emit(
        &mut self,
        buf: &mut [u8; MAX_ENCODED],
        channel: Channel,
        kind: Kind,
        seq: u8,
        payload: &[u8],
    ) -> Option<Outgoing> {
        encode(&Frame { channel, kind, seq, payload }, buf).ok().map(Outgoing::Frame)
    }

    /// Encodes peripheral bytes for `channel` (at most [`MAX_PAYLOAD`]) with the next
    /// sequence number.
    pub fn encode_data(
        &mut self,
        channel: Channel,
        payload: &[u8],
        buf: &mut [u8; MAX_ENCODED],
    ) -> Result<usize, LinkError> {
        if self.state != LinkState::Up {
            return Err(LinkError::NotUp);
        }
        let i = channel.index();
        let seq = self.tx_seq[i];
        let n = encode(&Frame { channel, kind: Kind::Data, seq, payload }, buf).map_err(LinkError::Encode)?;
        self.tx_seq[i] = seq.wrapping_add(1);
        Ok(n)
    }

    /// Queues a control message; `poll_transmit` sends and resends it until acknowledged.
    pub fn send_control(&mut self, payload: &[u8]) -> Result<(), LinkError> {
        if self.state != LinkState::Up {
            return Err(LinkError::NotUp);
        }
        if self.pending.is_some() {
            return Err(LinkError::Busy);
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(LinkError::Encode(EncodeError::PayloadTooLong));
        }
        let mut p = PendingControl {
            seq: self.control_seq,
            payload: [0; MAX_PAYLOAD],
            len: payload.len(),
            sent_at: None,
            retries: 0,
        };
        p.payload[..payload.len()].copy_from_slice(payload);
        self.control_seq = self.control_seq.wrapping_add(1);
        self.pending = Some(p);
        Ok(())
    }

    /// True while a control message waits for its acknowledgement.
    pub fn control_pending(&self) -> bool {
        self.pending.is_some()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::frame::Decoder;

    /// Two ends joined by a wire that can lose frames.
    struct Pair {
        a: Link,
        b: Link,
        now: u64,
    }

    /// Everything `from` wants to send now, as frames' bytes.
    fn drain(from: &mut Link, now: u64) -> (Vec<Vec<u8>>, Vec<Outgoing>) {
        let mut frames = Vec::new();
        let mut other = Vec::new();
        let mut buf = [0u8; MAX_ENCODED];
        while let Some(o) = from.poll_transmit(now, &mut buf) {
            match o {
                Outgoing::Frame(n) => frames.push(buf[..n].to_vec()),
                x => other.push(x),
            }
        }
        (frames, other)
    }

    /// Feeds bytes to `to`, returning owned copies of the events.
    fn deliver(to: &mut Link, now: u64, bytes: &[u8]) -> Vec<std::string::String> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for &b in bytes {
            if let Some(Ok(f)) = d.push(b)
                && let Some(e) = to.receive(now, &f)
            {
                out.push(std::format!("{e:?}"));
            }
        }
        out
    }

    impl Pair {
        fn new() -> Pair {
            Pair { a: Link::new(LinkConfig::default(), 0), b: Link::new(LinkConfig::default(), 0), now: 0 }
        }

        /// One round: each side sends what it has, the other receives all of it.
        fn step(&mut self, drop_a_to_b: bool) -> (Vec<std::string::String>, Vec<std::string::String>) {
            let (fa, _) = drain(&mut self.a, self.now);
            let (fb, _) = drain(&mut self.b, self.now);
            let mut eb = Vec::new();
            if !drop_a_to_b {
                for f in fa {
                    eb.extend(deliver(&mut self.b, self.now, &f));
                }
            }
            let mut ea = Vec::new();
            for f in fb {
                ea.extend(deliver(&mut self.a, self.now, &f));
            }
            (ea, eb)
        }
    }

    #[test]
    fn handshake_then_heartbeats_carry_status() {
        let mut p = Pair::new();
        let (ea, eb) = p.step(false);
        assert!(eb.contains(&"Up".into()) || ea.contains(&"Up".into()));
        p.step(false);
        assert_eq!((p.a.state(), p.b.state()), (LinkState::Up, LinkState::Up));
        let hb = Heartbeat { battery_percent: 71, present: 0b10110, overflows: [0, 3, 0, 0, 0], simulated: true };
        p.b.set_heartbeat(hb);
        p.now += 600;
        let (ea, _) = p.step(false);
        assert!(ea.iter().any(|e| e.contains("battery_percent: 71") && e.contains("simulated: true")), "{ea:?}");
        assert!(hb.is_present(Channel::Fingerprint) && !hb.is_present(Channel::Control));
    }

    /// What goes on the wire: a real bridge's heartbeat at the first firmware's length (which
    /// tablets of that version take), a simulator's with the flags byte.
    #[test]
    fn a_real_bridges_heartbeat_is_sent_at_the_first_firmwares_length() {
        for simulated in [false, true] {
            let mut p = Pair::new();
            p.step(false);
            p.step(false);
            assert_eq!(p.b.state(), LinkState::Up);
            p.b.set_heartbeat(Heartbeat { battery_percent: 60, present: 1, overflows: [0; Channel::COUNT], simulated });
            p.now += 600;
            let (frames, _) = drain(&mut p.b, p.now);
            let mut d = Decoder::new();
            let mut lens = Vec::new();
            for b in frames.concat() {
                if let Some(Ok(f)) = d.push(b)
                    && f.kind == Kind::Heartbeat
                {
                    lens.push(f.payload.len());
                }
            }
            let want = 2 + 2 * Channel::COUNT + usize::from(simulated);
            assert_eq!(lens, [want], "simulated {simulated}");
        }
    }

    #[test]
    fn a_heartbeat_says_whether_its_devices_are_simulated() {
        let real = Heartbeat { battery_percent: 50, present: 1, overflows: [1, 2, 3, 4, 5], simulated: false };
        let sim = Heartbeat { simulated: true, ..real };
        assert_eq!(Heartbeat::from_bytes(&real.to_bytes()[..real.wire_len()]), Some(real));
        assert_eq!(Heartbeat::from_bytes(&sim.to_bytes()[..sim.wire_len()]), Some(sim));
        // A real bridge sends the first firmware's length, which older tablets take.
        assert_eq!(real.wire_len(), 2 + 2 * Channel::COUNT);
        assert_eq!(sim.wire_len(), real.wire_len() + 1);
        // The first firmware's heartbeat, without the flags byte: a real bridge.
        let old = &sim.to_bytes()[..Heartbeat::LEN - 1];
        assert_eq!(Heartbeat::from_bytes(old), Some(real));
        assert_eq!(Heartbeat::from_bytes(&[0; 3]), None);
    }

    #[test]
    fn version_mismatch_is_reported_and_nothing_flows() {
        let mut a = Link::new(LinkConfig::default(), 0);
        let mut buf = [0u8; MAX_ENCODED];
        let n =
            encode(&Frame { channel: Channel::Control, kind: Kind::Hello, seq: 0, payload: &[9] }, &mut buf).unwrap();
        let events = deliver(&mut a, 0, &buf[..n]);
        assert_eq!(events, ["VersionMismatch { peer_version: 9 }"]);
        assert_eq!(a.encode_data(Channel::Gnss, b"x", &mut buf), Err(LinkError::NotUp));
    }

    #[test]
    fn control_messages_are_resent_until_acknowledged() {
        let mut p = Pair::new();
        p.step(false);
        p.step(false);
        p.a.send_control(b"set-baud 1 57600").unwrap();
        assert_eq!(p.a.send_control(b"again"), Err(LinkError::Busy));
        // The first copy is lost on the wire.
        p.step(true);
        assert!(p.a.control_pending());
        p.now += 250;
        let (_, eb) = p.step(false);
        assert!(eb.iter().any(|e| e.contains("Control")), "{eb:?}");
        let (ea, _) = p.step(false);
        assert!(ea.contains(&"ControlAcked".into()), "{ea:?}");
        assert!(!p.a.control_pending());
    }

    #[test]
    fn a_lost_ack_makes_a_duplicate_that_is_recognised() {
        let mut p = Pair::new();
        p.step(false);
        p.step(false);
        p.a.send_control(b"status?").unwrap();
        let (_, eb) = p.step(false);
        assert!(eb.iter().any(|e| e.starts_with("Control")));
        // b's ack is lost: drain it without delivering.
        let _ = drain(&mut p.b, p.now);
        p.now += 250;
        let (_, eb) = p.step(false);
        assert!(eb.contains(&"DuplicateControl".into()), "{eb:?}");
        let (ea, _) = p.step(false);
        assert!(ea.contains(&"ControlAcked".into()));
    }

    #[test]
    fn control_fails_after_the_retries_and_silence_is_reported() {
        let mut p = Pair::new();
        p.step(false);
        p.step(false);
        p.a.send_control(b"ping").unwrap();
        let mut failed = false;
        for _ in 0..10 {
            p.now += 210;
            let (_, other) = drain(&mut p.a, p.now);
            failed |= other.contains(&Outgoing::ControlFailed);
            if other.contains(&Outgoing::PeerSilent) {
                assert_eq!(p.a.state(), LinkState::Connecting);
            }
        }
        assert!(failed);
    }

    #[test]
    fn gaps_on_data_channels_are_counted() {
        let mut p = Pair::new();
        p.step(false);
        p.step(false);
        let mut buf = [0u8; MAX_ENCODED];
        let mut frames = Vec::new();
        for i in 0..5u8 {
            let n = p.b.encode_data(Channel::Fingerprint, &[i; 10], &mut buf).unwrap();
            frames.push(buf[..n].to_vec());
        }
        let mut events = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            if i == 1 || i == 2 {
                continue;
            }
            events.extend(deliver(&mut p.a, p.now, f));
        }
        assert!(events[0].contains("missing_before: 0"));
        assert!(events[1].contains("missing_before: 2"), "{events:?}");
        assert!(events[2].contains("missing_before: 0"));
    }
}
