//! `doorstep-hub serve` in its own process, for the hub's tests that stop or kill it (kept
//! apart from `common`, which the root's tests share and which cannot name the hub's binary).

use std::io::{BufRead, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// `doorstep-hub serve` in its own process with `RUST_LOG=filter`, started when it prints
/// that it serves; its standard error is kept. Killed when dropped.
#[allow(dead_code)]
pub struct Served {
    pub child: Child,
    log: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

#[allow(dead_code)]
impl Served {
    pub fn start(hub_dir: &Path, filter: &str) -> Served {
        Served::start_with(hub_dir, filter, &[])
    }

    /// [`Served::start`] with `serve`'s options (`--listen`, `--metrics`).
    pub fn start_with(hub_dir: &Path, filter: &str, options: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep-hub"))
            .env("RUST_LOG", filter)
            .arg("--hub")
            .arg(hub_dir)
            .arg("serve")
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let kept = log.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                kept.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.contains("serving"), "the hub did not start: {line:?} {}", log.lock().unwrap());
        Served { child, log, reader: Some(reader) }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, as an operator stops it; returns its exit status and all it logged.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let term = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(term.success(), "kill -TERM");
        self.finish()
    }

    /// SIGTERM, and its exit status and all it logged if it exits within `limit`; else
    /// what it logged (it is killed when dropped).
    pub fn stop_within(mut self, limit: std::time::Duration) -> Result<(std::process::ExitStatus, String), String> {
        let term = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(term.success(), "kill -TERM");
        let asked = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if asked.elapsed() > limit {
                return Err(self.log());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(self.finish())
    }

    /// SIGKILL, as a power cut would; returns all it logged.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.finish().1
    }

    fn finish(&mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.log())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
