//! The hub's request router (SECURITY R19 for the hub's untrusted input): method, path and
//! headers as a tablet (or anyone who gets past TLS) sends them, through the same pure
//! functions the hub calls before it reads or stores anything: `doorstep_hub::service::parse`
//! (which calls `doorstep_sync::wire::route`) and the chunk checksum check.
//!
//! Input: lines; the first is the method, the second the path, the rest `name: value`
//! headers, and whatever follows an empty line is the body.
#![no_main]
use doorstep_hub::service::{Call, parse};
use doorstep_sync::wire;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    match parse(method, path, &header) {
        Ok(call) => {
            // Whatever parses names an application by a canonical id, never a file path.
            if let Some(id) = call.id() {
                let canonical = doorstep_envelope::ApplicationId::parse(id).map(|i| i.to_string());
                assert_eq!(canonical.as_deref(), Some(id));
                assert!(id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
            }
            if let Call::Patch { digest, checksum, .. } = &call {
                assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
                if let Some(c) = checksum {
                    let _ = wire::checksum_matches(c, body.as_bytes());
                }
            }
        }
        // A refusal is an error reply with its code.
        Err(reply) => assert!(reply.status >= 400 && reply.code().is_some()),
    }
    let _ = wire::route(&text);
});
