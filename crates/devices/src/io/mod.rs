//! The IO shells: serial transports (a device's own port, or a channel of the bridge) and
//! the drivers that run each device's protocol over them, with timeouts and recovery.

mod bridge;
mod drivers;
mod transport;

pub use bridge::{BridgeChannel, BridgeHost, BridgeStatus};
pub use drivers::{Capture, CardReader, FingerprintScanner, GnssReader, Printed, ReceiptPrinter};
pub use transport::{DirectSerial, Transport};
