//! Drafts: every step of a visit, saved the moment it is captured, each part its own file in
//! `drafts/` (sealed under the data key, written, fsynced, renamed, the folder fsynced) and
//! indexed by sled. A saved draft is as durable as a sealed envelope: an index rebuilt after
//! damage keeps every one.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::{DRAFTS, Vault, VaultError, crypto, fsutil};

/// The name of a draft part's file: the visit and the part, hex-encoded (any text is safe).
fn file_name(visit: &str, part: &str) -> String {
    format!("{}.{}.draft", hex::encode(visit), hex::encode(part))
}

/// The visit and part of a draft file's name.
pub(crate) fn parse_file_name(name: &str) -> Option<(String, String)> {
    let stem = name.strip_suffix(".draft")?;
    let (visit, part) = stem.split_once('.')?;
    let decode = |h: &str| hex::decode(h).ok().and_then(|b| String::from_utf8(b).ok());
    Some((decode(visit)?, decode(part)?))
}

fn index_key(visit: &str, part: &str) -> Vec<u8> {
    format!("{visit}\0{part}").into_bytes()
}

impl Vault {
    fn draft_path(&self, visit: &str, part: &str) -> PathBuf {
        self.dir.join(DRAFTS).join(file_name(visit, part))
    }

    fn draft_aad(&self, visit: &str, part: &str) -> Vec<u8> {
        let mut aad = format!("doorstep-vault-draft-v1\0{visit}\0{part}\0").into_bytes();
        aad.extend_from_slice(self.device_id.0.as_bytes());
        aad
    }

    /// Saves one part of a visit's draft (a step's data, a photo…). Returns once durable.
    pub fn save_draft(&self, visit: &str, part: &str, bytes: &[u8]) -> Result<(), VaultError> {
        if visit.is_empty() || part.is_empty() {
            return Err(VaultError::NotAllowed("a draft needs a visit and a part".into()));
        }
        let sealed = crypto::seal(&self.data_key, &self.draft_aad(visit, part), bytes);
        fsutil::write_atomic(&self.draft_path(visit, part), &sealed)?;
        // The index follows without waiting for the disk: it is rebuilt from the files.
        self.put(&self.draft_index, "draft-files", &index_key(visit, part), file_name(visit, part).as_bytes())?;
        // A visit is on its way to a seal: have empty envelope files ready.
        if self.pool().len() < 2 {
            self.replenish()?;
        }
        Ok(())
    }

    pub fn load_draft(&self, visit: &str, part: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let sealed = match fs::read(self.draft_path(visit, part)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        crypto::open(&self.data_key, &self.draft_aad(visit, part), &sealed)
            .map(Some)
            .ok_or_else(|| VaultError::Corrupt("a draft does not decrypt".into()))
    }

    /// Every draft file: (visit, part, file name).
    pub(crate) fn draft_files(&self) -> Result<Vec<(String, String, String)>, VaultError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.dir.join(DRAFTS))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some((visit, part)) = parse_file_name(&name) {
                out.push((visit, part, name));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The visits with a draft, to resume after a restart.
    pub fn draft_visits(&self) -> Result<Vec<String>, VaultError> {
        let visits: BTreeSet<String> = self.draft_files()?.into_iter().map(|(v, _, _)| v).collect();
        Ok(visits.into_iter().collect())
    }

    /// Erases every part of a visit's draft, durably.
    pub fn erase_draft(&self, visit: &str) -> Result<(), VaultError> {
        self.drop_draft(visit, true)
    }

    /// Removes a visit's draft files and index entries; `durably` fsyncs the folder.
    pub(crate) fn drop_draft(&self, visit: &str, durably: bool) -> Result<(), VaultError> {
        for (v, part, name) in self.draft_files()? {
            if v == visit {
                let path = self.dir.join(DRAFTS).join(name);
                if durably {
                    fsutil::remove_durably(&path)?;
                } else {
                    fsutil::remove(&path)?;
                }
                self.draft_index.remove(index_key(visit, &part))?;
            }
        }
        if durably {
            self.flush()?;
        }
        Ok(())
    }

    /// Brings the draft index in line with the files: files without an entry are indexed
    /// again, entries without a file dropped, and files that do not decrypt kept aside.
    /// Drafts an earlier version kept inside sled become files first.
    pub(crate) fn reconcile_drafts(&mut self, now: i64) -> Result<(), VaultError> {
        let legacy = self.db.open_tree("drafts")?;
        for item in legacy.iter() {
            let (k, v) = item?;
            let plain = crypto::open(&self.data_key, &Self::aad("drafts", &k, &self.device_id), &v);
            let text = String::from_utf8_lossy(&k).into_owned();
            if let (Some(plain), Some((visit, part))) = (plain, text.split_once('\0')) {
                self.save_draft(visit, part, &plain)?;
            } else {
                self.recovery.dropped_values += 1;
            }
        }
        legacy.clear()?;
        let files = self.draft_files()?;
        let mut indexed = Vec::new();
        for item in self.draft_index.iter() {
            indexed.push(item?.0);
        }
        for key in indexed {
            let text = String::from_utf8_lossy(&key).into_owned();
            let on_disk =
                text.split_once('\0').is_some_and(|(v, p)| files.iter().any(|(fv, fp, _)| fv == v && fp == p));
            if !on_disk {
                self.draft_index.remove(key)?;
            }
        }
        for (visit, part, name) in files {
            match self.load_draft(&visit, &part) {
                Ok(_) => {
                    let key = index_key(&visit, &part);
                    if self.get(&self.draft_index, "draft-files", &key)?.is_none() {
                        self.put(&self.draft_index, "draft-files", &key, name.as_bytes())?;
                        self.recovery.drafts_reindexed += 1;
                    }
                }
                Err(VaultError::Corrupt(_)) => {
                    let path = self.dir.join(DRAFTS).join(&name);
                    self.keep_aside(&path, path.with_extension("draft.damaged"), now)?;
                }
                // An I/O error: left as it is, and named.
                Err(VaultError::Io(_)) => self.recovery.unreadable_files.push(self.dir.join(DRAFTS).join(&name)),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_any_text() {
        for (visit, part) in [("visit-1", "state"), ("测试.visit", "photo.jpg"), ("a\0b", "..")] {
            let name = file_name(visit, part);
            assert!(!name.contains('/') && name.ends_with(".draft"));
            assert_eq!(parse_file_name(&name), Some((visit.to_string(), part.to_string())));
        }
        assert_eq!(parse_file_name("x.draft"), None);
        assert_eq!(parse_file_name("zz.zz.draft"), None);
    }
}
