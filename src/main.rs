//! The doorstep binary: parse the command line, then hand over.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let _ = doorstep::dev::bench::STARTED.set(std::time::Instant::now());
    doorstep::cli::main()
}
