//! The citizen's wallet on a phone: `dojang-wallet` behind records every language can carry.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use dojang_core::clock::unix_now;
use dojang_core::compact::{self, ChallengeRequest};
use dojang_core::key::Algorithm;
use dojang_core::seal::KdfParams;
use dojang_schemas::{Catalog, CredentialType};
use dojang_wallet::receive::{self, ReceiveOptions};
use dojang_wallet::{PresentationMode, StoredCredential, Wallet, openid4vp};
use tokio::sync::RwLock;

use crate::display::{self, ClaimView};
use crate::error::DojangError;
use crate::on_runtime;
use crate::vault::{AppVault, KeyVault};

/// How long a time-window QR presentation is accepted by a verifier (seconds).
const TIME_WINDOW_SECS: i64 = 60;

/// A citizen's wallet: one encrypted SQLite file.
#[derive(uniffi::Object)]
pub struct DojangWallet {
    wallet: RwLock<Wallet>,
    http: reqwest::Client,
}

/// Creates a wallet file at `path`, sealed under `secret` (the app's secret, e.g. from the
/// platform keystore); holder keys are made in `vault` when given, else sealed in the file.
#[uniffi::export]
pub async fn create_wallet(
    path: String,
    secret: Vec<u8>,
    vault: Option<Arc<dyn KeyVault>>,
) -> Result<Arc<DojangWallet>, DojangError> {
    on_runtime(async move {
        let wallet = Wallet::create(&PathBuf::from(path), &secret, KdfParams::DEFAULT).await?;
        Ok(DojangWallet::new(wallet, vault))
    })
    .await
}

/// Opens the wallet file at `path` with `secret`, and the `vault` its keys were made in.
#[uniffi::export]
pub async fn open_wallet(
    path: String,
    secret: Vec<u8>,
    vault: Option<Arc<dyn KeyVault>>,
) -> Result<Arc<DojangWallet>, DojangError> {
    on_runtime(async move {
        let wallet = Wallet::open(&PathBuf::from(path), &secret).await?;
        Ok(DojangWallet::new(wallet, vault))
    })
    .await
}

/// A credential as the app lists and shows it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CredentialRecord {
    /// The wallet's id for it.
    pub id: String,
    /// The type's id (`citizen-card`), when the SDK knows the type.
    pub type_id: Option<String>,
    /// The type's name in Korean.
    pub type_name_ko: String,
    /// The type's name in English.
    pub type_name_en: String,
    /// The issuer's name in Korean.
    pub issuer_ko: String,
    /// The issuer's name in English.
    pub issuer_en: String,
    /// The issuer's DID.
    pub issuer_did: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
    /// When it expires (Unix seconds), if it does.
    pub expires_at: Option<i64>,
    /// The status as last known: `valid`, `revoked`, `suspended`; `None` if never checked.
    pub status: Option<String>,
    /// When that status was fetched (Unix seconds).
    pub status_checked_at: Option<i64>,
    /// Every claim as a labelled row.
    pub claims: Vec<ClaimView>,
}

/// A QR presentation to show at a counter.
#[derive(Debug, Clone, uniffi::Record)]
pub struct QrPresentation {
    /// The QR code's text (`DJ1:…`).
    pub text: String,
    /// The QR code as a PNG.
    pub png: Vec<u8>,
    /// Until when a verifier accepts it (time-window mode; `None` when answering a challenge).
    pub expires_at: Option<i64>,
    /// The claims it discloses, labelled.
    pub claims: Vec<ClaimView>,
}

/// What answering an OpenID4VP request would disclose, and to whom.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DisclosurePreview {
    /// The verifier (its `client_id`).
    pub verifier: String,
    /// Where the answer goes.
    pub response_uri: String,
    /// For each credential asked for: the wallet's credential and the claims it would disclose.
    pub credentials: Vec<PreviewItem>,
}

/// One credential an OpenID4VP answer would present.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PreviewItem {
    /// The wallet's credential id.
    pub credential_id: String,
    /// The type's name in Korean.
    pub type_name_ko: String,
    /// The type's name in English.
    pub type_name_en: String,
    /// The claims it would disclose (JSON Pointers, `/address/locality`).
    pub claims: Vec<String>,
    /// Their labels in Korean.
    pub labels_ko: Vec<String>,
    /// Their labels in English.
    pub labels_en: Vec<String>,
}

/// One presentation made.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HistoryRecord {
    /// The credential shown.
    pub credential_id: String,
    /// When (Unix seconds).
    pub at: i64,
    /// How: `qr_time_window`, `qr_challenge`, `openid4vp`.
    pub mode: String,
    /// To whom, when known (a challenge's or request's audience).
    pub audience: Option<String>,
    /// The claims disclosed.
    pub disclosed: Vec<String>,
}

impl DojangWallet {
    fn new(wallet: Wallet, vault: Option<Arc<dyn KeyVault>>) -> Arc<Self> {
        let wallet = match vault {
            Some(vault) => wallet.with_vault(Arc::new(AppVault(vault))),
            None => wallet,
        };
        Arc::new(DojangWallet {
            wallet: RwLock::new(wallet),
            http: reqwest::Client::new(),
        })
    }

    /// Runs `work` with the wallet on the SDK's runtime.
    async fn with<T, F, Fut>(self: &Arc<Self>, work: F) -> Result<T, DojangError>
    where
        F: FnOnce(Arc<Self>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DojangError>> + Send + 'static,
        T: Send + 'static,
    {
        on_runtime(work(self.clone())).await
    }
}

#[uniffi::export]
impl DojangWallet {
    /// Receives a credential from an issuing office: `offer` is what the office's QR code
    /// says (`openid-credential-offer://…`, as a native scanner read it), `tx_code` the code
    /// the office gave separately. Both formats are stored, bound to a new key from the vault.
    pub async fn receive(
        self: Arc<Self>,
        offer: String,
        tx_code: Option<String>,
    ) -> Result<CredentialRecord, DojangError> {
        self.with(move |this| async move {
            let offer = receive::offer_from_text(&this.http, &offer)
                .await
                .map_err(|_| {
                    DojangError::invalid(
                        "not_an_offer",
                        "자격증명 제안이 아닙니다. 발급 창구의 QR 코드를 찍으세요 / This is not a \
                         credential offer. Scan the QR code the issuing office shows.",
                    )
                })?;
            let wallet = this.wallet.read().await;
            let options = ReceiveOptions {
                tx_code: tx_code.as_deref().filter(|c| !c.is_empty()),
                alg: Algorithm::Es256,
                now: unix_now(),
            };
            let stored = receive::receive(&wallet, &this.http, &offer, options).await?;
            record(&stored)
        })
        .await
    }

    /// Reads the office's QR code from a photo (PNG or JPEG) and receives it.
    pub async fn receive_from_image(
        self: Arc<Self>,
        image: Vec<u8>,
        tx_code: Option<String>,
    ) -> Result<CredentialRecord, DojangError> {
        let text = dojang_core::qr::read_image(&image)
            .map_err(|e| DojangError::from(dojang_wallet::WalletError::from(e)))?;
        self.receive(text, tx_code).await
    }

    /// Every credential, newest first.
    pub async fn list(self: Arc<Self>) -> Result<Vec<CredentialRecord>, DojangError> {
        self.with(|this| async move {
            let wallet = this.wallet.read().await;
            let mut all: Vec<CredentialRecord> = wallet
                .credentials()
                .await?
                .iter()
                .map(record)
                .collect::<Result<_, _>>()?;
            all.sort_by_key(|c| std::cmp::Reverse(c.received_at));
            Ok(all)
        })
        .await
    }

    /// One credential.
    pub async fn show(self: Arc<Self>, id: String) -> Result<CredentialRecord, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            record(&wallet.credential(&id).await?)
        })
        .await
    }

    /// A time-window QR presentation of `claims` (top-level claim names, at least one): valid
    /// for about a minute; show a new one each time.
    pub async fn present_qr(
        self: Arc<Self>,
        id: String,
        claims: Vec<String>,
    ) -> Result<QrPresentation, DojangError> {
        self.with(move |this| async move { this.qr(&id, &claims, None).await })
            .await
    }

    /// The answer to a counter's challenge QR code (`challenge`: its text, `DJC1:…`),
    /// disclosing `claims`. It is accepted once, by that counter.
    pub async fn answer_challenge(
        self: Arc<Self>,
        id: String,
        claims: Vec<String>,
        challenge: String,
    ) -> Result<QrPresentation, DojangError> {
        self.with(move |this| async move {
            let challenge = ChallengeRequest::from_qr_text(challenge.trim()).map_err(|_| {
                DojangError::invalid(
                    "not_a_challenge",
                    "검증 창구의 요청 QR 코드가 아닙니다 / This is not a counter's challenge QR \
                     code.",
                )
            })?;
            this.qr(&id, &claims, Some(&challenge)).await
        })
        .await
    }

    /// What answering the OpenID4VP `request` (`openid4vp://…`) would disclose, and to whom:
    /// show it to the citizen before [`answer_openid4vp`](Self::answer_openid4vp).
    pub async fn preview_openid4vp(
        self: Arc<Self>,
        request: String,
    ) -> Result<DisclosurePreview, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            let (request, found) = matches(&wallet, &request).await?;
            let mut credentials = Vec::new();
            for m in found {
                let stored = wallet.credential(&m.credential_id).await?;
                let ty = Catalog::builtin().by_vct(&stored.vct).ok();
                let (type_name_ko, type_name_en) = type_names(ty, &m.name);
                let claims = m.claim_pointers();
                let (labels_ko, labels_en) = claims
                    .iter()
                    .map(|pointer| display::labels(ty, pointer))
                    .unzip();
                credentials.push(PreviewItem {
                    credential_id: m.credential_id,
                    type_name_ko,
                    type_name_en,
                    claims,
                    labels_ko,
                    labels_en,
                });
            }
            Ok(DisclosurePreview {
                verifier: request.client_id,
                response_uri: request.response_uri,
                credentials,
            })
        })
        .await
    }

    /// Answers the OpenID4VP `request` with what [`preview_openid4vp`](Self::preview_openid4vp)
    /// showed.
    pub async fn answer_openid4vp(self: Arc<Self>, request: String) -> Result<(), DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            let (request, found) = matches(&wallet, &request).await?;
            openid4vp::respond(&wallet, &this.http, &request, &found, unix_now()).await?;
            Ok(())
        })
        .await
    }

    /// Fetches the credential's status list from its issuer's registry: `valid`, `revoked` or
    /// `suspended`.
    pub async fn refresh_status(self: Arc<Self>, id: String) -> Result<String, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            let snapshot = receive::refresh_status(&wallet, &this.http, &id, unix_now()).await?;
            Ok(snapshot.status)
        })
        .await
    }

    /// What was shown, newest first: of one credential, or of all.
    pub async fn history(
        self: Arc<Self>,
        id: Option<String>,
    ) -> Result<Vec<HistoryRecord>, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            Ok(wallet
                .history(id.as_deref())
                .await?
                .into_iter()
                .map(|entry| {
                    let (mode, audience) = match entry.presentation {
                        PresentationMode::QrTimeWindow => ("qr_time_window", None),
                        PresentationMode::QrChallenge { audience } => {
                            ("qr_challenge", Some(audience))
                        }
                        PresentationMode::OpenId4Vp { client_id } => ("openid4vp", Some(client_id)),
                    };
                    HistoryRecord {
                        credential_id: entry.credential_id,
                        at: entry.at,
                        mode: mode.to_owned(),
                        audience,
                        disclosed: entry.disclosed,
                    }
                })
                .collect())
        })
        .await
    }

    /// Deletes a credential (and its key, unless another credential shares it). `false` if
    /// there was none.
    pub async fn delete(self: Arc<Self>, id: String) -> Result<bool, DojangError> {
        self.with(move |this| async move { Ok(this.wallet.read().await.delete(&id).await?) })
            .await
    }

    /// The whole wallet, encrypted under `passphrase`, to keep elsewhere.
    pub async fn export_backup(
        self: Arc<Self>,
        passphrase: Vec<u8>,
    ) -> Result<Vec<u8>, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            Ok(wallet
                .export_backup(&passphrase, KdfParams::DEFAULT)
                .await?)
        })
        .await
    }

    /// Restores a backup made by [`export_backup`](Self::export_backup): the credentials it
    /// holds that this wallet does not. Returns how many were added.
    pub async fn import_backup(
        self: Arc<Self>,
        backup: Vec<u8>,
        passphrase: Vec<u8>,
    ) -> Result<u32, DojangError> {
        self.with(move |this| async move {
            let wallet = this.wallet.read().await;
            let added = wallet.import_backup(&backup, &passphrase).await?;
            Ok(u32::try_from(added).unwrap_or(u32::MAX))
        })
        .await
    }

    /// Reseals the wallet under `new_secret`; the old one no longer opens it.
    pub async fn change_secret(self: Arc<Self>, new_secret: Vec<u8>) -> Result<(), DojangError> {
        self.with(move |this| async move {
            let mut wallet = this.wallet.write().await;
            Ok(wallet
                .change_secret(&new_secret, KdfParams::DEFAULT)
                .await?)
        })
        .await
    }
}

impl DojangWallet {
    async fn qr(
        &self,
        id: &str,
        claims: &[String],
        challenge: Option<&ChallengeRequest>,
    ) -> Result<QrPresentation, DojangError> {
        if claims.is_empty() {
            return Err(DojangError::invalid(
                "nothing_selected",
                "보여줄 항목을 하나 이상 고르세요 / Choose at least one item to show.",
            ));
        }
        let wallet = self.wallet.read().await;
        let disclose: Vec<&str> = claims.iter().map(String::as_str).collect();
        let now = unix_now();
        let bytes = wallet.present_qr(id, &disclose, challenge, now).await?;
        let text = compact::to_qr_text(&bytes);
        let png = dojang_core::qr::to_png(&text)
            .map_err(|e| DojangError::from(dojang_wallet::WalletError::from(e)))?;
        let shown = record(&wallet.credential(id).await?)?;
        Ok(QrPresentation {
            text,
            png,
            expires_at: challenge.is_none().then_some(now + TIME_WINDOW_SECS),
            claims: shown
                .claims
                .into_iter()
                .filter(|c| c.path.first().is_some_and(|top| claims.contains(top)))
                .collect(),
        })
    }
}

/// Reads an OpenID4VP request and finds the credentials that answer it.
async fn matches(
    wallet: &Wallet,
    text: &str,
) -> Result<
    (
        dojang_core::oid4vp::AuthorizationRequest,
        Vec<openid4vp::Match>,
    ),
    DojangError,
> {
    let request = openid4vp::request_from_text(text)?;
    let found = openid4vp::matches(wallet, &request).await?;
    Ok((request, found))
}

/// The type's names, from the SDK's catalog, else from what the issuer called it.
fn type_names(ty: Option<&CredentialType>, fallback: &str) -> (String, String) {
    match ty {
        Some(ty) => (
            ty.name_in(dojang_core::Lang::Ko).to_owned(),
            ty.name_in(dojang_core::Lang::En).to_owned(),
        ),
        None => display::both(fallback),
    }
}

fn record(stored: &StoredCredential) -> Result<CredentialRecord, DojangError> {
    let summary = stored.summary();
    let ty = Catalog::builtin().by_vct(&stored.vct).ok();
    let (claims, _) = stored.claims()?;
    let (type_name_ko, type_name_en) = type_names(ty, &summary.name);
    let (issuer_ko, issuer_en) = display::both(&summary.issuer);
    Ok(CredentialRecord {
        id: stored.id.clone(),
        type_id: ty.map(|t| t.id().to_owned()),
        type_name_ko,
        type_name_en,
        issuer_ko,
        issuer_en,
        issuer_did: stored.issuer.clone(),
        received_at: stored.received_at,
        expires_at: stored.valid_until(),
        status: stored.status.as_ref().map(|s| s.status.clone()),
        status_checked_at: stored.status.as_ref().map(|s| s.fetched_at),
        claims: ty.map_or_else(Vec::new, |ty| display::rows(ty, &claims, &ty.choosable())),
    })
}
