//! BlazeFace short-range (MediaPipe face_detection_short_range.tflite, DEQUANTIZE folded) via tract-tflite.
//! usage: det MODEL IMAGE  -> best face box + 6 keypoints, timing
use image::imageops;
use std::time::Instant;
use tract_tflite::prelude::*;

fn main() -> TractResult<()> {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[2])?.to_rgb8();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let model = tract_tflite::tflite().model_for_path(&a[1])?
        .with_input_fact(0, f32::fact([1, 128, 128, 3]).into())?
        .into_optimized()?.into_runnable()?;
    // letterbox to a square, then 128x128; input range [-1, 1]
    let s = w.max(h);
    let (ox, oy) = ((s - w) / 2.0, (s - h) / 2.0);
    let mut sq = image::RgbImage::new(s as u32, s as u32);
    imageops::overlay(&mut sq, &img, ox as i64, oy as i64);
    let small = imageops::resize(&sq, 128, 128, imageops::FilterType::Triangle);
    let input: Tensor = tract_ndarray::Array4::from_shape_fn((1, 128, 128, 3), |(_, y, x, c)| {
        small.get_pixel(x as u32, y as u32)[c] as f32 / 127.5 - 1.0
    }).into();
    let out = model.run(tvec!(input.clone().into()))?;
    let reg = out[0].to_plain_array_view::<f32>()?;
    let cls = out[1].to_plain_array_view::<f32>()?;
    // anchors: stride 8 -> 16x16x2, stride 16 -> 8x8x6 (MediaPipe short-range SSD options)
    let mut anchors = Vec::new();
    for (grid, n) in [(16, 2), (8, 6)] {
        for y in 0..grid { for x in 0..grid { for _ in 0..n {
            anchors.push(((x as f32 + 0.5) / grid as f32, (y as f32 + 0.5) / grid as f32));
        }}}
    }
    let (mut best, mut bi) = (f32::MIN, 0);
    for i in 0..896 { if cls[[0, i, 0]] > best { best = cls[[0, i, 0]]; bi = i; } }
    let (ax, ay) = anchors[bi];
    let r = |k: usize| reg[[0, bi, k]] / 128.0;
    let to_img = |nx: f32, ny: f32| (nx * s - ox, ny * s - oy);
    let (cx, cy) = to_img(ax + r(0), ay + r(1));
    let (bw, bh) = (r(2) * s, r(3) * s);
    println!("score {:.3} (p={:.3}) box centre ({cx:.0},{cy:.0}) size {bw:.0}x{bh:.0}", best, 1.0 / (1.0 + (-best).exp()));
    for k in 0..6 {
        let (kx, ky) = to_img(ax + r(4 + 2 * k), ay + r(5 + 2 * k));
        print!("kp{k}=({kx:.0},{ky:.0}) ");
    }
    println!("\n[mediapipe ROI for the landmark model: side = 1.5 * max(w,h) = {:.0}]", 1.5 * bw.max(bh));
    let mut ts = Vec::new();
    for _ in 0..50 { let t = Instant::now(); let _ = model.run(tvec!(input.clone().into()))?; ts.push(t.elapsed().as_secs_f64() * 1e3); }
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("inference median {:.2} ms", ts[25]);
    Ok(())
}
