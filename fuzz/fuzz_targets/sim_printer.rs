#![no_main]
//! The simulated printer's side of ESC/POS: arbitrary bytes to the printer (receipts are cut
//! and drawn as they come), and drawn as one receipt.
use doorstep_firmware_bridge::sim::{Printer, SimDevice, render_receipt};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut printer = Printer::new(None, Default::default());
    let mut out = Vec::new();
    printer.receive(data, &mut out);
    let _ = render_receipt(data);
});
