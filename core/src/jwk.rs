//! JSON Web Keys (RFC 7517) for the two key types dojang uses, and RFC 7638 thumbprints.
//!
//! [`Jwk`] is the serde shape; it is turned into a [`PublicKey`] or [`SecretKey`] once, at the
//! edge, and those typed values are what the rest of the code takes. Members dojang does not use
//! (`key_ops`, `x5c`, …) are ignored on input and never emitted.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::b64;
use crate::key::{Algorithm, KeyError, PublicKey, SecretKey};

/// A JSON Web Key, public or private.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `OKP`.
    pub kty: String,
    /// Curve: `P-256` or `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// X coordinate (EC) or the public key (OKP), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The private scalar (EC) or seed (OKP), base64url. Zeroized on drop, never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<Zeroizing<String>>,
    /// Key identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig` or `enc`).
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The public JWK of `key`.
    pub fn from_public_key(key: &PublicKey) -> Self {
        let bytes = key.as_bytes();
        let (kty, crv, x, y) = match key.algorithm() {
            Algorithm::Es256 => (
                "EC",
                "P-256",
                b64::encode(&bytes[1..33]),
                Some(b64::encode(&bytes[33..65])),
            ),
            Algorithm::EdDsa => ("OKP", "Ed25519", b64::encode(bytes), None),
        };
        Jwk {
            kty: kty.to_owned(),
            crv: Some(crv.to_owned()),
            x: Some(x),
            y,
            d: None,
            kid: None,
            alg: None,
            use_: None,
        }
    }

    /// The private JWK of `key`, including `d`.
    pub fn from_secret_key(key: &SecretKey) -> Self {
        let mut jwk = Self::from_public_key(key.public_key());
        jwk.d = Some(Zeroizing::new(b64::encode(key.secret_bytes().as_ref())));
        jwk
    }

    /// This key without its private member.
    pub fn to_public(&self) -> Self {
        Jwk {
            d: None,
            ..self.clone()
        }
    }

    /// The algorithm this JWK's key type implies.
    pub fn algorithm(&self) -> Result<Algorithm, KeyError> {
        let alg = match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some("P-256")) => Algorithm::Es256,
            ("OKP", Some("Ed25519")) => Algorithm::EdDsa,
            (kty, crv) => {
                return Err(KeyError::UnsupportedKeyType {
                    kty: kty.to_owned(),
                    crv: crv.unwrap_or_default().to_owned(),
                });
            }
        };
        if let Some(declared) = &self.alg
            && declared != alg.jose_name()
        {
            return Err(KeyError::JwkAlgorithmMismatch {
                alg: declared.clone(),
            });
        }
        Ok(alg)
    }

    /// Parses the public part into a ready-to-verify key.
    pub fn to_public_key(&self) -> Result<PublicKey, KeyError> {
        let x = || self.coordinate("x", self.x.as_deref());
        match self.algorithm()? {
            Algorithm::Es256 => {
                let x = x()?;
                let y = self.coordinate("y", self.y.as_deref())?;
                let mut point = [0u8; 65];
                point[0] = 0x04;
                point[1..33].copy_from_slice(&x);
                point[33..].copy_from_slice(&y);
                PublicKey::p256_from_sec1(&point)
            }
            Algorithm::EdDsa => PublicKey::ed25519(&x()?),
        }
    }

    /// Parses a private JWK into a signing key, checking that any public members match.
    pub fn to_secret_key(&self) -> Result<SecretKey, KeyError> {
        let alg = self.algorithm()?;
        let d = self.d.as_ref().ok_or(KeyError::NotASecretKey)?;
        let secret = Zeroizing::new(
            b64::decode_array::<32>(d.as_bytes())
                .ok_or(KeyError::InvalidJwkMember { member: "d" })?,
        );
        let key = SecretKey::from_bytes(alg, secret.as_ref())?;
        if self.x.is_some() && &self.to_public_key()? != key.public_key() {
            return Err(KeyError::InconsistentKeyPair);
        }
        Ok(key)
    }

    /// The RFC 7638 JWK thumbprint (SHA-256), base64url.
    pub fn thumbprint(&self) -> Result<String, KeyError> {
        let key = self.to_public_key()?;
        Ok(thumbprint(&key))
    }

    fn coordinate(&self, member: &'static str, value: Option<&str>) -> Result<[u8; 32], KeyError> {
        let value = value.ok_or(KeyError::MissingJwkMember { member })?;
        b64::decode_array::<32>(value).ok_or(KeyError::InvalidJwkMember { member })
    }
}

/// The RFC 7638 thumbprint of a public key, base64url(SHA-256(canonical JWK)).
pub fn thumbprint(key: &PublicKey) -> String {
    let jwk = Jwk::from_public_key(key);
    // RFC 7638 §3: required members only, lexicographic order, no whitespace.
    let canonical = match (&jwk.y, jwk.x.as_deref().unwrap_or_default()) {
        (Some(y), x) => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
        (None, x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
    };
    b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical.as_bytes(),
    ))
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("d", &self.d.as_ref().map(|_| "<redacted>"))
            .field("kid", &self.kid)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_known_answer() {
        // RFC 8037 Appendix A.3: the thumbprint of the Ed25519 example key.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rfc8037_private_key_derives_its_public_key() {
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519",
                "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        let key = jwk.to_secret_key().unwrap();
        assert_eq!(Jwk::from_public_key(key.public_key()), jwk.to_public());
    }

    #[test]
    fn private_and_public_round_trip() {
        for alg in Algorithm::ALL {
            let key = SecretKey::generate(alg).unwrap();
            let jwk = Jwk::from_secret_key(&key);
            let json = serde_json::to_string(&jwk).unwrap();
            let back: Jwk = serde_json::from_str(&json).unwrap();
            assert_eq!(back.to_secret_key().unwrap().public_key(), key.public_key());
            assert_eq!(&jwk.to_public().to_public_key().unwrap(), key.public_key());
            assert!(!format!("{jwk:?}").contains(jwk.d.as_ref().unwrap().as_str()));
        }
    }

    #[test]
    fn bad_jwks_get_specific_errors() {
        let parse = |s: &str| serde_json::from_str::<Jwk>(s).unwrap();
        assert_eq!(
            parse(r#"{"kty":"oct","k":"c2VjcmV0"}"#).to_public_key(),
            Err(KeyError::UnsupportedKeyType {
                kty: "oct".into(),
                crv: String::new()
            })
        );
        assert_eq!(
            parse(r#"{"kty":"EC","crv":"P-256","x":"AAAA"}"#).to_public_key(),
            Err(KeyError::InvalidJwkMember { member: "x" })
        );
        assert_eq!(
            parse(r#"{"kty":"OKP","crv":"Ed25519","alg":"HS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)
                .to_public_key(),
            Err(KeyError::JwkAlgorithmMismatch { alg: "HS256".into() })
        );
        assert_eq!(
            parse(
                r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
            )
            .to_secret_key()
            .err(),
            Some(KeyError::NotASecretKey)
        );
        let other =
            Jwk::from_public_key(SecretKey::generate(Algorithm::EdDsa).unwrap().public_key());
        let mut mixed = Jwk::from_secret_key(&SecretKey::generate(Algorithm::EdDsa).unwrap());
        mixed.x = other.x;
        assert_eq!(
            mixed.to_secret_key().err(),
            Some(KeyError::InconsistentKeyPair)
        );
    }
}
