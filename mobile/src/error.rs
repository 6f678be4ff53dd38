//! The one exception the SDK throws: a variant per kind of failure, each with a stable `code`
//! and a message in Korean and English for the citizen.

use dojang_core::Lang;
use dojang_wallet::WalletError;

/// Why an SDK call failed. `code` is stable (apps branch on it; logs carry it); the messages
/// say what to do, never repeating what was presented.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DojangError {
    /// The wallet's secret is wrong; nothing was changed.
    #[error("{code}: {message_en}")]
    WrongSecret {
        /// `wrong_secret`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// No such wallet, credential or challenge.
    #[error("{code}: {message_en}")]
    NotFound {
        /// `no_wallet`, `unknown_credential`, `unknown_challenge`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// The issuer or verifier refused (e.g. `invalid_grant`: a wrong transaction code).
    #[error("{code}: {message_en}")]
    Refused {
        /// The other side's error code.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// The other side could not be reached.
    #[error("{code}: {message_en}")]
    Network {
        /// `network`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// What was given cannot be used: not an offer, not a QR code, no claim chosen, a bundle
    /// that does not verify.
    #[error("{code}: {message_en}")]
    InvalidInput {
        /// What is wrong: `not_an_offer`, `unreadable_qr`, `nothing_selected`,
        /// `bundle_invalid`, `already_exists`, …
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// The app's key vault failed or refused.
    #[error("{code}: {message_en}")]
    Vault {
        /// `vault`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// The wallet file is damaged or storage failed.
    #[error("{code}: {message_en}")]
    Storage {
        /// `corrupt`, `storage`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
    /// A failure of the SDK itself.
    #[error("{code}: {message_en}")]
    Internal {
        /// `internal`.
        code: String,
        /// In Korean.
        message_ko: String,
        /// In English.
        message_en: String,
    },
}

/// The fields of a variant: `code`, and `message` written `"<Korean> / <English>"`.
pub(crate) fn fields(code: &str, message: &str) -> (String, String, String) {
    (
        code.to_owned(),
        Lang::Ko.pick(message).to_owned(),
        Lang::En.pick(message).to_owned(),
    )
}

macro_rules! variant {
    ($variant:ident, $code:expr, $message:expr) => {{
        let (code, message_ko, message_en) = $crate::error::fields($code, $message);
        $crate::error::DojangError::$variant {
            code,
            message_ko,
            message_en,
        }
    }};
}
pub(crate) use variant;

impl DojangError {
    /// Bad input with its stable `code` and a `"<Korean> / <English>"` message.
    pub(crate) fn invalid(code: &str, message: &str) -> Self {
        variant!(InvalidInput, code, message)
    }

    /// A failure of ours; `detail` is for the developer (English), never the citizen's data.
    pub(crate) fn internal(detail: String) -> Self {
        DojangError::Internal {
            code: "internal".into(),
            message_ko: "SDK 내부 오류입니다".into(),
            message_en: detail,
        }
    }
}

impl From<WalletError> for DojangError {
    fn from(e: WalletError) -> Self {
        let plain = e.in_plain_words();
        match &e {
            WalletError::WrongSecret => variant!(
                WrongSecret,
                "wrong_secret",
                "지갑을 열 수 없습니다. 비밀번호가 다릅니다 / This secret does not open the wallet."
            ),
            WalletError::NotFound { .. } => variant!(
                NotFound,
                "no_wallet",
                "이 위치에 지갑이 없습니다 / There is no wallet here."
            ),
            WalletError::AlreadyExists { .. } => variant!(
                InvalidInput,
                "already_exists",
                "이 위치에 이미 지갑이 있습니다 / A wallet already exists here."
            ),
            WalletError::UnknownCredential { .. } => {
                variant!(NotFound, "unknown_credential", plain)
            }
            WalletError::Refused { code, .. } => variant!(Refused, code, plain),
            WalletError::Http(_) => variant!(Network, "network", plain),
            WalletError::Qr(_) => variant!(InvalidInput, "unreadable_qr", plain),
            WalletError::MissingFormat { .. } => variant!(InvalidInput, "missing_format", plain),
            WalletError::Credential(_) | WalletError::SdJwt(_) => {
                variant!(InvalidInput, "unreadable", plain)
            }
            WalletError::NotARequest { .. } => variant!(InvalidInput, "not_a_request", plain),
            WalletError::NoMatch { .. } => variant!(InvalidInput, "no_match", plain),
            WalletError::Protocol(_) => variant!(Refused, "protocol", plain),
            WalletError::Backup { .. } => variant!(
                InvalidInput,
                "backup",
                "백업 파일을 읽을 수 없거나 암호가 다릅니다 / The backup cannot be read, or its passphrase is wrong."
            ),
            WalletError::Key(_) | WalletError::Sign(_) => variant!(Vault, "vault", plain),
            WalletError::Corrupt { .. } | WalletError::Database(_) | WalletError::Io(_) => {
                variant!(
                    Storage,
                    "storage",
                    "지갑 파일을 읽거나 쓸 수 없습니다 / The wallet file cannot be read or written."
                )
            }
            _ => DojangError::internal(e.to_string()),
        }
    }
}
