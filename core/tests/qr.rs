//! Reading QR images from strangers: real codes and photos of them still read, while images
//! tiled with finder-pattern look-alikes — which kept rqrr busy for minutes or hours — are
//! refused with their own error before the decoder tries every triple of them.

#![cfg(feature = "qr")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use dojang_core::qr::{self, MAX_FINDER_CANDIDATES, QrError};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{GrayImage, ImageEncoder, Luma};

/// About the size of a presentation's QR text (base45 is upper case, digits and a few signs).
fn long_text() -> String {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let body: String = (0..520)
        .map(|i| alphabet[(i * 7 + i / 3) % alphabet.len()] as char)
        .collect();
    format!("DJ1:{body}")
}

fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    bytes
}

/// A finder pattern, `module` pixels a module, its top-left corner at (x, y), in a light margin
/// of one module.
fn finder(image: &mut GrayImage, x: u32, y: u32, module: u32) {
    for dy in 0..9 * module {
        for dx in 0..9 * module {
            let (px, py) = ((x + dx).wrapping_sub(module), (y + dy).wrapping_sub(module));
            if px >= image.width() || py >= image.height() {
                continue;
            }
            let (mx, my) = (dx / module, dy / module);
            let inside = (1..=7).contains(&mx) && (1..=7).contains(&my);
            let (mx, my) = (mx.wrapping_sub(1), my.wrapping_sub(1));
            let ring = mx == 0 || mx == 6 || my == 0 || my == 6;
            let stone = (2..=4).contains(&mx) && (2..=4).contains(&my);
            let dark = inside && (ring || stone);
            image.put_pixel(px, py, Luma([if dark { 0 } else { 255 }]));
        }
    }
}

/// `per_side`² finder patterns, `pitch` modules apart, on a background that is either light or
/// a checkerboard of modules (which keeps rqrr from grouping any of them, so it tries them all).
fn tiled(side: u32, module: u32, pitch: u32, per_side: u32, checkered: bool) -> GrayImage {
    let mut image = GrayImage::from_fn(side, side, |x, y| {
        let dark = checkered && (x / module + y / module).is_multiple_of(2);
        Luma([if dark { 0 } else { 255 }])
    });
    for i in 0..per_side {
        for j in 0..per_side {
            let (x, y) = (module + i * pitch * module, module + j * pitch * module);
            finder(&mut image, x, y, module);
        }
    }
    image
}

fn too_many(result: Result<String, QrError>) {
    assert_eq!(
        result,
        Err(QrError::TooManyFinderPatterns {
            limit: MAX_FINDER_CANDIDATES
        })
    );
}

#[test]
fn a_qr_code_and_a_photo_of_it_still_read() {
    let text = long_text();
    let drawn = qr::to_png(&text).unwrap();
    assert_eq!(qr::read_image(&drawn).unwrap(), text);

    // A phone-sized JPEG: the code scaled by a non-integer factor, off-centre, on a noisy grey
    // background, larger than the detection side so it is shrunk first.
    let code = image::load_from_memory(&drawn).unwrap().into_luma8();
    let scaled = image::imageops::resize(
        &code,
        code.width() * 23 / 10,
        code.height() * 23 / 10,
        image::imageops::FilterType::Triangle,
    );
    let (width, height) = (4000, 3000);
    assert!(width > qr::DETECT_SIDE && scaled.width() < height);
    let mut photo = GrayImage::from_fn(width, height, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 24;
        Luma([150 + noise as u8])
    });
    image::imageops::overlay(&mut photo, &scaled, 1300, 500);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut Cursor::new(&mut jpeg), 85)
        .encode_image(&photo)
        .unwrap();
    assert_eq!(qr::read_image(&jpeg).unwrap(), text);

    // A photo of a few codes side by side: the first found is read.
    let few = ["DJ1:ONE", "DJ1:TWO", "DJ1:THREE"].map(|t| {
        image::load_from_memory(&qr::to_png(t).unwrap())
            .unwrap()
            .into_luma8()
    });
    let mut row = GrayImage::from_pixel(few.iter().map(|c| c.width() + 40).sum(), 400, Luma([255]));
    let mut x = 20;
    for code in &few {
        image::imageops::overlay(&mut row, code, i64::from(x), 20);
        x += code.width() + 40;
    }
    let read = qr::read_image(&png(&row)).unwrap();
    assert!(["DJ1:ONE", "DJ1:TWO", "DJ1:THREE"].contains(&read.as_str()));
}

/// A QR text of `len` characters from the presentation alphabet, varied by `seed`.
fn qr_text(seed: u64, len: usize) -> String {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut state = seed;
    let body: String = (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            alphabet[((state >> 33) % 45) as usize] as char
        })
        .collect();
    format!("DJ1:{body}")
}

/// The code of `text` drawn at 6 pixels a module, enlarged `times` (nearest neighbour) onto a
/// light-grey `canvas`-pixel square, as a PNG.
fn enlarged(text: &str, times: u32, canvas: u32) -> Vec<u8> {
    let code = image::load_from_memory(&qr::to_png(text).unwrap())
        .unwrap()
        .into_luma8();
    let big = image::imageops::resize(
        &code,
        code.width() * times,
        code.height() * times,
        image::imageops::FilterType::Nearest,
    );
    assert!(big.width() + 300 <= canvas, "{}", big.width());
    let mut photo = GrayImage::from_pixel(canvas, canvas, Luma([230]));
    image::imageops::overlay(&mut photo, &big, 200, 250);
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::NoFilter)
        .write_image(photo.as_raw(), canvas, canvas, image::ExtendedColorType::L8)
        .unwrap();
    bytes
}

/// Codes of QR versions 27 to 33 (a job badge with an uncompressed P-256 holder key is 31–33),
/// enlarged onto canvases larger than the detection side. rqrr reads each at one of the sides
/// tried, not always the first: the version-33 code here it misses at 1,600 and 1,024 px.
#[test]
fn large_codes_photographed_at_several_sizes_still_read() {
    for (seed, len, version) in [(1, 1100, 27), (2, 1300, 29), (3, 1460, 31), (4, 1640, 33)] {
        let text = qr_text(seed, len);
        assert_eq!(qr::version(&text).unwrap(), version);
        for (times, canvas) in [(2, 3000), (3, 3000)] {
            if version > 30 && times == 3 {
                continue; // too large for the canvas
            }
            assert_eq!(
                qr::read_image(&enlarged(&text, times, canvas)).as_deref(),
                Ok(text.as_str()),
                "version {version}, {times}×, on {canvas} px"
            );
        }
    }
}

/// The image of finding 2: 4096×4096, a 16×16 tiling of finder patterns on a checkerboard. It
/// used to keep rqrr busy for minutes (with the verifier's trust lock held); now it is refused
/// before detection.
#[test]
fn a_large_image_tiled_with_finder_patterns_is_refused() {
    let attack = png(&tiled(4096, 16, 16, 16, true));
    assert!(attack.len() < 200 << 10, "{} bytes", attack.len());
    too_many(qr::read_image(&attack));
}

/// The fuzzer's find: a few hundred bytes of PNG, hundreds of one-pixel-module look-alikes.
#[test]
fn a_tiny_image_of_many_look_alikes_is_refused() {
    let attack = png(&tiled(256, 1, 8, 32, false));
    assert!(attack.len() < 1024, "{} bytes", attack.len());
    too_many(qr::read_image(&attack));
}

/// Each finder pattern is counted once, not once per row through it: a few dozen pass the count
/// (and are simply not a QR code), a few more are refused.
#[test]
fn the_count_is_of_patterns_not_of_rows() {
    let under = png(&tiled(1024, 6, 16, 5, true));
    match qr::read_image(&under) {
        Err(QrError::Read(_)) => {}
        other => panic!("25 patterns: {other:?}"),
    }
    too_many(qr::read_image(&png(&tiled(1024, 6, 16, 6, true))));
}
