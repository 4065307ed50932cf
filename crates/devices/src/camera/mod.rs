//! Cameras behind one trait: a real camera through `nokhwa` (V4L2 on Linux), with the
//! `camera` feature, and a replay camera that plays a folder of images as frames, for the
//! demo unit and the tests, always.

use std::path::{Path, PathBuf};

use crate::DeviceError;

#[cfg(feature = "camera")]
mod native;
#[cfg(feature = "camera")]
pub use native::{NativeCamera, list_cameras};

/// One RGB frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Row-major RGB, 3 bytes a pixel.
    pub rgb: Vec<u8>,
    /// Counts frames since the source opened.
    pub index: u64,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame(#{} {}×{})", self.index, self.width, self.height)
    }
}

/// A description of a camera, for `doorstep devices list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    pub name: String,
    pub description: String,
}

/// Something that gives frames.
/// Not `Send`: native cameras must stay on the thread that opened them (run a capture
/// thread that owns its source).
pub trait CameraSource {
    fn info(&self) -> CameraInfo;
    fn open(&mut self) -> Result<(), DeviceError>;
    /// The next frame; an error for one frame does not end the stream.
    fn next_frame(&mut self) -> Result<Frame, DeviceError>;
    fn close(&mut self);
}

/// Plays the images in a folder (PNG or JPEG, in name order) as frames, looping.
pub struct ReplayCamera {
    dir: PathBuf,
    files: Vec<PathBuf>,
    pos: usize,
    count: u64,
}

impl ReplayCamera {
    pub fn new(dir: &Path) -> ReplayCamera {
        ReplayCamera { dir: dir.to_path_buf(), files: Vec::new(), pos: 0, count: 0 }
    }
}

impl CameraSource for ReplayCamera {
    fn info(&self) -> CameraInfo {
        CameraInfo { name: "replay".into(), description: format!("replays {}", self.dir.display()) }
    }

    fn open(&mut self) -> Result<(), DeviceError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| DeviceError::Port(format!("replay folder {}: {e}", self.dir.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(DeviceError::Port(format!("no PNG or JPEG images in {}", self.dir.display())));
        }
        self.files = files;
        self.pos = 0;
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Frame, DeviceError> {
        if self.files.is_empty() {
            return Err(DeviceError::Port("the replay camera is not open".into()));
        }
        let path = self.files[self.pos % self.files.len()].clone();
        self.pos = (self.pos + 1) % self.files.len();
        let img =
            image::open(&path).map_err(|e| DeviceError::Port(format!("frame {}: {e}", path.display())))?.to_rgb8();
        self.count += 1;
        Ok(Frame { width: img.width(), height: img.height(), rgb: img.into_raw(), index: self.count })
    }

    fn close(&mut self) {
        self.files.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_plays_a_folder_in_order_and_loops() {
        let dir = std::env::temp_dir().join(format!("doorstep-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, shade) in [(1, 40u8), (2, 200u8)] {
            image::RgbImage::from_pixel(8, 6, image::Rgb([shade, shade, shade]))
                .save(dir.join(format!("f{i}.png")))
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "not a frame").unwrap();
        let mut cam = ReplayCamera::new(&dir);
        cam.open().unwrap();
        let a = cam.next_frame().unwrap();
        let b = cam.next_frame().unwrap();
        let c = cam.next_frame().unwrap();
        assert_eq!((a.width, a.height, a.rgb[0]), (8, 6, 40));
        assert_eq!(b.rgb[0], 200);
        assert_eq!(c.rgb[0], 40, "loops");
        assert_eq!(c.index, 3);
        // A damaged frame is an error for that frame only.
        std::fs::write(dir.join("f3.png"), b"not a png").unwrap();
        cam.open().unwrap();
        cam.next_frame().unwrap();
        cam.next_frame().unwrap();
        assert!(matches!(cam.next_frame(), Err(DeviceError::Port(_))));
        assert_eq!(cam.next_frame().unwrap().rgb[0], 40, "the next frame plays");
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(ReplayCamera::new(Path::new("/nonexistent/frames")).open(), Err(DeviceError::Port(_))));
        let empty = std::env::temp_dir().join(format!("doorstep-replay-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(ReplayCamera::new(&empty).open(), Err(DeviceError::Port(_))));
        assert!(matches!(ReplayCamera::new(&empty).next_frame(), Err(DeviceError::Port(_))), "not open");
        std::fs::remove_dir_all(&empty).ok();
    }
}
