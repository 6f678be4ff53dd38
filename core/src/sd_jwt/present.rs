//! The holder's side: reading an issued SD-JWT and presenting a chosen subset of its claims with
//! a Key Binding JWT.

use serde_json::{Map, Value};

use super::reveal::reveal;
use super::{ClaimPath, Disclosure, KB_JWT_TYP, Parts, SdJwtError, digest};
use crate::jws::{self, Jws, JwsHeader};
use crate::key::Signer;

/// An SD-JWT as its holder keeps it: every disclosure, and where each one sits.
///
/// Parsing does not check the issuer's signature; a wallet verifies a credential with
/// [`super::verify`] when it receives it and keeps it only if that succeeds.
#[derive(Debug, Clone)]
pub struct HeldSdJwt {
    issuer_jwt: String,
    disclosures: Vec<Disclosure>,
    paths: Vec<ClaimPath>,
    claims: Map<String, Value>,
}

/// What the holder signs into a Key Binding JWT.
pub struct KeyBindingInput<'a> {
    /// The holder key matching the credential's `cnf`.
    pub signer: &'a dyn Signer,
    /// The verifier, as `aud`.
    pub audience: &'a str,
    /// The verifier's challenge.
    pub nonce: &'a str,
    /// Unix time of the presentation, as `iat`.
    pub issued_at: i64,
}

impl HeldSdJwt {
    /// Reads an issued SD-JWT (any key binding JWT on it is dropped).
    pub fn parse(sd_jwt: &str) -> Result<Self, SdJwtError> {
        let parts = Parts::split(sd_jwt)?;
        let payload: Map<String, Value> = Jws::parse(parts.issuer_jwt)?.payload_json()?;
        let disclosures = parts.decode_disclosures()?;
        let revealed = reveal(payload, disclosures.clone())?;
        Ok(HeldSdJwt {
            issuer_jwt: parts.issuer_jwt.to_owned(),
            disclosures,
            paths: revealed.paths,
            claims: revealed.claims,
        })
    }

    /// All claims, as they appear with every disclosure revealed.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The paths of the selectively disclosable claims, outermost first.
    pub fn disclosable_paths(&self) -> Vec<&ClaimPath> {
        let mut paths: Vec<&ClaimPath> = self.paths.iter().collect();
        paths.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        paths
    }

    /// Builds a presentation disclosing the claims at `disclose`.
    ///
    /// A path discloses the claim there, everything beneath it, and the disclosures of its
    /// ancestors (without which the verifier could not place it). Paths that name no
    /// disclosable claim disclose nothing. With `key_binding`, a KB-JWT is appended.
    pub fn present(
        &self,
        disclose: &[ClaimPath],
        key_binding: Option<KeyBindingInput<'_>>,
    ) -> Result<String, SdJwtError> {
        let mut out = String::with_capacity(self.issuer_jwt.len() + 512);
        out.push_str(&self.issuer_jwt);
        out.push('~');
        for (disclosure, path) in self.disclosures.iter().zip(&self.paths) {
            if disclose.iter().any(|wanted| wanted.is_related_to(path)) {
                out.push_str(&disclosure.encoded);
                out.push('~');
            }
        }
        if let Some(kb) = key_binding {
            let claims = serde_json::json!({
                "iat": kb.issued_at,
                "aud": kb.audience,
                "nonce": kb.nonce,
                "sd_hash": digest(&out),
            });
            let payload = claims.to_string();
            let jwt = jws::sign(
                JwsHeader::new(Some(KB_JWT_TYP), None),
                payload.as_bytes(),
                kb.signer,
            )?;
            out.push_str(&jwt);
        }
        Ok(out)
    }
}
