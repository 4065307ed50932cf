//! The receipt when no printer takes it: kept on the unit as a PNG and a PDF, drawn as the
//! printer would print it, and the visit records that it was.

use std::time::Duration;

use doorstep::dev::scenario::{Action, ScenarioStep};
use doorstep_core::VisitState;
use doorstep_core::visit::ReceiptMethod;

use crate::sync::{hub_and_vault_as, tempfile_dir};
use crate::visit::{DEVICE, demo_until, draft_visit, run_visit_steps, tap, wait, wait_long};

#[test]
fn a_receipt_no_printer_takes_is_kept_as_png_and_pdf() {
    let tmp = tempfile_dir("receipt-files");
    let (_hub, vault) = hub_and_vault_as(&tmp, DEVICE);
    let printed = tmp.join("receipts");
    let mut steps = demo_until("打印回执");
    steps.extend([
        // The fee paid is on the screen too (the receipt is photographed where none prints).
        wait("已缴费用：120.00 元（现金）"),
        // The roll runs out: the printer says so, and the receipt is kept as files instead.
        ScenarioStep { action: Action::Device("paper out".into()), timeout: Duration::from_secs(5) },
        tap("打印回执"),
        wait_long("打印纸用完了"),
        wait("已存在本机，可稍后补打"),
        tap("没有打印机：在屏幕上出示"),
        wait("满意"),
    ]);
    let outcome = run_visit_steps(&vault, &printed, steps, vec![]);
    assert!(outcome.is_ok(), "{outcome:?}");
    // The last step's draft is saved by a task.
    std::thread::sleep(Duration::from_millis(500));

    // The files, named by the application number, beside the vault.
    let folder = vault.with_extension("receipt-files");
    let mut names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    let stem = names[0].strip_suffix(".pdf").expect("a PDF");
    assert!(stem.starts_with("DS") && names[1] == format!("{stem}.png"), "{names:?}");
    let png = image::open(folder.join(&names[1])).unwrap().to_luma8();
    assert_eq!(png.width(), doorstep_devices::receipt_file::PAPER_WIDTH);
    let dark = png.pixels().filter(|p| p.0[0] == 0).count();
    assert!(dark > 5_000, "text and a QR code are drawn: {dark} dark dots");
    assert!(std::fs::read(folder.join(&names[0])).unwrap().starts_with(b"%PDF-"));
    // Nothing reached the simulated printer.
    let printed_any = std::fs::read_dir(&printed).map(|d| d.count()).unwrap_or(0);
    assert_eq!(printed_any, 0, "nothing was printed");

    // The visit records the receipt as kept in files.
    let visit = draft_visit(&vault);
    match &visit.state {
        VisitState::Rating(rate) => assert_eq!(rate.receipt, ReceiptMethod::Saved),
        other => panic!("the visit is at {:?}", other.step()),
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
