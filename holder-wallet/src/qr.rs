//! QR codes: drawing a presentation's text (PNG, SVG, terminal) at ECC level Q, and reading
//! QR images (offers, challenges, presentations) with `rqrr`.

use std::io::Cursor;

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use crate::WalletError;

/// Largest image accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 4096;

fn code(text: &str) -> Result<QrCode, WalletError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .map_err(|e| WalletError::Protocol(format!("cannot draw a QR code: {e}")))
}

/// The QR version `text` needs at ECC level Q.
pub fn version(text: &str) -> Result<i16, WalletError> {
    match code(text)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// A PNG of the QR code: 6 pixels a module, with the standard quiet zone.
pub fn to_png(text: &str) -> Result<Vec<u8>, WalletError> {
    let image = code(text)?
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .build();
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| WalletError::Protocol(format!("cannot encode the PNG: {e}")))?;
    Ok(png)
}

/// An SVG of the QR code.
pub fn to_svg(text: &str) -> Result<String, WalletError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(320, 320)
        .build())
}

/// The QR code in Unicode half blocks, light on dark, for a terminal.
pub fn to_terminal(text: &str) -> Result<String, WalletError> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build())
}

/// The text of the first QR code found in an image (PNG or JPEG).
pub fn read_image(bytes: &[u8]) -> Result<String, WalletError> {
    let unreadable =
        |reason: String| WalletError::Protocol(format!("cannot read the QR image: {reason}"));
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
