#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut d = doorstep_devices::zfm::PacketDecoder::new();
    for p in d.push(data).into_iter().flatten() {
        let _ = doorstep_devices::zfm::Command::parse(&p.payload);
        let _ = doorstep_devices::zfm::SystemParameters::parse(&p.payload);
    }
    let _ = doorstep_devices::zfm::unpack_image(data);
});
