//! The issuer's own administration: hosted issuers (a key, a `did:dojang` registered on the
//! registry, a sealed data secret), operators and their bearer tokens, and the anchoring of
//! the audit trail in the registry.

use std::collections::BTreeMap;

use dojang_core::did::Did;
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_ledger::did::{EVERY_RELATIONSHIP, first_key_document};
use dojang_ledger::entry::{Entry, Operation};
use dojang_pkcs11::{KeyUri, Pkcs11Error, Pkcs11Signer};
use zeroize::Zeroizing;

use super::{AdminError, InternalError, IssuerService, fill_random, new_id, random_token, sha256};
use crate::db::{Db, IssuerRow, KeyDerivation, OperatorRow};
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
    let seal = |bytes: &[u8], purpose: &str| -> Result<String, InternalError> {
        let sealed = PassphraseSealed::seal(bytes, passphrase.as_bytes(), purpose, kdf)?;
        Ok(serde_json::to_string(&sealed)?)
    };
    // The key first: nothing is registered or stored for a token that refuses.
    let (signer, sealed_key, key_uri): (Box<dyn Signer>, String, Option<String>) = match key {
        Some(uri) => {
            let signer = match Pkcs11Signer::open(uri) {
                Err(Pkcs11Error::NoKey(_)) => Pkcs11Signer::generate(uri, Algorithm::Es256),
                opened => opened,
            }
            .map_err(InternalError::from)?;
            (Box::new(signer), String::new(), Some(uri.to_string()))
        }
        None => {
            let key = SecretKey::generate(Algorithm::Es256).map_err(InternalError::from)?;
            let sealed = seal(
                key.secret_bytes().as_ref(),
                &format!("dojang-issuer-key:{slug}"),
            )?;
            (Box::new(key), sealed, None)
        }
    };
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
            sealed_secret: seal(secret.as_ref(), &format!("dojang-issuer-secret:{slug}"))?,
            key_derivation: KeyDerivation::HkdfSha256,
        },
        now,
    )
    .await?;
    Ok(did)
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
            let entry = Entry::sign(&operation, &hosted.key, &hosted.did.with_fragment("key-1"))
                .map_err(InternalError::from)?;
            let index = self.registry().submit(entry).await?;
            let ids: Vec<String> = events.into_iter().map(|e| e.0).collect();
            self.inner.db.mark_anchored(&ids, index).await?;
            anchored += ids.len();
        }
        Ok(anchored)
    }
}
