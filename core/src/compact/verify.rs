//! The verifier's side: checking a presentation.

use serde_json::{Map, Value as Json};

use super::cbor::{self, Item, Value};
use super::token::{self, Claims, Sign1};
use super::{Challenge, CompactError, MAX_PRESENTATION_LEN, TYP_CREDENTIAL, TYP_PRESENTATION};
use crate::key::PublicKey;
use crate::sd_jwt::IssuerKeyResolver;
use crate::status::StatusListReference;

/// How to verify.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The verification time, Unix seconds.
    pub now: i64,
    /// Clock skew tolerated, in seconds.
    pub leeway: i64,
    /// How long after it was made a presentation is accepted, in seconds.
    pub window: i64,
    /// The challenge this verifier showed, in challenge mode. `None`: time-window mode.
    pub challenge: Option<Challenge<'a>>,
}

impl VerifyOptions<'_> {
    /// Time-window mode at `now`: presentations up to 60 s old, 30 s of clock skew.
    pub fn at(now: i64) -> Self {
        VerifyOptions {
            now,
            leeway: 30,
            window: 60,
            challenge: None,
        }
    }
}

/// A verified presentation. Its strings borrow the presentation's bytes.
#[derive(Debug, Clone)]
pub struct VerifiedCompact<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The issuer's key id (a DID URL fragment).
    pub kid: &'a str,
    /// The credential type.
    pub vct: &'a str,
    /// Issuance time.
    pub issued_at: i64,
    /// End of validity, if any.
    pub valid_until: Option<i64>,
    /// The status list entry, if any.
    pub status: Option<StatusListReference>,
    /// The visible and the disclosed claims.
    pub claims: Map<String, Json>,
    /// The names of the claims the holder disclosed.
    pub disclosed: Vec<&'a str>,
    /// The holder key the presentation is signed with.
    pub holder_key: PublicKey,
    /// When the holder made the presentation.
    pub presented_at: i64,
}

/// Verifies a presentation's bytes: structure, algorithms, the issuer's signature with the
/// key `keys` names for the issuer and `kid` as of issuance, the disclosures, the validity
/// period, and the holder's binding (signature, time window, challenge and audience).
///
/// Trust decisions beyond the key — accreditation for the type, status — are the caller's,
/// from the returned `issuer`, `vct` and `status`.
pub fn verify<'a>(
    presentation: &'a [u8],
    keys: &dyn IssuerKeyResolver,
    options: &VerifyOptions<'_>,
) -> Result<VerifiedCompact<'a>, CompactError> {
    let (binding, credential) = open(presentation)?;
    let mut claims = Claims::parse(credential.payload)?;
    let kid = credential
        .protected
        .kid
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or_else(|| CompactError::MissingClaim { claim: "kid" })?;
    let issuer_key = keys.issuer_key(
        Some(claims.issuer),
        Some(&["#", kid].concat()),
        Some(claims.issued_at),
    )?;
    // Each signature's protected header and payload lie within the presentation: one buffer
    // holds either's signed bytes.
    let mut signed = Vec::with_capacity(presentation.len() + token::TO_BE_SIGNED_OVERHEAD);
    credential.verify(&issuer_key, &mut signed)?;

    let mut revealed = std::mem::take(&mut claims.visible);
    let disclosed = token::reveal(
        &mut revealed,
        &claims.digests,
        &token::disclosures(credential.unprotected)?,
    )?;
    let now = options.now;
    if let Some(exp) = claims
        .valid_until
        .filter(|&exp| exp <= now - options.leeway)
    {
        return Err(CompactError::Expired { exp });
    }
    if let Some(nbf) = claims.valid_from.filter(|&nbf| nbf > now + options.leeway) {
        return Err(CompactError::NotYetValid { nbf });
    }

    binding
        .verify(&claims.holder_key, &mut signed)
        .map_err(|e| match e {
            CompactError::SignatureInvalid => CompactError::HolderSignatureInvalid,
            other => other,
        })?;
    let payload = cbor::read(binding.payload).map_err(|e| CompactError::malformed("binding", e))?;
    let presented_at = payload
        .get(&Value::int(token::IAT))
        .and_then(Item::as_i64)
        .ok_or_else(|| CompactError::MissingClaim { claim: "iat" })?;
    if presented_at < now - options.window - options.leeway || presented_at > now + options.leeway {
        return Err(CompactError::BindingExpired {
            at: presented_at,
            now,
        });
    }
    if let Some(expected) = options.challenge {
        let nonce = payload
            .get(&Value::int(token::CNONCE))
            .and_then(Item::as_bytes);
        if nonce != Some(expected.nonce) {
            return Err(CompactError::ChallengeMismatch);
        }
        let audience = payload.get(&Value::int(token::AUD)).and_then(Item::as_text);
        if audience != Some(expected.audience) {
            return Err(CompactError::AudienceMismatch);
        }
    }

    Ok(VerifiedCompact {
        issuer: claims.issuer,
        kid,
        vct: claims.vct,
        issued_at: claims.issued_at,
        valid_until: claims.valid_until,
        status: claims.status,
        claims: revealed,
        disclosed,
        holder_key: claims.holder_key,
        presented_at,
    })
}

/// A presentation's binding and the credential inside it, structure and algorithms checked.
fn open(presentation: &[u8]) -> Result<(Sign1<'_>, Sign1<'_>), CompactError> {
    if presentation.len() > MAX_PRESENTATION_LEN {
        return Err(CompactError::TooLarge {
            len: presentation.len(),
            max: MAX_PRESENTATION_LEN,
        });
    }
    let item = cbor::read(presentation).map_err(|e| CompactError::malformed("presentation", e))?;
    let binding = Sign1::read(item, "presentation")?;
    binding.require_typ(TYP_PRESENTATION, "compact presentation")?;
    binding.algorithm()?;
    let kcwt = binding
        .protected
        .kcwt
        .ok_or_else(|| CompactError::malformed("presentation", "no credential (kcwt)"))?;

    let credential = Sign1::read(kcwt, "credential")?;
    credential.require_typ(TYP_CREDENTIAL, "compact credential")?;
    credential.algorithm()?;
    Ok((binding, credential))
}

/// The two signatures a presentation carries, each as `(signed bytes, signature)`: the issuer's
/// over the credential and the holder's over the binding, with the holder's key — the floor a
/// verdict's cost is measured against (`dojang bench`). Nothing is verified.
pub fn signatures(presentation: &[u8]) -> Result<Signatures, CompactError> {
    let (binding, credential) = open(presentation)?;
    let claims = Claims::parse(credential.payload)?;
    let part = |sign1: &Sign1| {
        (
            Sign1::to_be_signed(sign1.protected_bytes, sign1.payload),
            sign1.signature.to_vec(),
        )
    };
    Ok(Signatures {
        issuer: part(&credential),
        holder: part(&binding),
        holder_key: claims.holder_key,
    })
}

/// See [`signatures`].
#[derive(Debug, Clone)]
pub struct Signatures {
    /// The credential's signed bytes and the issuer's signature.
    pub issuer: (Vec<u8>, Vec<u8>),
    /// The binding's signed bytes and the holder's signature.
    pub holder: (Vec<u8>, Vec<u8>),
    /// The holder's key from the credential's `cnf`.
    pub holder_key: PublicKey,
}
