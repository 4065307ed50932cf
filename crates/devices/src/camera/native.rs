//! A real camera through nokhwa (V4L2 on Linux): only with the `camera` feature.

use super::{CameraInfo, CameraSource, Frame};
use crate::DeviceError;

/// A camera through nokhwa (V4L2 on Linux).
pub struct NativeCamera {
    index: u32,
    info: CameraInfo,
    camera: Option<nokhwa::Camera>,
    count: u64,
}

fn camera_error(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Port(format!("camera: {e}"))
}

/// The cameras the system offers. Empty (not an error) when there is none.
pub fn list_cameras() -> Vec<CameraInfo> {
    nokhwa::query(nokhwa::utils::ApiBackend::Auto)
        .unwrap_or_default()
        .into_iter()
        .map(|c| CameraInfo { name: c.human_name(), description: format!("{} ({})", c.description(), c.index()) })
        .collect()
}

impl NativeCamera {
    pub fn new(index: u32) -> NativeCamera {
        let info = list_cameras()
            .into_iter()
            .nth(index as usize)
            .unwrap_or(CameraInfo { name: format!("camera {index}"), description: "not found".into() });
        NativeCamera { index, info, camera: None, count: 0 }
    }
}

impl CameraSource for NativeCamera {
    fn info(&self) -> CameraInfo {
        self.info.clone()
    }

    fn open(&mut self) -> Result<(), DeviceError> {
        use nokhwa::pixel_format::RgbFormat;
        use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestResolution);
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(self.index), format).map_err(camera_error)?;
        camera.open_stream().map_err(camera_error)?;
        self.camera = Some(camera);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Frame, DeviceError> {
        use nokhwa::pixel_format::RgbFormat;
        let camera = self.camera.as_mut().ok_or_else(|| DeviceError::Port("the camera is not open".into()))?;
        let buffer = camera.frame().map_err(camera_error)?;
        let img = buffer.decode_image::<RgbFormat>().map_err(camera_error)?;
        self.count += 1;
        Ok(Frame { width: img.width(), height: img.height(), rgb: img.into_raw(), index: self.count })
    }

    fn close(&mut self) {
        if let Some(mut c) = self.camera.take() {
            let _ = c.stop_stream();
        }
    }
}
