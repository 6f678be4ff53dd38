//! QR codes (feature `qr`): drawing text (PNG, SVG, terminal) at ECC level Q, and reading QR
//! images (offers, challenges, presentations) with `rqrr`.
//!
//! # Reading an image from a stranger
//!
//! A verifier reads whatever is uploaded to it, so reading bounds the *work*, not only the size:
//!
//! - the image decoder refuses sides over [`MAX_IMAGE_SIDE`] and large allocations;
//! - the picture is shrunk to at most [`DETECT_SIDE`] pixels a side before detection, since every
//!   later step is at least linear in pixels — rqrr copies the whole image for each triple of
//!   finder patterns it tries. At that size a phone photo of a version-27 code filling a third of
//!   the frame still has about four pixels a module. rqrr misses codes at one scale that it
//!   reads at another (of 179 clean renderings of versions 25–33 at 1.3–3 times their size on
//!   2,400–4,000 px canvases, it missed 44 trying 1,600 and 1,024 px, 25 trying the sides of
//!   [`RETRY_SIDES`] too), so after a miss a large image is tried at up to three smaller sides —
//!   together 1.8 times the pixels of the first detection;
//! - rqrr groups finder patterns (the three 7×7 corner squares, a 1:1:3:1:1 run across the
//!   middle) by trying triples, and its cost grows about as n^2.8 in their number: an image tiled
//!   with look-alikes costs seconds at 242 bytes and hours at 4 KB, whatever its pixel count. So
//!   the image is binarized here exactly as rqrr would (`Bitmap::threshold`), the patterns rqrr
//!   could accept are counted (`Bitmap::finder_candidates`) and more than
//!   [`MAX_FINDER_CANDIDATES`] are refused before rqrr sees the image. The count follows rqrr's
//!   own test (the run ratio, the ring one connected region, the stone another, their area ratio)
//!   and over-counts rather than under-counts, so shapes that rqrr alone would see cannot slip
//!   past it.
//!
//! A real code has three finder patterns; a photo of a few codes, a handful. Callers should
//! still run [`read_image`] off the async threads, a bounded number at a time.

use std::collections::HashSet;
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
    /// The image holds more shapes like a QR code's finder pattern than a photo of a few codes
    /// would; it is refused before detection, whose cost grows steeply with their number.
    #[error(
        "이미지에 QR 후보 패턴이 너무 많습니다 (최대 {limit}개) / \
         too many QR finder-pattern candidates in the image (at most {limit})"
    )]
    TooManyFinderPatterns {
        /// The most accepted: [`MAX_FINDER_CANDIDATES`].
        limit: usize,
    },
}

/// Largest image accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// Images are shrunk to at most this many pixels a side before a QR code is looked for.
pub const DETECT_SIDE: u32 = 1600;

/// rqrr misses codes at one scale that it reads at another: after a miss, a larger image is
/// tried at these sides, in turn.
pub const RETRY_SIDES: [u32; 3] = [1400, 1200, 1024];

/// Most finder-pattern candidates an image may hold. A QR code has three; a photo of a few
/// codes, a handful, plus the odd look-alike in the background. At this many, detection costs a
/// fraction of a second even when every triple has to be tried.
pub const MAX_FINDER_CANDIDATES: usize = 32;

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

/// The text of the first QR code found in an image (PNG or JPEG). The work is bounded: see the
/// module documentation.
pub fn read_image(bytes: &[u8]) -> Result<String, QrError> {
    let image = decode(bytes)?;
    let mut missed = None;
    for side in std::iter::once(DETECT_SIDE).chain(RETRY_SIDES) {
        let shrunk = shrink(&image, side);
        if missed
            .as_ref()
            .is_some_and(|(size, _)| *size == shrunk.dimensions())
        {
            continue;
        }
        match detect(&shrunk) {
            Err(QrError::Read(why)) => missed = Some((shrunk.dimensions(), why)),
            done => return done,
        }
    }
    let why = missed.map_or_else(|| "no QR code found".into(), |(_, why)| why);
    Err(QrError::Read(why))
}

/// The first QR code rqrr reads in `image`, after counting its finder-pattern candidates.
fn detect(image: &image::GrayImage) -> Result<String, QrError> {
    let bitmap = Bitmap::threshold(image)?;
    if bitmap.finder_candidates(MAX_FINDER_CANDIDATES + 1) > MAX_FINDER_CANDIDATES {
        return Err(QrError::TooManyFinderPatterns {
            limit: MAX_FINDER_CANDIDATES,
        });
    }
    // `without_preparation` panics on a pixel other than 0 or 1; `Bitmap` holds only those.
    let mut prepared = rqrr::PreparedImage::without_preparation(bitmap.into_image()?);
    let mut why = "no QR code found".to_owned();
    for grid in prepared.detect_grids() {
        match grid.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => why = e.to_string(),
        }
    }
    Err(QrError::Read(why))
}

/// The image in grey levels, within the decoder's limits.
fn decode(bytes: &[u8]) -> Result<image::GrayImage, QrError> {
    let unreadable = |e: image::ImageError| QrError::Read(e.to_string());
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::Read(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 << 20);
    reader.limits(limits);
    let image = reader.decode().map_err(unreadable)?.into_luma8();
    if image.width() == 0 || image.height() == 0 {
        return Err(QrError::Read("empty image".into()));
    }
    Ok(image)
}

/// The image shrunk, keeping its proportions, to at most `side` a side.
fn shrink(image: &image::GrayImage, side: u32) -> std::borrow::Cow<'_, image::GrayImage> {
    let (width, height) = image.dimensions();
    let longest = width.max(height);
    if longest <= side {
        return std::borrow::Cow::Borrowed(image);
    }
    let scale = |n: u32| {
        let scaled = u64::from(n) * u64::from(side) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(side).max(1)
    };
    std::borrow::Cow::Owned(image::imageops::thumbnail(
        image,
        scale(width),
        scale(height),
    ))
}

/// A black-and-white image as rqrr sees it: 1 dark, 0 light, row by row.
struct Bitmap {
    width: usize,
    height: usize,
    dark: Vec<u8>,
}

/// A horizontal run of dark pixels, `start..end` in its row.
#[derive(Clone, Copy)]
struct Run {
    start: u32,
    end: u32,
}

impl Run {
    fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

impl Bitmap {
    /// rqrr 0.11's `PreparedImage::prepare` (after quirc): each pixel against a running average
    /// of about an eighth of the width, swept both ways along the row. Kept identical so the
    /// finder patterns counted are those rqrr would look at.
    fn threshold(image: &image::GrayImage) -> Result<Self, QrError> {
        let width = image.width() as usize;
        let height = image.height() as usize;
        let pixels = image.as_raw();
        if width == 0 || pixels.len() != width * height {
            return Err(QrError::Read("empty image".into()));
        }
        let span = (width / 8).max(1);
        let mut row_average = vec![0usize; width];
        let (mut avg_v, mut avg_u) = (0usize, 0usize);
        let mut dark = Vec::with_capacity(pixels.len());
        for (y, row) in pixels.chunks_exact(width).enumerate() {
            row_average.fill(0);
            for x in 0..width {
                let (v, u) = if y.is_multiple_of(2) {
                    (width - 1 - x, x)
                } else {
                    (x, width - 1 - x)
                };
                avg_v = avg_v * (span - 1) / span + usize::from(row[v]);
                avg_u = avg_u * (span - 1) / span + usize::from(row[u]);
                row_average[v] += avg_v;
                row_average[u] += avg_u;
            }
            dark.extend(
                row.iter()
                    .zip(&row_average)
                    .map(|(&p, &avg)| u8::from(usize::from(p) < avg * (100 - 5) / (200 * span))),
            );
        }
        Ok(Bitmap {
            width,
            height,
            dark,
        })
    }

    fn into_image(self) -> Result<image::GrayImage, QrError> {
        let (width, height) = (self.width as u32, self.height as u32);
        image::GrayImage::from_raw(width, height, self.dark)
            .ok_or_else(|| QrError::Read("bitmap size".into()))
    }

    /// How many finder patterns rqrr could accept here, counting no further than `stop`.
    ///
    /// rqrr scans each row for a dark–light–dark–light–dark run of widths 1:1:3:1:1 (within its
    /// tolerance), then keeps it if the two outer dark runs are one region (the ring), the middle
    /// one another (the stone), and the stone's area is 10–70 % of the ring's; a ring is used
    /// once. The same test is made here on the dark regions (4-connected, as rqrr's flood fill),
    /// found once for the whole image, and each distinct ring counted. rqrr can only find fewer:
    /// it also refuses a stone already claimed, and shapes its geometry rejects.
    fn finder_candidates(&self, stop: usize) -> usize {
        let (runs, rows) = self.dark_runs();
        let mut regions = Regions::new(&runs);
        for pair in rows.windows(3) {
            let (above, here) = (pair[0]..pair[1], pair[1]..pair[2]);
            regions.join_overlapping(&runs, above, here);
        }
        let mut rings = HashSet::new();
        for row in rows.windows(2) {
            for k in row[0] + 2..row[1] {
                let (left, middle, right) = (runs[k - 2], runs[k - 1], runs[k]);
                let widths = [
                    left.len(),
                    (middle.start - left.end) as usize,
                    middle.len(),
                    (right.start - middle.end) as usize,
                    right.len(),
                ];
                if !finder_ratio(widths) {
                    continue;
                }
                let ring = regions.find(k);
                let stone = regions.find(k - 1);
                if regions.find(k - 2) != ring || stone == ring {
                    continue;
                }
                let ratio = regions.area[stone] * 100 / regions.area[ring].max(1);
                if 10 < ratio && ratio < 70 {
                    rings.insert(ring);
                    if rings.len() >= stop {
                        return rings.len();
                    }
                }
            }
        }
        rings.len()
    }

    /// Every dark run, row after row, and where each row's runs start (plus the end).
    fn dark_runs(&self) -> (Vec<Run>, Vec<usize>) {
        let mut runs = Vec::new();
        let mut rows = Vec::with_capacity(self.height + 1);
        for row in self.dark.chunks_exact(self.width) {
            rows.push(runs.len());
            let mut start = None;
            for (x, &pixel) in row.iter().enumerate() {
                match (pixel, start) {
                    (1, None) => start = Some(x),
                    (0, Some(s)) => {
                        runs.push(run(s, x));
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(s) = start {
                runs.push(run(s, row.len()));
            }
        }
        rows.push(runs.len());
        (runs, rows)
    }
}

/// Bitmaps are at most [`DETECT_SIDE`] wide, so a column fits a `u32`.
fn run(start: usize, end: usize) -> Run {
    Run {
        start: start as u32,
        end: end as u32,
    }
}

/// rqrr's line test for a finder pattern: each width within ¾ of the average module of its
/// expected multiple (1:1:3:1:1), the module being the mean of the four outer widths.
fn finder_ratio(widths: [usize; 5]) -> bool {
    const EXPECTED: [usize; 5] = [1, 1, 3, 1, 1];
    let module = (widths[0] + widths[1] + widths[3] + widths[4]) / 4;
    let slack = module * 3 / 4;
    widths
        .iter()
        .zip(EXPECTED)
        .all(|(&w, e)| e * module - slack <= w && w <= e * module + slack)
}

/// Dark regions as a union–find over runs, with their areas in pixels.
struct Regions {
    parent: Vec<usize>,
    area: Vec<usize>,
}

impl Regions {
    fn new(runs: &[Run]) -> Self {
        Regions {
            parent: (0..runs.len()).collect(),
            area: runs.iter().map(|r| r.len()).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[b] = a;
            self.area[a] += self.area[b];
        }
    }

    /// Joins each run of one row to the runs of the row above that share a column with it.
    fn join_overlapping(
        &mut self,
        runs: &[Run],
        above: std::ops::Range<usize>,
        here: std::ops::Range<usize>,
    ) {
        let (mut i, mut j) = (above.start, here.start);
        while i < above.end && j < here.end {
            let (a, b) = (runs[i], runs[j]);
            if a.start < b.end && b.start < a.end {
                self.union(i, j);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn candidates(png: &[u8]) -> usize {
        let image = decode(png).unwrap();
        Bitmap::threshold(&image)
            .unwrap()
            .finder_candidates(usize::MAX)
    }

    #[test]
    fn a_drawn_code_has_its_three_finder_patterns() {
        for text in ["DJ1:A", &"DJ1:".repeat(150)] {
            assert_eq!(candidates(&to_png(text).unwrap()), 3, "{text}");
        }
    }

    #[test]
    fn the_line_test_is_rqrr_s() {
        assert!(finder_ratio([1, 1, 3, 1, 1]));
        assert!(finder_ratio([4, 4, 12, 4, 4]));
        assert!(finder_ratio([5, 3, 13, 4, 4]));
        assert!(!finder_ratio([4, 4, 4, 4, 4]));
        assert!(!finder_ratio([4, 4, 24, 4, 4]));
    }
}
