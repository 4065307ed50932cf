//! A byte transport to one device.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serialport::SerialPort;

use crate::DeviceError;

/// Bytes to and from one device.
pub trait Transport: Send {
    fn send(&mut self, bytes: &[u8]) -> Result<(), DeviceError>;
    /// Reads what has arrived, waiting up to `timeout` for the first byte; `Ok(0)` on timeout.
    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError>;
    /// Drops anything buffered (after a protocol error, before a retry).
    fn discard(&mut self) -> Result<(), DeviceError>;
    /// The line's baud rate.
    fn baud(&self) -> u32;
}

/// A device wired to a serial port of its own.
pub struct DirectSerial {
    port: Box<dyn SerialPort>,
    baud: u32,
}

pub(crate) fn port_error(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Port(e.to_string())
}

impl DirectSerial {
    pub fn open(path: &str, baud: u32) -> Result<DirectSerial, DeviceError> {
        let port = serialport::new(path, baud).timeout(Duration::from_millis(10)).open().map_err(port_error)?;
        Ok(DirectSerial { port, baud })
    }
}

impl Transport for DirectSerial {
    fn send(&mut self, bytes: &[u8]) -> Result<(), DeviceError> {
        self.port.write_all(bytes).map_err(port_error)?;
        self.port.flush().map_err(port_error)
    }

    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.port.read(buf) {
                Ok(n) if n > 0 => return Ok(n),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(port_error(e)),
            }
            if Instant::now() >= deadline {
                return Ok(0);
            }
        }
    }

    fn discard(&mut self) -> Result<(), DeviceError> {
        self.port.clear(serialport::ClearBuffer::Input).map_err(port_error)
    }

    fn baud(&self) -> u32 {
        self.baud
    }
}
