//! The pseudo-terminal's master end as the bridge's port to the tablet: paced at the link's
//! baud through a UART FIFO, with the line faults (corrupt, dropped bytes, a cut cable).

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};
use std::vec::Vec;

use embedded_io::{ErrorKind, ErrorType};
use serialport::{SerialPort, TTYPort};

use super::uart::FifoPacer;
use super::{SharedFaults, lock};

/// The port's timeout outside [`PtyHost::wait`].
pub(crate) const SHORT: Duration = Duration::from_millis(1);

/// A small deterministic RNG for fault injection.
struct XorShift(u64);

impl XorShift {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn drop_guard<T>(_guard: T) {}

/// The pty master as the bridge's host port: paced at the link's baud (10 bits a byte).
pub struct PtyHost {
    port: TTYPort,
    pacer: FifoPacer,
    faults: SharedFaults,
    rng: XorShift,
    pub paced: bool,
    /// Bytes [`PtyHost::wait`] read while waiting, handed out first by `read`.
    pending: Vec<u8>,
}

impl PtyHost {
    pub(crate) fn new(port: TTYPort, baud: u32, faults: SharedFaults, paced: bool) -> PtyHost {
        PtyHost {
            port,
            pacer: FifoPacer::new(baud),
            faults,
            rng: XorShift(0x2545_F491_4F6C_DD1D),
            paced,
            pending: Vec::new(),
        }
    }

    /// Blocks until the tablet sends something or `timeout` passes: the simulator's loop waits
    /// here when nothing moved, instead of spinning. What arrives is kept for `read`.
    pub(crate) fn wait(&mut self, timeout: Duration) {
        if !self.pending.is_empty() || self.port.set_timeout(timeout).is_err() {
            return;
        }
        let mut buf = [0u8; 256];
        if let Ok(n) = self.port.read(&mut buf)
            && !self.cut()
        {
            self.pending.extend_from_slice(&buf[..n]);
        }
        // Back to the short timeout the rest of the port's use expects.
        let _ = self.port.set_timeout(SHORT);
    }

    fn cut(&self) -> bool {
        lock(&self.faults).disconnected_until.is_some_and(|t| Instant::now() < t)
    }
}

impl ErrorType for PtyHost {
    type Error = ErrorKind;
}

impl embedded_io::Read for PtyHost {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if !self.pending.is_empty() {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        match self.port.read(buf) {
            Ok(_) if self.cut() => Ok(0),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(ErrorKind::Other),
        }
    }
}

impl embedded_io::ReadReady for PtyHost {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(!self.pending.is_empty() || self.port.bytes_to_read().map_err(|_| ErrorKind::Other)? > 0)
    }
}

impl embedded_io::Write for PtyHost {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        // At least one byte goes even when the FIFO is full, so a write never returns 0 for
        // bytes it was given.
        let n = if self.paced { buf.len().min(self.pacer.room().max(1)) } else { buf.len() };
        if self.paced {
            self.pacer.sent(n);
        }
        if self.cut() {
            return Ok(n);
        }
        let mut f = lock(&self.faults);
        let (corrupt, drop) = (f.corrupt_rate, f.drop_rate);
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if drop > 0.0 && self.rng.next_f64() < drop {
                continue;
            }
            let mut b = if corrupt > 0.0 && self.rng.next_f64() < corrupt { b ^ (1 << (self.rng.0 % 8)) } else { b };
            match f.corrupt_after {
                Some(0) => {
                    b ^= 0x10;
                    f.corrupt_after = None;
                }
                Some(k) => f.corrupt_after = Some(k - 1),
                None => {}
            }
            out.push(b);
        }
        drop_guard(f);
        self.port.write_all(&out).map_err(|_| ErrorKind::Other)?;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        self.port.flush().map_err(|_| ErrorKind::Other)
    }
}

impl embedded_io::WriteReady for PtyHost {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(!self.paced || self.pacer.room() > 0)
    }
}

#[cfg(test)]
mod tests {
    use embedded_io::Write as _;

    use super::*;

    #[test]
    fn an_empty_write_writes_nothing() {
        let (master, _slave) = TTYPort::pair().unwrap();
        let mut host = PtyHost::new(master, 115_200, SharedFaults::default(), true);
        assert_eq!(host.write(&[]), Ok(0));
        assert_eq!(host.write(&[1, 2, 3]), Ok(3));
    }

    /// Waiting on the port returns as soon as the tablet sends, and what came is read first;
    /// with nothing sent it returns after the timeout with nothing.
    #[test]
    fn waiting_on_the_port_wakes_for_the_tablet_and_keeps_what_came() {
        use embedded_io::{Read as _, ReadReady as _};
        let (master, mut slave) = TTYPort::pair().unwrap();
        let mut host = PtyHost::new(master, 115_200, SharedFaults::default(), true);
        host.wait(Duration::from_millis(5));
        assert_eq!(host.read_ready(), Ok(false));
        std::io::Write::write_all(&mut slave, b"ping").unwrap();
        let t = Instant::now();
        host.wait(Duration::from_secs(5));
        assert!(t.elapsed() < Duration::from_secs(4), "woke for the data, not the timeout");
        assert_eq!(host.read_ready(), Ok(true));
        let mut buf = [0u8; 16];
        let n = host.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(host.read_ready(), Ok(false));
    }
}
