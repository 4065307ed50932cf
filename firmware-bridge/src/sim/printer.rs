//! The simulated ESC/POS receipt printer: keeps what it is sent, and on each cut saves the
//! receipt's bytes and what it would print.

use std::format;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use super::SimDevice;
use super::receipt::render_receipt;

/// An ESC/POS printer: keeps every byte, and on each cut saves the receipt's bytes and a
/// PNG of it into `out_dir`.
pub struct Printer {
    received: Vec<u8>,
    out_dir: Option<PathBuf>,
    count: usize,
    pub receipts: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    pub fn new(out_dir: Option<PathBuf>) -> Printer {
        Printer { received: Vec::new(), out_dir, count: 0, receipts: Arc::default() }
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
    }
}

fn lock_receipts(r: &Arc<Mutex<Vec<Vec<u8>>>>) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}
