//! Ports and a board in memory, for host tests and fuzzing (the `std` feature, or tests):
//! what the bridge reads from a [`MemoryPort`] is its `rx`, what it writes lands in `tx`.

extern crate std;

use std::collections::VecDeque;
use std::vec::Vec;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

use crate::{Board, DevicePort};

/// A serial port in memory, always ready, with a device that is always present.
#[derive(Debug, Default)]
pub struct MemoryPort {
    pub rx: VecDeque<u8>,
    pub tx: Vec<u8>,
    /// The last baud rate the bridge set.
    pub baud: Option<u32>,
}

impl ErrorType for MemoryPort {
    type Error = ErrorKind;
}

impl Read for MemoryPort {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = buf.len().min(self.rx.len());
        for (b, r) in buf.iter_mut().zip(self.rx.drain(..n)) {
            *b = r;
        }
        Ok(n)
    }
}

impl ReadReady for MemoryPort {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(!self.rx.is_empty())
    }
}

impl Write for MemoryPort {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.tx.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl WriteReady for MemoryPort {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

impl DevicePort for MemoryPort {
    fn set_baud(&mut self, baud: u32) {
        self.baud = Some(baud);
    }

    fn present(&self) -> bool {
        true
    }
}

/// A board whose battery stays at one level.
#[derive(Debug, Clone, Copy)]
pub struct FixedBattery(pub u8);

impl Board for FixedBattery {
    fn battery_percent(&self) -> u8 {
        self.0
    }
}
