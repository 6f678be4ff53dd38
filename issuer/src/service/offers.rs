//! Offers and their life: an operator creates one (claims validated and sealed, a
//! pre-authorized code and an optional transaction code), the wallet redeems it at the token
//! endpoint, the credential endpoint issues it, and housekeeping expires what was never used.
//!
//! ```text
//! open ──code redeemed──→ redeemed ──credential issued──→ issued
//! open ──five wrong transaction codes──→ locked
//! open, or redeemed and past the access token's grace ──past its time──→ expired
//! ```

use dojang_core::oid4vci::{CredentialOffer, Grants, PreAuthorizedCodeGrant, TxCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::find::{CalendarDate, Subject};
use super::{
    AdminError, Format, Hosted, InternalError, IssuerService, Operator, fill_random, new_id,
    random_token, sha256,
};
use crate::db::{OfferRow, StoreError};
use dojang_schemas::{CredentialType, SchemaError, Violation};

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    /// Made; its code may be redeemed.
    Open,
    /// Its code was traded for an access token; the credential is not issued yet.
    Redeemed,
    /// Its credential was issued (in at least one format).
    Issued,
    /// Too many wrong transaction codes: it can no longer be redeemed.
    Locked,
    /// Past its time before it was issued.
    Expired,
}

impl OfferState {
    /// The text stored for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Open => "open",
            OfferState::Redeemed => "redeemed",
            OfferState::Issued => "issued",
            OfferState::Locked => "locked",
            OfferState::Expired => "expired",
        }
    }

    /// The state stored as `text`.
    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "open" => Ok(OfferState::Open),
            "redeemed" => Ok(OfferState::Redeemed),
            "issued" => Ok(OfferState::Issued),
            "locked" => Ok(OfferState::Locked),
            "expired" => Ok(OfferState::Expired),
            _ => Err(StoreError::Corrupt("offer state")),
        }
    }
}

impl std::fmt::Display for OfferState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An offer request from an operator.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewOffer {
    /// Credential type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The subject's claims.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// An identifier to find the citizen's credentials later (card or document number). Only a
    /// keyed hash of it is stored.
    #[serde(default)]
    pub subject: Option<String>,
    /// Require a transaction code (default true).
    #[serde(default = "yes")]
    pub tx_code: bool,
    /// Makes re-submission safe: the same key returns the same offer.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn yes() -> bool {
    true
}

/// A created offer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedOffer {
    /// Offer id.
    pub offer_id: String,
    /// The OpenID4VCI credential offer.
    #[schema(value_type = Object)]
    pub credential_offer: CredentialOffer,
    /// The offer as an `openid-credential-offer://` URI (what the QR code holds).
    pub credential_offer_uri: String,
    /// The transaction code to give the citizen separately (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The offer URI as a QR code (SVG).
    pub qr_svg: String,
    /// Whether this is an earlier offer returned for a repeated idempotency key.
    pub replayed: bool,
}

/// A fresh six-digit transaction code.
fn new_tx_code() -> Result<String, InternalError> {
    let mut digits = [0u8; 6];
    fill_random(&mut digits)?;
    Ok(digits.iter().map(|d| char::from(b'0' + d % 10)).collect())
}

impl IssuerService {
    /// Creates an offer of `type` with `claims` for a citizen.
    pub async fn create_offer(
        &self,
        operator: &Operator,
        slug: &str,
        offer: NewOffer,
        now: i64,
    ) -> Result<CreatedOffer, AdminError> {
        let hosted = self.hosted(slug)?;
        operator.may(slug, &offer.type_id)?;
        // The catalog's refusal would name the type asked for.
        let ty = self
            .inner
            .catalog
            .get(&offer.type_id)
            .map_err(|_| AdminError::BadRequest("unknown credential type".into()))?;
        ty.validate(&offer.claims)?;
        birth_date_not_in_future(ty, &offer.claims, now)?;
        if !self.accredited(hosted, &offer.type_id).await? {
            return Err(AdminError::Forbidden(
                "this issuer is not accredited for this credential type",
            ));
        }
        let code = random_token(32)?;
        let tx_code = if offer.tx_code {
            Some(new_tx_code()?)
        } else {
            None
        };
        let row = self.offer_row(hosted, operator, &offer, ty, tx_code.as_deref(), now)?;
        if let Some(key) = &offer.idempotency_key
            && (key.is_empty() || key.len() > 128)
        {
            return Err(AdminError::BadRequest(
                "idempotency keys are 1 to 128 characters".into(),
            ));
        }
        let db = &self.inner.db;
        let inserted = db
            .insert_offer(
                &row,
                &sha256(code.as_bytes()),
                offer.idempotency_key.as_deref(),
                now,
            )
            .await?;
        if let Err(existing) = inserted {
            return self.replayed_offer(slug, &existing).await;
        }
        let credential_offer = self.offer_document(slug, &offer.type_id, &code, tx_code.is_some());
        let uri = credential_offer.to_uri();
        Ok(CreatedOffer {
            offer_id: row.id,
            qr_svg: qr_svg(&uri)?,
            credential_offer,
            credential_offer_uri: uri,
            tx_code,
            expires_at: row.expires_at,
            replayed: false,
        })
    }

    /// The row of a new offer: its claims sealed, its codes only as hashes.
    fn offer_row(
        &self,
        hosted: &Hosted,
        operator: &Operator,
        offer: &NewOffer,
        ty: &CredentialType,
        tx_code: Option<&str>,
        now: i64,
    ) -> Result<OfferRow, InternalError> {
        let (number, person) = find_by(ty, &offer.claims);
        let subject = offer
            .subject
            .as_deref()
            .or(number.as_ref().map(Subject::canonical));
        let claims_json = serde_json::to_vec(&offer.claims)?;
        let sealed = hosted
            .claims_key
            .seal(&claims_json, "dojang-offer-claims")?;
        Ok(OfferRow {
            id: new_id(),
            issuer: hosted.slug.clone(),
            type_id: offer.type_id.clone(),
            claims_sealed: Some(serde_json::to_string(&sealed)?),
            subject_ref: subject.map(|s| hosted.subject_ref(s)),
            person_ref: person.map(|p| hosted.subject_ref(p.canonical())),
            tx_code_hash: tx_code.map(|c| sha256(c.as_bytes())),
            tx_attempts: 0,
            state: OfferState::Open,
            operator: operator.id.clone(),
            credential_id: None,
            issued_formats: 0,
            expires_at: now + self.inner.config.offer_ttl,
        })
    }

    /// The same request again: the first offer stands. Its codes are not stored in clear, so
    /// they cannot be shown again.
    async fn replayed_offer(&self, slug: &str, existing: &str) -> Result<CreatedOffer, AdminError> {
        let first = self
            .inner
            .db
            .offer(existing)
            .await?
            .ok_or(AdminError::NotFound)?;
        Ok(CreatedOffer {
            offer_id: first.id,
            credential_offer: self.offer_document(
                slug,
                &first.type_id,
                "",
                first.tx_code_hash.is_some(),
            ),
            credential_offer_uri: String::new(),
            tx_code: None,
            expires_at: first.expires_at,
            qr_svg: String::new(),
            replayed: true,
        })
    }

    fn offer_document(
        &self,
        slug: &str,
        type_id: &str,
        code: &str,
        tx_code: bool,
    ) -> CredentialOffer {
        CredentialOffer {
            credential_issuer: self.issuer_id(slug),
            credential_configuration_ids: self
                .inner
                .catalog
                .get(type_id)
                .map(Format::of_type)
                .unwrap_or_default()
                .iter()
                .map(|f| f.configuration_id(type_id))
                .collect(),
            grants: Grants {
                pre_authorized_code: PreAuthorizedCodeGrant {
                    pre_authorized_code: code.to_owned(),
                    tx_code: tx_code.then(|| TxCode {
                        input_mode: Some("numeric".into()),
                        length: Some(6),
                        description: Some("The 6-digit code the issuing office gave you".into()),
                    }),
                },
            },
        }
    }

    /// The credential issued from `offer_id`: a clerk revokes or suspends by the offer id given
    /// at issuance. Refused with [`AdminError::Conflict`] while the offer has no credential
    /// yet (it says the offer's state).
    pub async fn credential_of_offer(
        &self,
        operator: &Operator,
        slug: &str,
        offer_id: &str,
    ) -> Result<String, AdminError> {
        self.hosted(slug)?;
        let offer = self
            .inner
            .db
            .offer(offer_id)
            .await?
            .filter(|o| o.issuer == slug)
            .ok_or(AdminError::NotFound)?;
        operator.may(slug, &offer.type_id)?;
        offer.credential_id.ok_or_else(|| {
            AdminError::Conflict(format!(
                "offer {offer_id} is {state}: no credential was issued from it \
                 (제안 {offer_id}의 상태는 {state}이며, 이 제안으로 발급된 자격증명이 없습니다)",
                state = offer.state
            ))
        })
    }

    /// Expires old offers and sweeps used-up nonces and tokens.
    pub async fn housekeeping(&self, now: i64) -> Result<(), AdminError> {
        self.inner
            .db
            .expire_offers(now, self.inner.config.token_ttl)
            .await?;
        self.inner.db.sweep(now).await?;
        Ok(())
    }
}

fn qr_svg(text: &str) -> Result<String, InternalError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

/// The citizen as the type's `find_by` claims name them in `claims`: a card or document number
/// and a name with a birth date, each when present and readable.
fn find_by(ty: &CredentialType, claims: &Map<String, Value>) -> (Option<Subject>, Option<Subject>) {
    let Some(find_by) = &ty.descriptor().find_by else {
        return (None, None);
    };
    let text = |pointer: &str| text_at(claims, pointer);
    let number = find_by
        .number
        .as_deref()
        .and_then(text)
        .and_then(|n| Subject::number(n).ok());
    let name: Option<Vec<&str>> = find_by.name.iter().map(|p| text(p)).collect();
    let person = match (
        name.filter(|n| !n.is_empty()),
        find_by.birth_date.as_deref().and_then(text),
    ) {
        (Some(name), Some(birth_date)) => Subject::person(&name.join(" "), birth_date).ok(),
        _ => None,
    };
    (number, person)
}

/// The text at JSON Pointer `pointer` in `claims`.
fn text_at<'c>(claims: &'c Map<String, Value>, pointer: &str) -> Option<&'c str> {
    let mut steps = pointer.strip_prefix('/')?.split('/');
    let first = claims.get(steps.next()?)?;
    steps
        .try_fold(first, |value, step| value.get(step))
        .and_then(Value::as_str)
}

/// A birth date (the type's `find_by.birth_date`) later than the office's today is refused at
/// its field. A day of slack: the office's day (KST) may be ahead of UTC's.
fn birth_date_not_in_future(
    ty: &CredentialType,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), SchemaError> {
    let Some(pointer) = ty
        .descriptor()
        .find_by
        .as_ref()
        .and_then(|f| f.birth_date.as_deref())
    else {
        return Ok(());
    };
    // Whether it is a date at all is the schema's judgement, made before.
    let Some(date) = text_at(claims, pointer).and_then(|t| t.parse::<CalendarDate>().ok()) else {
        return Ok(());
    };
    if date.days_since_epoch() <= now.div_euclid(86_400) + 1 {
        return Ok(());
    }
    Err(SchemaError::Invalid {
        type_id: ty.id().to_owned(),
        violations: vec![Violation {
            path: pointer.to_owned(),
            keyword: "future".into(),
            message: "a birth date cannot be in the future".into(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_birth_date_in_the_future_is_refused_at_its_field() {
        let card = dojang_schemas::Catalog::builtin()
            .get("citizen-card")
            .unwrap();
        let mut claims = card.example().clone();
        let now = 1_790_000_000; // 2026-09-21
        claims.insert("birthdate".into(), "2026-09-22".into());
        assert!(
            birth_date_not_in_future(card, &claims, now).is_ok(),
            "a day of slack"
        );
        claims.insert("birthdate".into(), "2026-09-23".into());
        let Err(SchemaError::Invalid { violations, .. }) =
            birth_date_not_in_future(card, &claims, now)
        else {
            panic!("a future birth date was accepted");
        };
        assert_eq!(violations[0].path, "/birthdate");
        assert_eq!(violations[0].keyword, "future");
    }

    #[test]
    fn offer_states_are_read_back_as_stored() {
        for state in [
            OfferState::Open,
            OfferState::Redeemed,
            OfferState::Issued,
            OfferState::Locked,
            OfferState::Expired,
        ] {
            assert_eq!(OfferState::parse(state.as_str()).ok(), Some(state));
        }
        assert!(matches!(
            OfferState::parse("Open"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
