//! QR codes (feature `qr`): drawing text (PNG, SVG, terminal) at ECC level Q, and reading QR
//! images (offers, challenges, presentations) with `rqrr`, size-limited before decoding.

use std::io::Cursor;

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be drawn or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit a QR code.
    #[error("cannot draw a QR code: {0}")]
    Draw(String),
    /// The image is not a readable picture of a QR code.
    #[error("cannot read the QR image: {0}")]
    Read(String),
}

/// Largest image accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 4096;

fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .map_err(|e| QrError::Draw(e.to_string()))
}

/// The QR version `text` needs at ECC level Q.
pub fn version(text: &str) -> Result<i16, QrError> {
    match code(text)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// A PNG of the QR code: 6 pixels a module, with the standard quiet zone.
pub fn to_png(text: &str) -> Result<Vec<u8>, QrError> {
    let image = code(text)?
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .build();
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| QrError::Draw(e.to_string()))?;
    Ok(png)
}

/// An SVG of the QR code.
pub fn to_svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(320, 320)
        .build())
}

/// The QR code in Unicode half blocks, light on dark, for a terminal.
pub fn to_terminal(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build())
}

/// The text of the first QR code found in an image (PNG or JPEG).
pub fn read_image(bytes: &[u8]) -> Result<String, QrError> {
    let unreadable = QrError::Read;
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 << 20);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| unreadable(e.to_string()))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    let grid = grids
        .first()
        .ok_or_else(|| unreadable("no QR code found".into()))?;
    let (_, text) = grid.decode().map_err(|e| unreadable(e.to_string()))?;
    Ok(text)
}
