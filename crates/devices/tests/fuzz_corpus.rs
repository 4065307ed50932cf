//! The fuzz targets' seed corpora, replayed on the stable toolchain: every file goes through
//! its parser as the target feeds it (whole, then a byte at a time), and the seeds written by
//! hand give what they are meant to give. Files the fuzzer added locally are replayed too.
//! SECURITY.md R19: serial input is untrusted; no parser panics or allocates without bound.

use std::path::{Path, PathBuf};

use doorstep_devices::DeviceError;
use doorstep_devices::nmea::{GnssEvent, NmeaDecoder};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

/// Every file of a target's corpus, by name.
fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus(target).display()))
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// What a decoder's results were, in short: `fix`, `no-fix`, `garbage N`, `malformed`, `checksum`.
fn nmea_summary(data: &[u8]) -> Vec<String> {
    NmeaDecoder::new()
        .push(data)
        .into_iter()
        .map(|r| match r {
            Ok(GnssEvent::Fix(_)) => "fix".to_string(),
            Ok(GnssEvent::NoFix) => "no-fix".to_string(),
            Err(DeviceError::Garbage { bytes }) => format!("garbage {bytes}"),
            Err(DeviceError::Malformed(_)) => "malformed".to_string(),
            Err(DeviceError::Checksum) => "checksum".to_string(),
            Err(e) => format!("{e:?}"),
        })
        .collect()
}

#[test]
fn the_nmea_seeds_decode_as_written() {
    let expected: [(&str, &[&str]); 8] = [
        ("cjk-fields-good-checksum", &["malformed"]),
        ("multibyte-date-good-checksum", &["malformed"]),
        ("multibyte-latitude-good-checksum", &["malformed"]),
        ("multibyte-time-good-checksum", &["malformed"]),
        ("no-fix", &["no-fix", "no-fix"]),
        ("noise-and-cut-sentence", &["garbage 6", "garbage 11", "fix", "garbage 2"]),
        ("overlong", &["malformed"]),
        ("published-gga-rmc", &["fix"]),
    ];
    let all = files("nmea");
    for (name, want) in expected {
        let (_, data) = all.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("fuzz/corpus/nmea/{name}"));
        assert_eq!(nmea_summary(data), want, "{name}");
    }
    for (_, data) in &all {
        let mut d = NmeaDecoder::new();
        for b in data {
            let _ = d.push(std::slice::from_ref(b));
        }
    }
}
