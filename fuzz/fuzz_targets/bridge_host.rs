#![no_main]
//! The bridge firmware's surface to the tablet: arbitrary bytes from the host (link frames,
//! control messages) and from a device, through `Bridge::poll`, in chunks the first byte sizes.
use std::collections::VecDeque;

use doorstep_firmware_bridge::{Board, Bridge, DevicePort};
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

#[derive(Default)]
struct Wire {
    rx: VecDeque<u8>,
    tx: usize,
}

impl ErrorType for Wire {
    type Error = ErrorKind;
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = buf.len().min(self.rx.len());
        for (b, r) in buf.iter_mut().zip(self.rx.drain(..n)) {
            *b = r;
        }
        Ok(n)
    }
}

impl ReadReady for Wire {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(!self.rx.is_empty())
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.tx += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl WriteReady for Wire {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

impl DevicePort for Wire {
    fn set_baud(&mut self, _baud: u32) {}

    fn present(&self) -> bool {
        true
    }
}

struct Battery;

impl Board for Battery {
    fn battery_percent(&self) -> u8 {
        50
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let devices = [Wire::default(), Wire::default(), Wire::default(), Wire::default()];
    let mut bridge = Bridge::new(Wire::default(), devices, Battery, 0);
    for (i, piece) in data.chunks(chunk).enumerate() {
        bridge.host().rx.extend(piece);
        if let Some(d) = bridge.device(doorstep_link::Channel::DEVICES[i % 4]) {
            d.rx.extend(piece);
        }
        bridge.poll(i as u64 * 100);
    }
    let _ = doorstep_firmware_bridge::ControlMessage::parse(data);
});
