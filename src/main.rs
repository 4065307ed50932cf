//! The doorstep binary: parse the command line, then hand over.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    doorstep::cli::main()
}
