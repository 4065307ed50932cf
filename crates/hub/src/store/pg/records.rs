//! Envelopes, receipts, partial uploads, counters, device keys, manifests and verdicts in
//! PostgreSQL: [`Records`] and [`Store`] for [`PgStore`].

use postgres::Row;
use postgres::types::ToSql;

use super::PgStore;
use crate::store::{ManifestTaken, Received, Records, Status, Store, StoreError, Upload, undecidable};

/// A count or size as PostgreSQL's `bigint` (every one the hub keeps is far below 2^63).
pub(super) fn big(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Refused(format!("{n} is too large for the store")))
}

fn unsigned(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Damaged(format!("a negative size or count in the database: {n}")))
}

/// A status's state, kept in its own column so that a verdict's condition is one comparison.
fn state(status: &Status) -> &'static str {
    match status {
        Status::Received => "received",
        Status::Approved { .. } => "approved",
        Status::Returned { .. } => "returned",
        Status::Accepted => "accepted",
        Status::Rejected { .. } => "rejected",
    }
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Damaged(e.to_string()))
}

pub(super) fn parse<T: for<'de> serde::Deserialize<'de>>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Damaged(e.to_string()))
}

const RECEIVED: &str = "SELECT id, digest, device, device_id, size, device_counter, received_at_unix FROM envelopes";

fn received_row(row: &Row) -> Result<(String, Received), StoreError> {
    Ok((
        row.get(0),
        Received {
            digest: row.get(1),
            device: row.get(2),
            device_id: row.get(3),
            size: unsigned(row.get(4))?,
            device_counter: unsigned(row.get(5))?,
            received_at_unix: row.get(6),
        },
    ))
}

const UPLOAD: &str = "SELECT id, digest, length, device, started_at_unix, touched_at_unix, held FROM uploads";

fn upload_row(row: &Row) -> Result<(String, Upload), StoreError> {
    Ok((
        row.get(0),
        Upload {
            digest: row.get(1),
            length: unsigned(row.get(2))?,
            device: row.get(3),
            started_at_unix: row.get(4),
            touched_at_unix: row.get(5),
            offset: unsigned(row.get(6))?,
        },
    ))
}

impl PgStore {
    fn one<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: impl FnOnce(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.with(|c| c.query_opt(sql, params)?.as_ref().map(f).transpose())
    }

    /// Sets a status without the back office's checks: for tests and repairs only.
    pub fn set_status(&self, id: &str, status: &Status) -> Result<(), StoreError> {
        let text = json(status)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO statuses (id, state, status) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status",
                &[&id, &state(status), &text],
            )?;
            Ok(())
        })
    }
}

impl Records for PgStore {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        Ok(self.one(&format!("{RECEIVED} WHERE id = $1"), &[&id], received_row)?.map(|(_, r)| r))
    }

    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        self.with(|c| {
            c.query(&format!("{RECEIVED} ORDER BY id COLLATE \"C\""), &[])?.iter().map(received_row).collect()
        })
    }

    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.one("SELECT envelope FROM envelopes WHERE id = $1", &[&id], |r| Ok(r.get(0)))
    }

    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT (SELECT status FROM statuses WHERE id = $1),
                        EXISTS (SELECT 1 FROM envelopes WHERE id = $1)",
                &[&id],
            )?;
            let status: Option<String> = row.get(0);
            let held: bool = row.get(1);
            match status {
                Some(text) => Ok(Some(parse(&text)?)),
                None => Ok(held.then_some(Status::Received)),
            }
        })
    }

    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError> {
        if !matches!(verdict, Status::Accepted | Status::Rejected { .. }) {
            return Err(StoreError::Refused("a verdict is accepted or rejected".into()));
        }
        let text = json(verdict)?;
        // Taken only from `approved`: of two back offices deciding at once, one changes the
        // row and the other is told why it cannot.
        let changed = self.with(|c| {
            Ok(c.execute(
                "UPDATE statuses SET state = $2, status = $3 WHERE id = $1 AND state = 'approved'",
                &[&id, &state(verdict), &text],
            )?)
        })?;
        if changed == 1 {
            return Ok(());
        }
        let why = undecidable(id, self.status(id)?.as_ref())
            .unwrap_or_else(|| format!("{id} changed while it was being decided; look at it again"));
        Err(StoreError::Refused(why))
    }
}

impl Store for PgStore {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        Ok(self.one(&format!("{UPLOAD} WHERE id = $1"), &[&id], upload_row)?.map(|(_, u)| u))
    }

    fn uploads(&self) -> Result<Vec<(String, Upload)>, StoreError> {
        self.with(|c| c.query(&format!("{UPLOAD} ORDER BY id COLLATE \"C\""), &[])?.iter().map(upload_row).collect())
    }

    fn append(&self, id: &str, upload: &Upload, chunk: &[u8]) -> Result<u64, StoreError> {
        let len = big(chunk.len() as u64)?;
        let offset = big(upload.offset)?;
        let (device, digest) = (&upload.device, &upload.digest);
        self.transaction(|tx| {
            // When it last grew, by the database's clock: every hub's sweep reads the same one.
            if upload.offset == 0 {
                // A start (or a start again of this device's upload of this envelope): the
                // head, and this chunk as its only bytes. Another device's or another digest's
                // upload under the id is not taken over.
                let started = tx.execute(
                    "INSERT INTO uploads (id, digest, length, device, started_at_unix, touched_at_unix, held)
                     VALUES ($1, $2, $3, $4, $5, greatest($5, extract(epoch FROM now())::bigint), $6)
                     ON CONFLICT (id) DO UPDATE SET length = excluded.length, started_at_unix = excluded.started_at_unix,
                         touched_at_unix = excluded.touched_at_unix, held = excluded.held
                     WHERE uploads.device = excluded.device AND uploads.digest = excluded.digest",
                    &[&id, digest, &big(upload.length)?, device, &upload.started_at_unix, &len],
                )?;
                if started != 1 {
                    return Err(StoreError::Conflict(format!("upload {id} is another device's or envelope's")));
                }
                tx.execute("DELETE FROM upload_chunks WHERE id = $1", &[&id])?;
            } else {
                // Grows only from where the caller found it: when another hub appended or
                // dropped it meanwhile, the tablet hears where to resume.
                let grown = tx.execute(
                    "UPDATE uploads SET held = held + $3, touched_at_unix = greatest(touched_at_unix, extract(epoch FROM now())::bigint)
                     WHERE id = $1 AND held = $2 AND device = $4 AND digest = $5",
                    &[&id, &offset, &len, device, digest],
                )?;
                if grown != 1 {
                    let now = tx.query_opt("SELECT held, device, digest FROM uploads WHERE id = $1", &[&id])?;
                    return Err(match now {
                        // Dropped meanwhile: start again.
                        None => StoreError::Offset(0),
                        Some(r) if r.get::<_, &str>(1) == device && r.get::<_, &str>(2) == digest => {
                            StoreError::Offset(unsigned(r.get(0))?)
                        }
                        Some(_) => StoreError::Conflict(format!("upload {id} is another device's or envelope's")),
                    });
                }
            }
            // An empty chunk adds nothing (and no row, which the next chunk's would collide with).
            if !chunk.is_empty() {
                tx.execute("INSERT INTO upload_chunks (id, at, bytes) VALUES ($1, $2, $3)", &[&id, &offset, &chunk])?;
            }
            Ok(((), true))
        })?;
        Ok(upload.offset + chunk.len() as u64)
    }

    fn upload_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.with(|c| {
            let mut bytes = Vec::new();
            for row in c.query("SELECT bytes FROM upload_chunks WHERE id = $1 ORDER BY at", &[&id])? {
                bytes.extend_from_slice(row.get::<_, &[u8]>(0));
            }
            Ok(bytes)
        })
    }

    fn drop_upload(&self, id: &str) -> Result<(), StoreError> {
        // Its chunks go with it (ON DELETE CASCADE).
        self.with(|c| {
            c.execute("DELETE FROM uploads WHERE id = $1", &[&id])?;
            Ok(())
        })
    }

    fn expire_upload(&self, id: &str, touched_before: i64) -> Result<bool, StoreError> {
        // The test and the drop in one statement: an upload another hub appended to since
        // this one looked is kept.
        self.with(|c| {
            Ok(c.execute("DELETE FROM uploads WHERE id = $1 AND touched_at_unix <= $2", &[&id, &touched_before])? == 1)
        })
    }

    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.one("SELECT receipt FROM envelopes WHERE id = $1", &[&id], |r| Ok(r.get(0)))
    }

    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<Vec<u8>, StoreError> {
        let r = received;
        self.transaction(|tx| {
            let stored = tx.execute(
                "INSERT INTO envelopes (id, digest, device, device_id, size, device_counter, received_at_unix, envelope, receipt)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &r.digest,
                    &r.device,
                    &r.device_id,
                    &big(r.size)?,
                    &big(r.device_counter)?,
                    &r.received_at_unix,
                    &envelope,
                    &receipt,
                ],
            )?;
            let mut stands = receipt.to_vec();
            if stored == 0 {
                // Another hub committed this id first (its tablet sent it to both): the same
                // bytes are held, under that hub's receipt; other bytes are refused.
                let held = tx.query_one("SELECT digest, receipt FROM envelopes WHERE id = $1", &[&id])?;
                if held.get::<_, &str>(0) != r.digest {
                    return Err(StoreError::Conflict(format!("the hub holds application {id} with another digest")));
                }
                stands = held.get(1);
            }
            tx.execute(
                "INSERT INTO counters (device_id, counter, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&r.device_id, &big(r.device_counter)?, &id],
            )?;
            tx.execute("DELETE FROM uploads WHERE id = $1", &[&id])?;
            self.standby_required(tx)?;
            // Committed with `synchronous_commit = on` (see `Pool::connect`): when this
            // returns, the envelope is on the database's disk, and on its synchronous
            // standby's when `synchronous_standby_names` names one.
            Ok((stands, true))
        })
    }

    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError> {
        let counter = big(counter)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO counters (device_id, counter, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&device_id, &counter, &id],
            )?;
            let holder: String = c
                .query_one("SELECT id FROM counters WHERE device_id = $1 AND counter = $2", &[&device_id, &counter])?
                .get(0);
            Ok((holder != id).then_some(holder))
        })
    }

    fn bind_device_key(&self, device: &str, key: [u8; 32]) -> Result<Option<[u8; 32]>, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO device_keys (device, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&device, &&key[..]],
            )?;
            let bound: Vec<u8> = c.query_one("SELECT key FROM device_keys WHERE device = $1", &[&device])?.get(0);
            let bound = <[u8; 32]>::try_from(bound.as_slice())
                .map_err(|_| StoreError::Damaged(format!("device {device}'s key is not 32 bytes")))?;
            Ok((bound != key).then_some(bound))
        })
    }

    fn manifest(&self, device: &str, batch: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.one("SELECT bytes FROM manifests WHERE device = $1 AND batch = $2", &[&device, &batch], |r| Ok(r.get(0)))
    }

    fn put_manifest(
        &self,
        device: &str,
        batch: &str,
        bytes: &[u8],
        decisions: &[(String, Status)],
    ) -> Result<ManifestTaken, StoreError> {
        let encoded: Vec<(&str, &str, String)> =
            decisions.iter().map(|(id, s)| Ok((id.as_str(), state(s), json(s)?))).collect::<Result<_, StoreError>>()?;
        self.transaction(|tx| {
            // A manifest's receipt is a promise too.
            self.standby_required(tx)?;
            // The batch id once per device: another hub storing it now is waited for, then its
            // bytes compared.
            let inserted = tx.query(
                "INSERT INTO manifests (device, batch, bytes) VALUES ($1, $2, $3)
                 ON CONFLICT (device, batch) DO NOTHING RETURNING batch",
                &[&device, &batch, &bytes],
            )?;
            if inserted.is_empty() {
                let held: Vec<u8> = tx
                    .query_one("SELECT bytes FROM manifests WHERE device = $1 AND batch = $2", &[&device, &batch])?
                    .get(0);
                let taken = if held == bytes { ManifestTaken::Taken } else { ManifestTaken::OtherContents };
                return Ok((taken, false));
            }
            // An application already in a batch keeps its first status (and any verdict on
            // it): a status its tablet settled on never changes. One decided otherwise refuses
            // the whole manifest. A status another hub is writing now is waited for by the
            // insert, then read as it committed.
            let insert = tx.prepare(
                "INSERT INTO statuses (id, state, status) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id",
            )?;
            let standing = tx.prepare("SELECT status FROM statuses WHERE id = $1")?;
            let mut decided = Vec::new();
            // In the ids' order, whatever the manifest's: two manifests listing the same ones
            // never wait on each other crosswise.
            let mut in_order: Vec<_> = encoded.iter().zip(decisions).collect();
            in_order.sort_by(|a, b| a.0.0.cmp(b.0.0));
            for ((id, state, text), (_, status)) in in_order {
                if !tx.query(&insert, &[id, state, text])?.is_empty() {
                    continue;
                }
                let held: String = tx.query_one(&standing, &[id])?.get(0);
                if !crate::store::same_decision(&parse(&held)?, status) {
                    decided.push(id.to_string());
                }
            }
            match decided.is_empty() {
                true => Ok((ManifestTaken::Taken, true)),
                false => Ok((ManifestTaken::DecidedBefore(decided), false)),
            }
        })
    }
}
