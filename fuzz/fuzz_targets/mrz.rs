#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let today = time::macros::date!(2026 - 11 - 26);
        let lines: Vec<&str> = s.lines().collect();
        let _ = doorstep_core::mrz::parse(&lines, today);
        let _ = doorstep_core::CitizenId::parse(s, today);
        for kind in doorstep_core::DocumentKind::ALL {
            let _ = doorstep_core::DocumentNumber::parse(kind, s);
        }
    }
});
