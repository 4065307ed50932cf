#![no_main]
//! The bridge firmware's surface to the tablet: arbitrary bytes from the host (link frames,
//! control messages) and from a device, through `Bridge::poll`, in chunks the first byte sizes.
use doorstep_firmware_bridge::memory::{FixedBattery, MemoryPort};
use doorstep_firmware_bridge::{Bridge, ControlMessage};
use doorstep_link::Channel;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let devices = [MemoryPort::default(), MemoryPort::default(), MemoryPort::default(), MemoryPort::default()];
    let mut bridge = Bridge::new(MemoryPort::default(), devices, FixedBattery(50), 0);
    for (i, piece) in data.chunks(chunk).enumerate() {
        bridge.host().rx.extend(piece);
        if let Some(d) = bridge.device(Channel::DEVICES[i % 4]) {
            d.rx.extend(piece);
        }
        bridge.poll(i as u64 * 100);
    }
    let _ = ControlMessage::parse(data);
});
