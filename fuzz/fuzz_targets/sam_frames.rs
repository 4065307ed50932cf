#![no_main]
use doorstep_devices::sam::{CardIdentity, FrameDecoder, Response};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut d = FrameDecoder::new();
    for body in d.push(data).into_iter().flatten() {
        if let Ok(r) = Response::from_body(&body) {
            let _ = CardIdentity::parse(&r.data);
        }
    }
    let _ = CardIdentity::parse(data);
});
