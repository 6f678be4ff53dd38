//! Unpadded base64url (RFC 4648 §5), the only base64 that JOSE and SD-JWT use.
//!
//! Decoding is strict: padding, non-alphabet characters and non-canonical trailing bits are all
//! rejected, so one value has exactly one encoding and a flipped character never decodes to the
//! same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use base64::DecodeError;

/// Encodes `bytes` as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url, strictly.
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// Decodes unpadded base64url into a fixed-size array; `None` if the text is invalid or the
/// decoded length is not `N`.
pub fn decode_array<const N: usize>(text: impl AsRef<[u8]>) -> Option<[u8; N]> {
    decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_padding_and_stray_bits() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").unwrap(), b"\xfb\xff");
        assert!(decode("-_8=").is_err(), "padding is not base64url-nopad");
        assert!(
            decode("-_9").is_err(),
            "non-zero trailing bits are not canonical"
        );
        assert!(decode("+/8").is_err(), "standard alphabet is rejected");
        assert_eq!(decode_array::<2>("-_8"), Some([0xfb, 0xff]));
        assert_eq!(decode_array::<3>("-_8"), None);
    }
}
