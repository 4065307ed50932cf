//! NMEA 0183 from the GNSS receiver: GGA and RMC, combined into WGS-84 fixes (DOMAIN.md §6.c).

use crate::DeviceError;

/// Longer lines are not NMEA (the standard says 82 characters).
const MAX_LINE: usize = 120;

/// A position fix in WGS-84.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub latitude: f64,
    pub longitude: f64,
    /// UTC date (year, month, day) and time of day in milliseconds.
    pub date: (u16, u8, u8),
    pub time_ms: u32,
    /// GGA fix quality: 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float…
    pub quality: u8,
    pub satellites: u8,
    pub hdop: f32,
    pub altitude_m: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GnssEvent {
    Fix(Fix),
    /// The receiver says it has no valid position (RMC status V, GGA quality 0).
    NoFix,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Gga {
    time_ms: u32,
    quality: u8,
    satellites: u8,
    hdop: f32,
    altitude_m: Option<f32>,
}

/// Splits a byte stream into sentences, checks them, and turns RMC (with the latest GGA of
/// the same second) into fixes.
#[derive(Debug, Default)]
pub struct NmeaDecoder {
    line: Vec<u8>,
    overlong: bool,
    gga: Option<Gga>,
}

/// Verifies `$...*hh` and returns the fields between `$` and `*`.
pub fn check_sentence(line: &str) -> Result<&str, DeviceError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let body = line.strip_prefix('$').ok_or(DeviceError::Malformed("NMEA sentence without $"))?;
    let (fields, sum) = body.rsplit_once('*').ok_or(DeviceError::Malformed("NMEA sentence without checksum"))?;
    let want = u8::from_str_radix(sum, 16).map_err(|_| DeviceError::Malformed("NMEA checksum is not hex"))?;
    let got = fields.bytes().fold(0u8, |a, b| a ^ b);
    if got != want {
        return Err(DeviceError::Checksum);
    }
    Ok(fields)
}

/// Appends `*hh` and CRLF (for the simulator).
pub fn with_checksum(fields: &str) -> String {
    let sum = fields.bytes().fold(0u8, |a, b| a ^ b);
    format!("${fields}*{sum:02X}\r\n")
}

fn degrees(value: &str, hemisphere: &str, degree_digits: usize) -> Option<f64> {
    if value.len() < degree_digits + 2 {
        return None;
    }
    let d: f64 = value[..degree_digits].parse().ok()?;
    let m: f64 = value[degree_digits..].parse().ok()?;
    if !(0.0..60.0).contains(&m) {
        return None;
    }
    let v = d + m / 60.0;
    match hemisphere {
        "N" | "E" => Some(v),
        "S" | "W" => Some(-v),
        _ => None,
    }
}

fn time_ms(s: &str) -> Option<u32> {
    if s.len() < 6 {
        return None;
    }
    let h: u32 = s[..2].parse().ok()?;
    let m: u32 = s[2..4].parse().ok()?;
    let sec: f64 = s[4..].parse().ok()?;
    if h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    Some(h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as u32)
}

impl NmeaDecoder {
    pub fn new() -> NmeaDecoder {
        NmeaDecoder::default()
    }

    /// Adds bytes; returns what the complete sentences meant. Bad sentences are reported and
    /// skipped; other sentence types are ignored.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<GnssEvent, DeviceError>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                if std::mem::take(&mut self.overlong) {
                    out.push(Err(DeviceError::Malformed("NMEA line too long")));
                    continue;
                }
                let Ok(text) = std::str::from_utf8(&line) else {
                    out.push(Err(DeviceError::Malformed("NMEA line is not ASCII")));
                    continue;
                };
                if text.trim().is_empty() {
                    continue;
                }
                match self.sentence(text) {
                    Ok(Some(e)) => out.push(Ok(e)),
                    Ok(None) => {}
                    Err(e) => out.push(Err(e)),
                }
            } else if self.line.len() >= MAX_LINE {
                self.overlong = true;
            } else {
                self.line.push(b);
            }
        }
        out
    }

    fn sentence(&mut self, line: &str) -> Result<Option<GnssEvent>, DeviceError> {
        let fields = check_sentence(line)?;
        let f: Vec<&str> = fields.split(',').collect();
        let kind = f[0].get(2..).unwrap_or_default();
        match kind {
            "GGA" if f.len() >= 10 => {
                let quality: u8 = f[6].parse().unwrap_or(0);
                self.gga = Some(Gga {
                    time_ms: time_ms(f[1]).unwrap_or(u32::MAX),
                    quality,
                    satellites: f[7].parse().unwrap_or(0),
                    hdop: f[8].parse().unwrap_or(99.9),
                    altitude_m: f[9].parse().ok(),
                });
                Ok((quality == 0).then_some(GnssEvent::NoFix))
            }
            "RMC" if f.len() >= 10 => {
                if f[2] != "A" {
                    return Ok(Some(GnssEvent::NoFix));
                }
                let bad = DeviceError::Malformed("RMC position or time");
                let t = time_ms(f[1]).ok_or(bad.clone())?;
                let latitude = degrees(f[3], f[4], 2).ok_or(bad.clone())?;
                let longitude = degrees(f[5], f[6], 3).ok_or(bad.clone())?;
                let d = f[9];
                if d.len() != 6 {
                    return Err(bad);
                }
                let day: u8 = d[..2].parse().map_err(|_| bad.clone())?;
                let month: u8 = d[2..4].parse().map_err(|_| bad.clone())?;
                let year: u16 = 2000 + d[4..].parse::<u16>().map_err(|_| bad.clone())?;
                if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
                    return Err(bad);
                }
                let gga = self.gga.filter(|g| g.time_ms / 1000 == t / 1000);
                Ok(Some(GnssEvent::Fix(Fix {
                    latitude,
                    longitude,
                    date: (year, month, day),
                    time_ms: t,
                    quality: gga.map_or(1, |g| g.quality),
                    satellites: gga.map_or(0, |g| g.satellites),
                    hdop: gga.map_or(99.9, |g| g.hdop),
                    altitude_m: gga.and_then(|g| g.altitude_m),
                })))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GGA: &str = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n";
    const RMC: &str = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n";

    #[test]
    fn the_published_examples_verify_and_combine() {
        assert!(check_sentence(GGA).is_ok());
        assert!(check_sentence(RMC).is_ok());
        let mut d = NmeaDecoder::new();
        let mut got = d.push(GGA.as_bytes());
        assert!(got.is_empty());
        got = d.push(RMC.as_bytes());
        let Ok(GnssEvent::Fix(f)) = got[0] else { panic!("{got:?}") };
        assert!((f.latitude - (48.0 + 7.038 / 60.0)).abs() < 1e-9);
        assert!((f.longitude - (11.0 + 31.0 / 60.0)).abs() < 1e-9);
        // RMC's two-digit year 94 is read as 2094 by the 2000 rule; receivers today send 2xyy.
        assert_eq!((f.date.1, f.date.2), (3, 23));
        assert_eq!(f.time_ms, 12 * 3_600_000 + 35 * 60_000 + 19_000);
        assert_eq!((f.quality, f.satellites), (1, 8));
        assert_eq!(f.altitude_m, Some(545.4));
    }

    #[test]
    fn checksum_and_validity() {
        assert_eq!(with_checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"), GGA);
        let mut d = NmeaDecoder::new();
        let bad = RMC.replace("4807", "4808");
        assert!(matches!(d.push(bad.as_bytes())[0], Err(DeviceError::Checksum)));
        let void = with_checksum("GNRMC,123520,V,,,,,,,230394,,");
        assert_eq!(d.push(void.as_bytes()), [Ok(GnssEvent::NoFix)]);
        let no_fix = with_checksum("BDGGA,123521,,,,,0,00,99.9,,M,,M,,");
        assert_eq!(d.push(no_fix.as_bytes()), [Ok(GnssEvent::NoFix)]);
        let south = with_checksum("GNRMC,000001,A,2232.000,S,11400.000,W,0,0,261126,,");
        let Ok(GnssEvent::Fix(f)) = d.push(south.as_bytes())[0] else { panic!() };
        assert!(f.latitude < 0.0 && f.longitude < 0.0);
        assert_eq!(f.date, (2026, 11, 26));
        assert!(d.push(&[b'$'; 300]).is_empty(), "an overlong line waits for its end");
        assert!(matches!(d.push(b"\n")[0], Err(DeviceError::Malformed(_))));
    }

    proptest::proptest! {
        #[test]
        fn noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let _ = NmeaDecoder::new().push(&noise);
        }

        #[test]
        fn garbled_sentences_never_panic(s in "\\$G[A-Z]{4},[0-9.,NSEWAV]{0,80}\\*[0-9A-F]{2}\r\n") {
            let _ = NmeaDecoder::new().push(s.as_bytes());
        }
    }
}
