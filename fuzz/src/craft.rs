//! Turning fuzzed bytes into signed inputs: a signature over bytes the fuzzer chose stops it
//! at the first check, so the harnesses sign what they fuzz with the world's keys, splice it
//! into the structures around it, and let the verifier see it whole.
//!
//! Conventions shared by the harnesses (and by the seeds in `fuzz/corpus/`):
//!
//! - text inputs split on a separator (`~` for SD-JWT parts, `\n` for ledger records), binary
//!   inputs on [`SEPARATOR`];
//! - a marker `$<n>` in a template stands for a digest the fuzzer cannot compute (the SD-JWT
//!   digest of disclosure `n`, the hash of leaf `n`), and `$h` for the key binding's `sd_hash`;
//! - fuzzed CBOR is spliced into a map the harness writes: its first byte says how many extra
//!   key/value pairs follow (see [`Cbor::map_with`]).

use aws_lc_rs::digest;
use dojang_core::b64;
use dojang_core::jws::{self, JwsHeader};
use dojang_core::key::{Algorithm, PublicKey, Signer};

/// Separates the parts of a binary input: bytes that strict CBOR never starts an item with.
pub const SEPARATOR: &[u8] = b"\xff\xfe\xfd";

/// Splits `data` on `separator`.
pub fn split<'a>(data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(separator.len())
        .position(|window| window == separator)
    {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

/// `template` with each marker `$<name>` (`name` an ASCII digit run, or `h`) replaced by what
/// `lookup` gives for it; markers it does not know are left as they are.
pub fn substitute(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = match after.as_bytes().first() {
            Some(b'h') => 1,
            _ => after.bytes().take(6).take_while(u8::is_ascii_digit).count(),
        };
        match (len > 0).then(|| lookup(&after[..len])).flatten() {
            Some(value) => {
                out.push_str(&value);
                rest = &after[len..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// base64url(SHA-256(`text`)): the SD-JWT digest of a disclosure or presentation.
pub fn sd_digest(text: &str) -> String {
    b64::encode(sha256(text.as_bytes()))
}

/// A compact JWS over exactly `payload`, whatever it is; `None` only if signing fails.
pub fn jws(header: JwsHeader, payload: &[u8], signer: &dyn Signer) -> Option<String> {
    jws::sign(header, payload, signer).ok()
}

/// A CBOR writer for the items the compact profile uses, shortest form (RFC 8949 §4.2.1).
#[derive(Debug, Default, Clone)]
pub struct Cbor(pub Vec<u8>);

impl Cbor {
    /// An empty writer.
    pub fn new() -> Self {
        Cbor(Vec::new())
    }

    fn head(&mut self, major: u8, arg: u64) -> &mut Self {
        let major = major << 5;
        match arg {
            0..=23 => self.0.push(major | arg as u8),
            24..=0xff => self.0.extend_from_slice(&[major | 24, arg as u8]),
            0x100..=0xffff => {
                self.0.push(major | 25);
                self.0.extend_from_slice(&(arg as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(major | 26);
                self.0.extend_from_slice(&(arg as u32).to_be_bytes());
            }
            _ => {
                self.0.push(major | 27);
                self.0.extend_from_slice(&arg.to_be_bytes());
            }
        }
        self
    }

    /// An integer.
    pub fn int(&mut self, value: i64) -> &mut Self {
        match u64::try_from(value) {
            Ok(unsigned) => self.head(0, unsigned),
            Err(_) => self.head(1, (-1 - i128::from(value)) as u64),
        }
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.head(2, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    /// A text string.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.head(3, value.len() as u64);
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    /// The head of an array of `len` items (the items follow).
    pub fn array(&mut self, len: usize) -> &mut Self {
        self.head(4, len as u64)
    }

    /// The head of a map of `len` pairs (the pairs follow).
    pub fn map(&mut self, len: usize) -> &mut Self {
        self.head(5, len as u64)
    }

    /// The head of a map of `len` pairs the caller writes, plus the pairs `extra` holds:
    /// `extra[0] % 16` more pairs, written as the raw bytes `extra[1..]` after the caller's.
    /// Returns those raw bytes, for [`Cbor::raw`] once the caller's pairs are written.
    pub fn map_with<'a>(&mut self, len: usize, extra: &'a [u8]) -> &'a [u8] {
        match extra.split_first() {
            Some((count, raw)) => {
                self.map(len + usize::from(count % 16));
                raw
            }
            None => {
                self.map(len);
                &[]
            }
        }
    }

    /// A simple value.
    pub fn simple(&mut self, value: u8) -> &mut Self {
        match value {
            0..=23 => self.0.push(0xe0 | value),
            _ => self.0.extend_from_slice(&[0xf8, value]),
        }
        self
    }

    /// A boolean.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.0.push(if value { 0xf5 } else { 0xf4 });
        self
    }

    /// Bytes as they are (an item encoded elsewhere, or fuzzed bytes).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The bytes written.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// A public key as the COSE_Key the compact profile writes (EC2 P-256 with both coordinates,
/// OKP Ed25519).
pub fn cose_key(out: &mut Cbor, key: &PublicKey) {
    let raw = key.as_bytes();
    match key.algorithm() {
        Algorithm::Es256 => {
            out.map(4).int(1).int(2).int(-1).int(1).int(-2);
            out.bytes(&raw[1..33]).int(-3).bytes(&raw[33..]);
        }
        Algorithm::EdDsa => {
            out.map(3).int(1).int(1).int(-1).int(6).int(-2).bytes(raw);
        }
    }
}

/// The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4, no external AAD).
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    Cbor::new()
        .array(4)
        .text("Signature1")
        .bytes(protected)
        .bytes(&[])
        .bytes(payload)
        .finish()
}

/// A COSE_Sign1 `[protected, unprotected, payload, signature]` signed by `signer`, with the
/// unprotected header's encoded bytes as given; `None` only if signing fails.
pub fn sign1(
    protected: &[u8],
    unprotected: &[u8],
    payload: &[u8],
    signer: &dyn Signer,
) -> Option<Vec<u8>> {
    let signature = signer.sign(&sig_structure(protected, payload)).ok()?;
    Some(
        Cbor::new()
            .array(4)
            .bytes(protected)
            .raw(unprotected)
            .bytes(payload)
            .bytes(&signature)
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_replaced_and_unknown_ones_kept() {
        let lookup = |name: &str| match name {
            "1" => Some("one".to_owned()),
            "h" => Some("hash".to_owned()),
            _ => None,
        };
        assert_eq!(substitute("a$1b$12c$hd$", lookup), "aoneb$12chashd$");
        assert_eq!(substitute("$", lookup), "$");
        assert_eq!(substitute("", lookup), "");
    }

    #[test]
    fn split_keeps_empty_parts() {
        assert_eq!(split(b"a~~b", b"~"), [&b"a"[..], b"", b"b"]);
        assert_eq!(split(b"", b"~"), [&b""[..]]);
        assert_eq!(split(b"x\xff\xfe\xfdy", SEPARATOR), [&b"x"[..], b"y"]);
    }

    #[test]
    fn cbor_heads_are_shortest() {
        assert_eq!(Cbor::new().int(23).finish(), [0x17]);
        assert_eq!(Cbor::new().int(24).finish(), [0x18, 24]);
        assert_eq!(Cbor::new().int(-1).finish(), [0x20]);
        assert_eq!(Cbor::new().int(i64::MIN).finish()[0], 0x3b);
        assert_eq!(Cbor::new().int(65535).finish(), [0x19, 0xff, 0xff]);
        assert_eq!(Cbor::new().simple(59).finish(), [0xf8, 59]);
    }
}
