//! The report's IO: the hub's records (the store itself, or a serving hub's admin socket), the
//! envelopes' clear headers, and with the bureau's private key the sealed forms. Like
//! `export`, this runs where the key is: the serving hub hands over sealed envelopes and never
//! sees it. Only the envelopes received in the range are read; an opened record is dropped
//! (and zeroised) as soon as its few facts are taken.

use std::path::Path;

use doorstep_envelope::{ApplicationId, BureauSecretKey, SealedEnvelope};
use zeroize::Zeroizing;

use super::{Application, By, DateRange, Report, ReportError, compute, form_facts};
use crate::store::Records;

/// Reads the bureau's private key file (64 hex characters, as `init` wrote it).
pub fn read_key(path: &Path) -> Result<BureauSecretKey, ReportError> {
    let problem = |problem: String| ReportError::Key { path: path.display().to_string(), problem };
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| problem(format!("cannot be read: {e}")))?);
    let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| problem("is not 64 hex characters".into()))?);
    BureauSecretKey::from_bytes(&bytes).map_err(|_| problem("is not a bureau private key (64 hex characters)".into()))
}

/// Every application received in `range`, with what its header says and, with `key`, its form.
pub fn applications(
    store: &dyn Records,
    range: &DateRange,
    key: Option<&BureauSecretKey>,
) -> Result<Vec<Application>, ReportError> {
    let mut apps = Vec::new();
    for (id, received) in store.all_received()? {
        if !range.contains(received.received_at_unix) {
            continue;
        }
        let bytes = store.envelope(&id)?.ok_or_else(|| ReportError::Missing { id: id.clone() })?;
        let envelope = SealedEnvelope::from_bytes(&bytes)
            .map_err(|e| ReportError::Envelope { id: id.clone(), problem: e.to_string() })?;
        let form = match key {
            Some(key) => {
                let record = doorstep_envelope::open(&envelope, key, ApplicationId::parse(&id))
                    .map_err(|_| ReportError::Open { id: id.clone() })?;
                Some(form_facts(&record.form_json))
            }
            None => None,
        };
        let header = envelope.header();
        apps.push(Application {
            device: received.device,
            received_at_unix: received.received_at_unix,
            status: store.status(&id)?,
            officer: header.officer_id.clone(),
            sealed_at_unix: header.sealed_at_unix,
            form,
        });
    }
    Ok(apps)
}

/// The report on the applications received in `range`, by `by`; the forms are opened with
/// `key` when it is given, and a breakdown that needs them refuses without it.
pub fn report(
    store: &dyn Records,
    range: &DateRange,
    by: By,
    key: Option<&BureauSecretKey>,
) -> Result<Report, ReportError> {
    if by.needs_key() && key.is_none() {
        return Err(ReportError::NeedsKey { by: by.name() });
    }
    let apps = applications(store, range, key)?;
    Ok(compute(&apps, range, by, key.is_some()))
}
