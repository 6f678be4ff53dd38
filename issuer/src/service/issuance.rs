//! The credential endpoint: an access token and a key proof in, a signed credential out.
//!
//! Everything an issuance changes — the nonce used, the status index claimed, the offer
//! closed, the audit event — is one write, made only once the credential is signed. The first
//! format issued makes the credential and claims its status index; the other formats are the
//! same credential again, at the same index, so revoking one revokes them all. An mdoc is
//! signed with the issuer's key under the document-signer certificate the root authority
//! published for it, and carries the claims as elements of the type's document type.

use dojang_core::b64;
use dojang_core::compact;
use dojang_core::key::{Algorithm, PublicKey};
use dojang_core::oid4vci::{
    self, CredentialRequest, CredentialResponse, IssuedCredential, ProofError, VerifiedProof,
};
use dojang_core::seal::Sealed;
use dojang_core::status::StatusListReference;
use dojang_mdoc::MdocError;
use dojang_schemas::{CredentialType, Issuance};
use serde_json::{Map, Value};
use tokio::sync::RwLockReadGuard;
use zeroize::Zeroizing;

use super::oid4vci::{ACCESS_TOKEN, NONCE, token_body};
use super::{
    CredentialError, CredentialStatus, Format, Hosted, InternalError, IssuerService, OfferState,
    SigningKey, new_id,
};
use crate::db::{self, Conflict, CredentialRow, OfferRow, StoreError};

/// How many status indices are tried before giving up, when other instances keep taking the
/// one chosen.
const INDEX_ATTEMPTS: usize = 64;

/// A credential request that passed every check: what to sign, in which format, for which
/// holder key.
struct Approved<'a> {
    hosted: &'a Hosted,
    /// The issuer's signing key, held until the credential is recorded: a rotation waits.
    signing: RwLockReadGuard<'a, SigningKey>,
    offer: OfferRow,
    format: Format,
    ty: &'static CredentialType,
    /// The offer's claims, opened.
    claims_json: Zeroizing<Vec<u8>>,
    claims: Map<String, Value>,
    holder_key: PublicKey,
    /// The issuer's document-signer certificate (DER): an mdoc's `x5chain`, an SD-JWT VC's
    /// `x5c`. Required for an mdoc; an issuer without one (an EdDSA key) signs SD-JWT VCs
    /// with `kid` alone.
    certificate: Option<Vec<u8>>,
    /// The proof's `c_nonce`, and when it would have expired anyway.
    nonce: String,
    nonce_expires_at: i64,
    now: i64,
}

impl Approved<'_> {
    /// Whether this format is the last one the offer had left to issue.
    fn last_format(&self) -> bool {
        let all = Format::of_type(self.ty)
            .iter()
            .map(|f| f.bit())
            .sum::<i64>();
        (self.offer.issued_formats | self.format.bit()) == all
    }

    /// The credential in the requested format, at `status`.
    fn sign(&self, status: StatusListReference) -> Result<String, InternalError> {
        let draft = self.ty.draft(
            self.claims.clone(),
            Issuance {
                issuer: self.hosted.did.to_string(),
                issued_at: self.now,
                valid_until: None,
                holder_key: Some(self.holder_key.clone()),
                status: Some(status),
            },
        )?;
        let (key, kid) = (&self.signing.key, self.signing.kid.as_str());
        Ok(match self.format {
            Format::SdJwt => draft.sign_with_chain(key, kid, self.certificate.as_slice())?,
            Format::Qr => b64::encode(compact::issue(&draft, key, kid)?),
            Format::Mdoc => {
                let (Some(doc_type), Some(certificate)) =
                    (&self.ty.descriptor().mdoc_doctype, &self.certificate)
                else {
                    return Err(InternalError::Mdoc(MdocError::Malformed(
                        "an mdoc without its document type or certificate",
                    )));
                };
                let elements = mdoc_elements(self.ty, doc_type, &self.claims);
                b64::encode(dojang_mdoc::issue(&dojang_mdoc::Issuance {
                    doc_type,
                    elements: &elements,
                    device_key: &self.holder_key,
                    signed: self.now,
                    valid_from: draft.valid_from.unwrap_or(self.now),
                    valid_until: draft.valid_until.unwrap_or(self.now + 365 * 86_400),
                    status: draft.status.as_ref(),
                    signer: key,
                    certificate,
                })?)
            }
        })
    }
}

/// The claims as elements of the type's mdoc namespace (named after its document type), each
/// as its schema types it: a `date` string is a CBOR `full-date`, booleans and integers are
/// themselves, the rest text. Claims are flat in the types issued as mdocs.
fn mdoc_elements(
    ty: &CredentialType,
    namespace: &str,
    claims: &Map<String, Value>,
) -> Vec<dojang_mdoc::Element> {
    use dojang_mdoc::ElementValue;
    let properties = ty.schema().get("properties");
    claims
        .iter()
        .map(|(name, value)| {
            let schema = properties.and_then(|p| p.get(name));
            let is_date = schema.and_then(|s| s.get("format")) == Some(&Value::from("date"));
            let value = match value {
                Value::Bool(yes) => ElementValue::Bool(*yes),
                Value::Number(n) if n.is_i64() => ElementValue::Int(n.as_i64().unwrap_or_default()),
                Value::String(text) if is_date => ElementValue::FullDate(text.clone()),
                Value::String(text) => ElementValue::Text(text.clone()),
                other => ElementValue::Text(other.to_string()),
            };
            dojang_mdoc::Element {
                namespace: namespace.to_owned(),
                identifier: name.clone(),
                value,
            }
        })
        .collect()
}

fn respond(credential: String) -> CredentialResponse {
    CredentialResponse {
        credentials: vec![IssuedCredential { credential }],
        notification_id: None,
    }
}

/// The one key proof of `request`, verified for `audience`.
fn verified_proof(
    request: &CredentialRequest,
    audience: &str,
    now: i64,
) -> Result<VerifiedProof, CredentialError> {
    let proofs = request.proof_jwts();
    let [proof] = proofs.as_slice() else {
        return Err(CredentialError::InvalidProof(
            "exactly one jwt proof is required".into(),
        ));
    };
    oid4vci::verify_proof(proof, audience, now, 300).map_err(|e| match e {
        ProofError::MissingNonce => {
            CredentialError::InvalidProof("the proof carries no c_nonce".into())
        }
        other => CredentialError::InvalidProof(other.to_string()),
    })
}

impl IssuerService {
    /// The credential endpoint. Everything the issuance changes — the nonce used, the status
    /// index claimed, the offer closed, the audit event — is one transaction, committed only
    /// once the credential is signed.
    pub async fn credential(
        &self,
        slug: &str,
        access_token: Option<&str>,
        request: &CredentialRequest,
        now: i64,
    ) -> Result<CredentialResponse, CredentialError> {
        let token = access_token.ok_or(CredentialError::MissingToken)?;
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(CredentialError::InvalidToken)?;
        let offer = self.offer_of_token(hosted, token, now).await?;
        let configuration = request
            .credential_configuration_id
            .as_deref()
            .ok_or_else(|| {
                CredentialError::InvalidCredentialRequest(
                    "credential_configuration_id is missing".into(),
                )
            })?;
        let ty = self
            .inner
            .catalog
            .get(&offer.type_id)
            .map_err(InternalError::from)?;
        let format = Format::of_configuration(configuration, ty)
            .ok_or(CredentialError::UnknownCredentialConfiguration)?;
        let proof = verified_proof(request, &self.issuer_id(slug), now)?;
        if format == Format::Mdoc && proof.key.algorithm() != Algorithm::Es256 {
            return Err(CredentialError::InvalidProof(
                "an mdoc's device key is P-256: prove it with ES256".into(),
            ));
        }
        let nonce_expires_at = hosted
            .open_token(&proof.nonce)
            .and_then(|p| token_body(&p, NONCE, now).map(|(expiry, _)| expiry))
            .ok_or(CredentialError::InvalidNonce)?;
        let first = match offer.state {
            OfferState::Redeemed => true,
            OfferState::Issued if offer.issued_formats & format.bit() == 0 => false,
            _ => {
                return Err(CredentialError::Denied(
                    "this offer's credential was already issued".into(),
                ));
            }
        };
        if !self.accredited(hosted, &offer.type_id).await? {
            return Err(CredentialError::Denied(
                "the issuer is not accredited for this credential type".into(),
            ));
        }
        let sealed: Sealed = offer
            .claims_sealed
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| {
                CredentialError::Denied("the offer no longer holds its claims".into())
            })?;
        let claims_json = hosted
            .claims_key
            .open(&sealed, "dojang-offer-claims")
            .map_err(InternalError::from)?;
        let signing = hosted.signing.read().await;
        let certificate = match format {
            Format::Qr => None,
            Format::SdJwt => {
                self.registry()
                    .document_signer(&hosted.did, signing.key.public_key(), now)
                    .await?
            }
            Format::Mdoc => Some(
                self.registry()
                    .document_signer(&hosted.did, signing.key.public_key(), now)
                    .await?
                    .ok_or_else(|| {
                        CredentialError::Denied(
                            "the root authority has published no document-signer certificate \
                             for this issuer's key: no mdoc can be signed yet"
                                .into(),
                        )
                    })?,
            ),
        };
        let approved = Approved {
            hosted,
            signing,
            claims: serde_json::from_slice(&claims_json).map_err(InternalError::from)?,
            claims_json,
            ty,
            offer,
            format,
            holder_key: proof.key,
            certificate,
            nonce: proof.nonce,
            nonce_expires_at,
            now,
        };
        if first {
            self.issue_first(approved).await
        } else {
            self.issue_again(approved).await
        }
    }

    /// The offer an access token of `hosted` was handed out for, if it is one and unexpired.
    async fn offer_of_token(
        &self,
        hosted: &Hosted,
        token: &str,
        now: i64,
    ) -> Result<OfferRow, CredentialError> {
        let payload = hosted
            .open_token(token)
            .ok_or(CredentialError::InvalidToken)?;
        let offer_id = token_body(&payload, ACCESS_TOKEN, now)
            .and_then(|(_, body)| std::str::from_utf8(body).ok())
            .ok_or(CredentialError::InvalidToken)?;
        self.inner
            .db
            .offer(offer_id)
            .await?
            .filter(|o| o.issuer == hosted.slug)
            .ok_or(CredentialError::InvalidToken)
    }

    /// The issued credential again, in another format, at its status index.
    async fn issue_again(
        &self,
        approved: Approved<'_>,
    ) -> Result<CredentialResponse, CredentialError> {
        let db = &self.inner.db;
        let issued = match &approved.offer.credential_id {
            Some(id) => db.credential(id).await?,
            None => None,
        }
        .ok_or(StoreError::Corrupt(
            "an issued offer without its credential",
        ))?;
        let credential = approved.sign(StatusListReference {
            idx: issued.status_index,
            uri: self.registry().status_list_uri(&issued.list_id),
        })?;
        let added = db::AddedFormat {
            last_format: approved.last_format(),
            nonce: approved.nonce,
            nonce_expires_at: approved.nonce_expires_at,
            offer_id: approved.offer.id,
            format: approved.format.bit(),
        };
        match db.add_format(added).await? {
            Ok(()) => Ok(respond(credential)),
            Err(Conflict::NonceUsed) => Err(CredentialError::InvalidNonce),
            Err(_) => Err(CredentialError::Denied(
                "this offer's credential was already issued in this format".into(),
            )),
        }
    }

    /// The credential, at a status index of its own, recorded with everything it changes.
    async fn issue_first(
        &self,
        approved: Approved<'_>,
    ) -> Result<CredentialResponse, CredentialError> {
        let (hosted, offer) = (approved.hosted, &approved.offer);
        let kept_claims = match self.inner.config.keep_claims {
            true => {
                let sealed = hosted
                    .claims_key
                    .seal(&approved.claims_json, "dojang-issued-claims")
                    .map_err(InternalError::from)?;
                Some(serde_json::to_string(&sealed).map_err(InternalError::from)?)
            }
            false => None,
        };
        let credential_id = new_id();
        let expires_at = approved
            .ty
            .descriptor()
            .default_validity_days
            .map(|d| approved.now + i64::from(d) * 86_400);
        // The credential is signed before anything is recorded, so a recorded issuance always
        // has a credential. Choosing the index may publish a new list; if another instance took
        // the index meanwhile, the credential is signed again at another.
        for _ in 0..INDEX_ATTEMPTS {
            let (list_id, status_index) = self
                .next_index(hosted, &approved.signing, approved.now)
                .await
                .map_err(CredentialError::StatusIndex)?;
            let credential = approved.sign(StatusListReference {
                idx: status_index,
                uri: self.registry().status_list_uri(&list_id),
            })?;
            let record = db::Issuance {
                nonce: approved.nonce.clone(),
                nonce_expires_at: approved.nonce_expires_at,
                credential: CredentialRow {
                    id: credential_id.clone(),
                    issuer: hosted.slug.clone(),
                    type_id: offer.type_id.clone(),
                    list_id,
                    status_index,
                    status: CredentialStatus::Valid,
                    subject_ref: offer.subject_ref.clone(),
                    issued_at: approved.now,
                },
                claims_sealed: kept_claims.clone(),
                expires_at,
                offer_id: offer.id.clone(),
                operator: offer.operator.clone(),
                audit_id: new_id(),
                format: approved.format.bit(),
                last_format: approved.last_format(),
            };
            match self.inner.db.issue(record).await? {
                Ok(()) => return Ok(respond(credential)),
                Err(Conflict::IndexTaken) => continue,
                Err(Conflict::NonceUsed) => return Err(CredentialError::InvalidNonce),
                Err(Conflict::OfferClosed) => {
                    return Err(CredentialError::Denied(
                        "this offer's credential was already issued".into(),
                    ));
                }
            }
        }
        Err(InternalError::NoFreeIndex.into())
    }
}
