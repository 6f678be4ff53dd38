//! What was presented: telling a QR image, QR text, an SD-JWT VC and a Data Integrity
//! credential apart, before anything is parsed in earnest.

use dojang_core::compact;
use dojang_core::verdict::ReasonCode;

/// The largest input accepted: a phone photo of a QR code.
pub const MAX_INPUT_LEN: usize = 16 << 20;

/// The largest SD-JWT VC or JSON credential accepted.
pub const MAX_TEXT_LEN: usize = 256 << 10;

/// A presented credential, recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// A dojang QR presentation, decoded from base45 (and from the image, if it was one).
    QrPayload(Vec<u8>),
    /// An SD-JWT VC presentation (`<jwt>~<disclosure>~…~<kb-jwt>`).
    SdJwt(String),
    /// A JSON credential with a Data Integrity proof.
    DataIntegrity(String),
}

impl Presented {
    /// Recognises `input`: a PNG or JPEG image is read for its QR code first; text starting
    /// with a dojang QR prefix is base45-decoded; a JSON object is a Data Integrity credential;
    /// a JWT with `~` separators is an SD-JWT VC. Anything else is refused with the reason code
    /// a verdict would carry.
    pub fn detect(input: &[u8]) -> Result<Self, (ReasonCode, String)> {
        if input.len() > MAX_INPUT_LEN {
            return Err((
                ReasonCode::TooLarge,
                format!(
                    "input is {} bytes, more than the {MAX_INPUT_LEN} allowed",
                    input.len()
                ),
            ));
        }
        let image;
        let text = if is_image(input) {
            image = dojang_core::qr::read_image(input)
                .map_err(|e| (ReasonCode::MalformedQr, e.to_string()))?;
            image.as_str()
        } else {
            std::str::from_utf8(input).map_err(|_| {
                (
                    ReasonCode::UnsupportedFormat,
                    "the input is neither a PNG or JPEG image nor text".to_owned(),
                )
            })?
        };
        Presented::from_text(text)
    }

    /// Recognises a text: see [`Presented::detect`].
    pub fn from_text(text: &str) -> Result<Self, (ReasonCode, String)> {
        let text = text.trim();
        if text.starts_with("DJ") {
            return compact::from_qr_text(text)
                .map(Presented::QrPayload)
                .map_err(|e| ((&e).into(), e.to_string()));
        }
        if text.len() > MAX_TEXT_LEN {
            return Err((
                ReasonCode::TooLarge,
                format!(
                    "input is {} bytes, more than the {MAX_TEXT_LEN} allowed",
                    text.len()
                ),
            ));
        }
        if text.starts_with('{') {
            return Ok(Presented::DataIntegrity(text.to_owned()));
        }
        if text.starts_with("ey") && text.contains('~') {
            return Ok(Presented::SdJwt(text.to_owned()));
        }
        Err((
            ReasonCode::UnsupportedFormat,
            "not a dojang QR code (`DJ1:`), an SD-JWT VC or a Data Integrity credential".into(),
        ))
    }
}

fn is_image(input: &[u8]) -> bool {
    input.starts_with(b"\x89PNG\r\n\x1a\n") || input.starts_with(&[0xff, 0xd8, 0xff])
}
