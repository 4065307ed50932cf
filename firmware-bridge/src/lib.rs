//! doorstep-firmware-bridge: firmware of the peripheral bridge in the tablet's case.
//!
//! The bridge has one serial link to the tablet and a UART per peripheral (fingerprint
//! module, ID-card reader, GNSS receiver, receipt printer). [`Bridge`] multiplexes them onto
//! the doorstep-link: bytes from each device go to the tablet in data frames on that device's
//! channel, and data frames from the tablet go to the device. Each channel has its own
//! buffers; when the tablet is slower than a device, the bridge stops reading that device
//! (backpressure), and whatever still does not fit is counted and reported in the heartbeat,
//! never dropped silently. Heartbeats also carry the battery level and which peripherals
//! answer. The tablet sets each channel's baud rate with a control message.
//!
//! The logic is `#![no_std]` over `embedded-io` traits. With the `sim` feature, [`sim`] runs
//! the same logic on a pseudo-terminal with simulated devices that speak the real protocols
//! (the `doorstep-bridge-sim` binary).
//!
//! Architecture invariant: no board registers and no allocation in the logic; a board layer
//! for a real microcontroller implements [`DevicePort`], [`HostPort`] and [`Board`] and stays
//! thin (this build machine has no cross target).

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

mod bridge;
mod ring;

pub use bridge::{Board, Bridge, BridgeStats, ControlMessage, DevicePort, HostPort};
pub use ring::Ring;

#[cfg(any(test, feature = "std"))]
pub mod memory;
#[cfg(feature = "sim")]
pub mod sim;
