//! mdoc fixtures: an issuing authority's root (IACA) and a document signer's certificate for a
//! given key, and a mobile ID's elements.

#![allow(clippy::unwrap_used)]

use dojang_core::key::{Algorithm, PublicKey, SecretKey};
use dojang_mdoc::{
    Authority, DocumentSigner, Element, ElementValue, document_signer_certificate, iaca_certificate,
};

/// The mobile ID's mdoc document type (and its one namespace).
pub const DOC_TYPE: &str = "kr.go.mois.mobile_id.1";

/// The test authority.
pub const AUTHORITY: Authority<'static> = Authority {
    common_name: "dojang test IACA",
    country: "KR",
    url: "https://registry.dojang.example/iaca",
    crl_url: "https://registry.dojang.example/iaca/crl",
};

/// An IACA root and a document signer's certificate under it.
pub struct Pki {
    /// The root's DER.
    pub iaca: Vec<u8>,
    /// The root's key.
    pub iaca_key: SecretKey,
    /// The document signer's DER.
    pub ds: Vec<u8>,
}

/// A fresh IACA (valid from a day before `now`, ten years) and a document signer's certificate
/// for `signer_key` (valid from an hour before `now`, a year).
pub fn pki(signer_key: &PublicKey, now: i64) -> Pki {
    let iaca_key = SecretKey::generate(Algorithm::Es256).unwrap();
    let iaca = iaca_certificate(&AUTHORITY, &iaca_key, now - 86_400, 3650).unwrap();
    let ds = document_signer_certificate(
        &AUTHORITY,
        &iaca,
        &iaca_key,
        &DocumentSigner {
            common_name: "document signer",
            uri: None,
            key: signer_key,
            not_before: now - 3600,
            days: 365,
        },
    )
    .unwrap();
    Pki { iaca, iaca_key, ds }
}

/// A mobile ID's elements: names, birth date, an age flag, a document number.
pub fn mobile_id_elements() -> Vec<Element> {
    let element = |identifier: &str, value| Element {
        namespace: DOC_TYPE.into(),
        identifier: identifier.into(),
        value,
    };
    vec![
        element("family_name", ElementValue::Text("김".into())),
        element("given_name", ElementValue::Text("민지".into())),
        element("birthdate", ElementValue::FullDate("1994-03-15".into())),
        element("age_over_19", ElementValue::Bool(true)),
        element("document_number", ElementValue::Text("M12345678".into())),
    ]
}
