//! The receipt: what it says (the numbers, the promised dates, how the document comes, the
//! rating code and a QR code per number), as ESC/POS bytes for the printer, as PNG and PDF
//! files when no printer answers, and its QR codes on screen for the applicant to photograph.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use doorstep_core::Message;
use doorstep_core::visit::{Application, Visit};
use doorstep_devices::escpos::{Align, ReceiptBuilder};

use doorstep_devices::io::{BridgeHost, Printed, ReceiptPrinter};
use doorstep_link::Channel;

use super::line;
use crate::ui::i18n::{Arg, Tr};
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::VisitFlow;

/// The application numbers and promised dates, large.
pub(super) fn numbers(visit: &Visit, qr: &[(String, Handle<Image>)], ui: &mut ChildSpawnerCommands) {
    for a in visit.state.applications().unwrap_or_default() {
        ui.spawn(Node { column_gap: Val::Px(24.0), align_items: AlignItems::Center, ..default() }).with_children(
            |row| {
                if let Some((_, image)) = qr.iter().find(|(n, _)| *n == a.number) {
                    row.spawn((
                        ImageNode::new(image.clone()),
                        Node { width: Val::Px(QR_SIDE), height: Val::Px(QR_SIDE), flex_shrink: 0.0, ..default() },
                    ));
                }
                // Which service the number is for, above it.
                row.spawn(Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), ..default() })
                    .with_children(|col| {
                        col.spawn(label(Tr::message(a.expected.service.describe()), theme::BODY_SIZE, theme::TEXT));
                        col.spawn(label(
                            Tr::new("visit.receipt.number")
                                .with("number", &a.number)
                                .with("date", doorstep_core::format_date(a.expected.date.date)),
                            theme::HEADING_SIZE,
                            theme::TEXT,
                        ));
                    });
            },
        );
    }
    if let Some(fee) = fee_shown(visit) {
        line(ui, fee);
    }
    if !qr.is_empty() {
        line(ui, Tr::new("visit.receipt.photograph"));
    }
}

/// The QR codes' side on screen, in logical pixels.
const QR_SIDE: f32 = 180.0;

/// A QR code of `text` for the screen: dark modules on white, with the quiet zone of 4 modules
/// the code's standard asks for, `scale` pixels a module. `None` when the text does not fit.
pub(super) fn qr_image(text: &str, scale: u32) -> Option<Image> {
    let code = doorstep_devices::receipt_file::qr_code(text, scale, 4).ok()?;
    let (w, h) = code.dimensions();
    super::live::screen_image_rgba(w, h, image::DynamicImage::ImageLuma8(code).to_rgba8().into_raw())
}

/// Draws the QR codes of the visit's application numbers once they are known.
pub fn draw_qr(flow: Res<VisitFlow>, mut work: ResMut<super::Work>, images: Option<ResMut<Assets<Image>>>) {
    let Some(mut images) = images else { return };
    let Some(visit) = &flow.visit else { return };
    let Some(apps) = visit.state.applications() else { return };
    let numbers: Vec<String> = apps.iter().map(|a| a.number.clone()).collect();
    if work.closing.qr_for == numbers {
        return;
    }
    work.closing.qr = numbers.iter().filter_map(|n| Some((n.clone(), images.add(qr_image(n, 6)?)))).collect();
    work.closing.qr_for = numbers;
    work.touch();
}

pub(super) use crate::ui::i18n::Words;

/// The receipt's bytes: for each service its name, number and promised date, and a QR per
/// number; the rating code. `describe` gives a domain message's words in the receipt's language.
pub(super) fn receipt(visit: &Visit, code: &str, words: Words, describe: &dyn Fn(&Message) -> String) -> Vec<u8> {
    let mut r = ReceiptBuilder::new().align(Align::Centre).double(true).line(&words("receipt.title", &[]));
    // The title in two lines that break where the words do (出入境证件申请 / 受理回执), not
    // where the double-width line is full.
    r = r.line(&words("receipt.subtitle", &[])).double(false);
    for a in visit.state.applications().unwrap_or_default() {
        r = receipt_lines(r, a, words, describe);
    }
    if let Some(d) = visit.state.details() {
        r = r.align(Align::Left);
        if d.urgent.is_some() {
            r = r.line(&words("receipt.urgent", &[]));
        }
        r = r.line(&words("receipt.delivery", &[("how", words(d.delivery.key(), &[]))]));
        if let doorstep_core::visit::Delivery::Pickup { office }
        | doorstep_core::visit::Delivery::Delegate { office, .. } = &d.delivery
        {
            r = r.line(&words("receipt.office", &[("office", office.clone())]));
        }
    }
    // What the applicant paid, and how: the receipt is their proof of it.
    if let Some((key, amount, how)) = fee_line(visit) {
        let mut args = vec![("amount", amount)];
        if let Some(how) = how {
            args.push(("how", words(how, &[])));
        }
        r = r.align(Align::Left).line(&words(key, &args));
    }
    let keep = if posted(visit) { "receipt.keep_post" } else { "receipt.keep" };
    r.line(&words("receipt.rating_code", &[("code", code.to_string())])).line(&words(keep, &[])).feed(3).cut()
}

/// Whether the document is posted to the applicant (not collected).
fn posted(visit: &Visit) -> bool {
    matches!(visit.state.details().map(|d| &d.delivery), Some(doorstep_core::visit::Delivery::Post { .. }))
}

/// The receipt's line on the fee: its words' key, the amount, and the payment method's key
/// where the words name it. None before the fee step.
fn fee_line(visit: &Visit) -> Option<(&'static str, String, Option<&'static str>)> {
    use doorstep_core::policy::PaymentMethod;
    let p = visit.state.payment()?;
    let due = p.quote.total.checked_add(p.postage).unwrap_or(p.quote.total).to_string();
    let nothing_due = p.quote.total == doorstep_core::Yuan::ZERO && p.postage == doorstep_core::Yuan::ZERO;
    Some(match p.method {
        PaymentMethod::PayAtPickup if nothing_due => ("receipt.fee_none", String::new(), None),
        // Not taken at the visit: a posted document has no collection to pay at.
        PaymentMethod::PayAtPickup if posted(visit) => ("receipt.fee_later", due, None),
        PaymentMethod::PayAtPickup => ("receipt.fee_at_pickup", due, None),
        _ if p.amount == doorstep_core::Yuan::ZERO => ("receipt.fee_none", String::new(), None),
        _ => ("receipt.fee_paid", p.amount.to_string(), Some(p.method.key())),
    })
}

/// The fee line as the screen shows it (the receipt photographed where no printer took it).
pub(super) fn fee_shown(visit: &Visit) -> Option<Tr> {
    let (key, amount, how) = fee_line(visit)?;
    let tr = Tr::new(key).with("amount", amount);
    Some(match how {
        Some(how) => tr.with_key("how", how),
        None => tr,
    })
}

fn receipt_lines(
    r: ReceiptBuilder,
    a: &Application,
    words: Words,
    describe: &dyn Fn(&Message) -> String,
) -> ReceiptBuilder {
    let date = doorstep_core::format_date(a.expected.date.date);
    r.align(Align::Left)
        .line(&describe(&a.expected.service.describe()))
        .line(&words("receipt.number", &[("number", a.number.clone())]))
        .line(&words("receipt.expected", &[("date", date)]))
        .align(Align::Centre)
        .qr(&a.number)
}

/// What became of a receipt sent to the printer.
#[derive(Debug)]
pub enum Outcome {
    /// Printed whole; the paper may be near its end (the officer is told).
    Printed { paper_low: bool },
    /// Not printed (why), and kept as PNG and PDF files instead (the PDF's path), or not (why
    /// not).
    NotPrinted { reason: Arg, saved: Result<PathBuf, Arg> },
}

/// The folder beside the vault where the receipts no printer took are kept. They hold the
/// application numbers, dates and rating code, and no one's name or ID number.
pub fn folder(vault_dir: &Path) -> PathBuf {
    vault_dir.with_extension("receipt-files")
}

/// Prints the receipt through the bridge's printer, or, when no printer answers, saves it as
/// `<number>.png` and `<number>.pdf` in `dir` (drawn as the printer would print it). Runs as a
/// task.
pub fn print_or_save(host: Option<BridgeHost>, bytes: &[u8], dir: Option<PathBuf>, number: &str) -> Outcome {
    let reason = match host {
        Some(host) => match printed(ReceiptPrinter::new(host.channel(Channel::Printer)).print(bytes)) {
            Ok(paper_low) => return Outcome::Printed { paper_low },
            Err(reason) => reason,
        },
        None => Arg::Key("visit.receipt.no_bridge"),
    };
    let saved = match dir {
        Some(dir) => save(bytes, &dir, number).map_err(|e| {
            error!("the receipt could not be saved as files: {e}");
            Arg::Key("visit.receipt.save_failed")
        }),
        None => Err(Arg::Key("visit.receipt.no_folder")),
    };
    Outcome::NotPrinted { reason, saved }
}

/// What the printer's answer to a receipt means: printed whole (and whether its paper is near
/// its end), or why it is not known to be, for the files to be kept. Silent after it, it may
/// have printed nothing: kept as files, as one not printed is; the officer sees whether it came
/// out, and prints it again if not. Cut short: the files keep it whole.
fn printed(answer: Result<Printed, doorstep_devices::DeviceError>) -> Result<bool, Arg> {
    crate::peripherals::printed(answer, "visit.receipt.unconfirmed", "visit.receipt.cut_short")
}

/// Why a receipt could not be kept as files.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Render(#[from] doorstep_devices::receipt_file::RenderError),
    #[error("the PNG: {0}")]
    Png(#[from] image::ImageError),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Saves the receipt's image as PNG and PDF in `dir`, each written whole or not at all (on
/// disk before it takes its name, so a battery that dies mid-write leaves no half file under
/// it), the pair or neither, readable by the unit's user only; returns the PDF's path.
pub fn save(bytes: &[u8], dir: &Path, number: &str) -> Result<PathBuf, SaveError> {
    let image = doorstep_devices::receipt_file::render(bytes, crate::ui::fonts::CJK_FONT)?;
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let pdf = doorstep_devices::receipt_file::to_pdf(&image);
    let write = |path: PathBuf, data: &[u8]| -> Result<PathBuf, SaveError> {
        match crate::files::write_private(dir, &path, data) {
            Ok(()) => Ok(path),
            Err(source) => Err(SaveError::Write { path, source }),
        }
    };
    let name = file_name(number);
    let png_path = write(dir.join(format!("{name}.png")), &png)?;
    write(dir.join(format!("{name}.pdf")), &pdf).inspect_err(|_| {
        let _ = std::fs::remove_file(&png_path);
    })
}

/// Whether the receipt of application `number` is kept in `dir`, PNG and PDF both.
pub fn kept(dir: &Path, number: &str) -> bool {
    let name = file_name(number);
    ["png", "pdf"].iter().all(|ext| dir.join(format!("{name}.{ext}")).is_file())
}

/// A file name from an application number: its letters, digits and dashes only.
fn file_name(number: &str) -> String {
    let name: String = number.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    if name.is_empty() { "receipt".into() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receipt is taken as printed only when the printer says so after it; one it went silent
    /// on (it may have printed nothing) or stopped during is kept as files, with the reason.
    #[test]
    fn a_receipt_is_printed_only_when_the_printer_says_so() {
        use doorstep_devices::DeviceError;
        use doorstep_devices::escpos::{Paper, PrinterStatus};
        let whole = |paper| Ok(Printed::Whole(PrinterStatus { online: true, paper }));
        let key = |k: &'static str| Err(Arg::Key(k));
        let cases: Vec<(Result<Printed, DeviceError>, Result<bool, Arg>)> = vec![
            (whole(Paper::Loaded), Ok(false)),
            (whole(Paper::NearEnd), Ok(true)),
            (Ok(Printed::StatusUnknown(DeviceError::Timeout(2000))), key("visit.receipt.unconfirmed")),
            (Ok(Printed::MaybeCutShort(DeviceError::PaperOut)), key("visit.receipt.cut_short")),
            (Err(DeviceError::PaperOut), Err(crate::peripherals::device_problem(&DeviceError::PaperOut))),
        ];
        for (answer, want) in cases {
            let what = format!("{answer:?}");
            assert_eq!(printed(answer), want, "{what}");
        }
    }

    /// A code's quiet zone is white and its finder pattern's corner dark; the side follows the
    /// code's own size.
    #[test]
    fn a_qr_code_drawn_for_the_screen() {
        let modules = qrcode::QrCode::new(b"DS6FD61899D901").unwrap().width() as u32;
        let image = qr_image("DS6FD61899D901", 6).expect("a short number fits");
        let size = image.texture_descriptor.size;
        assert_eq!((size.width, size.height), ((modules + 8) * 6, (modules + 8) * 6));
        let data = image.data.as_ref().unwrap();
        let at = |x: u32, y: u32| data[((y * size.width + x) * 4) as usize];
        assert_eq!(at(0, 0), 255, "quiet zone");
        assert_eq!(at(4 * 6 - 1, 4 * 6 + 3), 255, "quiet zone beside the finder");
        assert_eq!(at(4 * 6 + 3, 4 * 6 + 3), 0, "the finder pattern's corner");
        assert!(qr_image(&"9".repeat(8000), 6).is_none(), "too long for any code");
    }

    /// Saved: a PNG and a PDF named by the number, both of the same receipt, and nothing half
    /// written left beside them; a number with a path in it cannot leave the folder.
    #[test]
    fn a_receipt_no_printer_took_is_kept_as_png_and_pdf() {
        let dir = std::env::temp_dir().join(format!("doorstep-receipt-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bytes = ReceiptBuilder::new().line("受理回执").qr("DS0123456789AB01").cut();
        let pdf = save(&bytes, &dir, "../DS0123456789AB01").unwrap();
        assert_eq!(pdf, dir.join("DS0123456789AB01.pdf"));
        let png = image::open(dir.join("DS0123456789AB01.png")).unwrap().to_luma8();
        assert_eq!(png.width(), doorstep_devices::receipt_file::PAPER_WIDTH);
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["DS0123456789AB01.pdf", "DS0123456789AB01.png"]);
        assert!(kept(&dir, "../DS0123456789AB01"), "found again by its number");
        std::fs::remove_file(dir.join("DS0123456789AB01.pdf")).unwrap();
        assert!(!kept(&dir, "DS0123456789AB01"), "a PNG alone is not the receipt kept");
        save(&bytes, &dir, "DS0123456789AB01").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&dir), mode(&pdf)), (0o700, 0o600), "the unit's user's only");
        // A receipt whose bytes cannot be drawn is an error, and no file is made for it.
        let err = save(&[0x1D, 0x28, 0x6B, 0xFF, 0x00, 0x31], &dir, "DS2").unwrap_err();
        assert!(matches!(err, SaveError::Render(_)), "{err:?}");
        assert!(!dir.join("DS2.png").exists());
        // A folder that cannot be made: the error names where.
        let blocked = dir.join("DS0123456789AB01.pdf").join("inside");
        assert!(
            matches!(save(&bytes, &blocked, "DS3"), Err(SaveError::Write { path, .. }) if path.starts_with(&blocked))
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(file_name("/"), "receipt");
    }
}
