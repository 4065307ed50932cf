//! Why the hub refused an application (or a feedback): the refusals that trying again will
//! not mend, each with the words that say who puts it right (the supervisor's row, the
//! officer's sync line, the feedback screen).

/// Why the hub refused an application's envelope: its code (the wire's `error`), which the
/// screen words, and what it named to enrol (an officer's key) when it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRefusal {
    pub code: String,
    /// For `officer-key`: the key to enrol at the hub (`doorstep-hub add-officer KEY --id
    /// OFFICER`).
    pub key: Option<String>,
    /// For `officer-key`: whose key it is, where the hub could say (an application's header
    /// names its officer; a feedback's officer is sealed).
    pub officer: Option<String>,
}

impl HubRefusal {
    /// What the refusal means and who puts it right, in the words of the locale files.
    pub fn message(&self) -> doorstep_core::text::Message {
        use doorstep_core::text::Message;
        match self.code.as_str() {
            "officer-key" => {
                let key = self.key.as_deref().unwrap_or("?");
                match &self.officer {
                    Some(officer) => {
                        Message::new("shift.hub_refused.officer_key").with("key", key).with("officer", officer.as_str())
                    }
                    None => Message::new("shift.hub_refused.officer_key_unnamed").with("key", key),
                }
            }
            "officer-id" => Message::new("shift.hub_refused.officer_id"),
            "revoked-device" => Message::new("shift.hub_refused.revoked_device"),
            "demo-unit" | "real-unit" => Message::new("shift.hub_refused.demo_mix"),
            "too-large" => Message::new("shift.hub_refused.too_large"),
            "conflict" | "replayed-counter" | "device-key" | "device-id" | "signature" | "digest" | "envelope"
            | "application-id" => Message::new("shift.hub_refused.integrity").with("code", self.code.as_str()),
            other => Message::new("shift.hub_refused.other").with("code", other),
        }
    }

    /// The refusal in `e`, if it is one that trying again will not mend.
    pub fn of(e: &doorstep_sync::client::SyncError) -> Option<HubRefusal> {
        match e {
            // Not a passing fault (a server error, an upload in flight, too many at once, an
            // offset race, damaged chunks): those go at the next try.
            doorstep_sync::client::SyncError::Refused { code, message, .. } if e.is_refusal() => {
                // The hub's message ends with the command to run for an officer it does not know.
                let named = code == "officer-key";
                let key = named
                    .then(|| message.split(|c: char| !c.is_ascii_hexdigit()).find(|w| w.len() == 64))
                    .flatten()
                    .map(str::to_string);
                // "... --id OFFICER)": the hub's placeholder when it cannot know the officer.
                let officer = named
                    .then(|| message.split_once("--id ")?.1.split([')', ' ']).next())
                    .flatten()
                    .filter(|o| !o.is_empty() && *o != "OFFICER")
                    .map(str::to_string);
                Some(HubRefusal { code: code.clone(), key, officer })
            }
            doorstep_sync::client::SyncError::TooLarge(_) => {
                Some(HubRefusal { code: "too-large".into(), key: None, officer: None })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_sync::client::SyncError;

    const KEY: &str = "5c0a3f2d7e8b9c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b";

    /// The hub's words, as its refusals put them, read into what the screens show.
    #[test]
    fn the_hubs_refusals_are_read_into_who_puts_them_right() {
        let refused = |code: &str, message: String| SyncError::Refused { status: 422, code: code.into(), message };
        let cases = [
            // An application names its officer: the line to run is whole.
            (
                refused(
                    "officer-key",
                    format!(
                        "the officer's signing key is not enrolled at this hub (doorstep-hub add-officer {KEY} --id officer-two)"
                    ),
                ),
                Some(("officer-key", Some(KEY), Some("officer-two"))),
                "shift.hub_refused.officer_key",
            ),
            // A feedback's officer is sealed: the hub says OFFICER, which is not an id.
            (
                refused(
                    "officer-key",
                    format!(
                        "the officer's signing key is not enrolled at this hub (doorstep-hub add-officer {KEY} --id OFFICER)"
                    ),
                ),
                Some(("officer-key", Some(KEY), None)),
                "shift.hub_refused.officer_key_unnamed",
            ),
            // An earlier hub's words, with no id.
            (
                refused("officer-key", format!("not enrolled (doorstep-hub add-officer {KEY})")),
                Some(("officer-key", Some(KEY), None)),
                "shift.hub_refused.officer_key_unnamed",
            ),
            (
                refused(
                    "officer-id",
                    "it names officer \"a\", but its signing key is enrolled for officer \"b\"".into(),
                ),
                Some(("officer-id", None, None)),
                "shift.hub_refused.officer_id",
            ),
            (
                refused("revoked-device", "revoked".into()),
                Some(("revoked-device", None, None)),
                "shift.hub_refused.revoked_device",
            ),
            (SyncError::TooLarge(1 << 30), Some(("too-large", None, None)), "shift.hub_refused.too_large"),
            // Passing faults are not refusals: they go at the next try.
            (SyncError::Refused { status: 503, code: "busy".into(), message: String::new() }, None, ""),
            (SyncError::Refused { status: 409, code: "offset".into(), message: String::new() }, None, ""),
        ];
        for (error, want, words) in cases {
            let got = HubRefusal::of(&error);
            let seen = got.as_ref().map(|r| (r.code.as_str(), r.key.as_deref(), r.officer.as_deref()));
            assert_eq!(seen, want, "{error:?}");
            let said = got.map(|r| r.message().key);
            assert_eq!(said, want.map(|_| words), "{error:?}");
        }
    }
}
