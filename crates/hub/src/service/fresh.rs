//! A file's contents as last read, read again whenever the file changes (its modification
//! time, length or inode: `hub.toml` and `devices.toml` are replaced whole, by rename).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::pki::PkiError;

type Stamp = (std::time::SystemTime, u64, u64);

pub(super) struct Fresh<T> {
    path: PathBuf,
    load: Box<dyn Fn() -> Result<T, PkiError> + Send + Sync>,
    cache: Mutex<Option<(Stamp, Arc<T>)>>,
}

impl<T> Fresh<T> {
    pub(super) fn new(path: PathBuf, load: Box<dyn Fn() -> Result<T, PkiError> + Send + Sync>) -> Fresh<T> {
        Fresh { path, load, cache: Mutex::new(None) }
    }

    /// The contents, read again if the file changed since they were last read.
    pub(super) fn get(&self) -> Result<Arc<T>, PkiError> {
        let io = |source| PkiError::Io { path: self.path.display().to_string(), source };
        let meta = std::fs::metadata(&self.path).map_err(io)?;
        let stamp = (meta.modified().map_err(io)?, meta.len(), meta.ino());
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, value)) = cache.as_ref()
            && *s == stamp
        {
            return Ok(value.clone());
        }
        let value = Arc::new((self.load)()?);
        *cache = Some((stamp, value.clone()));
        Ok(value)
    }
}
