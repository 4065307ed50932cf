//! The sim_printer fuzz target's seed corpus, replayed on the stable toolchain: each seed
//! gives what it was written to give, and every file (the fuzzer's own too) goes through the
//! printer and the renderer as the target feeds it (SECURITY.md R19: serial input is untrusted).

#![cfg(feature = "sim")]

use std::path::Path;

use doorstep_firmware_bridge::sim::{Printer, SimDevice, SimError, render_receipt};

fn seed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sim_printer").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the printer kept, receipt by receipt.
fn printed(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut printer = Printer::new(None, Default::default());
    printer.receive(bytes, &mut Vec::new());
    printer.receipts.lock().unwrap().clone()
}

#[test]
fn the_printer_seeds_print_as_written() {
    let receipt = seed("receipt-with-qr");
    assert_eq!(printed(&receipt), std::slice::from_ref(&receipt));
    assert_eq!(render_receipt(&receipt).unwrap().width(), 384);
    let two = seed("two-receipts-and-no-cut");
    assert_eq!(printed(&two), [receipt.clone(), receipt]);
    let long = seed("longer-than-the-paper");
    assert!(matches!(
        render_receipt(&long),
        Err(SimError::Render(doorstep_devices::receipt_file::RenderError::TooLong { .. }))
    ));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sim_printer");
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        printed(&data);
        let _ = render_receipt(&data);
    }
}
