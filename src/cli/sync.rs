//! `doorstep provision BUNDLE` and `doorstep sync`: this unit's link to the bureau's hub.
//!
//! The bundle is kept in the vault folder as `hub-bundle.toml`, readable by its owner only and
//! without its TLS key: that is sealed in the vault (`secret-hub-tls-key.sealed`), so the unit
//! reaches its hub only once a PIN has opened the vault.
//! `sync` uploads every sealed application, resuming any upload the hub already holds part
//! of, stores each signed receipt in the vault and only then erases the envelope.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use doorstep_sync::bundle::Bundle;
use doorstep_sync::escrow::{Hub, TLS_KEY};

use super::vault::{OpenArgs, now_unix, open};
use crate::config::Config;

pub(crate) const BUNDLE_FILE: &str = "hub-bundle.toml";

#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    #[command(flatten)]
    open: OpenArgs,
    /// The bundle file `doorstep-hub enroll-device` wrote for this unit.
    bundle: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    open: OpenArgs,
    /// Upload chunk size in KiB (smaller costs less when coverage drops mid-chunk).
    #[arg(long, default_value_t = 64)]
    chunk_kib: u64,
}

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// The supervisor's id (their PIN opens the vault).
    #[arg(long)]
    user: String,
    /// Read the PIN from the first line of standard input instead of prompting.
    #[arg(long)]
    pin_stdin: bool,
    /// Return an application to the officer instead of approving it: ID=REASON (repeatable).
    /// ID is the application's id or its number as the receipt and the shift screen give it
    /// (DS…). The reason is what the officer reads before the revisit.
    #[arg(long = "return", value_name = "ID=REASON")]
    returns: Vec<String>,
    /// Leave an application out of this batch (one the hub refused, or one to decide later):
    /// it stays on the unit, sealed and undecided, for the next batch (repeatable). ID as for
    /// --return.
    #[arg(long = "hold", value_name = "ID")]
    held: Vec<String>,
}

/// An application id as the outbox spells it, however it was typed (capitals, spaces).
fn spelt(id: &str) -> String {
    doorstep_envelope::ApplicationId::parse(id.trim()).map_or(id.trim().to_string(), |a| a.to_string())
}

/// The id of the application waiting on this unit that `given` names: its id (however typed)
/// or one of its numbers (DS…, as the receipt and the shift screen give them).
fn waiting_id(waiting: &[crate::shift::ShiftItem], given: &str) -> anyhow::Result<String> {
    let id = spelt(given);
    let number = given.trim();
    match waiting.iter().find(|i| i.id == id || i.numbers.iter().any(|n| n.eq_ignore_ascii_case(number))) {
        Some(item) => Ok(item.id.clone()),
        None => {
            let listed: Vec<String> = waiting
                .iter()
                .map(|i| match i.numbers.is_empty() {
                    true => i.id.clone(),
                    false => format!("{} ({})", i.numbers.join(", "), i.id),
                })
                .collect();
            let listed = if listed.is_empty() { "none".to_string() } else { listed.join("; ") };
            anyhow::bail!("{given:?}: no application waiting on this unit has this id or number; waiting: {listed}")
        }
    }
}

/// Refuses a release from the command line over decisions a supervisor took on the unit's
/// shift screen and has not released (a return it would approve in silence), whoever took
/// them: each is named, to be given here or released from the screen. An approval kept there
/// is what the command line does anyway.
fn unsaid_decisions(
    vault: &doorstep_vault::Vault,
    returns: &[(String, String)],
    held: &[String],
) -> anyhow::Result<()> {
    use crate::shift::Decision;
    let waiting = crate::shift::undecided_ids(vault).context("the applications waiting for a decision")?;
    let given: Vec<&String> = returns.iter().map(|(id, _)| id).chain(held).collect();
    let mut unsaid = Vec::new();
    for (who, bytes) in vault.all_shift_decisions().context("the decisions kept on the unit")? {
        for (id, d) in crate::shift::read_decisions(&bytes) {
            if !waiting.contains(&id) || given.contains(&&id) {
                continue;
            }
            unsaid.push(match d {
                Decision::Return { reason, note } if note.is_empty() => {
                    format!("  returned  {id}  ({reason}; by {who})")
                }
                Decision::Return { reason, note } => format!("  returned  {id}  ({reason}: {note}; by {who})"),
                Decision::Hold => format!("  held      {id}  (by {who})"),
                Decision::Approve => continue,
            });
        }
    }
    if unsaid.is_empty() {
        return Ok(());
    }
    for line in &unsaid {
        eprintln!("{line}");
    }
    let n = doorstep_core::text::counted(unsaid.len() as u64, "application was", "applications were");
    bail!(
        "{n} decided on the unit's shift screen (above) and not given here: nothing was released. \
         Release from the shift screen, or give each here (--return ID=REASON, --hold ID)"
    )
}

/// The supervisor's release of the shift: everything uploaded, then one signed manifest.
pub fn batch(args: BatchArgs, vault: Option<PathBuf>, config: &Config) -> anyhow::Result<ExitCode> {
    use doorstep_sync::escrow::ReleaseError;
    let dir = vault.unwrap_or_else(|| config.vault_dir());
    let returns: Vec<(String, String)> = args
        .returns
        .iter()
        .map(|r| {
            r.split_once('=')
                .map(|(id, why)| (id.to_string(), why.trim().to_string()))
                .ok_or_else(|| anyhow::anyhow!("--return {r:?}: expected ID=REASON"))
        })
        .collect::<anyhow::Result<_>>()?;
    let open_args = OpenArgs { user: Some(args.user.clone()), pin_stdin: args.pin_stdin, json: false };
    let mut vault = open(&dir, &open_args, config)?;
    if vault.user().1 != doorstep_vault::Role::Supervisor {
        anyhow::bail!(
            "{} is an officer on this unit: only a supervisor releases the shift (give --user with a supervisor's id)",
            args.user
        );
    }
    // Each application named by its id or its number, and only one waiting here: a typing
    // error is said before anything is sent.
    let waiting = crate::shift::load(&vault).context("the applications waiting for a decision")?;
    let returns: Vec<(String, String)> =
        returns.into_iter().map(|(id, why)| Ok((waiting_id(&waiting, &id)?, why))).collect::<anyhow::Result<_>>()?;
    let held: Vec<String> = args.held.iter().map(|id| waiting_id(&waiting, id)).collect::<anyhow::Result<_>>()?;
    unsaid_decisions(&vault, &returns, &held)?;
    let mut hub = hub_client(&dir, &mut vault)?;
    match doorstep_sync::escrow::release_batch(&mut vault, &mut hub, &returns, &held, &now_unix, &mut |_, _, _| {}) {
        Ok(r) => {
            out!(
                "batch {} released: {} approved, {} returned; every application of it is at the hub \
                 (the hub's signed receipt for all {} is verified and kept in the vault)",
                r.accepted.batch_id,
                r.accepted.approved,
                r.accepted.returned,
                r.receipt.applications
            );
            for (id, numbers, reason) in &r.decisions {
                match reason {
                    None => out!("  approved  {id}  {}", numbers.join(", ")),
                    Some(why) => out!("  returned  {id}  {}  ({why})", numbers.join(", ")),
                }
            }
            for id in &r.held {
                out!("  held      {id}  (still on this unit, sealed, for the next batch)");
            }
            for id in &r.unseen {
                out!("  waiting   {id}  (its file read only at the upload: at the hub, undecided, for the next batch)");
            }
            for (id, e) in &r.escrow.unreadable {
                out!(
                    "  damaged   {id}  (its file on this unit does not read: {e}; not in the batch, kept; \
                     do not wipe the unit, run doorstep vault verify and tell the administrator)"
                );
            }
            for (id, e) in &r.escrow.not_read {
                out!(
                    "  not read  {id}  (the storage did not read its file just now: {e}; not in the batch, \
                     still sealed on this unit; release again later; if it repeats, do not wipe the unit, \
                     tell the administrator)"
                );
            }
            // What the shift screen shows beside the batch: visits begun and not sealed (not a
            // sealed visit's receipt still to print), and the fees taken on them.
            let outside =
                crate::shift_report::Outside::of(&crate::visit_flow::resumable_of(&vault), Default::default());
            if outside.unsealed > 0 {
                let n = doorstep_core::text::counted(outside.unsealed as u64, "visit", "visits");
                out!(
                    "  not sealed: {n} kept on this unit as a draft, in no batch until finished and sealed \
                     (the shift screen names them)"
                );
            }
            for (method, (n, total)) in &outside.unsealed_paid {
                let how = method.trim_start_matches("payment.");
                out!("    of them, {n} paid by {how}: {total} yuan, in no batch's takings (count it apart)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ReleaseError::Hub(doorstep_sync::client::SyncError::Refused { code, message, .. }))
            if code == "manifest-signature" =>
        {
            let key = hex::encode(vault.user_public_key().to_bytes());
            bail!(
                "the hub does not take this supervisor's signature ({message}); at the hub: doorstep-hub add-supervisor {key}"
            )
        }
        Err(ReleaseError::NotUploaded(n, report)) => {
            for (id, e) in &report.failed {
                eprintln!("  {id}: {e}");
            }
            for (id, e) in &report.unreadable {
                eprintln!("  {id}: its file on this unit does not read ({e})");
            }
            for (id, e) in &report.not_read {
                eprintln!("  {id}: the storage did not read its file just now ({e}); it is still there");
            }
            let n = doorstep_core::text::counted(n as u64, "application", "applications");
            if report.failed.iter().any(|(_, e)| e.is_refusal()) {
                bail!(
                    "{n} could not be uploaded, so nothing was released: the hub refused some (above); \
                     have the hub's operator put right what it names, or leave them for the next batch \
                     with --hold ID"
                )
            }
            bail!("{n} could not be uploaded, so nothing was released: sync again when there is coverage")
        }
        Err(e) => Err(e.into()),
    }
}

/// The installed bundle's hub, checked against the bundle bound at provisioning (by
/// `Hub::connect`). A bundle installed with its key (by an earlier version) has the key moved
/// into the vault and the file rewritten without it.
pub(crate) fn hub_client(dir: &Path, vault: &mut doorstep_vault::Vault) -> anyhow::Result<Hub> {
    let path = dir.join(BUNDLE_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|_| anyhow::anyhow!("this unit is not provisioned: run `doorstep provision BUNDLE` first"))?;
    let bundle = Bundle::parse(&text).with_context(|| path.display().to_string())?;
    let hub = Hub::connect(vault, &bundle, now_unix())?;
    if !bundle.key_pem.is_empty() {
        crate::files::write_private(dir, &path, bundle.without_key().to_toml().as_bytes())?;
    }
    Ok(hub)
}

pub fn provision(args: ProvisionArgs, vault: Option<PathBuf>, config: &Config) -> anyhow::Result<ExitCode> {
    let dir = vault.unwrap_or_else(|| config.vault_dir());
    let text =
        std::fs::read_to_string(&args.bundle).with_context(|| format!("cannot read {}", args.bundle.display()))?;
    let bundle = Bundle::parse(&text).with_context(|| args.bundle.display().to_string())?;
    if !doorstep_vault::is_initialised(&dir) {
        bail!(
            "no vault in {}: run `doorstep vault init --device-id {} --bureau-key KEY` first",
            dir.display(),
            bundle.device
        );
    }
    let device = doorstep_vault::device_id(&dir)?;
    if device != bundle.device {
        bail!(
            "this bundle is for {}, but this unit's vault is {device}: enroll the unit as {device} at the hub",
            bundle.device
        );
    }
    if doorstep_vault::bureau_key_hex(&dir)?.trim() != bundle.bureau_public_key.trim() {
        bail!("this unit seals to another bureau key than the hub's: the back office could not open its applications");
    }
    if bundle.key_pem.is_empty() {
        bail!(
            "this bundle has no TLS key (it is an installed copy): use the bundle `doorstep-hub enroll-device` wrote"
        );
    }
    let mut vault = open(&dir, &args.open, config)?;
    vault.store_secret(TLS_KEY, bundle.key_pem.as_bytes(), now_unix())?;
    crate::files::write_private(&dir, &dir.join(BUNDLE_FILE), bundle.without_key().to_toml().as_bytes())?;
    vault.bind_hub(&bundle.anchor_digest(), now_unix())?;
    out!("provisioned {device} for hub {} at {}", bundle.hub_id, bundle.hub_url);
    out!(
        "bundle kept in {} without its TLS key, which is sealed in the vault; delete {} now",
        dir.join(BUNDLE_FILE).display(),
        args.bundle.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn sync(args: SyncArgs, vault: Option<PathBuf>, config: &Config) -> anyhow::Result<ExitCode> {
    let dir = vault.unwrap_or_else(|| config.vault_dir());
    if !dir.join(BUNDLE_FILE).exists() {
        bail!("this unit is not provisioned: run `doorstep provision BUNDLE` first");
    }
    let mut vault = open(&dir, &args.open, config)?;
    let mut hub = hub_client(&dir, &mut vault)?;
    let style = indicatif::ProgressStyle::with_template("{msg:12} [{bar:30}] {bytes}/{total_bytes}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let mut bar: Option<(String, indicatif::ProgressBar)> = None;
    let report = doorstep_sync::escrow::run(
        &mut vault,
        &mut hub,
        args.chunk_kib.clamp(1, doorstep_sync::wire::MAX_CHUNK / 1024) * 1024,
        &now_unix,
        &|| true,
        &mut |id, offset, total| {
            if bar.as_ref().is_none_or(|(b, _)| b != id) {
                if let Some((_, old)) = bar.take() {
                    old.finish_and_clear();
                }
                let b = indicatif::ProgressBar::new(total).with_style(style.clone());
                b.set_message(id.chars().take(8).collect::<String>());
                bar = Some((id.to_string(), b));
            }
            if let Some((_, b)) = &bar {
                b.set_position(offset);
            }
        },
    )?;
    if let Some((_, b)) = bar {
        b.finish_and_clear();
    }
    match &report.revocations {
        Some(Ok(true)) => {
            out!("the hub's revocation list is newer: kept; a hub presenting a certificate on it is refused")
        }
        Some(Err(e)) => eprintln!("the hub's revocation list was not taken: {e}"),
        _ => {}
    }
    let (uploaded, erased) = (report.uploaded.len(), report.erased_earlier);
    for (id, e) in &report.not_erased {
        eprintln!("{id}: at the hub, but its file on this unit could not be erased now ({e}): the next sync erases it");
    }
    let mut failed: Vec<String> = report.failed.iter().map(|(id, e)| format!("{id}: {e}")).collect();
    failed.extend(report.unreadable.iter().map(|(id, e)| format!("{id}: its file on this unit does not read ({e})")));
    failed.extend(report.not_read.iter().map(|(id, e)| {
        format!(
            "{id}: the storage did not read its file just now ({e}); still sealed here, the next sync tries it again"
        )
    }));
    if report.stopped {
        eprintln!("no connection to the hub: what is left stays sealed on this unit for the next sync");
    } else {
        for (id, visit, status) in doorstep_sync::escrow::statuses(&mut vault, &mut hub)? {
            match status {
                doorstep_sync::wire::Status::Returned { reason, .. } => {
                    out!("revisit: {id} (visit {visit}) was returned by the supervisor: {reason}")
                }
                doorstep_sync::wire::Status::Rejected { reason } => {
                    out!("revisit: {id} (visit {visit}) was rejected by the back office: {reason}")
                }
                _ => {}
            }
        }
        // The appointments: served notices out, this unit's list in.
        match doorstep_sync::appointments::sync(&mut vault, &mut hub, now_unix()) {
            Ok(r) => {
                for (id, e) in &r.served.refused {
                    eprintln!("appointment {id}: the hub refused its served notice ({e})");
                }
                if let Some(list) = &r.kept {
                    let booked = list
                        .iter()
                        .filter(|a| a.status == doorstep_core::appointment::AppointmentStatus::Booked)
                        .count();
                    out!("appointments: {} kept on this unit, {booked} booked", list.len());
                }
            }
            Err(e) => eprintln!("appointments not synced: {e}"),
        }
        // The feedback sealed here: out, then what the back office answered, in.
        match doorstep_sync::feedback::sync(&mut vault, &mut hub, now_unix()) {
            Ok(r) => {
                for (id, e) in &r.refused {
                    eprintln!("feedback {id}: the hub refused it ({e}); it stays sealed on this unit");
                }
                out!("feedback: {} sent, {} with news from the bureau", r.sent.len(), r.heard.len());
            }
            Err(e) => eprintln!("feedback not synced: {e}"),
        }
    }
    out!("uploaded and erased {uploaded}, erased after an earlier receipt {erased}, not uploaded {}", failed.len());
    for f in &failed {
        eprintln!("  {f}");
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An application named on the command line by its id however typed, or by one of its
    /// numbers; anything else is refused, naming those waiting.
    #[test]
    fn an_application_is_named_by_its_id_or_its_number() {
        let id = "01a2522a-0000-4000-8000-000000000001";
        let item = crate::shift::ShiftItem {
            id: id.into(),
            numbers: vec!["DS610A5935FF01".into(), "DS610A5935FF02".into()],
            summary: Default::default(),
            sync: crate::shift::ItemSync::AtHub,
            sealed_at_unix: 0,
            thumb: None,
            unreadable: false,
            damaged: false,
            not_read: false,
        };
        let waiting = [item];
        for given in [id, " 01A2522A-0000-4000-8000-000000000001 ", "DS610A5935FF02", "ds610a5935ff01"] {
            assert_eq!(waiting_id(&waiting, given).unwrap(), id, "{given:?}");
        }
        let e = waiting_id(&waiting, "DS610A5935FF03").unwrap_err().to_string();
        assert!(e.ends_with(&format!("waiting: DS610A5935FF01, DS610A5935FF02 ({id})")), "{e}");
        let e = waiting_id(&[], "DS610A5935FF01").unwrap_err().to_string();
        assert!(e.ends_with("waiting: none"), "{e}");
    }
}
