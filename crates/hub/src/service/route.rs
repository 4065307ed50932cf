//! The request router: method, path and headers in, what the request asks out, or the reply
//! refusing it. Pure (no store, no clock), so that it can be fuzzed on its own
//! (`fuzz/fuzz_targets/hub_router.rs`).

use doorstep_sync::wire::{self, Route};

use super::Reply;

/// What a request asks, parsed and checked before anything is read or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// How much of an envelope with this digest the hub holds.
    Head {
        id: String,
        digest: String,
    },
    /// A chunk of an envelope at `offset`, of `length` in all. The chunk itself is the body;
    /// `checksum` (its `Upload-Checksum`, if any) is checked against it by the upload.
    Patch {
        id: String,
        digest: String,
        offset: u64,
        length: u64,
        checksum: Option<String>,
    },
    Receipt {
        id: String,
    },
    Status {
        id: String,
    },
    Manifest,
    /// The device's appointments.
    Appointments,
    /// The device served this appointment (the notice is the body).
    Served {
        appointment: String,
    },
    /// A sealed feedback (the body).
    PutFeedback {
        id: String,
    },
    /// The device's feedback and what became of it.
    FeedbackList,
    /// The CA's revocation list.
    Crl,
}

impl Call {
    /// The application the call is about (none for a manifest or an appointment).
    pub fn id(&self) -> Option<&str> {
        match self {
            Call::Head { id, .. } | Call::Patch { id, .. } | Call::Receipt { id } | Call::Status { id } => Some(id),
            Call::Manifest
            | Call::Appointments
            | Call::Served { .. }
            | Call::PutFeedback { .. }
            | Call::FeedbackList
            | Call::Crl => None,
        }
    }
}

fn digest(header: &dyn Fn(&str) -> Option<String>) -> Result<String, Reply> {
    let d = header(wire::DIGEST).unwrap_or_default().trim().to_ascii_lowercase();
    if d.len() != 64 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Reply::error(400, "digest", "Doorstep-Digest must be 64 hex digits"));
    }
    Ok(d)
}

fn number(header: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<u64, Reply> {
    header(name)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Reply::error(400, "header", format!("{name} must be a number")))
}

/// Parses a request's method, path and headers (`header` looks one up by its lower-case name).
pub fn parse(method: &str, path: &str, header: &dyn Fn(&str) -> Option<String>) -> Result<Call, Reply> {
    match (method, wire::route(path)) {
        ("HEAD", Some(Route::Envelope(id))) => Ok(Call::Head { id, digest: digest(header)? }),
        ("PATCH", Some(Route::Envelope(id))) => {
            let digest = digest(header)?;
            let offset = number(header, wire::UPLOAD_OFFSET)?;
            let length = number(header, wire::UPLOAD_LENGTH)?;
            Ok(Call::Patch { id, digest, offset, length, checksum: header(wire::UPLOAD_CHECKSUM) })
        }
        ("GET", Some(Route::Receipt(id))) => Ok(Call::Receipt { id }),
        ("GET", Some(Route::Status(id))) => Ok(Call::Status { id }),
        ("POST", Some(Route::Manifests)) => Ok(Call::Manifest),
        ("GET", Some(Route::Appointments)) => Ok(Call::Appointments),
        ("POST", Some(Route::Served(appointment))) => Ok(Call::Served { appointment }),
        ("PUT", Some(Route::Feedback(id))) => Ok(Call::PutFeedback { id }),
        ("GET", Some(Route::FeedbackList)) => Ok(Call::FeedbackList),
        ("GET", Some(Route::Crl)) => Ok(Call::Crl),
        (_, Some(_)) => Err(Reply::error(405, "method", "this method is not allowed here")),
        (_, None) => Err(Reply::error(404, "path", "no such resource")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_parses_what_it_can_and_refuses_the_rest_by_name() {
        let id = &doorstep_envelope::ApplicationId::parse("0190f0c48a2b70008000000000000001").unwrap().to_string();
        let digest = "ab".repeat(32);
        let headers = |offset: &'static str| {
            let digest = digest.clone();
            move |name: &str| match name {
                wire::DIGEST => Some(digest.clone()),
                wire::UPLOAD_OFFSET => Some(offset.to_string()),
                wire::UPLOAD_LENGTH => Some("100".into()),
                _ => None,
            }
        };
        let ok = headers("10");
        assert_eq!(
            parse("PATCH", &wire::envelope_path(id), &ok),
            Ok(Call::Patch { id: id.into(), digest: digest.clone(), offset: 10, length: 100, checksum: None })
        );
        assert_eq!(
            parse("HEAD", &wire::envelope_path(id), &ok),
            Ok(Call::Head { id: id.into(), digest: digest.clone() })
        );
        let code = |r: Result<Call, Reply>| r.map_err(|e| (e.status, e.code().map(str::to_string)));
        assert_eq!(code(parse("PATCH", &wire::envelope_path(id), &headers("-1"))), Err((400, Some("header".into()))));
        assert_eq!(code(parse("HEAD", &wire::envelope_path(id), &|_| None)), Err((400, Some("digest".into()))));
        assert_eq!(code(parse("DELETE", &wire::receipt_path(id), &ok)), Err((405, Some("method".into()))));
        assert_eq!(code(parse("GET", "/v1/envelopes/../../etc/passwd", &ok)), Err((404, Some("path".into()))));
        assert_eq!(parse("GET", &wire::status_path(id), &ok).unwrap().id(), Some(id.as_str()));
        assert_eq!(parse("POST", wire::MANIFESTS, &ok).unwrap().id(), None);
        assert_eq!(parse("GET", wire::APPOINTMENTS, &ok), Ok(Call::Appointments));
        assert_eq!(parse("POST", &wire::served_path("apt-1"), &ok), Ok(Call::Served { appointment: "apt-1".into() }));
        assert_eq!(code(parse("POST", wire::APPOINTMENTS, &ok)), Err((405, Some("method".into()))));
        assert_eq!(code(parse("GET", &wire::served_path("apt-1"), &ok)), Err((405, Some("method".into()))));
        assert_eq!(code(parse("POST", "/v1/appointments/a%2F..%2Fb/served", &ok)), Err((404, Some("path".into()))));
        assert_eq!(parse("GET", wire::FEEDBACK, &ok), Ok(Call::FeedbackList));
        assert_eq!(parse("GET", wire::CRL, &ok), Ok(Call::Crl));
        assert_eq!(code(parse("PUT", wire::CRL, &ok)), Err((405, Some("method".into()))));
        assert_eq!(parse("PUT", &wire::feedback_path(id), &ok).unwrap().id(), None);
        assert_eq!(code(parse("POST", &wire::feedback_path(id), &ok)), Err((405, Some("method".into()))));
        assert_eq!(code(parse("PUT", wire::FEEDBACK, &ok)), Err((405, Some("method".into()))));
    }
}
