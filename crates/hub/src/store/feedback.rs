//! The feedback's part of the default store: a sled tree by id of what the hub holds in
//! clear, and one of the sealed bytes, each change journalled (and fsynced) before the trees
//! have it, so that a rebuilt index has every feedback as it last stood, with its bytes.

use super::index::{SledStore, damaged};
use super::journal::Entry;
use super::{FeedbackBox, HeldFeedback, StoreError};

impl FeedbackBox for SledStore {
    fn receive_feedback(&self, held: &HeldFeedback, sealed: &[u8]) -> Result<Option<HeldFeedback>, StoreError> {
        self.alive()?;
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(now) = Self::json::<HeldFeedback>(self.feedback.get(held.id.as_bytes())?)? {
            return Ok(Some(now));
        }
        let v = serde_json::to_vec(held).map_err(damaged)?;
        let entry = Entry::Feedback { id: held.id.clone(), held: v.clone(), sealed: sealed.to_vec() };
        self.journal.append(&entry, &self.poison)?;
        self.feedback_sealed.insert(held.id.as_bytes(), sealed)?;
        self.feedback.insert(held.id.as_bytes(), v)?;
        self.flush()?;
        Ok(None)
    }

    fn held_feedback(&self, id: &str) -> Result<Option<HeldFeedback>, StoreError> {
        self.alive()?;
        Self::json(self.feedback.get(id.as_bytes())?)
    }

    fn feedback_list(&self, device: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError> {
        self.alive()?;
        let mut out = Vec::new();
        for item in self.feedback.iter() {
            let (_, v) = item?;
            let f: HeldFeedback = serde_json::from_slice(&v).map_err(damaged)?;
            if device.is_none_or(|d| d == f.device) {
                out.push(f);
            }
        }
        out.sort_by(|a, b| (a.created_at_unix, &a.id).cmp(&(b.created_at_unix, &b.id)));
        Ok(out)
    }

    fn sealed_feedback(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.alive()?;
        Ok(self.feedback_sealed.get(id.as_bytes())?.map(|v| v.to_vec()))
    }

    fn replace_feedback(&self, old: &HeldFeedback, new: &HeldFeedback) -> Result<bool, StoreError> {
        self.alive()?;
        if old.id != new.id {
            return Err(StoreError::Refused("a feedback keeps its id".into()));
        }
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        let now: Option<HeldFeedback> = Self::json(self.feedback.get(old.id.as_bytes())?)?;
        if now.as_ref() != Some(old) {
            return Ok(false);
        }
        let v = serde_json::to_vec(new).map_err(damaged)?;
        self.journal
            .append(&Entry::Feedback { id: new.id.clone(), held: v.clone(), sealed: Vec::new() }, &self.poison)?;
        self.feedback.insert(new.id.as_bytes(), v)?;
        self.flush()?;
        Ok(true)
    }
}
