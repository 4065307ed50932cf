//! The vault's container of a sealed application, as read back from disk (a damaged or
//! tampered file): it must split or be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, sidecar, envelope)) = doorstep_vault::split_container(data) {
        assert!(sidecar.len() + envelope.len() + 28 <= data.len());
        let _ = doorstep_envelope::SealedEnvelope::from_bytes(envelope);
    }
});
