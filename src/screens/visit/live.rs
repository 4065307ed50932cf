//! The photo step's live preview: a thread reads the camera (the replay camera in demo mode),
//! runs the photo checks' live path on every frame, and hands the screen a small preview with
//! what to change. When every check the crop cannot fix has passed on several frames running,
//! it keeps the sharpest of them, crops it to the standard and checks it in full: the photo is
//! taken by itself. The screen draws each new frame (rendering is continuous only while the
//! preview runs; the thread wakes the event loop per frame).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use doorstep_devices::camera::{CameraSource, ReplayCamera};
use doorstep_photo::assess::{FRAMING, Profile};
use image::RgbImage;

use super::capture::{LiveAdvice, Work};
use super::shot::Shot;
use crate::tasks::Waker;
use crate::ui::i18n::Tr;
use crate::visit_flow::VisitFlow;
use doorstep_core::visit::Step;

/// The preview's size (the frame reduced, for the screen).
pub const PREVIEW: (u32, u32) = (640, 360);
/// Checked frames in a row with nothing to change before the photo is taken.
const STEADY: usize = 4;
/// The checks run on every this many frames.
const CHECK_EVERY: u64 = 2;
/// The preview's pace at most.
const FRAME_TIME: Duration = Duration::from_millis(40);

/// Where the photo comes from: the replay camera (a demo unit, and the tests) or a real one.
/// A provisioned unit never replays: demo frames must never become an applicant's photo.
#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub enum CameraChoice {
    Replay(std::path::PathBuf),
    Native(u32),
}

/// The most the replay camera keeps decoded (its first frame is kept whatever its size).
const REPLAY_BYTES: usize = 256 * 1024 * 1024;

impl CameraChoice {
    /// The source's name as the sealed form records it.
    pub fn source(&self) -> &'static str {
        match self {
            CameraChoice::Replay(_) => "replay-camera",
            CameraChoice::Native(_) => "camera",
        }
    }

    /// Opened, with its frames: the replay camera's decoded once (a real camera gives them
    /// one by one).
    pub fn open(&self) -> Result<Frames, Tr> {
        let failed = |e: doorstep_devices::DeviceError| {
            error!("camera: {e}");
            Tr::new("visit.photo.no_camera")
        };
        match self {
            CameraChoice::Replay(dir) => {
                let mut camera = ReplayCamera::new(dir);
                camera.open().map_err(failed)?;
                // The replay camera goes round its folder: read until the first frame comes again.
                // At most 64 frames and REPLAY_BYTES of them decoded (a folder of 12-megapixel
                // photos would otherwise hold gigabytes): the replay goes round those.
                let mut out: Vec<RgbImage> = Vec::new();
                let mut held = 0usize;
                while out.len() < 64
                    && let Ok(f) = camera.next_frame()
                    && let Some(img) = RgbImage::from_raw(f.width, f.height, f.rgb)
                    && out.first().is_none_or(|first| first.as_raw() != img.as_raw())
                    && (out.is_empty() || held + img.len() <= REPLAY_BYTES)
                {
                    held += img.len();
                    out.push(img);
                }
                if out.is_empty() { Err(Tr::new("visit.photo.no_camera")) } else { Ok(Frames::Replay(out, 0)) }
            }
            CameraChoice::Native(index) => {
                let mut camera = doorstep_devices::camera::NativeCamera::new(*index);
                camera.open().map_err(failed)?;
                Ok(Frames::Native(Box::new(camera)))
            }
        }
    }
}

/// Frames from an open camera.
pub enum Frames {
    Replay(Vec<RgbImage>, usize),
    Native(Box<doorstep_devices::camera::NativeCamera>),
}

impl Frames {
    /// How many frames a replay has (it goes round them); `None` for a real camera.
    pub fn replayed(&self) -> Option<usize> {
        match self {
            Frames::Replay(frames, _) => Some(frames.len()),
            Frames::Native(_) => None,
        }
    }

    pub fn next(&mut self) -> Result<RgbImage, Tr> {
        match self {
            Frames::Replay(frames, at) => {
                let f = frames[*at % frames.len()].clone();
                *at += 1;
                Ok(f)
            }
            Frames::Native(camera) => {
                let f = camera.next_frame().map_err(|e| {
                    error!("camera: {e}");
                    Tr::new("visit.photo.no_camera")
                })?;
                RgbImage::from_raw(f.width, f.height, f.rgb).ok_or_else(|| Tr::new("visit.photo.no_camera"))
            }
        }
    }
}

/// What the live thread last saw.
#[derive(Default)]
pub struct LiveView {
    /// The preview, RGBA, and a count that changes with each frame.
    pub rgba: Vec<u8>,
    pub seq: u64,
    /// What to change (advice keys), first the most important; empty: hold still.
    pub advice: Vec<&'static str>,
    /// Checks done per second, for the benchmark.
    pub checks_per_second: f32,
    /// The photo taken by itself, or why the camera stopped.
    pub taken: Option<Result<Shot, Tr>>,
}

/// A running preview; dropping it stops the thread.
pub struct Live {
    pub view: Arc<Mutex<LiveView>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Live {
    /// The preview from `camera`, its guidance and the photo it takes judged by `profile`.
    pub fn start(camera: CameraChoice, profile: Profile, waker: Waker) -> Live {
        let view: Arc<Mutex<LiveView>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (v, s) = (view.clone(), stop.clone());
        let spawned = std::thread::Builder::new().name("camera".into()).spawn(move || {
            let result = run(&camera, &profile, &v, &s, &waker);
            if let Err(e) = result
                && let Ok(mut view) = v.lock()
            {
                view.taken = Some(Err(e));
            }
            waker.wake();
        });
        if let Err(e) = spawned {
            error!("cannot start the camera thread: {e}");
        }
        Live { view, stop }
    }
}

/// The frame reduced to the preview's size: an average over whole blocks of pixels when the
/// frame is a whole multiple of it (a 1280×720 camera), else the nearest pixel (cheap).
fn preview_rgba(frame: &RgbImage) -> Vec<u8> {
    let (w, h) = PREVIEW;
    let k = frame.width() / w;
    let mut out = Vec::with_capacity((w * h * 4) as usize);
    if k >= 1 && frame.width() == k * w && frame.height() == k * h {
        let n = k * k;
        for y in 0..h {
            for x in 0..w {
                let mut sum = [0u32; 3];
                for dy in 0..k {
                    for dx in 0..k {
                        let p = frame.get_pixel(x * k + dx, y * k + dy).0;
                        for c in 0..3 {
                            sum[c] += u32::from(p[c]);
                        }
                    }
                }
                out.extend(sum.map(|v| (v / n) as u8));
                out.push(255);
            }
        }
    } else {
        let small = image::imageops::resize(frame, w, h, image::imageops::FilterType::Nearest);
        out = image::DynamicImage::ImageRgb8(small).to_rgba8().into_raw();
    }
    out
}

fn set(view: &Mutex<LiveView>, f: impl FnOnce(&mut LiveView)) {
    if let Ok(mut v) = view.lock() {
        f(&mut v);
    }
}

fn run(
    camera: &CameraChoice,
    profile: &Profile,
    view: &Mutex<LiveView>,
    stop: &AtomicBool,
    waker: &Waker,
) -> Result<(), Tr> {
    let mut frames = camera.open()?;
    let mut assessor = super::shot::assessor()?;
    // The sharpness of each steady frame, with the frame.
    let mut steady: Vec<(f32, RgbImage)> = Vec::new();
    let (mut count, mut since) = (0u32, Instant::now());
    let (mut frame_no, mut advice): (u64, Vec<&'static str>) = (0, vec!["visit.photo.live_wait"]);
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let frame = frames.next()?;
        let frame = &frame;
        let started = Instant::now();
        frame_no += 1;
        // The preview every frame; the checks every other one (about 12 a second at the
        // camera's 25, enough for guidance, and half the work beside the renderer on 2 cores).
        let check = frame_no % CHECK_EVERY == 0;
        let assessed = check.then(|| assessor.assess_live(frame, profile));
        if let Some(a) = &assessed {
            advice = a
                .refusals()
                // The crop takes care of the framing: the camera frame's is not the photo's.
                .filter(|c| !FRAMING.contains(&c.name))
                .map(|c| c.advice.unwrap_or("photo.cannot.no-face"))
                .collect();
            count += 1;
        }
        let rgba = preview_rgba(frame);
        let rate = count as f32 / since.elapsed().as_secs_f32().max(0.001);
        if since.elapsed() > Duration::from_secs(2) {
            (count, since) = (0, Instant::now());
        }
        set(view, |v| {
            v.rgba = rgba;
            v.seq += 1;
            v.advice = advice.clone();
            v.checks_per_second = rate;
        });
        waker.wake();
        if let Some(a) = assessed {
            if advice.is_empty() {
                let sharp = a.checks.iter().find(|c| c.name == "sharpness").and_then(|c| c.value).unwrap_or(0.0);
                steady.push((sharp, frame.clone()));
            } else {
                steady.clear();
            }
        }
        if steady.len() >= STEADY {
            // The sharpest of the steady frames, cropped and checked in full.
            let best = steady.iter().enumerate().max_by(|a, b| a.1.0.total_cmp(&b.1.0)).map_or(0, |(i, _)| i);
            let best = steady.swap_remove(best).1;
            steady.clear();
            // Taken when it passes, or only asks the officer to look (which the step shows).
            if let Ok((jpeg, full)) = assessor.crop(&best, profile)
                && full.verdict() != doorstep_photo::assess::Verdict::Fail
            {
                let shot = Shot::new(jpeg, &full);
                set(view, |v| v.taken = Some(Ok(shot)));
                return Ok(());
            }
        }
        if let Some(rest) = FRAME_TIME.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

/// Runs the live preview while the photo step has no photo, draws its frames and guidance, and
/// takes the photo it took by itself.
#[allow(clippy::too_many_arguments)]
pub fn run_live(
    flow: Res<VisitFlow>,
    mut work: ResMut<Work>,
    waker: Res<Waker>,
    images: Option<ResMut<Assets<Image>>>,
    mut advice: Query<&mut Tr, With<LiveAdvice>>,
    camera: Option<Res<CameraChoice>>,
    drafts: Res<crate::visit_flow::Drafts>,
    mut form: ResMut<crate::ui::form::Form>,
) {
    let wanted = flow.visit.as_ref().is_some_and(|v| v.step() == Step::Photo && !super::photo::photo_not_needed(v))
        && work.shot.is_none()
        && work.photo.is_none();
    if !wanted {
        if work.live.is_some() {
            work.live = None;
        }
        return;
    }
    // No screen to show it on (headless): the photo is taken with the button.
    let (Some(mut images), Some(camera)) = (images, camera) else { return };
    if work.live.is_none() && work.photo_note.is_none() {
        let Some(visit) = &flow.visit else { return };
        let Some(profile) = super::shot::profile_or_note(visit, &mut work) else { return };
        let (w, h) = PREVIEW;
        let blank = vec![40u8; (w * h * 4) as usize];
        work.live_image = screen_image_rgba(w, h, blank).map(|i| images.add(i));
        work.live = Some(Live::start(camera.clone(), profile, waker.clone()));
        work.touch();
        return;
    }
    let Some(live) = &work.live else { return };
    let (seq, rgba, tips, taken) = {
        let Ok(mut v) = live.view.lock() else { return };
        (v.seq, std::mem::take(&mut v.rgba), v.advice.clone(), v.taken.take())
    };
    if seq != work.live_seq && !rgba.is_empty() {
        work.live_seq = seq;
        if let Some(mut image) = work.live_image.as_ref().and_then(|h| images.get_mut(h)) {
            image.data = Some(rgba);
        }
        let wanted = tips.first().map_or_else(|| Tr::new("visit.photo.live_hold"), |k| Tr::new(k));
        for mut tr in &mut advice {
            if *tr != wanted {
                *tr = wanted.clone();
            }
        }
    }
    match taken {
        Some(Ok(shot)) => {
            if let Some(visit) = &flow.visit {
                super::shot::take_in(&mut work, Some(&mut form), Some(&drafts), &visit.id, shot, Some(&mut images));
            }
            work.live = None;
            work.touch();
        }
        Some(Err(note)) => {
            work.photo_note = Some(note);
            work.live = None;
            work.touch();
        }
        None => {}
    }
}

/// RGBA pixels as a texture for the screen (kept on the CPU side too, to be updated).
pub(crate) fn screen_image_rgba(width: u32, height: u32, rgba: Vec<u8>) -> Option<Image> {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
    let size = Extent3d { width, height, depth_or_array_layers: 1 };
    let usage = RenderAssetUsages::RENDER_WORLD | RenderAssetUsages::MAIN_WORLD;
    Some(Image::new(size, TextureDimension::D2, rgba, TextureFormat::Rgba8UnormSrgb, usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_averages_whole_blocks_and_falls_back_to_the_nearest_pixel() {
        // 1280×720: each preview pixel is the mean of a 2×2 block.
        let frame = RgbImage::from_fn(1280, 720, |x, y| image::Rgb([(x % 2 * 100) as u8, (y % 2 * 50) as u8, 7]));
        let rgba = preview_rgba(&frame);
        assert_eq!(rgba.len(), (PREVIEW.0 * PREVIEW.1 * 4) as usize);
        assert_eq!(&rgba[..4], &[50, 25, 7, 255]);
        // An odd size: still the preview's size.
        let odd = RgbImage::from_pixel(1000, 700, image::Rgb([9, 8, 7]));
        let rgba = preview_rgba(&odd);
        assert_eq!(rgba.len(), (PREVIEW.0 * PREVIEW.1 * 4) as usize);
        assert_eq!(&rgba[..4], &[9, 8, 7, 255]);
    }
}
