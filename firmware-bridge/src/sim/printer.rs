//! The simulated ESC/POS receipt printer: keeps what it is sent, and on each cut saves the
//! receipt's bytes and what it would print.

use std::format;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use doorstep_devices::escpos::{Paper, PrinterStatus};

use super::render_receipt;
use super::{SharedFaults, SimDevice};

/// The most a receipt may hold before its cut; of a longer one, the start is lost (a real
/// printer would have printed it already).
pub(crate) const MAX_RECEIPT_BYTES: usize = 64 * 1024;

/// An ESC/POS printer: keeps every byte, and on each cut saves the receipt's bytes and a
/// PNG of it into `out_dir`. It answers real-time status requests (DLE EOT n) at once; out of
/// paper (`paper out`), it says so, goes offline and prints nothing.
pub struct Printer {
    faults: SharedFaults,
    received: Vec<u8>,
    /// Bytes lost from receipts longer than [`MAX_RECEIPT_BYTES`].
    overflowed: usize,
    out_dir: Option<PathBuf>,
    count: usize,
    pub receipts: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    pub fn new(out_dir: Option<PathBuf>, faults: SharedFaults) -> Printer {
        Printer { faults, received: Vec::new(), overflowed: 0, out_dir, count: 0, receipts: Arc::default() }
    }

    fn status(&self) -> PrinterStatus {
        let paper = super::lock(&self.faults).paper;
        PrinterStatus { online: paper != Paper::Out, paper }
    }

    /// Answers and takes out every complete status request (DLE EOT n): they print nothing. A
    /// request cut at the end waits for its last bytes.
    fn answer_status(&mut self, out: &mut Vec<u8>) {
        let mut i = 0;
        while let Some(at) = self.received[i..].iter().position(|b| *b == 0x10).map(|p| p + i) {
            match self.received.get(at + 1..at + 3) {
                Some([0x04, n]) => {
                    let [printer, paper] = self.status().to_bytes();
                    out.push(match n {
                        1 => printer,
                        4 => paper,
                        // No offline or error cause to report.
                        _ => PrinterStatus { online: true, paper: Paper::Loaded }.to_bytes()[0],
                    });
                    self.received.drain(at..at + 3);
                    i = at;
                }
                None if self.received.len() - at < 3 && self.received.get(at + 1).is_none_or(|b| *b == 0x04) => {
                    break;
                }
                _ => i = at + 1,
            }
        }
    }
}

impl SimDevice for Printer {
    fn native_baud(&self) -> u32 {
        9_600
    }

    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.received.extend_from_slice(bytes);
        self.answer_status(out);
        if self.status().paper == Paper::Out {
            // No paper: whatever comes is lost, save a status request still to complete.
            let keep = self.received.iter().rposition(|b| *b == 0x10).filter(|at| self.received.len() - at < 3);
            self.received.drain(..keep.unwrap_or(self.received.len()));
            return;
        }
        // A cut (GS V 0) ends a receipt.
        while let Some(pos) = self.received.windows(3).position(|w| w == [0x1D, 0x56, 0x00]) {
            let receipt: Vec<u8> = self.received.drain(..pos + 3).collect();
            self.count += 1;
            if let Some(dir) = &self.out_dir {
                let _ = std::fs::create_dir_all(dir);
                let _ = std::fs::write(dir.join(format!("receipt-{}.bin", self.count)), &receipt);
                if let Ok(png) = render_receipt(&receipt) {
                    let _ = png.save(dir.join(format!("receipt-{}.png", self.count)));
                }
            }
            lock_receipts(&self.receipts).push(receipt);
        }
        let excess = self.received.len().saturating_sub(MAX_RECEIPT_BYTES);
        self.received.drain(..excess);
        self.overflowed = self.overflowed.saturating_add(excess);
    }
}

fn lock_receipts(r: &Arc<Mutex<Vec<Vec<u8>>>>) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_without_a_cut_keeps_its_latest_bytes() {
        let mut printer = Printer::new(None, SharedFaults::default());
        let mut out = Vec::new();
        for _ in 0..100 {
            printer.receive(&[b'A'; 1000], &mut out);
        }
        assert_eq!(printer.received.len(), MAX_RECEIPT_BYTES);
        assert_eq!(printer.overflowed, 100_000 - MAX_RECEIPT_BYTES);
        printer.receive(&[b'B', 0x1D, 0x56, 0x00, b'C'], &mut out);
        let receipts = lock_receipts(&printer.receipts).clone();
        assert_eq!(receipts.len(), 1);
        assert_eq!(receipts[0].len(), MAX_RECEIPT_BYTES + 4);
        assert!(receipts[0].ends_with(&[b'A', b'B', 0x1D, 0x56, 0x00]));
        assert_eq!(printer.received, b"C");
        assert!(out.is_empty(), "a printer answers only status requests");
    }

    /// Status requests are answered at once, in any chunking, and print nothing; out of paper,
    /// the printer says so, is offline, and prints nothing.
    #[test]
    fn the_printer_answers_its_status_and_runs_out_of_paper() {
        use doorstep_devices::escpos::{ReceiptBuilder, STATUS_REQUEST};
        let faults = SharedFaults::default();
        let mut printer = Printer::new(None, faults.clone());
        // Near its end, the paper's byte differs from the printer's: each request is answered
        // with its own.
        super::super::lock(&faults).paper = Paper::NearEnd;
        let receipt = ReceiptBuilder::new().line("测试").cut();
        let mut bytes = STATUS_REQUEST.to_vec();
        bytes.extend(&receipt);
        bytes.extend(STATUS_REQUEST);
        let mut out = Vec::new();
        for chunk in bytes.chunks(1) {
            printer.receive(chunk, &mut out);
        }
        let [printer_byte, paper_byte] = PrinterStatus { online: true, paper: Paper::NearEnd }.to_bytes();
        assert_ne!(printer_byte, paper_byte);
        assert_eq!(out, [printer_byte, paper_byte, printer_byte, paper_byte]);
        assert_eq!(*lock_receipts(&printer.receipts), [receipt]);
        assert!(printer.received.is_empty());

        super::super::lock(&faults).paper = Paper::Out;
        let mut out = Vec::new();
        printer.receive(&bytes, &mut out);
        assert_eq!(out.len(), 4, "two requests, two answers each");
        assert_eq!(PrinterStatus::parse([out[0], out[1]]).unwrap(), PrinterStatus { online: false, paper: Paper::Out });
        assert_eq!(lock_receipts(&printer.receipts).len(), 1, "nothing more printed");
    }
}
