//! The multiplexer.

use doorstep_link::{Channel, Decoder, Event, Heartbeat, Link, LinkConfig, MAX_ENCODED, MAX_PAYLOAD, Outgoing};
use embedded_io::{Read, ReadReady, Write, WriteReady};

use crate::ring::Ring;

/// A peripheral's UART.
pub trait DevicePort: Read + Write + ReadReady + WriteReady {
    fn set_baud(&mut self, baud: u32);
    /// Whether a device is connected and powered (a detect line, or recent traffic).
    fn present(&self) -> bool;
}

/// The serial link to the tablet.
pub trait HostPort: Read + Write + ReadReady + WriteReady {}
impl<T: Read + Write + ReadReady + WriteReady> HostPort for T {}

/// What the board knows about itself.
pub trait Board {
    fn battery_percent(&self) -> u8;
    /// Whether the devices behind this bridge are simulated (the simulator's board only): said
    /// in every heartbeat, so that the tablet never takes them for real ones.
    fn simulated(&self) -> bool {
        false
    }
}

/// Control messages from the tablet (payloads of control frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMessage {
    /// `01 channel baud(4, big-endian)`.
    SetBaud { channel: Channel, baud: u32 },
    /// `02 channel`: drop whatever is buffered for a channel (after a device was reset).
    Flush { channel: Channel },
}

impl ControlMessage {
    pub fn encode(&self, out: &mut [u8; 6]) -> usize {
        match *self {
            ControlMessage::SetBaud { channel, baud } => {
                out[0] = 1;
                out[1] = channel as u8;
                out[2..6].copy_from_slice(&baud.to_be_bytes());
                6
            }
            ControlMessage::Flush { channel } => {
                out[0] = 2;
                out[1] = channel as u8;
                2
            }
        }
    }

    pub fn parse(p: &[u8]) -> Option<ControlMessage> {
        let channel = Channel::from_u8(*p.get(1)?)?;
        match (p.first()?, p.len()) {
            (1, 6) => Some(ControlMessage::SetBaud { channel, baud: u32::from_be_bytes([p[2], p[3], p[4], p[5]]) }),
            (2, 2) => Some(ControlMessage::Flush { channel }),
            _ => None,
        }
    }
}

/// Per-channel buffer size in each direction.
const BUF: usize = 4096;
/// Stop reading a device when less than this is free in its buffer to the tablet.
const LOW_WATER: usize = 256;

struct Port<U> {
    uart: U,
    baud: u32,
    to_device: Ring<BUF>,
    from_device: Ring<BUF>,
    overflows: u16,
}

/// Counters for diagnostics and tests. They stop at their maximum rather than wrap (or, with
/// overflow checks, panic) on a bridge that runs for months.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStats {
    pub frames_in: u32,
    pub frames_bad: u32,
    pub gaps: u32,
    pub bytes_to_host: u64,
    pub bytes_from_host: u64,
}

/// The bridge: a link to the tablet and four device ports, in channel order fingerprint,
/// ID card, GNSS, printer.
pub struct Bridge<H, U, B> {
    host: H,
    board: B,
    decoder: Decoder,
    link: Link,
    ports: [Port<U>; 4],
    tx: [u8; MAX_ENCODED],
    tx_len: usize,
    tx_pos: usize,
    next_port: usize,
    stats: BridgeStats,
}

fn port_index(c: Channel) -> Option<usize> {
    Channel::DEVICES.iter().position(|d| *d == c)
}

impl<H: HostPort, U: DevicePort, B: Board> Bridge<H, U, B> {
    pub fn new(host: H, devices: [U; 4], board: B, now: u64) -> Self {
        let mut ports =
            devices.map(|uart| Port { uart, baud: 0, to_device: Ring::new(), from_device: Ring::new(), overflows: 0 });
        for (p, baud) in ports.iter_mut().zip([57_600, 115_200, 9_600, 9_600]) {
            p.baud = baud;
            p.uart.set_baud(baud);
        }
        Bridge {
            host,
            board,
            decoder: Decoder::new(),
            link: Link::new(LinkConfig::default(), now),
            ports,
            tx: [0; MAX_ENCODED],
            tx_len: 0,
            tx_pos: 0,
            next_port: 0,
            stats: BridgeStats::default(),
        }
    }

    pub fn stats(&self) -> BridgeStats {
        self.stats
    }

    pub fn baud(&self, channel: Channel) -> Option<u32> {
        port_index(channel).map(|i| self.ports[i].baud)
    }

    pub fn device(&mut self, channel: Channel) -> Option<&mut U> {
        port_index(channel).map(|i| &mut self.ports[i].uart)
    }

    pub fn host(&mut self) -> &mut H {
        &mut self.host
    }

    /// One pass of the main loop: read the tablet, move bytes to and from every device, send
    /// what is due. Returns whether anything moved (the caller may sleep when nothing did).
    pub fn poll(&mut self, now: u64) -> bool {
        let mut busy = self.read_host(now);
        for p in &mut self.ports {
            // To the device.
            while !p.to_device.is_empty() && p.uart.write_ready().unwrap_or(false) {
                let mut chunk = [0u8; 64];
                let n = p.to_device.peek(&mut chunk);
                match p.uart.write(&chunk[..n]) {
                    Ok(0) | Err(_) => break,
                    Ok(w) => {
                        p.to_device.consume(w);
                        busy = true;
                    }
                }
            }
            // From the device, only while there is room (backpressure).
            while p.from_device.free() >= LOW_WATER && p.uart.read_ready().unwrap_or(false) {
                let mut chunk = [0u8; 128];
                match p.uart.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let taken = p.from_device.push(&chunk[..n]);
                        if taken < n {
                            p.overflows = p.overflows.saturating_add((n - taken) as u16);
                        }
                        busy = true;
                    }
                }
            }
        }
        let mut hb = Heartbeat {
            battery_percent: self.board.battery_percent(),
            present: 0,
            overflows: [0; Channel::COUNT],
            simulated: self.board.simulated(),
        };
        for (i, p) in self.ports.iter().enumerate() {
            let c = Channel::DEVICES[i];
            if p.uart.present() {
                hb.present |= 1 << c.index();
            }
            hb.overflows[c.index()] = p.overflows;
        }
        self.link.set_heartbeat(hb);
        busy |= self.write_host(now);
        busy
    }

    fn read_host(&mut self, now: u64) -> bool {
        let mut moved = false;
        while self.host.read_ready().unwrap_or(false) {
            let mut chunk = [0u8; 256];
            let n = match self.host.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            moved = true;
            self.stats.bytes_from_host = self.stats.bytes_from_host.saturating_add(n as u64);
            for &b in &chunk[..n] {
                let Some(result) = self.decoder.push(b) else { continue };
                let Ok(frame) = result else {
                    self.stats.frames_bad = self.stats.frames_bad.saturating_add(1);
                    continue;
                };
                self.stats.frames_in = self.stats.frames_in.saturating_add(1);
                match self.link.receive(now, &frame) {
                    Some(Event::Data { channel, payload, missing_before }) => {
                        if missing_before > 0 {
                            self.stats.gaps = self.stats.gaps.saturating_add(1);
                        }
                        if let Some(i) = port_index(channel) {
                            let p = &mut self.ports[i];
                            let taken = p.to_device.push(payload);
                            if taken < payload.len() {
                                p.overflows = p.overflows.saturating_add((payload.len() - taken) as u16);
                            }
                        }
                    }
                    Some(Event::Control { payload }) => match ControlMessage::parse(payload) {
                        Some(ControlMessage::SetBaud { channel, baud }) => {
                            if let Some(i) = port_index(channel) {
                                self.ports[i].baud = baud;
                                self.ports[i].uart.set_baud(baud);
                            }
                        }
                        Some(ControlMessage::Flush { channel }) => {
                            if let Some(i) = port_index(channel) {
                                self.ports[i].to_device.clear();
                                self.ports[i].from_device.clear();
                            }
                        }
                        None => {}
                    },
                    _ => {}
                }
            }
        }
        moved
    }

    fn flush_tx(&mut self) -> bool {
        while self.tx_pos < self.tx_len {
            if !self.host.write_ready().unwrap_or(false) {
                return false;
            }
            match self.host.write(&self.tx[self.tx_pos..self.tx_len]) {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    self.tx_pos += n;
                    self.stats.bytes_to_host = self.stats.bytes_to_host.saturating_add(n as u64);
                }
            }
        }
        true
    }

    fn write_host(&mut self, now: u64) -> bool {
        let mut moved = false;
        loop {
            if !self.flush_tx() {
                return moved;
            }
            // Link housekeeping first (acks, hello, heartbeats), then device data, taking the
            // devices in turn so a busy fingerprint upload does not starve the GNSS.
            let mut buf = [0u8; MAX_ENCODED];
            match self.link.poll_transmit(now, &mut buf) {
                Some(Outgoing::Frame(n)) => {
                    self.tx[..n].copy_from_slice(&buf[..n]);
                    (self.tx_len, self.tx_pos) = (n, 0);
                    moved = true;
                    continue;
                }
                Some(_) => continue,
                None => {}
            }
            let mut sent = false;
            for k in 0..4 {
                let i = (self.next_port + k) % 4;
                let p = &mut self.ports[i];
                if p.from_device.is_empty() {
                    continue;
                }
                let mut payload = [0u8; MAX_PAYLOAD];
                let n = p.from_device.peek(&mut payload);
                match self.link.encode_data(Channel::DEVICES[i], &payload[..n], &mut buf) {
                    Ok(len) => {
                        p.from_device.consume(n);
                        self.tx[..len].copy_from_slice(&buf[..len]);
                        (self.tx_len, self.tx_pos) = (len, 0);
                        self.next_port = (i + 1) % 4;
                        sent = true;
                        break;
                    }
                    Err(_) => return moved, // link not up yet: keep the bytes
                }
            }
            if !sent {
                return moved;
            }
            moved = true;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::memory::{FixedBattery, MemoryPort};

    type TestBridge = Bridge<MemoryPort, MemoryPort, FixedBattery>;

    /// Lets the bridge and a tablet-side link talk until neither has anything to say.
    fn exchange(bridge: &mut TestBridge, tablet: &mut Link, now: u64) {
        let mut decoder = Decoder::new();
        for _ in 0..8 {
            bridge.poll(now);
            for b in core::mem::take(&mut bridge.host().tx) {
                if let Some(Ok(frame)) = decoder.push(b) {
                    tablet.receive(now, &frame);
                }
            }
            let mut buf = [0u8; MAX_ENCODED];
            while let Some(o) = tablet.poll_transmit(now, &mut buf) {
                if let Outgoing::Frame(n) = o {
                    bridge.host().rx.extend(&buf[..n]);
                }
            }
        }
    }

    #[test]
    fn its_counters_stop_at_their_maximum() {
        let devices = [MemoryPort::default(), MemoryPort::default(), MemoryPort::default(), MemoryPort::default()];
        let mut bridge = Bridge::new(MemoryPort::default(), devices, FixedBattery(50), 0);
        let mut tablet = Link::new(LinkConfig::default(), 0);
        exchange(&mut bridge, &mut tablet, 0);
        assert_eq!(tablet.state(), doorstep_link::LinkState::Up);
        let max = BridgeStats {
            frames_in: u32::MAX,
            frames_bad: u32::MAX,
            gaps: u32::MAX,
            bytes_to_host: u64::MAX,
            bytes_from_host: u64::MAX,
        };
        bridge.stats = max;
        // A frame that fails its check, then data with a frame lost before it.
        bridge.host().rx.extend([0x00, 0x05, 0x01, 0x02, 0x00]);
        let mut buf = [0u8; MAX_ENCODED];
        for (i, payload) in [b"first", b"lost!", b"third"].into_iter().enumerate() {
            let n = tablet.encode_data(Channel::Printer, payload, &mut buf).unwrap();
            if i != 1 {
                bridge.host().rx.extend(&buf[..n]);
            }
        }
        // Late enough for a heartbeat to the tablet.
        exchange(&mut bridge, &mut tablet, 600);
        assert!(tablet.state() == doorstep_link::LinkState::Up);
        assert_eq!(bridge.stats(), max);
        assert_eq!(bridge.device(Channel::Printer).unwrap().tx, b"firstthird");
    }

    /// The bridge_host fuzz target's seed does what it was written to: a handshake, a baud
    /// change and data for two devices, fed as the target feeds it.
    #[test]
    fn the_fuzz_seed_reaches_the_devices() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/bridge_host/handshake-control-data");
        let seed = std::fs::read(path).unwrap();
        let (&chunk, data) = seed.split_first().unwrap();
        let devices = [MemoryPort::default(), MemoryPort::default(), MemoryPort::default(), MemoryPort::default()];
        let mut bridge = Bridge::new(MemoryPort::default(), devices, FixedBattery(50), 0);
        for (i, piece) in data.chunks(usize::from(chunk)).enumerate() {
            bridge.host().rx.extend(piece);
            bridge.poll(i as u64 * 100);
        }
        bridge.poll(1000);
        assert_eq!(bridge.baud(Channel::Fingerprint), Some(115_200));
        assert_eq!(bridge.device(Channel::Printer).unwrap().tx, b"\x1b@receipt");
        assert_eq!(bridge.device(Channel::Fingerprint).unwrap().tx, [0xEF, 0x01, 0xFF]);
        assert_eq!(bridge.stats().frames_bad, 0);
    }
}
