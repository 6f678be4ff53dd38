//! C2SP `tlog-witness`: the witness that other agencies run (`dojang registry witness`). The
//! registry's side, which offers checkpoints and collects cosignatures, is `cosign`.
//!
//! A witness keeps, per log, the last checkpoint it cosigned. It cosigns a new checkpoint only
//! if the log signed it and a consistency proof shows it extends the one it holds; the check
//! and the update of its record are one atomic step, so no interleaving of requests can make it
//! cosign two histories. A log that shows different trees to different people therefore cannot
//! get both cosigned.
//!
//! ```text
//! POST /add-checkpoint
//! old <size>\n
//! <base64 consistency proof hash>\n …
//! \n
//! <signed checkpoint note>
//! ```
//!
//! 200 → cosignature line(s); 400 malformed; 403 not signed by the log; 404 unknown log;
//! 409 `old` is not the size the witness holds (body: that size, `text/x.tlog.size`), or same
//! size with another root; 422 consistency proof fails.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::key::Signer;

use crate::store::{Store, StoreError};
use dojang_ledger::bundle::decode_hashes;
use dojang_ledger::checkpoint::{SignedCheckpoint, cosign};
use dojang_ledger::merkle::{self, Hash};
use dojang_ledger::note::{Note, NoteError, NoteSigner, NoteVerifier, TYPE_COSIGNATURE};

/// Most proof lines accepted (C2SP: at most 63).
const MAX_PROOF: usize = 63;

/// Why a witness refused to cosign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The request is malformed, or `old` is larger than the checkpoint.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The checkpoint's origin is not a log this witness follows.
    #[error("this witness follows no log of that origin")]
    UnknownLog(String),
    /// The checkpoint is not validly signed by the log.
    #[error("checkpoint is not signed by the log: {0}")]
    BadSignature(NoteError),
    /// `old` is not the size this witness last cosigned.
    #[error("witness holds size {0}")]
    SizeConflict(u64),
    /// Same size as held, different root: the log forked.
    #[error("same size, different root: refusing a fork")]
    RootConflict,
    /// The consistency proof does not verify: refusing a fork or rewrite.
    #[error("consistency proof does not verify: refusing a fork")]
    BadProof,
    /// Storage failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for WitnessError {
    fn into_response(self) -> Response {
        let status = match &self {
            WitnessError::Malformed(_) => StatusCode::BAD_REQUEST,
            WitnessError::UnknownLog(_) => StatusCode::NOT_FOUND,
            WitnessError::BadSignature(_) => StatusCode::FORBIDDEN,
            WitnessError::SizeConflict(_) | WitnessError::RootConflict => StatusCode::CONFLICT,
            WitnessError::BadProof => StatusCode::UNPROCESSABLE_ENTITY,
            WitnessError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let WitnessError::SizeConflict(size) = self {
            return (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/x.tlog.size"),
                )],
                format!("{size}\n"),
            )
                .into_response();
        }
        (status, format!("{self}\n")).into_response()
    }
}

/// A witness: its cosigning key, the logs it follows, and its record of what it cosigned.
pub struct Witness {
    store: Store,
    signer: NoteSigner,
    logs: HashMap<String, NoteVerifier>,
}

impl Witness {
    /// A witness named `name` with `key` (sealed, or on an HSM), following the logs whose checkpoint keys are `logs`
    /// (a log's origin is its key name).
    pub async fn open(
        database_url: &str,
        name: &str,
        key: impl Signer + 'static,
        logs: Vec<NoteVerifier>,
    ) -> Result<Self, WitnessError> {
        let signer = NoteSigner::new(name, TYPE_COSIGNATURE, key)
            .map_err(|e| WitnessError::Malformed(e.to_string()))?;
        Ok(Witness {
            store: Store::open(database_url).await?,
            signer,
            logs: logs.into_iter().map(|k| (k.name().to_owned(), k)).collect(),
        })
    }

    /// The witness's cosigning verifier key.
    pub fn verifier(&self) -> &NoteVerifier {
        self.signer.verifier()
    }

    /// Handles an `add-checkpoint` request body; returns the cosignature line.
    pub async fn add_checkpoint(&self, body: &str, now: u64) -> Result<String, WitnessError> {
        let bad = |m: &str| WitnessError::Malformed(m.to_owned());
        let (first, rest) = body
            .split_once('\n')
            .ok_or_else(|| bad("missing `old` line"))?;
        let old_text = first
            .strip_prefix("old ")
            .ok_or_else(|| bad("first line is not `old <size>`"))?;
        let old: u64 = old_text
            .parse()
            .map_err(|_| bad("old size is not decimal"))?;
        if old_text != old.to_string() {
            return Err(bad("old size has leading zeros"));
        }
        // Proof lines up to the first empty line; the rest is the note.
        let mut proof_lines = Vec::new();
        let mut note_text = rest;
        loop {
            let (line, tail) = note_text
                .split_once('\n')
                .ok_or_else(|| bad("missing blank line after the proof"))?;
            note_text = tail;
            if line.is_empty() {
                break;
            }
            if proof_lines.len() == MAX_PROOF {
                return Err(bad("proof too long"));
            }
            proof_lines.push(line.to_owned());
        }
        let proof = decode_hashes(&proof_lines).map_err(|m| bad(&m))?;
        let note = Note::parse(note_text).map_err(|e| bad(&e.to_string()))?;
        let origin = note
            .text()
            .split('\n')
            .next()
            .unwrap_or_default()
            .to_owned();
        let log = self
            .logs
            .get(&origin)
            .ok_or_else(|| WitnessError::UnknownLog(origin.clone()))?;
        let signed = SignedCheckpoint::verify(note_text, &origin, log).map_err(|e| match e {
            dojang_ledger::checkpoint::CheckpointError::Note(e) => WitnessError::BadSignature(e),
            other => WitnessError::Malformed(other.to_string()),
        })?;
        let checkpoint = &signed.checkpoint;
        if old > checkpoint.size {
            return Err(bad("old size is larger than the checkpoint"));
        }
        let (held_size, held_root) = self
            .store
            .witness_state(&origin)
            .await?
            .unwrap_or((0, [0; 32]));
        if old != held_size {
            return Err(WitnessError::SizeConflict(held_size));
        }
        if old == checkpoint.size {
            if old > 0 && held_root != checkpoint.root {
                return Err(WitnessError::RootConflict);
            }
        } else {
            merkle::verify_consistency(old, checkpoint.size, &held_root, &checkpoint.root, &proof)
                .map_err(|_| WitnessError::BadProof)?;
        }
        if !self
            .store
            .advance_witness(&origin, old, checkpoint.size, &checkpoint.root, now as i64)
            .await?
        {
            let (size, _) = self
                .store
                .witness_state(&origin)
                .await?
                .unwrap_or((0, [0; 32]));
            return Err(WitnessError::SizeConflict(size));
        }
        let line = cosign(&self.signer, note.text(), now)
            .map_err(|e| WitnessError::Malformed(e.to_string()))?;
        Ok(line.to_string())
    }

    /// What the witness last cosigned for `origin`: size and root.
    pub async fn held(&self, origin: &str) -> Result<Option<(u64, Hash)>, WitnessError> {
        Ok(self.store.witness_state(origin).await?)
    }
}

/// The witness's HTTP API.
pub fn app(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness)
}

async fn add_checkpoint(
    State(witness): State<Arc<Witness>>,
    body: String,
) -> Result<String, WitnessError> {
    let now = dojang_core::clock::unix_now_ms() / 1000;
    witness.add_checkpoint(&body, now).await
}

/// The request body asking a witness holding `old` to cosign `checkpoint`.
pub fn request_body(old: u64, proof: &[Hash], checkpoint_note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(checkpoint_note);
    body
}
