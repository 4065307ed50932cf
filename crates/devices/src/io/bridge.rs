//! The tablet's end of the bridge link: one serial port, a channel per device.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use doorstep_link::{
    Channel, Decoder, Event, Heartbeat, Link, LinkConfig, LinkState, MAX_ENCODED, MAX_PAYLOAD, Outgoing,
};
use serialport::SerialPort;

use super::transport::{Transport, port_error};
use crate::DeviceError;

/// What the bridge last said about itself, and what the link has seen. The counts stop at
/// their maximum rather than wrap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStatus {
    pub up: bool,
    pub heartbeat: Option<Heartbeat>,
    pub bad_frames: u32,
    /// Data frames lost per channel (sequence gaps).
    pub gaps: [u32; Channel::COUNT],
    /// Bytes dropped per channel because no driver read them and its queue was full.
    pub dropped: [u32; Channel::COUNT],
}

/// The most bytes kept for a channel that no driver is reading (more than an image upload).
const MAX_QUEUE: usize = 64 * 1024;

impl BridgeStatus {
    fn bad_frame(&mut self) {
        self.bad_frames = self.bad_frames.saturating_add(1);
    }

    /// Queues a data frame's payload for its channel's driver, counting the frames lost before
    /// it; a queue nobody reads keeps its latest [`MAX_QUEUE`] bytes, and counts the rest.
    fn data(&mut self, queue: &mut VecDeque<u8>, channel: Channel, payload: &[u8], missing_before: u8) {
        let i = channel.index();
        self.gaps[i] = self.gaps[i].saturating_add(u32::from(missing_before));
        queue.extend(payload);
        let excess = queue.len().saturating_sub(MAX_QUEUE);
        queue.drain(..excess);
        self.dropped[i] = self.dropped[i].saturating_add(u32::try_from(excess).unwrap_or(u32::MAX));
    }
}

struct Inner {
    port: Box<dyn SerialPort>,
    decoder: Decoder,
    link: Link,
    started: Instant,
    queues: [VecDeque<u8>; Channel::COUNT],
    status: BridgeStatus,
    bauds: [u32; Channel::COUNT],
    acked: bool,
    control_failed: bool,
}

impl Inner {
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, DeviceError> {
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(port_error(e)),
        }
    }

    /// Reads what the port has (waiting up to `wait`), handles the frames, sends what is due.
    fn pump(&mut self, wait: Duration) -> Result<(), DeviceError> {
        self.port.set_timeout(wait.max(Duration::from_millis(1))).map_err(port_error)?;
        let mut chunk = [0u8; 2048];
        let mut n = self.read_some(&mut chunk)?;
        // Like a USB serial adapter's latency timer: once bytes flow, gather for a moment so
        // a burst is handled in a few reads instead of one read per UART FIFO.
        if n > 0 && n < 512 {
            self.port.set_timeout(Duration::from_millis(2)).map_err(port_error)?;
            let gather_until = Instant::now() + Duration::from_millis(2);
            while n < chunk.len() - 256 && Instant::now() < gather_until {
                let more = self.read_some(&mut chunk[n..])?;
                if more == 0 {
                    break;
                }
                n += more;
            }
        }
        let now = self.now();
        for &b in &chunk[..n] {
            let Some(r) = self.decoder.push(b) else { continue };
            let Ok(frame) = r else {
                self.status.bad_frame();
                continue;
            };
            match self.link.receive(now, &frame) {
                Some(Event::Up) => self.status.up = true,
                Some(Event::Data { channel, payload, missing_before }) => {
                    self.status.data(&mut self.queues[channel.index()], channel, payload, missing_before);
                }
                Some(Event::Heartbeat(hb)) => self.status.heartbeat = Some(hb),
                Some(Event::ControlAcked) => self.acked = true,
                _ => {}
            }
        }
        self.flush_link(now)
    }

    fn flush_link(&mut self, now: u64) -> Result<(), DeviceError> {
        let mut buf = [0u8; MAX_ENCODED];
        while let Some(o) = self.link.poll_transmit(now, &mut buf) {
            match o {
                Outgoing::Frame(n) => self.port.write_all(&buf[..n]).map_err(port_error)?,
                Outgoing::PeerSilent => self.status.up = false,
                Outgoing::ControlFailed => self.control_failed = true,
            }
        }
        self.status.up = self.link.state() == LinkState::Up;
        Ok(())
    }
}

/// The bridge: connect once, then take a [`BridgeChannel`] per device.
#[derive(Clone)]
pub struct BridgeHost {
    inner: Arc<Mutex<Inner>>,
}

impl BridgeHost {
    /// Opens the bridge's serial port and completes the link handshake.
    pub fn connect(path: &str, baud: u32, timeout: Duration) -> Result<BridgeHost, DeviceError> {
        let port = serialport::new(path, baud).timeout(Duration::from_millis(5)).open().map_err(port_error)?;
        let inner = Inner {
            port,
            decoder: Decoder::new(),
            link: Link::new(LinkConfig::default(), 0),
            started: Instant::now(),
            queues: Default::default(),
            status: BridgeStatus::default(),
            bauds: [0, 57_600, 115_200, 9_600, 9_600],
            acked: false,
            control_failed: false,
        };
        let host = BridgeHost { inner: Arc::new(Mutex::new(inner)) };
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut i = host.lock();
                i.pump(Duration::from_millis(20))?;
                if i.status.up {
                    break;
                }
            }
            if Instant::now() >= deadline {
                return Err(DeviceError::Timeout(timeout.as_millis() as u64));
            }
        }
        // Wait for the first heartbeat, which says which devices answer.
        let hb_deadline = Instant::now() + Duration::from_millis(1500);
        while host.status().heartbeat.is_none() && Instant::now() < hb_deadline {
            host.lock().pump(Duration::from_millis(20))?;
        }
        Ok(host)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn status(&self) -> BridgeStatus {
        self.lock().status
    }

    /// Keeps the link alive (heartbeats) when no driver is talking.
    pub fn pump(&self, wait: Duration) -> Result<(), DeviceError> {
        self.lock().pump(wait)
    }

    pub fn channel(&self, channel: Channel) -> BridgeChannel {
        BridgeChannel { host: self.clone(), channel }
    }

    /// Sets a device's baud rate on the bridge (an acknowledged control message).
    pub fn set_baud(&self, channel: Channel, baud: u32) -> Result<(), DeviceError> {
        let mut msg = [0u8; 6];
        msg[0] = 1;
        msg[1] = channel as u8;
        msg[2..].copy_from_slice(&baud.to_be_bytes());
        self.control(&msg)?;
        self.lock().bauds[channel.index()] = baud;
        Ok(())
    }

    fn control(&self, msg: &[u8]) -> Result<(), DeviceError> {
        {
            let mut i = self.lock();
            i.acked = false;
            i.control_failed = false;
            i.link.send_control(msg).map_err(|e| DeviceError::Port(format!("the bridge link is not ready ({e:?})")))?;
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let mut i = self.lock();
            i.pump(Duration::from_millis(10))?;
            if i.acked {
                return Ok(());
            }
            if i.control_failed || Instant::now() >= deadline {
                return Err(DeviceError::Timeout(3000));
            }
        }
    }
}

/// One device's bytes through the bridge.
pub struct BridgeChannel {
    host: BridgeHost,
    channel: Channel,
}

impl BridgeChannel {
    pub fn host(&self) -> &BridgeHost {
        &self.host
    }
}

impl Transport for BridgeChannel {
    fn send(&mut self, bytes: &[u8]) -> Result<(), DeviceError> {
        let mut i = self.host.lock();
        if !i.status.up {
            return Err(DeviceError::Port("the bridge link is down: check the USB cable to the case".into()));
        }
        let mut buf = [0u8; MAX_ENCODED];
        for chunk in bytes.chunks(MAX_PAYLOAD) {
            let n = i
                .link
                .encode_data(self.channel, chunk, &mut buf)
                .map_err(|e| DeviceError::Port(format!("the bridge link refused data ({e:?})")))?;
            i.port.write_all(&buf[..n]).map_err(port_error)?;
        }
        Ok(())
    }

    fn receive(&mut self, out: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut i = self.host.lock();
            let q = &mut i.queues[self.channel.index()];
            if !q.is_empty() {
                let n = out.len().min(q.len());
                for (o, b) in out.iter_mut().zip(q.drain(..n)) {
                    *o = b;
                }
                return Ok(n);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(0);
            }
            i.pump(left.min(Duration::from_millis(20)))?;
        }
    }

    fn discard(&mut self) -> Result<(), DeviceError> {
        self.host.lock().queues[self.channel.index()].clear();
        Ok(())
    }

    fn baud(&self) -> u32 {
        self.host.lock().bauds[self.channel.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_nobody_reads_keeps_its_latest_bytes_and_counts_the_rest() {
        let mut status = BridgeStatus::default();
        let mut queue = VecDeque::new();
        let chunk: Vec<u8> = (0..=249).collect();
        for _ in 0..MAX_QUEUE / 250 {
            status.data(&mut queue, Channel::Gnss, &chunk, 0);
        }
        assert_eq!(status.dropped, [0; Channel::COUNT]);
        status.data(&mut queue, Channel::Gnss, &chunk, 0);
        status.data(&mut queue, Channel::Gnss, &chunk, 0);
        assert_eq!(queue.len(), MAX_QUEUE);
        assert_eq!(queue.back(), Some(&249), "the latest bytes are kept");
        let dropped = 250 * (MAX_QUEUE / 250 + 2) - MAX_QUEUE;
        assert_eq!(status.dropped[Channel::Gnss.index()], dropped as u32);
        assert_eq!(status.dropped[Channel::Printer.index()], 0);
    }

    #[test]
    fn counts_stop_at_their_maximum() {
        let mut status = BridgeStatus { bad_frames: u32::MAX, ..BridgeStatus::default() };
        status.gaps[Channel::Fingerprint.index()] = u32::MAX - 3;
        status.dropped[Channel::Fingerprint.index()] = u32::MAX;
        status.bad_frame();
        let mut queue: VecDeque<u8> = std::iter::repeat_n(0, MAX_QUEUE).collect();
        status.data(&mut queue, Channel::Fingerprint, &[1; 8], 200);
        assert_eq!(status.bad_frames, u32::MAX);
        assert_eq!(status.gaps[Channel::Fingerprint.index()], u32::MAX);
        assert_eq!(status.dropped[Channel::Fingerprint.index()], u32::MAX);
        assert_eq!(status.gaps[Channel::Gnss.index()], 0);
    }
}
