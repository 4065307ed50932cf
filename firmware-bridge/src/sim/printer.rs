//! The simulated ESC/POS receipt printer: keeps what it is sent, and on each cut saves the
//! receipt's bytes and what it would print.

use std::format;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use super::SimDevice;
use super::receipt::render_receipt;

/// The most a receipt may hold before its cut; of a longer one, the start is lost (a real
/// printer would have printed it already).
pub(crate) const MAX_RECEIPT_BYTES: usize = 64 * 1024;

/// An ESC/POS printer: keeps every byte, and on each cut saves the receipt's bytes and a
/// PNG of it into `out_dir`.
pub struct Printer {
    received: Vec<u8>,
    /// Bytes lost from receipts longer than [`MAX_RECEIPT_BYTES`].
    overflowed: usize,
    out_dir: Option<PathBuf>,
    count: usize,
    pub receipts: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    pub fn new(out_dir: Option<PathBuf>) -> Printer {
        Printer { received: Vec::new(), overflowed: 0, out_dir, count: 0, receipts: Arc::default() }
    }
}

impl SimDevice for Printer {
    fn native_baud(&self) -> u32 {
        9_600
    }

    fn receive(&mut self, bytes: &[u8], _out: &mut Vec<u8>) {
        self.received.extend_from_slice(bytes);
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
        let mut printer = Printer::new(None);
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
        assert!(out.is_empty(), "a printer does not answer");
    }
}
