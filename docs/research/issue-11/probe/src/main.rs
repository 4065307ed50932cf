//! Throwaway probe: run MediaPipe face_landmark.tflite (468-point face mesh) with tract-tflite.
//! usage: lmk MODEL IMAGE OUT_PNG [cx cy side]   (crop box in image pixels; default from the
//! test set's framing: eyes 0.27 W apart, eye line 0.44 H, centred)
use image::{imageops, Rgb, RgbImage};
use std::time::Instant;
use tract_tflite::prelude::*;

const N: usize = 468;

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let model_path = &args[1];
    let img = image::open(&args[2])?.to_rgb8();
    let out_png = &args[3];
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy, side) = if args.len() >= 7 {
        (args[4].parse::<f32>()?, args[5].parse::<f32>()?, args[6].parse::<f32>()?)
    } else {
        let ed = 0.27 * w;
        (0.5 * w, 0.44 * h + 0.45 * ed, 3.3 * ed)
    };
    println!("image {}x{}, crop centre ({cx:.0},{cy:.0}) side {side:.0}", w, h);

    // --- load
    let t0 = Instant::now();
    let nchw = model_path.ends_with(".onnx");
    let model = if nchw {
        use tract_onnx::prelude::*;
        tract_onnx::onnx()
            .model_for_path(model_path)?
            .with_input_fact(0, f32::fact([1, 3, 192, 192]).into())?
            .into_optimized()?
            .into_runnable()?
    } else {
        tract_tflite::tflite()
            .model_for_path(model_path)?
            .with_input_fact(0, f32::fact([1, 192, 192, 3]).into())?
            .into_optimized()?
            .into_runnable()?
    };
    println!("load+optimise: {:?}", t0.elapsed());

    // --- crop (square, no rotation, zero padding outside image) and resize to 192
    let prep = |img: &RgbImage| -> (RgbImage, Tensor) {
        let s = side.round() as i64;
        let x0 = (cx - side / 2.0).round() as i64;
        let y0 = (cy - side / 2.0).round() as i64;
        let mut crop = RgbImage::new(s as u32, s as u32);
        for y in 0..s {
            for x in 0..s {
                let (ix, iy) = (x0 + x, y0 + y);
                if ix >= 0 && iy >= 0 && (ix as u32) < img.width() && (iy as u32) < img.height() {
                    crop.put_pixel(x as u32, y as u32, *img.get_pixel(ix as u32, iy as u32));
                }
            }
        }
        let small = imageops::resize(&crop, 192, 192, imageops::FilterType::Triangle);
        let t = if nchw {
            tract_ndarray::Array4::from_shape_fn((1, 3, 192, 192), |(_, c, y, x)| {
                small.get_pixel(x as u32, y as u32)[c] as f32 / 255.0
            })
            .into_tensor()
        } else {
            tract_ndarray::Array4::from_shape_fn((1, 192, 192, 3), |(_, y, x, c)| {
                small.get_pixel(x as u32, y as u32)[c] as f32 / 255.0
            })
            .into_tensor()
        };
        (small, t)
    };
    let tp = Instant::now();
    let (small, input) = prep(&img);
    println!("crop+resize+tensor: {:?}", tp.elapsed());

    let out = model.run(tvec!(input.clone().into()))?;
    let pts = out[0].to_plain_array_view::<f32>()?.iter().copied().collect::<Vec<f32>>();
    let flag = out[1].to_plain_array_view::<f32>()?.iter().copied().next().unwrap();
    println!("outputs: {:?} {:?}; face flag logit {flag:.3} -> p={:.3}",
        out[0].shape(), out[1].shape(), 1.0 / (1.0 + (-flag).exp()));
    if let Ok(dir) = std::env::var("DUMP") {
        use std::io::Write;
        let mut f = std::fs::File::create(format!("{dir}/input_nhwc.f32"))?;
        for y in 0..192u32 { for x in 0..192u32 { for c in 0..3 {
            f.write_all(&(small.get_pixel(x, y)[c] as f32 / 255.0).to_le_bytes())?;
        }}}
        let mut f = std::fs::File::create(format!("{dir}/out_pts.f32"))?;
        for v in &pts { f.write_all(&v.to_le_bytes())?; }
        f.write_all(&flag.to_le_bytes())?;
    }
    let p = |i: usize| (pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
    // to image coordinates
    let k = side / 192.0;
    let x0 = cx - side / 2.0;
    let y0 = cy - side / 2.0;
    let to_img = |i: usize| {
        let (x, y, _) = p(i);
        (x0 + x * k, y0 + y * k)
    };
    for &(name, i) in &[
        ("forehead top 10", 10), ("chin 152", 152), ("nose tip 1", 1),
        ("R cheek 234", 234), ("L cheek 454", 454),
        ("R eye outer 33", 33), ("R eye inner 133", 133), ("R upper lid 159", 159), ("R lower lid 145", 145),
        ("L eye inner 362", 362), ("L eye outer 263", 263), ("L upper lid 386", 386), ("L lower lid 374", 374),
        ("mouth R 61", 61), ("mouth L 291", 291), ("upper lip inner 13", 13), ("lower lip inner 14", 14),
    ] {
        let (ix, iy) = to_img(i);
        println!("  {name:>20}: crop({:6.1},{:6.1},{:6.1})  image({ix:6.1},{iy:6.1})", p(i).0, p(i).1, p(i).2);
    }
    let d = |a: usize, b: usize| {
        let (ax, ay, _) = p(a);
        let (bx, by, _) = p(b);
        ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt()
    };
    let r_ear = d(159, 145) / d(33, 133);
    let l_ear = d(386, 374) / d(362, 263);
    let mar = d(13, 14) / d(61, 291);
    let eye_c = |a: usize, b: usize| {
        let (ax, ay) = to_img(a);
        let (bx, by) = to_img(b);
        ((ax + bx) / 2.0, (ay + by) / 2.0)
    };
    let (rex, rey) = eye_c(33, 133);
    let (lex, ley) = eye_c(362, 263);
    let ipd = ((rex - lex).powi(2) + (rey - ley).powi(2)).sqrt();
    let (c1x, _) = to_img(234);
    let (c2x, _) = to_img(454);
    let roll = (ley - rey).atan2(lex - rex).to_degrees();
    // crude yaw: nose tip horizontal offset relative to the cheeks; pitch: nose tip vs eye line/chin
    let (nx, ny) = to_img(1);
    let yaw_ratio = (nx - c1x) / (c2x - c1x) - 0.5;
    let (_, chin_y) = to_img(152);
    let eye_y = (rey + ley) / 2.0;
    let pitch_ratio = (ny - eye_y) / (chin_y - eye_y);
    // 3D yaw from z of the cheeks (z is in the same pixel scale as x)
    let yaw3d = (p(454).2 - p(234).2).atan2(p(454).0 - p(234).0).to_degrees();
    println!("eye aspect R {r_ear:.3} L {l_ear:.3}; mouth open ratio {mar:.3}");
    println!("eye distance {ipd:.1}px = {:.3} W; face width (234-454) {:.1}px = {:.3} W; roll {roll:.1} deg",
        ipd / w, c2x - c1x, (c2x - c1x) / w);
    println!("yaw: nose offset {yaw_ratio:+.3} of face width, z-yaw {yaw3d:+.1} deg; pitch: nose at {pitch_ratio:.3} of eye->chin");

    // --- timing: median of 50 runs (model only) and of 50 (prep + model)
    let mut ts = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let _ = model.run(tvec!(input.clone().into()))?;
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut tf = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let (_, inp) = prep(&img);
        let _ = model.run(tvec!(inp.into()))?;
        tf.push(t.elapsed().as_secs_f64() * 1e3);
    }
    tf.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("inference median {:.2} ms (min {:.2}, max {:.2}); prep+inference median {:.2} ms",
        ts[25], ts[0], ts[49], tf[25]);

    // --- draw on the crop, upscaled 2x
    let mut vis = imageops::resize(&small, 576, 576, imageops::FilterType::Triangle);
    let sc = 3.0;
    let mut dot = |x: f32, y: f32, c: Rgb<u8>, r: i32| {
        for dy in -r..=r {
            for dx in -r..=r {
                let (px, py) = ((x * sc) as i32 + dx, (y * sc) as i32 + dy);
                if px >= 0 && py >= 0 && px < 576 && py < 576 {
                    vis.put_pixel(px as u32, py as u32, c);
                }
            }
        }
    };
    for i in 0..N {
        let (x, y, _) = p(i);
        dot(x, y, Rgb([0, 255, 0]), 0);
    }
    let oval = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109];
    for &i in &oval { let (x, y, _) = p(i); dot(x, y, Rgb([255, 255, 0]), 1); }
    for &i in &[33, 133, 159, 145, 362, 263, 386, 374] { let (x, y, _) = p(i); dot(x, y, Rgb([0, 128, 255]), 1); }
    for &i in &[61, 291, 13, 14, 0, 17] { let (x, y, _) = p(i); dot(x, y, Rgb([255, 0, 0]), 1); }
    for &i in &[1, 152, 234, 454] { let (x, y, _) = p(i); dot(x, y, Rgb([255, 0, 255]), 2); }
    vis.save(out_png)?;
    println!("wrote {out_png}");
    Ok(())
}
