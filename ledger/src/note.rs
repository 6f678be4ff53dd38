//! C2SP `signed-note`: a text signed by one or more Ed25519 keys, each identified by a key
//! name and a 4-byte key ID. Checkpoints and witness cosignatures are signed notes.
//!
//! ```text
//! <text, ending in a newline>
//!
//! — <key name> <base64(key ID ‖ signature)>
//! ```
//!
//! Key ID = `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[..4]`, with type `0x01` for a plain
//! Ed25519 signature and `0x04` for a timestamped `cosignature/v1`. Verifier keys are written
//! `<name>+<hex key ID>+<base64(type ‖ public key)>` as in Go's `sumdb/note`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::key::{Algorithm, PublicKey, Signer, Verifier};

/// Signature type byte of a plain Ed25519 note signature.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type byte of a C2SP `cosignature/v1`.
pub const TYPE_COSIGNATURE: u8 = 0x04;
/// Most signature lines accepted on one note (the spec requires at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 16;

/// Why a note or key could not be parsed, or a note did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is not well formed.
    #[error("malformed note: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A verifier or signer key string is not well formed.
    #[error("malformed note key: {reason}")]
    MalformedKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature by a known key does not verify.
    #[error("signature by `{name}` does not verify")]
    InvalidSignature {
        /// The key name.
        name: String,
    },
    /// No signature by any of the required keys.
    #[error("not signed by `{name}`")]
    MissingSignature {
        /// The key name required.
        name: String,
    },
}

/// A public key that verifies note signatures of one type under one name.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    kind: u8,
    id: [u8; 4],
    key: PublicKey,
}

impl NoteVerifier {
    /// The verifier for an Ed25519 `key` named `name`, of signature type `kind`.
    pub fn new(name: &str, kind: u8, key: PublicKey) -> Result<Self, NoteError> {
        check_name(name)?;
        if key.algorithm() != Algorithm::EdDsa {
            return Err(NoteError::MalformedKey {
                reason: "note keys are Ed25519",
            });
        }
        Ok(NoteVerifier {
            id: key_id(name, kind, key.as_bytes()),
            name: name.to_owned(),
            kind,
            key,
        })
    }

    /// Parses `<name>+<hex id>+<base64(type ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::MalformedKey { reason };
        let (name, rest) = vkey.split_once('+').ok_or(bad("missing `+`"))?;
        let (hex_id, encoded) = rest.split_once('+').ok_or(bad("missing second `+`"))?;
        if hex_id.len() != 8 {
            return Err(bad("key ID is not 8 hex digits"));
        }
        let id = u32::from_str_radix(hex_id, 16).map_err(|_| bad("key ID is not hex"))?;
        let decoded = STANDARD
            .decode(encoded)
            .map_err(|_| bad("key is not base64"))?;
        let (&kind, key) = decoded.split_first().ok_or(bad("empty key"))?;
        if kind != TYPE_ED25519 && kind != TYPE_COSIGNATURE {
            return Err(bad("unsupported signature type"));
        }
        let verifier = Self::new(
            name,
            kind,
            PublicKey::ed25519(key).map_err(|_| bad("not an Ed25519 key"))?,
        )?;
        if verifier.id != id.to_be_bytes() {
            return Err(bad("key ID does not match the key"));
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The signature type byte.
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    fn matches(&self, signature: &NoteSignature) -> bool {
        signature.name == self.name && signature.id == self.id
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut encoded = vec![self.kind];
        encoded.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            u32::from_be_bytes(self.id),
            STANDARD.encode(encoded)
        )
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

/// An Ed25519 key that signs notes under a name.
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: Box<dyn Signer>,
}

impl NoteSigner {
    /// A signer of type `kind` (plain or cosignature) for `key` (sealed, or in an HSM) under
    /// `name`.
    pub fn new(name: &str, kind: u8, key: impl Signer + 'static) -> Result<Self, NoteError> {
        Ok(NoteSigner {
            verifier: NoteVerifier::new(name, kind, key.public_key().clone())?,
            key: Box::new(key),
        })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// Signs `message`, returning the signature line payload `key ID ‖ [prefix ‖] signature`.
    pub(crate) fn sign_payload(&self, prefix: &[u8], message: &[u8]) -> Result<Vec<u8>, NoteError> {
        let signature = self
            .key
            .sign(message)
            .map_err(|_| NoteError::InvalidSignature {
                name: self.verifier.name.clone(),
            })?;
        let mut payload = Vec::with_capacity(4 + prefix.len() + signature.len());
        payload.extend_from_slice(&self.verifier.id);
        payload.extend_from_slice(prefix);
        payload.extend_from_slice(&signature);
        Ok(payload)
    }

    /// A plain signature line over `text`.
    pub fn sign(&self, text: &str) -> Result<NoteSignature, NoteError> {
        let payload = self.sign_payload(&[], text.as_bytes())?;
        Ok(NoteSignature {
            name: self.verifier.name.clone(),
            id: self.verifier.id,
            payload,
        })
    }
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub id: [u8; 4],
    /// Key ID ‖ signature material (for cosignatures: timestamp ‖ signature).
    pub payload: Vec<u8>,
}

impl NoteSignature {
    /// The signature material after the key ID.
    pub fn body(&self) -> &[u8] {
        &self.payload[4..]
    }
}

impl fmt::Display for NoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "— {} {}", self.name, STANDARD.encode(&self.payload))
    }
}

impl NoteSignature {
    /// Parses one line (without its newline).
    pub fn parse_line(line: &str) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::Malformed { reason };
        let rest = line
            .strip_prefix("— ")
            .ok_or(bad("signature line does not start with `— `"))?;
        let (name, encoded) = rest
            .split_once(' ')
            .ok_or(bad("signature line has no signature"))?;
        check_name(name).map_err(|_| bad("invalid key name"))?;
        let payload = STANDARD
            .decode(encoded)
            .map_err(|_| bad("signature is not base64"))?;
        if payload.len() < 5 {
            return Err(bad("signature is too short"));
        }
        let id = [payload[0], payload[1], payload[2], payload[3]];
        Ok(NoteSignature {
            name: name.to_owned(),
            id,
            payload,
        })
    }
}

/// A signed note: text and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// A note over `text` (which must end in a newline) with no signatures yet.
    pub fn new(text: String) -> Result<Self, NoteError> {
        check_text(&text)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note.
    pub fn parse(input: &str) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::Malformed { reason };
        if input.len() > MAX_NOTE_LEN {
            return Err(bad("note is too large"));
        }
        let split = input
            .rfind("\n\n")
            .ok_or(bad("no blank line before the signatures"))?;
        let (text, signatures) = (&input[..=split], &input[split + 2..]);
        check_text(text)?;
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(bad("signatures missing or not newline-terminated"));
        }
        let lines: Vec<&str> = signatures[..signatures.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(bad("too many signatures"));
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse_line)
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text (ending in a newline).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line, replacing an earlier one by the same key.
    pub fn add_signature(&mut self, signature: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == signature.name && s.id == signature.id));
        self.signatures.push(signature);
    }

    /// Verifies the plain Ed25519 signature by `verifier`, which must be present.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), NoteError> {
        let signature = self
            .signatures
            .iter()
            .find(|s| verifier.matches(s))
            .ok_or_else(|| NoteError::MissingSignature {
                name: verifier.name.clone(),
            })?;
        verifier
            .key
            .verify(self.text.as_bytes(), signature.body())
            .map_err(|_| NoteError::InvalidSignature {
                name: verifier.name.clone(),
            })
    }

    /// The signature line matching `verifier`, if any.
    pub fn signature_by(&self, verifier: &NoteVerifier) -> Option<&NoteSignature> {
        self.signatures.iter().find(|s| verifier.matches(s))
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        for signature in &self.signatures {
            write!(f, "{signature}")?;
        }
        Ok(())
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    let bad = |reason| NoteError::Malformed { reason };
    if !text.ends_with('\n') {
        return Err(bad("text does not end in a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(bad("text contains a control character"));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::MalformedKey {
            reason: "key names are non-empty, without spaces or `+`",
        });
    }
    Ok(())
}

/// `SHA-256(name ‖ 0x0A ‖ type ‖ key)[..4]`.
pub fn key_id(name: &str, kind: u8, key: &[u8]) -> [u8; 4] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[kind]);
    ctx.update(key);
    let digest = ctx.finish();
    let d = digest.as_ref();
    [d[0], d[1], d[2], d[3]]
}
