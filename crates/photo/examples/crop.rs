//! `cargo run -p doorstep-photo --example crop -- IN OUT.jpg`: crop a frame to the passport
//! profile and print the checks (the same as `doorstep photo crop`, without the app).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: crop IN OUT.jpg");
        return std::process::ExitCode::from(2);
    };
    let frame = match image::open(input) {
        Ok(i) => i.to_rgb8(),
        Err(e) => {
            eprintln!("{input}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut a = match doorstep_photo::assess::Assessor::new() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match a.crop(&frame, &doorstep_photo::assess::Profile::passport()) {
        Ok((jpeg, assessment)) => {
            if let Err(e) = std::fs::write(output, &jpeg) {
                eprintln!("{output}: {e}");
                return std::process::ExitCode::FAILURE;
            }
            for c in &assessment.checks {
                println!(
                    "{:<14} {:>8} {:?} {}",
                    c.name,
                    c.value.map_or("-".into(), |v| format!("{v:.3}")),
                    c.pass,
                    c.advice.unwrap_or("")
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
