//! The doorstep binary: parse the command line, then hand over.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let _ = doorstep::dev::bench::STARTED.set(std::time::Instant::now());
    // Before any key or applicant is in memory (SECURITY.md R11).
    if let Err(e) = doorstep::process::no_core_dumps() {
        eprintln!("doorstep: core dumps could not be turned off: {e}");
    }
    doorstep::cli::main()
}
