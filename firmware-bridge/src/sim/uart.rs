//! The simulated UARTs: a device's port as the bridge sees it, paced at the device's baud, and
//! the transmit FIFO model that paces the link to the tablet.

use std::boxed::Box;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use std::vec::Vec;

use doorstep_link::Channel;
use embedded_io::{ErrorKind, ErrorType};

use super::{SharedFaults, lock};
use crate::DevicePort;

/// A UART's transmit FIFO: up to this many bytes may be handed over ahead of the line.
pub(crate) const FIFO: u32 = 16;

/// A transmitter behind a [`FIFO`]-byte FIFO, on a line paced at its baud rate (10 bits a
/// byte).
pub(crate) struct FifoPacer {
    baud: u32,
    next_free: Instant,
}

impl FifoPacer {
    pub(crate) fn new(baud: u32) -> FifoPacer {
        FifoPacer { baud, next_free: Instant::now() }
    }

    fn byte_time(&self) -> Duration {
        Duration::from_nanos(10 * 1_000_000_000 / u64::from(self.baud))
    }

    /// When the line can start on bytes handed over now. Idle time is not banked beyond one
    /// FIFO's worth.
    fn start(&self, now: Instant) -> Instant {
        let fifo = self.byte_time() * FIFO;
        self.next_free.max(now.checked_sub(fifo).unwrap_or(now))
    }

    /// How many bytes the line can take now: what the FIFO holds beyond what is still being
    /// sent.
    pub(crate) fn room(&self) -> usize {
        let now = Instant::now();
        let fifo = self.byte_time() * FIFO;
        let ahead = (now + fifo).saturating_duration_since(self.start(now));
        (ahead.as_nanos() / self.byte_time().as_nanos().max(1)) as usize
    }

    /// Records `n` bytes handed over now.
    pub(crate) fn sent(&mut self, n: usize) {
        let start = self.start(Instant::now());
        self.next_free = start + self.byte_time() * n as u32;
    }
}

/// A simulated peripheral: bytes in from the bridge, bytes out to it.
pub trait SimDevice: Send {
    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>);
    fn tick(&mut self, _now: Instant, _out: &mut Vec<u8>) {}
    /// The device's own line rate. When the bridge's port is set to another, each side sees
    /// the other's bytes as garbage, as on a real UART.
    fn native_baud(&self) -> u32;
}

/// What a byte sent at one rate looks like when read at another: not the same byte.
fn garble(b: u8) -> u8 {
    b.rotate_left(3) ^ 0xA5
}

/// A device's UART as seen by the bridge: paced at the device's baud.
pub struct SimUart {
    channel: Channel,
    device: Box<dyn SimDevice>,
    pending: VecDeque<u8>,
    baud: u32,
    released_at: Instant,
    faults: SharedFaults,
    paced: bool,
}

impl SimUart {
    /// The port of `channel`'s device, at 9,600 baud until the bridge sets it.
    pub(crate) fn new(channel: Channel, device: Box<dyn SimDevice>, faults: SharedFaults, paced: bool) -> SimUart {
        SimUart { channel, device, pending: VecDeque::new(), baud: 9600, released_at: Instant::now(), faults, paced }
    }

    fn mismatched(&self) -> bool {
        self.baud != self.device.native_baud()
    }

    fn silent(&self) -> bool {
        lock(&self.faults).silent[self.channel.index()]
    }

    /// Bytes the device has put on the wire by now.
    fn available(&self) -> usize {
        if !self.paced {
            return self.pending.len();
        }
        let elapsed = Instant::now().saturating_duration_since(self.released_at);
        let bytes = (elapsed.as_nanos() * u128::from(self.baud) / 10 / 1_000_000_000) as usize;
        bytes.min(self.pending.len())
    }

    pub(crate) fn tick(&mut self, now: Instant) {
        if self.silent() {
            return;
        }
        let mut out = Vec::new();
        self.device.tick(now, &mut out);
        self.queue(out);
    }

    fn queue(&mut self, mut out: Vec<u8>) {
        if out.is_empty() {
            return;
        }
        if self.mismatched() {
            out.iter_mut().for_each(|b| *b = garble(*b));
        }
        if self.pending.is_empty() {
            self.released_at = Instant::now();
        }
        self.pending.extend(out);
    }
}

impl ErrorType for SimUart {
    type Error = ErrorKind;
}

impl embedded_io::Read for SimUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.available().min(buf.len());
        for b in buf.iter_mut().take(n) {
            *b = self.pending.pop_front().unwrap_or(0);
        }
        if self.paced && n > 0 {
            self.released_at += Duration::from_nanos(n as u64 * 10 * 1_000_000_000 / u64::from(self.baud));
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for SimUart {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(self.available() > 0)
    }
}

impl embedded_io::Write for SimUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if !self.silent() {
            let mut out = Vec::new();
            if self.mismatched() {
                let garbled: Vec<u8> = buf.iter().map(|&b| garble(b)).collect();
                self.device.receive(&garbled, &mut out);
            } else {
                self.device.receive(buf, &mut out);
            }
            self.queue(out);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl embedded_io::WriteReady for SimUart {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

impl DevicePort for SimUart {
    fn set_baud(&mut self, baud: u32) {
        self.baud = baud.max(1200);
    }

    fn present(&self) -> bool {
        !self.silent()
    }
}
