//! The issuer's own administration: hosted issuers (a key, a `did:dojang` registered on the
//! registry, a sealed data secret), operators and their bearer tokens, and the anchoring of
//! the audit trail in the registry.

use std::collections::BTreeMap;

use dojang_core::did::{Did, DidDocument, Relationship};
use dojang_core::key::{Algorithm, PublicKey, SecretKey, Signer};
use dojang_core::multikey;
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_ledger::did::{EVERY_RELATIONSHIP, FIRST_KEY, dojang_document, first_key_document};
use dojang_ledger::entry::{Entry, Operation};
use dojang_pkcs11::{KeyUri, Pkcs11Signer};
use zeroize::Zeroizing;

use super::{
    AdminError, InternalError, IssuerService, SigningKey, fill_random, new_id, random_token, sha256,
};
use crate::db::{Db, IssuerKey, IssuerRow, KeyDerivation, OperatorRow};
use crate::ledger::LedgerView;

/// An authenticated operator.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Operator id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The issuer it acts for.
    pub issuer: String,
    /// Types it may act on.
    pub types: Vec<String>,
}

impl Operator {
    /// Refuses unless this operator acts for `issuer` and may act on `type_id`.
    pub(super) fn may(&self, issuer: &str, type_id: &str) -> Result<(), AdminError> {
        if self.issuer != issuer {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        if !self.types.iter().any(|t| t == type_id) {
            return Err(AdminError::Forbidden(
                "this token does not cover this credential type",
            ));
        }
        Ok(())
    }
}

/// A hosted issuer to create.
#[derive(Debug, Clone, Copy)]
pub struct NewIssuer<'a> {
    /// Short name in URLs: 1-32 of `[a-z0-9-]`.
    pub slug: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Its signing key in an HSM (made there if the token has none under that label); `None`:
    /// a new ES256 key, sealed in the database with the service's passphrase.
    pub key: Option<&'a KeyUri>,
}

/// Creates a hosted issuer: its key (new and sealed, or on an HSM) and did:dojang, registered on
/// the registry. Returns the DID; the root authority must still accredit it.
pub async fn create_issuer(
    db: &Db,
    registry: &LedgerView,
    passphrase: &str,
    kdf: KdfParams,
    new: NewIssuer<'_>,
    now: i64,
) -> Result<Did, AdminError> {
    let NewIssuer { slug, name, key } = new;
    if slug.is_empty()
        || slug.len() > 32
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AdminError::BadRequest(
            "issuer slugs are 1-32 of [a-z0-9-]".into(),
        ));
    }
    // The key first: nothing is registered or stored for a token that refuses.
    let MadeKey {
        signer,
        sealed_key,
        key_uri,
    } = make_key(slug, key, passphrase, kdf)?;
    let (document, kid) = first_key_document(signer.public_key(), EVERY_RELATIONSHIP);
    let did = document.id.clone();
    let entry = Entry::sign(&Operation::DidCreate { document }, signer.as_ref(), &kid)
        .map_err(InternalError::from)?;
    registry.submit(entry).await?;
    let mut secret = Zeroizing::new([0u8; 32]);
    fill_random(secret.as_mut())?;
    db.insert_issuer(
        &IssuerRow {
            slug: slug.to_owned(),
            name: name.to_owned(),
            did: did.to_string(),
            sealed_key,
            key_uri,
            key_id: FIRST_KEY.to_owned(),
            retired_keys: Vec::new(),
            sealed_secret: seal(
                secret.as_ref(),
                &format!("dojang-issuer-secret:{slug}"),
                passphrase,
                kdf,
            )?,
            key_derivation: KeyDerivation::HkdfSha256,
        },
        now,
    )
    .await?;
    Ok(did)
}

/// A new signing key for an issuer, and how it is kept.
struct MadeKey {
    signer: Box<dyn Signer>,
    /// Sealed with the service's passphrase; empty for a key on a token.
    sealed_key: String,
    key_uri: Option<String>,
}

/// An ES256 key for issuer `slug`: on the token `key` names (made there if the token has none
/// under that label), or new and sealed with `passphrase`.
fn make_key(
    slug: &str,
    key: Option<&KeyUri>,
    passphrase: &str,
    kdf: KdfParams,
) -> Result<MadeKey, InternalError> {
    Ok(match key {
        Some(uri) => {
            let signer = Pkcs11Signer::open_or_generate(uri, Algorithm::Es256)?;
            MadeKey {
                signer: Box::new(signer),
                sealed_key: String::new(),
                key_uri: Some(uri.to_string()),
            }
        }
        None => {
            let key = SecretKey::generate(Algorithm::Es256)?;
            let sealed_key = seal(
                key.secret_bytes().as_ref(),
                &format!("dojang-issuer-key:{slug}"),
                passphrase,
                kdf,
            )?;
            MadeKey {
                signer: Box::new(key),
                sealed_key,
                key_uri: None,
            }
        }
    })
}

/// `bytes` sealed with `passphrase` for `purpose`, as JSON.
fn seal(
    bytes: &[u8],
    purpose: &str,
    passphrase: &str,
    kdf: KdfParams,
) -> Result<String, InternalError> {
    let sealed = PassphraseSealed::seal(bytes, passphrase.as_bytes(), purpose, kdf)?;
    Ok(serde_json::to_string(&sealed)?)
}

/// What a key rotation did.
#[derive(Debug, Clone)]
pub struct RotatedKey {
    /// The issuer's DID (unchanged).
    pub did: Did,
    /// The key it signed with until now (`<did>#key-N`).
    pub previous_kid: String,
    /// The key it signs with from now on (`<did>#key-N+1`).
    pub kid: String,
    /// The new key's public half.
    pub public_key: PublicKey,
}

/// The fragment after `key_id` (`key-1` → `key-2`); `key-2` after anything else.
fn next_key_id(key_id: &str) -> String {
    let n = key_id
        .strip_prefix("key-")
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    format!("key-{}", n.saturating_add(1))
}

/// Creates an operator token for an issuer: returns (operator id, token). The token is shown
/// once; only its SHA-256 is stored.
pub async fn create_operator(
    db: &Db,
    issuer: &str,
    name: &str,
    types: &[String],
    expires_at: Option<i64>,
    now: i64,
) -> Result<(String, String), AdminError> {
    if !db.issuers().await?.iter().any(|i| i.slug == issuer) {
        return Err(AdminError::NotFound);
    }
    let token = format!("dojang_{}", random_token(32)?);
    let id = new_id();
    db.insert_operator(
        &OperatorRow {
            id: id.clone(),
            issuer: issuer.to_owned(),
            name: name.to_owned(),
            types: types.to_vec(),
            expires_at,
            disabled: false,
        },
        &sha256(token.as_bytes()),
        now,
    )
    .await?;
    Ok((id, token))
}

impl IssuerService {
    /// Rotates `slug`'s signing key: a new key (on the token `key` names, or new and sealed),
    /// a `did.update` signed by the current key making the new one the DID's only key, then
    /// the switch. Signing waits meanwhile, so nothing is signed with a key after the ledger
    /// dropped it; credentials signed before verify by the DID's key history. The database
    /// records the new key only once the ledger took the update: a refusal changes nothing.
    /// The root authority certifies the new key for mdocs and `x5c` (a document-signer
    /// certificate); until then, mdocs of this issuer are refused and SD-JWT VCs carry no
    /// `x5c`.
    pub async fn rotate_key(
        &self,
        slug: &str,
        key: Option<&KeyUri>,
    ) -> Result<RotatedKey, AdminError> {
        let hosted = self.hosted(slug)?;
        let config = &self.inner.config;
        let mut signing = hosted.signing.write().await;
        let made = make_key(slug, key, &config.passphrase, config.kdf)?;
        let public_key = made.signer.public_key().clone();
        if public_key == *signing.key.public_key() {
            return Err(AdminError::BadRequest(
                "the new key is the current key / 새 키가 지금 쓰는 키와 같습니다".into(),
            ));
        }
        let key_id = next_key_id(&signing.key_id);
        let url = hosted.did.with_fragment(&key_id);
        let mut retired = signing.retired.clone();
        retired.push(signing.key.public_key().clone());
        let stored = IssuerKey {
            sealed_key: made.sealed_key,
            key_uri: made.key_uri,
            key_id: key_id.clone(),
            retired_keys: retired.iter().map(multikey::encode).collect(),
        };
        let Some(tx) = self
            .inner
            .db
            .begin_key_change(slug, &signing.key_id, &stored)
            .await?
        else {
            return Err(AdminError::Conflict(
                "another rotation changed this issuer's key first; restart the service to load \
                 it (다른 곳에서 먼저 키를 교체했습니다)"
                    .into(),
            ));
        };
        let current = self
            .registry()
            .did(&hosted.did)
            .await?
            .ok_or(AdminError::NotFound)?;
        let document = dojang_document(&hosted.did, &[(&key_id, &public_key, EVERY_RELATIONSHIP)]);
        // A rotation whose update the ledger took but whose record was lost (the database
        // failed after): the ledger already names this key, so only the record is missing.
        let published = serde_json::from_value::<DidDocument>(current.document)
            .ok()
            .and_then(|d| d.key_for(Relationship::AssertionMethod, None).ok())
            .is_some_and(|k| k == public_key);
        if !published {
            let prev = current.metadata.latest_operation.ok_or_else(|| {
                AdminError::Conflict(
                    "레지스트리가 DID의 마지막 작업을 알려 주지 않았습니다 / the registry did not \
                     say the DID's latest operation"
                        .into(),
                )
            })?;
            let update = Operation::DidUpdate { prev, document };
            let entry =
                Entry::sign(&update, &signing.key, &signing.url).map_err(InternalError::from)?;
            self.registry().submit(entry).await?;
        }
        tx.commit().await?;
        let previous_kid = std::mem::replace(
            &mut *signing,
            SigningKey {
                kid: url.to_string(),
                url,
                key_id,
                key: made.signer,
                retired,
            },
        )
        .kid;
        tracing::info!(%slug, %previous_kid, kid = %signing.kid, "issuer key rotated");
        Ok(RotatedKey {
            did: hosted.did.clone(),
            previous_kid,
            kid: signing.kid.clone(),
            public_key,
        })
    }

    /// Loads the signing key of every issuer whose key another process rotated (`dojang
    /// issuer rotate-key` beside a running service); returns their slugs.
    pub async fn reload_keys(&self) -> Result<Vec<String>, AdminError> {
        let passphrase = self.inner.config.passphrase.as_bytes();
        let mut reloaded = Vec::new();
        for row in self.inner.db.issuers().await? {
            let Some(hosted) = self.inner.issuers.get(&row.slug) else {
                continue;
            };
            if hosted.signing.read().await.key_id == row.key_id {
                continue;
            }
            let mut signing = hosted.signing.write().await;
            *signing = SigningKey::open(&row, &hosted.did, passphrase)?;
            tracing::info!(slug = %row.slug, kid = %signing.kid, "issuer key reloaded after a rotation");
            reloaded.push(row.slug);
        }
        Ok(reloaded)
    }

    /// Checks an operator token.
    pub async fn authenticate(
        &self,
        token: Option<&str>,
        now: i64,
    ) -> Result<Operator, AdminError> {
        let token = token.ok_or(AdminError::Unauthenticated("missing bearer token"))?;
        let row = self
            .inner
            .db
            .operator_by_token(&sha256(token.as_bytes()))
            .await?
            .ok_or(AdminError::Unauthenticated("unknown token"))?;
        if row.disabled {
            return Err(AdminError::Unauthenticated("token disabled"));
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(AdminError::Unauthenticated("token expired"));
        }
        Ok(Operator {
            id: row.id,
            name: row.name,
            issuer: row.issuer,
            types: row.types,
        })
    }

    /// Anchors unanchored audit events in the registry, one `audit` entry per issuer with
    /// counts by action, type and reason. Returns how many events were anchored.
    pub async fn anchor_audit(&self) -> Result<usize, AdminError> {
        let mut anchored = 0;
        for hosted in self.inner.issuers.values() {
            let events = self.inner.db.unanchored_audit(&hosted.slug).await?;
            if events.is_empty() {
                continue;
            }
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (_, action, type_id, reason, _) in &events {
                *counts.entry(format!("{action}:{type_id}")).or_default() += 1;
                if let Some(reason) = reason {
                    *counts.entry(format!("reason:{reason}")).or_default() += 1;
                }
            }
            let operation = Operation::Audit {
                issuer: hosted.did.clone(),
                period_start: events.first().map_or(0, |e| e.4),
                period_end: events.last().map_or(0, |e| e.4),
                counts,
            };
            let signing = hosted.signing.read().await;
            let entry =
                Entry::sign(&operation, &signing.key, &signing.url).map_err(InternalError::from)?;
            let index = self.registry().submit(entry).await?;
            drop(signing);
            let ids: Vec<String> = events.into_iter().map(|e| e.0).collect();
            self.inner.db.mark_anchored(&ids, index).await?;
            anchored += ids.len();
        }
        Ok(anchored)
    }
}
