//! C2SP `tlog-checkpoint` and `tlog-cosignature`: what the log commits to, signed by the log
//! and cosigned by witnesses.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//!
//! — <log key name> <signature>
//! — <witness name> <key ID ‖ timestamp ‖ signature>
//! ```
//!
//! A witness cosignature (`cosignature/v1`) signs `"cosignature/v1\ntime <t>\n" ‖ checkpoint
//! text`: "as of time t, this is the largest consistent tree I have seen for this origin".

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::key::Verifier as _;

use crate::merkle::Hash;
use crate::note::{Note, NoteError, NoteSignature, NoteSigner, NoteVerifier, TYPE_COSIGNATURE};

/// Why a checkpoint could not be parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note is malformed or its log signature is invalid or missing.
    #[error("{0}")]
    Note(#[from] NoteError),
    /// The note text is not a checkpoint.
    #[error("malformed checkpoint: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The checkpoint is for another log.
    #[error("checkpoint is for origin `{found}`, expected `{expected}`")]
    WrongOrigin {
        /// The origin expected.
        expected: String,
        /// The origin found.
        found: String,
    },
    /// Fewer valid witness cosignatures than required.
    #[error("{found} valid witness cosignatures, {required} required")]
    NotEnoughWitnesses {
        /// Required.
        required: usize,
        /// Valid cosignatures found.
        found: usize,
    },
}

/// A checkpoint: the log's origin, tree size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of those leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text (ending in a newline).
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint note text; extension lines are allowed and ignored.
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let bad = |reason| CheckpointError::Malformed { reason };
        let mut lines = text
            .strip_suffix('\n')
            .ok_or(bad("no final newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(bad("empty origin"))?;
        let size_text = lines.next().ok_or(bad("missing tree size"))?;
        let size = size_text
            .parse::<u64>()
            .map_err(|_| bad("tree size is not decimal"))?;
        if size_text != size.to_string() {
            return Err(bad("tree size has leading zeros or a sign"));
        }
        let root = STANDARD
            .decode(lines.next().ok_or(bad("missing root hash"))?)
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(bad("root hash is not 32 bytes of base64"))?;
        if lines.any(str::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint as a signed note, with the log's signature and any witness cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note carrying it.
    pub note: Note,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log key.
    pub fn sign(checkpoint: Checkpoint, log: &NoteSigner) -> Result<Self, CheckpointError> {
        let mut note = Note::new(checkpoint.to_text())?;
        note.add_signature(log.sign(note.text())?);
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Parses a signed checkpoint and verifies the log's signature and origin.
    pub fn verify(text: &str, origin: &str, log: &NoteVerifier) -> Result<Self, CheckpointError> {
        let note = Note::parse(text)?;
        let checkpoint = Checkpoint::parse_text(note.text())?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        note.verify(log)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Counts the witnesses among `witnesses` whose cosignature verifies (each key at most
    /// once), and requires at least `required`.
    pub fn require_witnesses(
        &self,
        witnesses: &[NoteVerifier],
        required: usize,
    ) -> Result<usize, CheckpointError> {
        let found = witnesses
            .iter()
            .filter(|w| self.cosigned_at(w).is_ok())
            .count();
        if found < required {
            return Err(CheckpointError::NotEnoughWitnesses { required, found });
        }
        Ok(found)
    }

    /// The time `witness` cosigned this checkpoint at, if its cosignature is present and valid.
    pub fn cosigned_at(&self, witness: &NoteVerifier) -> Result<u64, NoteError> {
        let invalid = || NoteError::InvalidSignature {
            name: witness.name().to_owned(),
        };
        let signature =
            self.note
                .signature_by(witness)
                .ok_or_else(|| NoteError::MissingSignature {
                    name: witness.name().to_owned(),
                })?;
        let body = signature.body();
        if witness.kind() != TYPE_COSIGNATURE || body.len() != 8 + 64 {
            return Err(invalid());
        }
        let time = u64::from_be_bytes(body[..8].try_into().map_err(|_| invalid())?);
        witness
            .key()
            .verify(&cosigned_message(time, self.note.text()), &body[8..])
            .map_err(|_| invalid())?;
        Ok(time)
    }

    /// Adds a cosignature line (as a witness returned it).
    pub fn add_cosignature(&mut self, signature: NoteSignature) {
        self.note.add_signature(signature);
    }

    /// The note carrying only `signer`'s signature (what a witness is asked to cosign).
    pub fn with_only(&self, signer: &NoteVerifier) -> String {
        let mut note = self.note.text().to_owned();
        note.push('\n');
        if let Some(signature) = self.note.signature_by(signer) {
            note.push_str(&signature.to_string());
        }
        note
    }

    /// The signed note, as text.
    pub fn to_text(&self) -> String {
        self.note.to_string()
    }
}

/// The bytes a `cosignature/v1` signs.
pub fn cosigned_message(time: u64, checkpoint_text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{checkpoint_text}").into_bytes()
}

/// A witness's cosignature over `checkpoint_text` at `time` (Unix seconds).
pub fn cosign(
    witness: &NoteSigner,
    checkpoint_text: &str,
    time: u64,
) -> Result<NoteSignature, NoteError> {
    if witness.verifier().kind() != TYPE_COSIGNATURE {
        return Err(NoteError::MalformedKey {
            reason: "a cosigner's key has type 0x04",
        });
    }
    let payload = witness.sign_payload(
        &time.to_be_bytes(),
        &cosigned_message(time, checkpoint_text),
    )?;
    Ok(NoteSignature {
        name: witness.verifier().name().to_owned(),
        id: witness.verifier().id(),
        payload,
    })
}
