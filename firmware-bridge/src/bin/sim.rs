//! `doorstep-bridge-sim`: the peripheral bridge on a pseudo-terminal, with simulated devices.
//!
//! Prints the pty's path; point doorstep at it (`DOORSTEP_BRIDGE=/dev/pts/N`). Reads fault
//! commands on standard input, one per line: `corrupt RATE`, `drop RATE`, `disconnect MS`,
//! `silent DEVICE`, `answer DEVICE`, `no-finger COUNT`, `card NAME ID-NUMBER`,
//! `paper in|low|out`, `clear`.

#![forbid(unsafe_code)]

use std::io::BufRead;
use std::path::PathBuf;

use doorstep_firmware_bridge::sim::{SimConfig, Simulator};

fn main() -> std::process::ExitCode {
    let mut cfg = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--baud" => match args.next().and_then(|b| b.parse().ok()) {
                Some(b) => cfg.link_baud = b,
                None => return usage("--baud needs a number"),
            },
            "--printer-out" => cfg.printer_out = args.next().map(PathBuf::from),
            "--no-pacing" => cfg.paced = false,
            "--fingerprint" => {
                match args.next().map(|p| doorstep_firmware_bridge::sim::load_fingerprint(std::path::Path::new(&p))) {
                    Some(Ok(img)) => cfg.fingerprint = Some(img),
                    Some(Err(e)) => return usage(&e.to_string()),
                    None => return usage("--fingerprint needs a PNG"),
                }
            }
            "--help" | "-h" => return usage(""),
            other => return usage(&format!("unknown option {other}")),
        }
    }
    let sim = match Simulator::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("doorstep-bridge-sim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("{}", sim.path);
    eprintln!("bridge simulator on {} (fingerprint, ID card, GNSS, printer); fault commands on stdin", sim.path);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "quit" {
            break;
        }
        if let Err(e) = sim.command(&line) {
            eprintln!("{e}");
        }
    }
    // Standard input closed: keep serving until killed.
    loop {
        std::thread::park();
    }
}

fn usage(error: &str) -> std::process::ExitCode {
    if !error.is_empty() {
        eprintln!("doorstep-bridge-sim: {error}");
    }
    eprintln!("usage: doorstep-bridge-sim [--baud 115200] [--printer-out DIR] [--fingerprint PNG] [--no-pacing]");
    if error.is_empty() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(2) }
}
