#![no_main]
use doorstep_envelope::{Receipt, SealedEnvelope, SignedManifest};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(e) = SealedEnvelope::from_bytes(data) {
        let _ = e.verify_self_signed();
    }
    if let Ok(m) = SignedManifest::from_bytes(data) {
        let _ = m.verify(&[]);
    }
    let _ = Receipt::from_bytes(data);
});
