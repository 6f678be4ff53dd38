//! `dojang-wallet`: the holder's library a mobile wallet embeds, and `dojang wallet` uses.
//!
//! - [`Wallet`]: the encrypted store. One SQLite file; every key, credential and history entry is
//!   sealed (XChaCha20-Poly1305) under a key derived with Argon2id from the app's secret, and
//!   bound to its table and row, so rows cannot be swapped. A wrong secret and a damaged file
//!   are different, clear errors; every change is one SQLite transaction, so an interrupted
//!   write loses nothing that was stored before.
//! - Holder keys: ES256 or EdDSA, one per credential by default (two credentials cannot be
//!   linked by their keys), identified as `did:jwk`. A [`KeyVault`] can hold them instead — a
//!   phone's secure element — with the wallet keeping only a handle.
//! - [`receive`]: an OpenID4VCI client for the pre-authorized code flow (offer as URI or QR
//!   image, transaction code, key proof), storing every format on offer: the SD-JWT VC and the
//!   compact QR credential.
//! - [`Wallet::present_qr`]: the offline QR presentation (`docs/qr-profile.md`) of the claims
//!   the citizen chose, in time-window or challenge mode, as base45 text, PNG, SVG or terminal
//!   art ([`qr`], from `dojang-core`).
//! - [`openid4vp`]: answering a verifier's OpenID4VP request (DCQL) with an SD-JWT VC
//!   presentation and key binding.
//! - [`Wallet::export_backup`] / [`Wallet::import_backup`]: an encrypted backup file for
//!   another device, under its own passphrase.
//!
//! The library depends on `dojang-core` and no dojang server: it speaks the open protocols to
//! any issuer and verifier.
#![forbid(unsafe_code)]

mod backup;
mod keys;
pub mod openid4vp;
pub mod receive;
mod store;

pub use dojang_core::qr;
pub use keys::{HolderKeyRef, KeyVault};
pub use store::{
    CredentialSummary, HistoryEntry, PresentationMode, StatusSnapshot, StoredCredential, Wallet,
};

use dojang_core::seal::SealError;

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The secret does not open this wallet. Nothing was changed.
    #[error("wrong secret: this wallet cannot be opened with it (nothing was changed)")]
    WrongSecret,
    /// There is no wallet at the path.
    #[error("no wallet at {path}: create one first (`dojang wallet init`)")]
    NotFound {
        /// The path.
        path: String,
    },
    /// A wallet already exists at the path.
    #[error("a wallet already exists at {path}")]
    AlreadyExists {
        /// The path.
        path: String,
    },
    /// The file is not a wallet, or it is damaged.
    #[error("the wallet file is damaged or not a wallet: {reason}")]
    Corrupt {
        /// What is wrong.
        reason: String,
    },
    /// No credential (or key) with this id.
    #[error("no credential `{id}` in this wallet")]
    UnknownCredential {
        /// The id.
        id: String,
    },
    /// The credential has no form the operation needs (e.g. no compact credential for a QR).
    #[error("credential `{id}` has no {format} form")]
    MissingFormat {
        /// The credential.
        id: String,
        /// The format wanted.
        format: &'static str,
    },
    /// A backup file could not be read.
    #[error("backup: {reason}")]
    Backup {
        /// What is wrong.
        reason: String,
    },
    /// The issuer refused with an OAuth error code (`invalid_grant`, `invalid_proof`, …).
    #[error("{url} refused: {code}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// Who refused.
        url: String,
        /// The OAuth / OpenID4VCI error code.
        code: String,
        /// Its `error_description`, if any.
        description: Option<String>,
    },
    /// The text is not an OpenID4VP request (`openid4vp://…`).
    #[error("not an OpenID4VP request: {reason}")]
    NotARequest {
        /// Why it cannot be read.
        reason: String,
    },
    /// No credential in the wallet answers one of the verifier's queries.
    #[error("no credential in this wallet answers the verifier's query `{query}`")]
    NoMatch {
        /// The query's id.
        query: String,
    },
    /// The issuer or verifier refused, or answered something unusable.
    #[error("{0}")]
    Protocol(String),
    /// A credential operation failed.
    #[error(transparent)]
    Credential(#[from] dojang_core::compact::CompactError),
    /// An SD-JWT operation failed.
    #[error(transparent)]
    SdJwt(#[from] dojang_core::sd_jwt::SdJwtError),
    /// A key operation failed.
    #[error(transparent)]
    Key(#[from] dojang_core::key::KeyError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] dojang_core::key::SignError),
    /// HTTP failed.
    #[error("network: {0}")]
    Http(#[from] reqwest::Error),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A QR code could not be drawn or read.
    #[error(transparent)]
    Qr(#[from] dojang_core::qr::QrError),
}

impl WalletError {
    /// What went wrong in plain words for the citizen (`"<Korean> / <English>"`): what to do,
    /// not the protocol's vocabulary. The `Display` text keeps the detail for logs.
    pub fn in_plain_words(&self) -> &'static str {
        match self {
            WalletError::Refused { code, .. } => match code.as_str() {
                "invalid_grant" => {
                    "거래 코드가 틀렸거나, 제안이 만료되었거나 이미 사용되었습니다. 창구에서 받은 \
                     6자리 코드를 확인하고, 안 되면 새 QR 코드를 요청하세요 / The transaction code \
                     is wrong, or the offer has expired or was already used. Check the 6-digit code \
                     the office gave you; if it still fails, ask for a new QR code."
                }
                "invalid_proof" | "invalid_nonce" => {
                    "휴대전화의 키 증명이 받아들여지지 않았습니다. 다시 시도하세요 / The issuer did \
                     not accept this phone's key proof. Try again."
                }
                _ => {
                    "발급 기관이 요청을 거절했습니다. 창구에 문의하세요 / The issuing office refused \
                     the request. Ask at the counter."
                }
            },
            WalletError::Http(_) => {
                "상대 서버에 연결할 수 없습니다. 네트워크를 확인하세요 / Cannot reach the other \
                 server. Check the network."
            }
            WalletError::NotARequest { .. } => {
                "검증자의 요청(openid4vp://…)이 아닙니다 / This is not a verifier's request \
                 (openid4vp://…)."
            }
            WalletError::NoMatch { .. } => {
                "이 지갑에는 검증자가 요청한 자격증명이 없습니다 / This wallet holds no credential \
                 the verifier asks for."
            }
            WalletError::UnknownCredential { .. } => {
                "이 지갑에 없는 자격증명입니다 / This credential is not in this wallet."
            }
            WalletError::MissingFormat { .. } => {
                "이 자격증명은 이 방식으로 보여줄 수 없습니다 / This credential cannot be shown \
                 this way."
            }
            WalletError::Qr(_) => {
                "QR 코드를 읽을 수 없습니다. 더 밝은 곳에서 다시 찍어 보세요 / The QR code cannot \
                 be read. Try again in better light."
            }
            WalletError::Credential(_) | WalletError::SdJwt(_) => {
                "자격증명이나 요청을 읽을 수 없습니다 / The credential or request cannot be read."
            }
            WalletError::Protocol(_) => {
                "상대가 알아들을 수 없는 답을 했거나 요청을 처리할 수 없습니다 / The other side's \
                 answer or request could not be used."
            }
            _ => {
                "지갑에서 오류가 났습니다. 다시 시도하세요 / Something went wrong in the wallet. Try again."
            }
        }
    }
}

impl From<SealError> for WalletError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::WrongKeyOrCorrupted => WalletError::Corrupt {
                reason: "a record does not decrypt: it was altered".into(),
            },
            other => WalletError::Corrupt {
                reason: other.to_string(),
            },
        }
    }
}
