#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = doorstep_devices::escpos::parse(data);
});
