//! The issuer service: hosted issuers, operators, offers, OpenID4VCI issuance, status changes
//! and their publication, and the audit trail.
//!
//! One file per story: `admin` (hosted issuers, operators and their tokens, the audit trail's
//! anchoring), `offers` (an offer's life, from creation to expiry), `oid4vci` (what a wallet
//! calls: metadata, the token and nonce endpoints, and the stateless access tokens and nonces
//! they hand out), `issuance` (the credential endpoint), `status` (status indices and lists,
//! their publication, revocation and suspension, and reconciliation with a registry that is
//! ahead), `find` (a clerk finding a citizen's credentials), and `error` (what each surface
//! refuses or fails with). This file holds the service, its configuration and the hosted
//! issuers' keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_lc_rs::{hkdf, hmac};
use dojang_core::b64;
use dojang_core::did::{Did, DidUrl};
use dojang_core::key::{Algorithm, PublicKey, SecretKey, Signer};
use dojang_core::multikey;
use dojang_core::seal::{KdfParams, PassphraseSealed, SealKey};
use dojang_core::status::{IndexAllocator, MIN_ENTRIES};
use dojang_pkcs11::Pkcs11Signer;
use dojang_schemas::Catalog;
use tokio::sync::{Mutex, RwLock};
use zeroize::Zeroizing;

use crate::db::{Db, IssuerRow, KeyDerivation, ListRow};
use crate::ledger::{LedgerError, LedgerView};

mod admin;
mod error;
mod find;
mod issuance;
mod offers;
mod oid4vci;
mod status;

pub use crate::db::MAX_TX_ATTEMPTS;
pub use admin::{NewIssuer, Operator, RotatedKey, create_issuer, create_operator};
pub use error::{AdminError, CredentialError, InternalError, TokenError};
pub use find::{CalendarDate, CredentialQuery, ListedCredential, Subject, SubjectError};
pub use offers::{CreatedOffer, NewOffer, OfferState};
pub use oid4vci::Format;
pub use status::{CredentialRecord, CredentialStatus, Reason, StatusAction};

/// What the service needs to run.
pub struct IssuerConfig {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The service's public base URL; issuer identifiers are `<public_url>/issuers/<slug>`.
    pub public_url: String,
    /// The registry.
    pub registry: LedgerView,
    /// Passphrase sealing issuer keys and secrets.
    pub passphrase: Zeroizing<String>,
    /// Argon2id parameters for sealing.
    pub kdf: KdfParams,
    /// Keep issued claim sets (sealed)? Off by default: revocation needs none of them.
    pub keep_claims: bool,
    /// How long an offer stays redeemable, seconds.
    pub offer_ttl: i64,
    /// Access token lifetime, seconds.
    pub token_ttl: i64,
    /// `c_nonce` lifetime, seconds.
    pub nonce_ttl: i64,
    /// Entries per status list (at least 131,072).
    pub list_capacity: usize,
}

impl IssuerConfig {
    /// Defaults: offers live 7 days, tokens 10 minutes, nonces 5 minutes; claims not kept.
    pub fn new(
        database_url: &str,
        public_url: &str,
        registry: LedgerView,
        passphrase: Zeroizing<String>,
    ) -> Self {
        IssuerConfig {
            database_url: database_url.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            registry,
            passphrase,
            kdf: KdfParams::DEFAULT,
            keep_claims: false,
            offer_ttl: 7 * 86_400,
            token_ttl: 600,
            nonce_ttl: 300,
            list_capacity: MIN_ENTRIES,
        }
    }
}

/// A hosted issuer, its keys unsealed.
struct Hosted {
    slug: String,
    name: String,
    did: Did,
    /// Its signing key, replaced whole by a rotation: whatever signs holds the read side, so no
    /// signature is made with a key while its rotation is being published.
    signing: RwLock<SigningKey>,
    pepper: [u8; 32],
    key_derivation: KeyDerivation,
    claims_key: SealKey,
    /// Authenticates the stateless access tokens and nonces this issuer hands out.
    mac_key: aws_lc_rs::hmac::Key,
    /// What its last `status.root` covered (see `IssuerService::commit_status_lists`).
    committed: Mutex<status::Committed>,
}

/// A hosted issuer's signing key: sealed in the database and opened here, or in an HSM.
struct SigningKey {
    /// Its verification method's DID URL (`<did>#key-N`): the `kid` of what it signs.
    url: DidUrl,
    /// The same, as text.
    kid: String,
    /// Its fragment (`key-1`), as the database records it.
    key_id: String,
    key: Box<dyn Signer>,
    /// The public keys signed with before, newest last: the status lists they signed, still
    /// the registry's latest until the next change, verify under them.
    retired: Vec<PublicKey>,
}

impl SigningKey {
    /// The issuer's current key as `row` stores it, unsealed with `passphrase` or opened on
    /// its token.
    fn open(row: &IssuerRow, did: &Did, passphrase: &[u8]) -> Result<Self, InternalError> {
        let key: Box<dyn Signer> = match &row.key_uri {
            Some(uri) => Box::new(Pkcs11Signer::open(&uri.parse()?)?),
            None => {
                let key_bytes = unseal(
                    &row.sealed_key,
                    &row.slug,
                    passphrase,
                    &format!("dojang-issuer-key:{}", row.slug),
                )?;
                Box::new(SecretKey::from_bytes(Algorithm::Es256, &key_bytes)?)
            }
        };
        let url = did.with_fragment(&row.key_id);
        Ok(SigningKey {
            kid: url.to_string(),
            url,
            key_id: row.key_id.clone(),
            key,
            retired: row
                .retired_keys
                .iter()
                .map(|k| multikey::decode(k))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Its public key and the retired ones: what the issuer's own status lists may be signed
    /// with.
    fn every_public_key(&self) -> Vec<PublicKey> {
        let mut keys = vec![self.key.public_key().clone()];
        keys.extend(self.retired.iter().rev().cloned());
        keys
    }
}

/// Opens `sealed` (JSON) with `passphrase` for `purpose`.
fn unseal(
    sealed: &str,
    slug: &str,
    passphrase: &[u8],
    purpose: &str,
) -> Result<Zeroizing<Vec<u8>>, InternalError> {
    let sealed: PassphraseSealed = serde_json::from_str(sealed)?;
    sealed
        .open(passphrase, purpose)
        .map_err(|source| InternalError::Unseal {
            slug: slug.to_owned(),
            source,
        })
}

impl Hosted {
    /// Unseals a stored issuer's key and data secret with the service's `passphrase`, and
    /// derives the keys the secret stands for.
    fn open(row: IssuerRow, passphrase: &[u8]) -> Result<Self, InternalError> {
        let did = Did::parse(&row.did)?;
        let signing = SigningKey::open(&row, &did, passphrase)?;
        let secret = unseal(
            &row.sealed_secret,
            &row.slug,
            passphrase,
            &format!("dojang-issuer-secret:{}", row.slug),
        )?;
        Ok(Hosted {
            slug: row.slug,
            name: row.name,
            did,
            signing: RwLock::new(signing),
            committed: Mutex::default(),
            pepper: derive(row.key_derivation, &secret, b"dojang-subject-ref\n")?,
            key_derivation: row.key_derivation,
            claims_key: SealKey::from_bytes(&derive(
                row.key_derivation,
                &secret,
                b"dojang-offer-claims\n",
            )?),
            mac_key: hmac::Key::new(
                hmac::HMAC_SHA256,
                &derive(row.key_derivation, &secret, b"dojang-oid4vci-tokens\n")?,
            ),
        })
    }

    /// The keyed hash an offer's `subject` is kept and searched as.
    fn subject_ref(&self, subject: &str) -> String {
        match self.key_derivation {
            KeyDerivation::HkdfSha256 => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, &self.pepper);
                b64::encode(hmac::sign(&key, subject.as_bytes()))
            }
            KeyDerivation::Sha256Label => {
                let mut input = self.pepper.to_vec();
                input.extend_from_slice(subject.as_bytes());
                b64::encode(sha256(&input))
            }
        }
    }
}

struct Inner {
    db: Db,
    config: IssuerConfig,
    catalog: &'static Catalog,
    issuers: BTreeMap<String, Hosted>,
    /// Per issuer: its status lists and the indices known to be used in each.
    allocators: Mutex<HashMap<String, Vec<(ListRow, IndexAllocator)>>>,
}

/// The issuer service (cheap to clone).
#[derive(Clone)]
pub struct IssuerService {
    inner: Arc<Inner>,
}

/// Fills `bytes` from the system's random generator.
fn fill_random(bytes: &mut [u8]) -> Result<(), InternalError> {
    aws_lc_rs::rand::fill(bytes).map_err(|_| InternalError::Random)
}

/// Random bytes, base64url.
fn random_token(len: usize) -> Result<String, InternalError> {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes)?;
    Ok(b64::encode(bytes))
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// The HKDF salt of issuers' purpose keys.
const HKDF_SALT: &[u8] = b"dojang-issuer-keys";

/// A key for one purpose (`label`) from an issuer's data secret, as `derivation` says: HKDF for
/// issuers created now; `SHA-256(label ‖ secret)` for older ones, whose stored subject
/// references and sealed claims were made with it. The labels are distinct and end in a
/// newline, so no label is a prefix of another; the known-answer tests below pin both.
fn derive(
    derivation: KeyDerivation,
    secret: &[u8],
    label: &[u8],
) -> Result<[u8; 32], InternalError> {
    let mut out = [0u8; 32];
    match derivation {
        KeyDerivation::HkdfSha256 => hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT)
            .extract(secret)
            .expand(&[label], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .map_err(|_| InternalError::KeyDerivation)?,
        KeyDerivation::Sha256Label => {
            let mut input = Vec::with_capacity(label.len() + secret.len());
            input.extend_from_slice(label);
            input.extend_from_slice(secret);
            out.copy_from_slice(&sha256(&input));
        }
    }
    Ok(out)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl IssuerService {
    /// Opens the database and unseals every hosted issuer's keys.
    pub async fn open(config: IssuerConfig) -> Result<Self, AdminError> {
        let db = Db::open(&config.database_url).await?;
        let mut issuers = BTreeMap::new();
        for row in db.issuers().await? {
            let hosted = Hosted::open(row, config.passphrase.as_bytes())?;
            issuers.insert(hosted.slug.clone(), hosted);
        }
        Ok(IssuerService {
            inner: Arc::new(Inner {
                db,
                config,
                catalog: Catalog::builtin(),
                issuers,
                allocators: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The registry, as this service reaches it.
    pub fn registry(&self) -> &LedgerView {
        &self.inner.config.registry
    }

    /// Hosted issuers: (slug, name, DID).
    pub fn issuers(&self) -> Vec<(String, String, Did)> {
        self.inner
            .issuers
            .values()
            .map(|h| (h.slug.clone(), h.name.clone(), h.did.clone()))
            .collect()
    }

    fn hosted(&self, slug: &str) -> Result<&Hosted, AdminError> {
        self.inner.issuers.get(slug).ok_or(AdminError::NotFound)
    }

    /// The credential issuer identifier of `slug`.
    pub fn issuer_id(&self, slug: &str) -> String {
        format!("{}/issuers/{slug}", self.inner.config.public_url)
    }

    /// Whether `slug` is accredited for `type_id` on the registry right now.
    async fn accredited(&self, hosted: &Hosted, type_id: &str) -> Result<bool, LedgerError> {
        Ok(self
            .registry()
            .accredited_types(&hosted.did)
            .await?
            .iter()
            .any(|t| t == type_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_the_ones_stored_data_was_made_with() {
        // Computed with the derivation as it was first written (SHA-256 over label, then
        // secret); sealed claims and subject references in existing databases depend on them.
        let secret: Vec<u8> = (0u8..32).collect();
        for (label, expected) in [
            (
                &b"dojang-subject-ref\n"[..],
                "HxaOQ4SLGfQu4jueLFIqdSHJddUL4WCXRvGiqxAALtk",
            ),
            (
                &b"dojang-offer-claims\n"[..],
                "i3TdJl_3eZEdB_i0VpeQ_byruNvLI1-4yvDq77E5zWE",
            ),
            (
                &b"dojang-oid4vci-tokens\n"[..],
                "g5roEGcM8_3OS8hCgkFlow3tUR4NU0rhHAdfRrs9e7A",
            ),
        ] {
            let derived = derive(KeyDerivation::Sha256Label, &secret, label).unwrap();
            assert_eq!(b64::encode(derived), expected);
        }
    }

    #[test]
    fn new_issuers_derive_their_keys_with_hkdf() {
        // RFC 5869 with SHA-256, salt `dojang-issuer-keys`, the label as info: computed with
        // Python's hmac module, independently of aws-lc-rs.
        let secret: Vec<u8> = (0u8..32).collect();
        for (label, expected) in [
            (
                &b"dojang-subject-ref\n"[..],
                "U_gtWkJhYNsWdBed5dUPkZER62vDUbOtSKhPn9wDNZA",
            ),
            (
                &b"dojang-offer-claims\n"[..],
                "gxBUc921LQDhegiIR6qsv_VXcqnPpznr4-_lWwV4oH0",
            ),
            (
                &b"dojang-oid4vci-tokens\n"[..],
                "NXiOkj3Ll5nbuQrnM9aDREv-bjtPWE6zwO-3LZgVwTE",
            ),
        ] {
            let derived = derive(KeyDerivation::HkdfSha256, &secret, label).unwrap();
            assert_eq!(b64::encode(derived), expected);
        }
    }
}
