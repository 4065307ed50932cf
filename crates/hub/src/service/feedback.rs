//! A device's feedback: a sealed feedback in (checked as an envelope is, kept sealed), and the
//! list of its own with their states and answers out.

use doorstep_envelope::{ApplicationId, DeviceId, SealedFeedback};
use doorstep_sync::wire::{self, FeedbackKind, FeedbackList};

use super::{Reply, Service};
use crate::feedback::status_of;
use crate::store::{FeedbackBox, HeldFeedback, Store, StoreError};

fn other_device(id: &str) -> Reply {
    Reply::error(
        403,
        "other-device",
        format!("feedback {id} is another enrolled device's: this device may not write it"),
    )
}

fn conflict(id: &str) -> Reply {
    Reply::error(422, "conflict", format!("the hub holds feedback {id} with other bytes; a feedback id names one"))
}

/// What the hub says of a feedback it holds: to its own device, its status; to another, no.
fn held_reply(held: &HeldFeedback, device: &str, digest: &str) -> Reply {
    if held.device != device {
        other_device(&held.id)
    } else if held.digest == digest {
        Reply::json(200, &status_of(held))
    } else {
        conflict(&held.id)
    }
}

impl<S: Store> Service<S> {
    /// `PUT /v1/feedback/{id}`: takes a sealed feedback once its checks pass, durably; the same
    /// bytes again are answered the same.
    pub(super) fn put_feedback(&self, device: &str, id: &str, body: &[u8]) -> Result<Reply, StoreError> {
        if body.len() as u64 > wire::MAX_FEEDBACK {
            return Ok(Reply::error(
                413,
                "too-large",
                format!("a sealed feedback is at most {} bytes", wire::MAX_FEEDBACK),
            ));
        }
        let sealed = match SealedFeedback::from_bytes(body) {
            Ok(s) => s,
            Err(e) => return Ok(Reply::error(422, "feedback", format!("not a sealed feedback: {e}"))),
        };
        if ApplicationId::parse(id) != Some(sealed.feedback_id()) {
            return Ok(Reply::error(422, "feedback-id", "the sealed feedback is for another id"));
        }
        if let Err(e) = sealed.verify_self_signed() {
            return Ok(Reply::error(422, "signature", e.to_string()));
        }
        let h = sealed.header();
        if h.device_id.0 != device {
            return Ok(Reply::error(
                422,
                "device-id",
                format!("the feedback names another device than {device}, whose certificate sends it"),
            ));
        }
        let trusted = match self.trusted.get() {
            Ok(t) => t,
            Err(e) => return Ok(Reply::error(500, "hub-config", format!("the hub cannot read its officers: {e}"))),
        };
        match (DeviceId::is_demo(device), trusted.demo) {
            (true, false) => {
                return Ok(Reply::error(
                    422,
                    "demo-unit",
                    format!("{device} is a demo unit; only a demo hub takes it"),
                ));
            }
            (false, true) => {
                return Ok(Reply::error(
                    422,
                    "real-unit",
                    format!("this is a demo hub: it takes no feedback of {device}"),
                ));
            }
            _ => {}
        }
        // The officer is sealed: the key must be enrolled, and for someone.
        if let Some((code, why)) = trusted.officer_refusal(&h.officer_key, None) {
            return Ok(Reply::error(422, code, why));
        }
        if self.store.bind_device_key(device, h.device_key)?.is_some() {
            return Ok(Reply::error(422, "device-key", format!("signed with a device key that is not {device}'s")));
        }
        let digest = hex::encode(sealed.digest());
        if let Some(held) = self.store.held_feedback(id)? {
            return Ok(held_reply(&held, device, &digest));
        }
        let Ok(kind) = serde_json::from_value::<FeedbackKind>(serde_json::Value::String(h.kind.clone())) else {
            return Ok(Reply::error(422, "feedback-kind", format!("no feedback box {:?}", h.kind)));
        };
        let held = HeldFeedback {
            id: id.to_string(),
            device: device.to_string(),
            kind,
            category: h.category.clone(),
            created_at_unix: h.created_at_unix,
            received_at_unix: (self.now)(),
            digest: digest.clone(),
            state: doorstep_core::feedback::Escalation::Open,
        };
        // Durable before the answer leaves: the unit drops its copy on it.
        Ok(match self.store.receive_feedback(&held, body)? {
            None => Reply::json(200, &status_of(&held)),
            Some(now) => held_reply(&now, device, &digest),
        })
    }

    /// `GET /v1/feedback`: this device's feedback, never another's.
    pub(super) fn feedback_list(&self, device: &str) -> Result<Reply, StoreError> {
        let list = FeedbackBox::feedback_list(self.store.as_ref(), Some(device))?;
        Ok(Reply::json(
            200,
            &FeedbackList {
                version: wire::FEEDBACK_LIST_VERSION,
                device: device.to_string(),
                feedback: list.iter().map(status_of).collect(),
            },
        ))
    }
}
