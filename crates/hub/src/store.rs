//! The hub's storage behind a small trait, with sled as the default. Everything a reply
//! promises (an offset, a receipt) is flushed before the reply is sent.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("hub store: {0}")]
    Sled(#[from] sled::Error),
    #[error("hub store: damaged record: {0}")]
    Damaged(String),
}

/// A partial upload: what the tablet declared and the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub digest: String,
    pub length: u64,
    pub device: String,
    pub bytes: Vec<u8>,
}

/// An upload's facts, stored ahead of its bytes.
#[derive(Serialize, Deserialize)]
struct UploadHead {
    digest: String,
    length: u64,
    device: String,
}

impl Upload {
    /// `head length (u32 LE) | head (JSON) | bytes`.
    fn encode(&self) -> Vec<u8> {
        let head = serde_json::to_vec(&UploadHead {
            digest: self.digest.clone(),
            length: self.length,
            device: self.device.clone(),
        })
        .unwrap_or_default();
        let mut out = Vec::with_capacity(4 + head.len() + self.bytes.len());
        out.extend_from_slice(&(head.len() as u32).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(&self.bytes);
        out
    }

    fn decode(v: &[u8]) -> Result<Upload, StoreError> {
        let bad = || StoreError::Damaged("an upload record".into());
        let (len, rest) = v.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_le_bytes(*len) as usize;
        let head: UploadHead = serde_json::from_slice(rest.get(..len).ok_or_else(bad)?).map_err(|_| bad())?;
        Ok(Upload { digest: head.digest, length: head.length, device: head.device, bytes: rest[len..].to_vec() })
    }
}

/// A received envelope's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub digest: String,
    /// The enrolled device (its certificate's name) that uploaded it.
    pub device: String,
    /// The device id in the envelope's header, under which its counter is kept.
    pub device_id: String,
    pub size: u64,
    pub device_counter: u64,
    pub received_at_unix: i64,
}

/// What the hub keeps. Implementations make each write durable before returning.
pub trait Store: Send + Sync {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError>;
    fn put_upload(&self, id: &str, upload: &Upload) -> Result<(), StoreError>;
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError>;
    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a whole envelope, its facts and its receipt, and drops the partial upload, as one.
    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<(), StoreError>;
    /// The application a device counter was used for, if any.
    fn counter(&self, device_id: &str, counter: u64) -> Result<Option<String>, StoreError>;
    /// The signing key first seen from an enrolled device (its envelopes must all use it).
    fn device_key(&self, device: &str) -> Result<Option<[u8; 32]>, StoreError>;
    fn set_device_key(&self, device: &str, key: [u8; 32]) -> Result<(), StoreError>;
    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError>;
    /// A supervisor's manifest, by batch id.
    fn manifest(&self, batch: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a manifest and each application's decision, as one.
    fn put_manifest(&self, batch: &str, bytes: &[u8], decisions: &[(String, Status)]) -> Result<(), StoreError>;
    fn status(&self, id: &str) -> Result<Option<Status>, StoreError>;
    fn set_status(&self, id: &str, status: &Status) -> Result<(), StoreError>;
}

pub use doorstep_sync::wire::Status;

/// Group commit: writers that finished before a flush began share it, so fifty tablets
/// uploading at once cost a few fsyncs, not fifty, and none is told "durable" early.
#[derive(Default)]
struct GroupFlush {
    /// Tickets handed out: one per writer, taken after its write.
    issued: std::sync::atomic::AtomicU64,
    /// (every ticket up to this one is durable, a flush is running).
    state: std::sync::Mutex<(u64, bool)>,
    done: std::sync::Condvar,
}

impl GroupFlush {
    fn flush(&self, db: &sled::Db) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if st.0 >= ticket {
                return Ok(());
            }
            if !st.1 {
                // Every ticket issued so far was taken after its write: this flush covers it.
                st.1 = true;
                let target = self.issued.load(Ordering::SeqCst);
                drop(st);
                let result = db.flush();
                st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                st.1 = false;
                if result.is_ok() {
                    st.0 = st.0.max(target);
                }
                self.done.notify_all();
                result?;
                continue;
            }
            st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

pub struct SledStore {
    db: sled::Db,
    group: GroupFlush,
    uploads: sled::Tree,
    envelopes: sled::Tree,
    received: sled::Tree,
    receipts: sled::Tree,
    counters: sled::Tree,
    device_keys: sled::Tree,
    manifests: sled::Tree,
    statuses: sled::Tree,
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::open(dir)?;
        Ok(SledStore {
            uploads: db.open_tree("uploads")?,
            envelopes: db.open_tree("envelopes")?,
            received: db.open_tree("received")?,
            receipts: db.open_tree("receipts")?,
            counters: db.open_tree("counters")?,
            device_keys: db.open_tree("device-keys")?,
            manifests: db.open_tree("manifests")?,
            statuses: db.open_tree("statuses")?,
            group: GroupFlush::default(),
            db,
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(v: Option<sled::IVec>) -> Result<Option<T>, StoreError> {
        v.map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Damaged(e.to_string()))).transpose()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.group.flush(&self.db)
    }
}

fn tx_error(e: sled::transaction::TransactionError<()>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Storage(s) => StoreError::Sled(s),
        sled::transaction::TransactionError::Abort(()) => StoreError::Damaged("transaction aborted".into()),
    }
}

fn counter_key(device_id: &str, counter: u64) -> Vec<u8> {
    let mut k = device_id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&counter.to_be_bytes());
    k
}

impl Store for SledStore {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        self.uploads.get(id)?.map(|v| Upload::decode(&v)).transpose()
    }

    fn put_upload(&self, id: &str, upload: &Upload) -> Result<(), StoreError> {
        self.uploads.insert(id, upload.encode())?;
        self.flush()
    }

    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        Self::json(self.received.get(id)?)
    }

    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.envelopes.get(id)?.map(|v| v.to_vec()))
    }

    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.receipts.get(id)?.map(|v| v.to_vec()))
    }

    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<(), StoreError> {
        use sled::Transactional;
        let facts = serde_json::to_vec(received).map_err(|e| StoreError::Damaged(e.to_string()))?;
        let env: sled::Tree = self.envelopes.clone();
        (&env, &self.received, &self.receipts, &self.uploads, &self.counters)
            .transaction(|(e, r, rc, u, c)| {
                e.insert(id, envelope)?;
                r.insert(id, facts.as_slice())?;
                rc.insert(id, receipt)?;
                u.remove(id)?;
                c.insert(counter_key(&received.device_id, received.device_counter), id)?;
                Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn counter(&self, device_id: &str, counter: u64) -> Result<Option<String>, StoreError> {
        Ok(self.counters.get(counter_key(device_id, counter))?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn device_key(&self, device: &str) -> Result<Option<[u8; 32]>, StoreError> {
        Ok(self.device_keys.get(device)?.and_then(|v| <[u8; 32]>::try_from(v.as_ref()).ok()))
    }

    fn set_device_key(&self, device: &str, key: [u8; 32]) -> Result<(), StoreError> {
        self.device_keys.insert(device, &key)?;
        self.flush()
    }

    fn manifest(&self, batch: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.manifests.get(batch)?.map(|v| v.to_vec()))
    }

    fn put_manifest(&self, batch: &str, bytes: &[u8], decisions: &[(String, Status)]) -> Result<(), StoreError> {
        use sled::Transactional;
        let encoded: Vec<(String, Vec<u8>)> = decisions
            .iter()
            .map(|(id, s)| serde_json::to_vec(s).map(|v| (id.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Damaged(e.to_string()))?;
        (&self.manifests, &self.statuses)
            .transaction(|(m, st)| {
                m.insert(batch, bytes)?;
                for (id, v) in &encoded {
                    st.insert(id.as_bytes(), v.as_slice())?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        if let Some(s) = Self::json(self.statuses.get(id)?)? {
            return Ok(Some(s));
        }
        Ok(self.received.contains_key(id)?.then_some(Status::Received))
    }

    fn set_status(&self, id: &str, status: &Status) -> Result<(), StoreError> {
        let v = serde_json::to_vec(status).map_err(|e| StoreError::Damaged(e.to_string()))?;
        self.statuses.insert(id, v)?;
        self.flush()
    }

    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        let mut out = Vec::new();
        for item in self.received.iter() {
            let (k, v) = item?;
            let r: Received = serde_json::from_slice(&v).map_err(|e| StoreError::Damaged(e.to_string()))?;
            out.push((String::from_utf8_lossy(&k).into_owned(), r));
        }
        Ok(out)
    }
}
