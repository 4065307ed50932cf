//! The hub's admin socket (SECURITY R19): one request line in, one reply line out, through
//! `doorstep_hub::admin::reply_line`, the function the socket's connections call, against
//! in-memory records. Every reply is one line of JSON with `ok` or `error`, whatever arrives.
#![no_main]
use std::collections::HashMap;
use std::sync::Mutex;

use doorstep_hub::admin::reply_line;
use doorstep_hub::store::{Received, Records, Status, StoreError, undecidable};

/// Two applications, one released by its supervisor.
struct Memory(Mutex<HashMap<String, Status>>);

impl Records for Memory {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        Ok(self.0.lock().unwrap().contains_key(id).then(|| Received {
            digest: "00".repeat(32),
            device: "tablet-fuzz".into(),
            device_id: "tablet-fuzz".into(),
            size: 1,
            device_counter: 1,
            received_at_unix: 0,
        }))
    }
    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        let ids: Vec<String> = self.0.lock().unwrap().keys().cloned().collect();
        Ok(ids.into_iter().filter_map(|id| self.received(&id).ok().flatten().map(|r| (id, r))).collect())
    }
    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.lock().unwrap().contains_key(id).then(|| vec![0xAB; 3]))
    }
    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError> {
        let mut all = self.0.lock().unwrap();
        if let Some(why) = undecidable(id, all.get(id)) {
            return Err(StoreError::Refused(why));
        }
        all.insert(id.to_string(), verdict.clone());
        Ok(())
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records = Memory(Mutex::new(HashMap::from([
        ("a".to_string(), Status::Received),
        ("b".to_string(), Status::Approved { batch: "shift".into() }),
    ])));
    for line in data.split(|&b| b == b'\n') {
        let reply = reply_line(&records, line);
        assert!(!reply.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&reply).expect("a reply is JSON");
        assert!(v.get("ok").is_some() != v.get("error").is_some(), "{reply}");
    }
});
