//! Why the hub refused an application (or a feedback): the refusals that trying again will
//! not mend, each with the words that say who puts it right (the supervisor's row, the
//! officer's sync line, the feedback screen).

/// Why the hub refused an application's envelope: its code (the wire's `error`), which the
/// screen words, and what it named to enrol (an officer's key) when it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRefusal {
    pub code: String,
    /// For `officer-key`: the key to enrol at the hub (`doorstep-hub add-officer KEY`).
    pub key: Option<String>,
}

impl HubRefusal {
    /// What the refusal means and who puts it right, in the words of the locale files.
    pub fn message(&self) -> doorstep_core::text::Message {
        use doorstep_core::text::Message;
        match self.code.as_str() {
            "officer-key" => {
                Message::new("shift.hub_refused.officer_key").with("key", self.key.as_deref().unwrap_or("?"))
            }
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
                let key = (code == "officer-key")
                    .then(|| message.split(|c: char| !c.is_ascii_hexdigit()).find(|w| w.len() == 64))
                    .flatten()
                    .map(str::to_string);
                Some(HubRefusal { code: code.clone(), key })
            }
            doorstep_sync::client::SyncError::TooLarge(_) => Some(HubRefusal { code: "too-large".into(), key: None }),
            _ => None,
        }
    }
}
