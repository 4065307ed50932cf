//! NMEA 0183 from the GNSS receiver: GGA and RMC, combined into WGS-84 fixes (DOMAIN.md §6.c).
//!
//! Everything from the wire is handled as bytes: a sentence is printable ASCII, and one that
//! is not (line noise, a wrong baud rate) is malformed, never text to be cut at a byte offset.

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
/// the same second) into fixes. A sentence starts at `$`; bytes outside one, and a sentence
/// cut short by the next `$`, are reported as garbage (line noise, a wrong baud rate).
#[derive(Debug, Default)]
pub struct NmeaDecoder {
    /// The sentence being read, after its `$`, up to [`MAX_LINE`] bytes.
    line: Vec<u8>,
    /// Bytes read into the sentence so far, including any beyond [`MAX_LINE`].
    taken: usize,
    in_sentence: bool,
    /// Garbage bytes not yet reported.
    garbage: usize,
    gga: Option<Gga>,
}

/// Verifies `$...*hh` and returns the fields between `$` and `*`.
pub fn check_sentence(line: &str) -> Result<&str, DeviceError> {
    let body = line.trim_end_matches(['\r', '\n']);
    let body = body.strip_prefix('$').ok_or(DeviceError::Malformed("NMEA sentence without $"))?;
    let fields = checked_fields(body.as_bytes())?;
    // `fields` ends before a `*`, an ASCII byte, so this is a character boundary.
    Ok(&body[..fields.len()])
}

/// Checks a sentence's bytes after its `$` (`fields*hh`, line end trimmed) and returns the fields.
fn checked_fields(body: &[u8]) -> Result<&[u8], DeviceError> {
    let star = body.iter().rposition(|&b| b == b'*').ok_or(DeviceError::Malformed("NMEA sentence without checksum"))?;
    let (fields, sum) = (&body[..star], &body[star + 1..]);
    let want = match sum {
        [hi, lo] => hex_digit(*hi).zip(hex_digit(*lo)).map(|(h, l)| h << 4 | l),
        _ => None,
    }
    .ok_or(DeviceError::Malformed("NMEA checksum is not hex"))?;
    let got = fields.iter().fold(0u8, |a, b| a ^ b);
    if got != want {
        return Err(DeviceError::Checksum);
    }
    Ok(fields)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// Appends `*hh` and CRLF (for the simulator).
pub fn with_checksum(fields: &str) -> String {
    let sum = fields.bytes().fold(0u8, |a, b| a ^ b);
    format!("${fields}*{sum:02X}\r\n")
}

/// A field of ASCII digits only (at most 9, so it fits), as a number.
fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// A field parsed as a number of type `T` (empty or not ASCII: `None`).
fn number<T: std::str::FromStr>(s: &[u8]) -> Option<T> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn degrees(value: &[u8], hemisphere: &[u8], degree_digits: usize) -> Option<f64> {
    if value.len() < degree_digits + 2 {
        return None;
    }
    let (d, m) = value.split_at(degree_digits);
    let d = f64::from(digits(d)?);
    let m: f64 = number(m)?;
    if !(0.0..60.0).contains(&m) {
        return None;
    }
    let v = d + m / 60.0;
    match hemisphere {
        b"N" | b"E" => Some(v),
        b"S" | b"W" => Some(-v),
        _ => None,
    }
}

fn time_ms(s: &[u8]) -> Option<u32> {
    if s.len() < 6 {
        return None;
    }
    let h = digits(&s[..2])?;
    let m = digits(&s[2..4])?;
    let sec: f64 = number(&s[4..])?;
    if h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    Some(h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as u32)
}

/// RMC's `ddmmyy`.
fn date(d: &[u8]) -> Option<(u16, u8, u8)> {
    let [d0, d1, m0, m1, y0, y1] = d else { return None };
    let day = u8::try_from(digits(&[*d0, *d1])?).ok()?;
    let month = u8::try_from(digits(&[*m0, *m1])?).ok()?;
    let year = 2000 + u16::try_from(digits(&[*y0, *y1])?).ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

impl NmeaDecoder {
    pub fn new() -> NmeaDecoder {
        NmeaDecoder::default()
    }

    /// Adds bytes; returns what the complete sentences meant. Bad sentences and garbage are
    /// reported and skipped; other sentence types are ignored.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<GnssEvent, DeviceError>> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                b'$' => {
                    if self.in_sentence {
                        // Cut short by the next sentence: its `$` and what followed.
                        self.garbage = self.garbage.saturating_add(self.taken.saturating_add(1));
                    }
                    self.report_garbage(&mut out);
                    self.line.clear();
                    self.taken = 0;
                    self.in_sentence = true;
                }
                b'\n' if self.in_sentence => {
                    self.in_sentence = false;
                    let line = std::mem::take(&mut self.line);
                    let result = if self.taken > MAX_LINE {
                        Err(DeviceError::Malformed("NMEA line too long"))
                    } else {
                        self.sentence(&line)
                    };
                    out.extend(result.transpose());
                }
                _ if self.in_sentence => {
                    self.taken = self.taken.saturating_add(1);
                    if self.line.len() < MAX_LINE {
                        self.line.push(b);
                    }
                }
                // Line ends between sentences are not noise.
                b'\r' | b'\n' => {}
                _ => self.garbage = self.garbage.saturating_add(1),
            }
        }
        self.report_garbage(&mut out);
        out
    }

    fn report_garbage(&mut self, out: &mut Vec<Result<GnssEvent, DeviceError>>) {
        let bytes = std::mem::take(&mut self.garbage);
        if bytes > 0 {
            out.push(Err(DeviceError::Garbage { bytes }));
        }
    }

    /// One sentence's bytes after its `$`, without the line feed.
    fn sentence(&mut self, line: &[u8]) -> Result<Option<GnssEvent>, DeviceError> {
        let mut body = line;
        while let [rest @ .., b'\r'] = body {
            body = rest;
        }
        if !body.iter().all(|b| (0x20..=0x7E).contains(b)) {
            return Err(DeviceError::Malformed("NMEA line is not ASCII"));
        }
        let fields = checked_fields(body)?;
        let f: Vec<&[u8]> = fields.split(|&b| b == b',').collect();
        let kind = f[0].get(2..).unwrap_or_default();
        match kind {
            b"GGA" if f.len() >= 10 => {
                let quality: u8 = number(f[6]).unwrap_or(0);
                self.gga = Some(Gga {
                    time_ms: time_ms(f[1]).unwrap_or(u32::MAX),
                    quality,
                    satellites: number(f[7]).unwrap_or(0),
                    hdop: number(f[8]).unwrap_or(99.9),
                    altitude_m: number(f[9]),
                });
                Ok((quality == 0).then_some(GnssEvent::NoFix))
            }
            b"RMC" if f.len() >= 10 => {
                if f[2] != b"A" {
                    return Ok(Some(GnssEvent::NoFix));
                }
                let bad = DeviceError::Malformed("RMC position or time");
                let t = time_ms(f[1]).ok_or(bad.clone())?;
                let latitude = degrees(f[3], f[4], 2).ok_or(bad.clone())?;
                let longitude = degrees(f[5], f[6], 3).ok_or(bad.clone())?;
                let date = date(f[9]).ok_or(bad)?;
                let gga = self.gga.filter(|g| g.time_ms / 1000 == t / 1000);
                Ok(Some(GnssEvent::Fix(Fix {
                    latitude,
                    longitude,
                    date,
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
        assert_eq!(check_sentence(GGA), Ok(&GGA[1..GGA.len() - 5]));
        assert_eq!(check_sentence(RMC), Ok(&RMC[1..RMC.len() - 5]));
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
        let mut overlong = vec![b'$'];
        overlong.extend_from_slice(&[b'A'; 300]);
        assert!(d.push(&overlong).is_empty(), "an overlong line waits for its end");
        assert!(matches!(d.push(b"\n")[..], [Err(DeviceError::Malformed(_))]));
    }

    #[test]
    fn noise_between_sentences_and_cut_sentences_are_garbage() {
        let mut d = NmeaDecoder::new();
        let mut stream = b"\x84\xA1junk".to_vec();
        stream.extend_from_slice(GGA.as_bytes());
        stream.extend_from_slice(b"$GPGGA,1235");
        stream.extend_from_slice(RMC.as_bytes());
        stream.extend_from_slice(b"\r\n\r\nzz");
        let got = d.push(&stream);
        assert!(
            matches!(
                got[..],
                [
                    Err(DeviceError::Garbage { bytes: 6 }),
                    Err(DeviceError::Garbage { bytes: 11 }),
                    Ok(GnssEvent::Fix(_)),
                    Err(DeviceError::Garbage { bytes: 2 })
                ]
            ),
            "{got:?}"
        );
        // Fed a byte at a time, the same garbage is found, only in smaller pieces.
        let mut d = NmeaDecoder::new();
        let garbage: usize = stream
            .iter()
            .flat_map(|b| d.push(&[*b]))
            .map(|r| match r {
                Err(DeviceError::Garbage { bytes }) => bytes,
                _ => 0,
            })
            .sum();
        assert_eq!(garbage, 6 + 11 + 2);
    }

    #[test]
    fn a_multibyte_character_with_a_good_checksum_is_malformed_not_a_panic() {
        // Each puts a two-byte character where the parser reads a fixed number of bytes:
        // the latitude's degrees, the time's hours, the date's day.
        for fields in [
            "GNRMC,123519,A,4\u{e9}07.038,N,01131.000,E,022.4,084.4,230394,003.1,W",
            "GNRMC,1\u{e9}3519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W",
            "GNRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,2\u{e9}394,003.1,W",
            "GNGGA,1\u{e9}3519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
            "GN\u{e9}A,\u{6d4b}\u{8bd5}",
        ] {
            let got = NmeaDecoder::new().push(with_checksum(fields).as_bytes());
            assert!(matches!(got[..], [Err(DeviceError::Malformed(_))]), "{fields}: {got:?}");
        }
        // The field parsers themselves take bytes, and reject what is not ASCII digits.
        assert_eq!(degrees("4\u{e9}07.038".as_bytes(), b"N", 2), None);
        assert_eq!(degrees("\u{e9}07.038".as_bytes(), b"N", 2), None);
        assert_eq!(time_ms("1\u{e9}3519".as_bytes()), None);
        assert_eq!(date("2\u{e9}394".as_bytes()), None);
        assert_eq!(date(b"230394"), Some((2094, 3, 23)));
        assert_eq!(degrees(b"4807.038", b"S", 2), Some(-(48.0 + 7.038 / 60.0)));
        assert_eq!(check_sentence(&with_checksum("GNRMC,\u{e9}")), Ok("GNRMC,\u{e9}"));
    }

    proptest::proptest! {
        /// R19: any bytes from the device, never a panic.
        #[test]
        fn noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let _ = NmeaDecoder::new().push(&noise);
        }

        #[test]
        fn garbled_sentences_never_panic(s in "\\$G[A-Z]{4},[0-9.,NSEWAV]{0,80}\\*[0-9A-F]{2}\r\n") {
            let _ = NmeaDecoder::new().push(s.as_bytes());
        }

        /// Sentences with the right checksum and a multi-byte character somewhere in their
        /// fields reach the parser whole, and are malformed, not a panic.
        #[test]
        fn checksummed_sentences_with_multibyte_characters_are_malformed(
            kind in "G[NP](GGA|RMC)",
            fields in "[0-9.,NSEWAV]{0,40}[\u{e9}\u{b0}\u{6d4b}][0-9.,NSEWAV\u{e9}\u{b0}\u{6d4b}]{0,40}",
        ) {
            let sentence = with_checksum(&format!("{kind},{fields}"));
            let got = NmeaDecoder::new().push(sentence.as_bytes());
            proptest::prop_assert!(matches!(got[..], [Err(DeviceError::Malformed(_))]), "{:?}", got);
        }
    }
}
