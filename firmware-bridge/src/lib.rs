//! doorstep-firmware-bridge: firmware of the peripheral bridge in the tablet's case.
//!
//! `#![no_std]` logic over `embedded-io` traits that multiplexes the peripheral UARTs onto
//! the doorstep-link, plus a host simulator binary that runs the same logic on a
//! pseudo-terminal with simulated devices. Filled by the peripherals issue; it starts empty.
//!
//! Architecture invariant: no_std and no board registers in the logic; a board layer for a
//! real microcontroller stays thin (this build machine has no cross target).

#![no_std]
#![forbid(unsafe_code)]
