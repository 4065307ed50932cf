//! The simulated GNSS receiver: GGA and RMC once a second, on a small loop in Beijing, losing
//! its fix for 5 s in every 30.

use std::format;
use std::time::{Duration, Instant};
use std::vec::Vec;

use doorstep_devices::nmea;

use super::SimDevice;

/// An NMEA receiver moving along a small loop, losing its fix for 5 s in every 30.
pub struct GnssReceiver {
    started: Instant,
    last: Option<Instant>,
}

impl GnssReceiver {
    pub fn new() -> GnssReceiver {
        GnssReceiver { started: Instant::now(), last: None }
    }
}

impl Default for GnssReceiver {
    fn default() -> Self {
        GnssReceiver::new()
    }
}

impl SimDevice for GnssReceiver {
    fn native_baud(&self) -> u32 {
        9_600
    }

    fn receive(&mut self, _bytes: &[u8], _out: &mut Vec<u8>) {}

    fn tick(&mut self, now: Instant, out: &mut Vec<u8>) {
        if self.last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        self.last = Some(now);
        let secs = now.duration_since(self.started).as_secs();
        let utc = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let (h, m, s) = ((utc / 3600) % 24, (utc / 60) % 60, utc % 60);
        let days = utc / 86_400;
        let (y, mo, d) = civil_from_days(days as i64);
        let time = format!("{h:02}{m:02}{s:02}.00");
        let date = format!("{d:02}{mo:02}{:02}", y % 100);
        // A loop of about 100 m around a point in Beijing.
        let angle = secs as f64 / 60.0 * std::f64::consts::TAU;
        let lat = 39.9087 + 0.0005 * angle.sin();
        let lon = 116.3975 + 0.0006 * angle.cos();
        let nmea_lat = format!("{:02}{:07.4}", lat.trunc() as u32, lat.fract() * 60.0);
        let nmea_lon = format!("{:03}{:07.4}", lon.trunc() as u32, lon.fract() * 60.0);
        let fix = secs % 30 < 25;
        if fix {
            out.extend(
                nmea::with_checksum(&format!("GNGGA,{time},{nmea_lat},N,{nmea_lon},E,1,09,0.9,44.0,M,-8.0,M,,"))
                    .bytes(),
            );
            out.extend(
                nmea::with_checksum(&format!("GNRMC,{time},A,{nmea_lat},N,{nmea_lon},E,0.5,90.0,{date},,,A")).bytes(),
            );
        } else {
            out.extend(nmea::with_checksum(&format!("GNGGA,{time},,,,,0,00,99.9,,M,,M,,")).bytes());
            out.extend(nmea::with_checksum(&format!("GNRMC,{time},V,,,,,,,{date},,,N")).bytes());
        }
    }
}

/// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
    }
}
