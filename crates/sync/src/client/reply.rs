//! The hub's reply read from the connection (bounded: a head line, the headers, the body),
//! and the words that say what to do about a refused TLS connection.

use std::io::{BufRead, Read};

use super::{Response, SyncError};
use crate::wire;

/// What an officer or administrator can do about a refused TLS connection.
pub(super) fn with_hint(message: String) -> String {
    let hint = if message.contains("UnknownIssuer") {
        "the server is not this tablet's hub: its certificate is not from the hub CA in the tablet's bundle"
    } else if message.contains("not valid for name") {
        "the hub address does not match the hub's certificate: check the URL in the bundle"
    } else if message.contains("Revoked") {
        "the hub presents a certificate its CA has revoked (a copy of an old key?): tell the hub's administrator"
    } else if message.contains("certificate expired") {
        "the hub's certificate has expired (or the tablet's clock is wrong): tell the hub's administrator"
    } else if message.contains("alert: CertificateExpired") {
        "this tablet's certificate has expired (or its clock is wrong): enroll it again"
    } else if message.contains("alert: UnknownCA") || message.contains("alert: BadCertificate") {
        "the hub does not know this tablet's certificate: provision it from this hub"
    } else if message.contains("alert: CertificateRequired") {
        "the hub needs this tablet's certificate: provision the tablet"
    } else {
        return message;
    };
    format!("{message} ({hint})")
}

/// The longest status or header line read from a hub: a line with no end is refused, not
/// read into memory without bound.
const MAX_LINE: u64 = 8 * 1024;

/// Reads one line of the reply's head, at most [`MAX_LINE`] bytes; `Ok(0)` at the end.
fn read_head_line(conn: &mut impl BufRead, line: &mut String) -> Result<usize, SyncError> {
    let n = conn.by_ref().take(MAX_LINE).read_line(line).map_err(|e| SyncError::Connection(e.to_string()))?;
    if n as u64 == MAX_LINE && !line.ends_with('\n') {
        return Err(SyncError::Protocol(format!("a line of the reply's head longer than {MAX_LINE} bytes")));
    }
    Ok(n)
}

pub(super) fn read_response(conn: &mut impl BufRead, head_only: bool) -> Result<Response, SyncError> {
    let io = |e: std::io::Error| SyncError::Connection(e.to_string());
    let mut line = String::new();
    if read_head_line(conn, &mut line)? == 0 {
        return Err(SyncError::Connection("the hub closed the connection".into()));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| SyncError::Protocol(format!("status line {:?}", line.trim())))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if read_head_line(conn, &mut line)? == 0 {
            return Err(SyncError::Connection("cut in the reply's headers".into()));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if headers.len() > 100 {
            return Err(SyncError::Protocol("too many headers".into()));
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut r = Response { status, headers, body: Vec::new() };
    if head_only || status == 204 || status == 304 {
        return Ok(r);
    }
    let length = r.header("content-length").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    if length > wire::MAX_ENVELOPE {
        return Err(SyncError::Protocol(format!("a {length}-byte reply")));
    }
    r.body.resize(length as usize, 0);
    conn.read_exact(&mut r.body).map_err(io)?;
    Ok(r)
}
