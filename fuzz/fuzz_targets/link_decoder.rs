#![no_main]
use doorstep_link::{Decoder, Link, LinkConfig};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    let mut link = Link::new(LinkConfig::default(), 0);
    for (i, &b) in data.iter().enumerate() {
        if let Some(Ok(frame)) = d.push(b) {
            let _ = link.receive(i as u64, &frame);
        }
    }
});
