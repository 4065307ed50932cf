//! Draws the face mesh found in each photo and prints the measures taken from it, to look at:
//! `cargo run --release -p doorstep-photo --example landmarks -- OUT_DIR PHOTO...`.

use doorstep_photo::face::FaceDetector;
use doorstep_photo::mesh::{Landmarks, MeshModel};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, files)) = args.split_first() else {
        eprintln!("usage: landmarks OUT_DIR PHOTO...");
        std::process::exit(2);
    };
    let mut faces = FaceDetector::new().expect("face model");
    let model = MeshModel::new().expect("mesh model");
    let iris = doorstep_photo::iris::IrisModel::new().expect("iris model");
    for file in files {
        let Ok(img) = image::open(file).map(|i| i.to_rgb8()) else {
            println!("{file}: cannot read");
            continue;
        };
        let found = faces.detect(&image::imageops::grayscale(&img));
        let Some(face) = found.first() else {
            println!("{file}: no face");
            continue;
        };
        let Some(mesh) = model.run_refined(&img, face.rect) else {
            println!("{file}: no mesh");
            continue;
        };
        let l = Landmarks::new(mesh);
        let w = img.width() as f32;
        let plain = doorstep_photo::geometry::Plain::find(&img);
        let crown = doorstep_photo::geometry::crown(&img, &l, plain.as_ref()).1;
        {
            use doorstep_photo::mesh::index::{CHIN, FOREHEAD_TOP};
            let (t, c) = (l.p(FOREHEAD_TOP), l.p(CHIN));
            let length = ((t.x - c.x).powi(2) + (t.y - c.y).powi(2)).sqrt();
            println!("  crown above point 10: {:.3} of chin–forehead", (t.y - crown) / length);
        }
        println!(
            "  crown {:.3} H, teeth {:.3}, glare {:.3}, sharpness {:?}, eye model {:?}, shadow beside {:?}",
            crown / img.height() as f32,
            doorstep_photo::features::teeth(&img, &l),
            doorstep_photo::features::glare_value(&img, &l, 245),
            doorstep_photo::checks::sharpness_value(&img, &l),
            iris.openness(&img, &l),
            doorstep_photo::checks::shadow_beside_head(&img, &l, crown, plain.as_ref()),
        );
        if let Some(c) =
            doorstep_photo::covering::measure(&img, &l, plain.as_ref(), &doorstep_photo::profile::Profile::passport())
        {
            println!(
                "  covering: skin ends across {:.2} of the forehead, {:.2} eye distances above the brows, {:.3} from a straight line; above it {:?} (a hair colour: {:?}); round the head {:.2}",
                c.coverage,
                c.edge_height,
                c.edge_spread,
                c.above.map(|a| a.map(|v| v as u8)),
                c.above.map(doorstep_photo::covering::hair_colour),
                c.round,
            );
        }
        let (ro, lo) = l.eye_openness();
        println!(
            "{file}: eyes {:.3} W, face {:.3} W, roll {:+.1}°, yaw {:+.1}°, pitch {:+.1}°, eyes open {ro:.2}/{lo:.2}, mouth gap {:.3}, presence {:.2}",
            l.eye_distance() / w,
            l.face_width() / w,
            l.roll(),
            l.yaw(),
            l.pitch(),
            l.mouth_gap(),
            l.mesh.presence
        );
        let mut vis = img.clone();
        for p in &l.mesh.points {
            let (x, y) = (p.x.round() as i64, p.y.round() as i64);
            if x >= 0 && y >= 0 && (x as u32) < vis.width() && (y as u32) < vis.height() {
                vis.put_pixel(x as u32, y as u32, image::Rgb([0, 255, 0]));
            }
        }
        let name = std::path::Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let _ = vis.save(std::path::Path::new(out).join(format!("{name}-mesh.png")));
    }
}
