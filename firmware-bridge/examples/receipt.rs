//! Renders a sample acceptance receipt as the simulated printer would print it:
//! `cargo run -p doorstep-firmware-bridge --example receipt -- OUT.png`

use doorstep_devices::escpos::{Align, ReceiptBuilder};
use doorstep_firmware_bridge::sim::render_receipt;

fn main() -> std::process::ExitCode {
    let out = std::env::args().nth(1).unwrap_or_else(|| "receipt.png".into());
    let bytes = ReceiptBuilder::new()
        .align(Align::Centre)
        .double(true)
        .line("受理回执")
        .double(false)
        .line("出入境上门受理")
        .align(Align::Left)
        .line("申请人：测试（1101**********002X）")
        .line("受理编号：TEST-20261126-0001")
        .line("往来港澳通行证 首次申请  60.00")
        .line("港澳签注 G 3个月一次     15.00")
        .line("合计                     75.00 元")
        .line("领取方式：邮寄")
        .align(Align::Centre)
        .qr("TEST-20261126-0001")
        .line("凭此回执查询办理进度")
        .cut();
    match render_receipt(&bytes).map_err(|e| e.to_string()).and_then(|img| img.save(&out).map_err(|e| e.to_string())) {
        Ok(()) => {
            println!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("receipt: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
