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

/// What a verdict's words must not repeat: the presented text and what it decodes to (an
/// SD-JWT's base64url parts, a QR code's payload).
///
/// A reason's detail is built from the parsers' errors, and those quote what they could not
/// read: an algorithm name, a claim name, a context URL. A verdict travels further than the
/// input did — to a page, a log, a screenshot — so before it leaves the verifier every quoted
/// span found in the input, and every run of eight or more characters found in it, becomes `…`.
/// The reason code and the rest of the sentence stay.
#[derive(Debug, Default)]
pub(crate) struct Echoes {
    texts: Vec<String>,
}

/// Details longer than this are cut first (no parser error needs more).
const MAX_DETAIL_CHARS: usize = 400;
/// Runs at least this long that the input contains are removed, quoted or not.
const MIN_ECHO_CHARS: usize = 8;

impl Echoes {
    /// The raw input, when it is text.
    pub(crate) fn of_input(input: &[u8]) -> Self {
        let mut echoes = Echoes::default();
        if let Ok(text) = std::str::from_utf8(input) {
            echoes.texts.push(text.to_owned());
        }
        echoes
    }

    /// A QR code's payload (CBOR carries its text strings as they are).
    pub(crate) fn of_payload(payload: &[u8]) -> Self {
        Echoes {
            texts: vec![String::from_utf8_lossy(payload).into_owned()],
        }
    }

    /// A compact JWS or SD-JWT: the text and each of its base64url parts decoded.
    pub(crate) fn of_jwt(text: &str) -> Self {
        let mut texts = vec![text.to_owned()];
        texts.extend(
            text.split(['~', '.'])
                .filter_map(|part| dojang_core::b64::decode(part).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        );
        Echoes { texts }
    }

    /// A JSON document, as it was given.
    pub(crate) fn of_text(text: &str) -> Self {
        Echoes {
            texts: vec![text.to_owned()],
        }
    }

    fn contains(&self, needle: &str) -> bool {
        !needle.is_empty() && self.texts.iter().any(|text| text.contains(needle))
    }

    /// `detail` without anything it repeats from the input.
    pub(crate) fn scrub(&self, detail: &str) -> String {
        let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
        if self.texts.is_empty() {
            return detail;
        }
        let unquoted = self.without_quoted(&detail);
        self.without_runs(&unquoted)
    }

    /// Replaces each `…` or "…" span whose content the input holds.
    fn without_quoted(&self, detail: &str) -> String {
        let mut out = String::with_capacity(detail.len());
        let mut rest = detail;
        while let Some(open) = rest.find(['`', '"']) {
            let quote = rest[open..].chars().next().unwrap_or('`');
            out.push_str(&rest[..=open]);
            let after = &rest[open + 1..];
            let Some(close) = closing(after, quote) else {
                rest = after;
                continue;
            };
            let span = &after[..close];
            let unescaped = span.replace("\\\"", "\"").replace("\\\\", "\\");
            if self.contains(span) || self.contains(&unescaped) {
                out.push('…');
            } else {
                out.push_str(span);
            }
            out.push(quote);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Replaces each run of [`MIN_ECHO_CHARS`] or more characters the input holds.
    fn without_runs(&self, detail: &str) -> String {
        let chars: Vec<char> = detail.chars().collect();
        let run = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        let mut out = String::with_capacity(detail.len());
        let mut i = 0;
        while i < chars.len() {
            let end = i + MIN_ECHO_CHARS;
            if end <= chars.len() && !chars[i..end].contains(&'…') && self.contains(&run(i, end))
            {
                let mut j = end;
                while j < chars.len() && self.contains(&run(i, j + 1)) {
                    j += 1;
                }
                out.push('…');
                i = j;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    }
}

/// Where the span opened by `quote` ends in `text`: the next `quote` not escaped by `\`.
fn closing(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_long_echoes_are_removed_and_the_rest_kept() {
        let echoes = Echoes::of_text(r#"{"alg": "HS256", "name": "Park Seoyeon 박서연"}"#);
        assert_eq!(
            echoes.scrub("symmetric algorithm `HS256` is not accepted"),
            "symmetric algorithm `…` is not accepted"
        );
        assert_eq!(
            echoes.scrub(r#"invalid type: string "Park Seoyeon 박서연", expected a map"#),
            r#"invalid type: string "…", expected a map"#
        );
        assert_eq!(
            echoes.scrub("the holder Park Seoyeon 박서연 is unknown"),
            "the holder … is unknown"
        );
        // What the input does not hold stays, quoted or not.
        assert_eq!(
            echoes.scrub("not a dojang QR code (it does not start with `DJ1:`)"),
            "not a dojang QR code (it does not start with `DJ1:`)"
        );
        assert_eq!(echoes.scrub("an \"unclosed quote"), "an \"unclosed quote");
    }

    #[test]
    fn base64url_parts_are_searched_decoded() {
        let header = dojang_core::b64::encode(r#"{"alg":"HS256","typ":"secret-typ-value"}"#);
        let echoes = Echoes::of_jwt(&format!("{header}.e30.sig~"));
        assert_eq!(
            echoes.scrub(r#"JWS type is Some("secret-typ-value"), expected `dc+sd-jwt`"#),
            r#"JWS type is Some("…"), expected `dc+sd-jwt`"#
        );
    }
}
