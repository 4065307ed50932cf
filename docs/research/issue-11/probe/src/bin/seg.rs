//! seg MODEL IMAGE OUT_PNG : MediaPipe selfie segmentation (rewritten, fp32) via tract-tflite
use image::{imageops, Rgb};
use std::time::Instant;
use tract_tflite::prelude::*;
fn main() -> TractResult<()> {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[2])?.to_rgb8();
    let t0 = Instant::now();
    let m = tract_tflite::tflite().model_for_path(&a[1])?
        .with_input_fact(0, f32::fact([1, 256, 256, 3]).into())?.into_optimized()?.into_runnable()?;
    println!("load {:?}", t0.elapsed());
    let small = imageops::resize(&img, 256, 256, imageops::FilterType::Triangle);
    let x: Tensor = tract_ndarray::Array4::from_shape_fn((1, 256, 256, 3), |(_, y, x, c)| small.get_pixel(x as u32, y as u32)[c] as f32 / 255.0).into();
    let out = m.run(tvec!(x.clone().into()))?;
    let mask = out[0].to_plain_array_view::<f32>()?.to_owned();
    println!("output {:?}, mean {:.3}", out[0].shape(), mask.mean().unwrap());
    let mut ts = Vec::new();
    for _ in 0..20 { let t = Instant::now(); let _ = m.run(tvec!(x.clone().into()))?; ts.push(t.elapsed().as_secs_f64() * 1e3); }
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("inference median {:.2} ms", ts[10]);
    // composite the person on white using the mask upscaled to the image
    let mimg = image::ImageBuffer::<image::Luma<u8>, Vec<u8>>::from_fn(256, 256, |x, y| image::Luma([(mask[[0, y as usize, x as usize, 0]] * 255.0) as u8]));
    let mbig = imageops::resize(&mimg, img.width(), img.height(), imageops::FilterType::Triangle);
    let mut outimg = img.clone();
    for (x, y, p) in outimg.enumerate_pixels_mut() {
        let al = mbig.get_pixel(x, y)[0] as f32 / 255.0;
        *p = Rgb([0, 1, 2].map(|c| (p[c] as f32 * al + 255.0 * (1.0 - al)) as u8));
    }
    outimg.save(&a[3])?;
    Ok(())
}
