//! The holder's side: reading a compact credential and presenting chosen claims.

use serde_json::{Map, Value as Json};

use super::cbor::{self, Value};
use super::token::{self, Claims, Disclosure, Sign1, Signed};
use super::{CompactError, MAX_CREDENTIAL_LEN, TYP_CREDENTIAL, TYP_PRESENTATION};
use crate::key::{PublicKey, Signer};
use crate::status::StatusListReference;

/// A compact credential as its holder keeps it: every disclosure present.
pub struct HeldCompact {
    /// The credential's signed parts (its disclosures are `disclosures`).
    pub(super) sign1: Signed,
    issuer: String,
    vct: String,
    issued_at: i64,
    valid_until: Option<i64>,
    holder_key: PublicKey,
    status: Option<StatusListReference>,
    pub(super) disclosures: Vec<Disclosure>,
    revealed: Map<String, Json>,
}

/// What a presentation binds to, besides the credential and the disclosed claims.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// When the presentation is made, Unix seconds. In time-window mode the verifier accepts it
    /// for a short while (60 s by default), so the QR is refreshed.
    pub at: i64,
    /// The verifier's challenge, in challenge mode.
    pub challenge: Option<Challenge<'a>>,
}

/// A verifier's challenge: its identifier and a fresh nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The verifier's identifier (`aud`).
    pub audience: &'a str,
    /// The nonce it showed (`cnonce`).
    pub nonce: &'a [u8],
}

impl HeldCompact {
    /// Reads a credential, checking its structure and that every disclosure belongs to it. The
    /// issuer's signature is the verifier's business (or see [`super::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, CompactError> {
        if bytes.len() > MAX_CREDENTIAL_LEN {
            return Err(CompactError::TooLarge {
                len: bytes.len(),
                max: MAX_CREDENTIAL_LEN,
            });
        }
        let item = cbor::read(bytes).map_err(|e| CompactError::malformed("credential", e))?;
        let sign1 = Sign1::read(item, "credential")?;
        sign1.require_typ(TYP_CREDENTIAL, "compact credential")?;
        sign1.algorithm()?;
        let mut claims = Claims::parse(sign1.payload)?;
        let mut revealed = std::mem::take(&mut claims.visible);
        let carried = token::disclosures(sign1.unprotected)?;
        let names = token::reveal(&mut revealed, &claims.digests, &carried)?;
        let disclosures = carried
            .into_iter()
            .zip(names)
            .map(|(bytes, name)| Disclosure {
                bytes: bytes.to_vec(),
                name: name.to_owned(),
            })
            .collect();
        Ok(HeldCompact {
            sign1: sign1.to_signed(),
            issuer: claims.issuer.to_owned(),
            vct: claims.vct.to_owned(),
            issued_at: claims.issued_at,
            valid_until: claims.valid_until,
            holder_key: claims.holder_key,
            status: claims.status,
            disclosures,
            revealed,
        })
    }

    /// Every claim: the visible ones and the concealed ones the holder can disclose.
    pub fn claims(&self) -> &Map<String, Json> {
        &self.revealed
    }

    /// The names of the claims the holder may disclose or keep back.
    pub fn disclosable(&self) -> Vec<&str> {
        self.disclosures.iter().map(|d| d.name.as_str()).collect()
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The credential type.
    pub fn vct(&self) -> &str {
        &self.vct
    }

    /// Issuance time.
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }

    /// End of validity, if any.
    pub fn valid_until(&self) -> Option<i64> {
        self.valid_until
    }

    /// The key a presentation must be signed with.
    pub fn holder_key(&self) -> &PublicKey {
        &self.holder_key
    }

    /// The status list entry, if any.
    pub fn status(&self) -> Option<&StatusListReference> {
        self.status.as_ref()
    }

    /// A presentation disclosing exactly the claims in `disclose`, bound by `binding` and
    /// signed by `holder` (which must hold the credential's `cnf` key).
    pub fn present(
        &self,
        disclose: &[&str],
        binding: &Binding<'_>,
        holder: &dyn Signer,
    ) -> Result<Vec<u8>, CompactError> {
        if holder.public_key() != &self.holder_key {
            return Err(CompactError::NotTheHolder);
        }
        if let Some(name) = disclose
            .iter()
            .find(|name| !self.disclosures.iter().any(|d| d.name == **name))
        {
            return Err(CompactError::NotDisclosable {
                name: (*name).to_owned(),
            });
        }
        let chosen = self
            .disclosures
            .iter()
            .filter(|d| disclose.contains(&d.name.as_str()))
            .map(|d| d.bytes.clone())
            .collect();
        self.bind(chosen, binding, holder)
    }

    /// The presentation of this credential with `disclosures`, bound and signed by `holder`
    /// — unchecked: [`HeldCompact::present`] makes sure the holder and the claims are right.
    pub(super) fn bind(
        &self,
        disclosures: Vec<Vec<u8>>,
        binding: &Binding<'_>,
        holder: &dyn Signer,
    ) -> Result<Vec<u8>, CompactError> {
        let chosen = disclosures.iter().map(|d| Value::Bytes(d)).collect();
        let credential = self.sign1.to_value(Value::Map(vec![(
            Value::int(token::SD_CLAIMS),
            Value::Array(chosen),
        )]));
        let protected = Value::Map(vec![
            (
                Value::int(token::ALG),
                Value::int(holder.algorithm().cose_id()),
            ),
            (Value::int(token::TYP), Value::int(TYP_PRESENTATION)),
            (Value::int(token::KCWT), credential),
        ])
        .encode();
        let mut claims = vec![(Value::int(token::IAT), Value::int(binding.at))];
        if let Some(challenge) = binding.challenge {
            claims.push((Value::int(token::AUD), Value::Text(challenge.audience)));
            claims.push((Value::int(token::CNONCE), Value::Bytes(challenge.nonce)));
        }
        let payload = Value::Map(claims).encode();
        let signature = holder.sign(&Sign1::to_be_signed(&protected, &payload))?;
        Ok(Signed {
            protected_bytes: protected,
            payload,
            signature,
        }
        .to_value(Value::Map(Vec::new()))
        .encode())
    }
}
