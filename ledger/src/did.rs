//! The `did:dojang` method: identifiers derived from a DID's first key, and the documents the
//! ledger's `did.create` and `did.update` entries carry. The one place they are built.

use dojang_core::did::{
    Did, DidDocument, DidUrl, Relationship, VerificationMethod, VerificationRelationship,
};
use dojang_core::key::PublicKey;

/// Every relationship a `did:dojang` key can hold.
pub const EVERY_RELATIONSHIP: &[Relationship] = &[
    Relationship::AssertionMethod,
    Relationship::Authentication,
    Relationship::CapabilityInvocation,
];

/// The fragment of a document's first key, as dojang's tools create it.
pub const FIRST_KEY: &str = "key-1";

/// The `did:dojang` identifier for a document whose first key is `key`: the base58 of the first
/// 16 bytes of the SHA-256 of the key's compact encoding.
pub fn dojang_did(key: &PublicKey) -> Did {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key.to_compact_bytes());
    let id = bs58::encode(&digest.as_ref()[..16]).into_string();
    // Base58 digits are valid method-specific-id characters.
    #[allow(clippy::expect_used)]
    Did::parse(&format!("did:dojang:{id}")).expect("base58 is a valid DID id")
}

/// A `did:dojang` document with the given keys: each `(fragment, key, relationships)` becomes a
/// Multikey verification method referenced from those relationships.
pub fn dojang_document(did: &Did, keys: &[(&str, &PublicKey, &[Relationship])]) -> DidDocument {
    let mut document = DidDocument::new(did.clone(), "https://w3id.org/security/multikey/v1");
    for (fragment, key, relationships) in keys {
        let id = format!("{did}#{fragment}");
        document
            .verification_method
            .push(VerificationMethod::multikey(id.clone(), did, key));
        for relationship in *relationships {
            let list = match relationship {
                Relationship::AssertionMethod => &mut document.assertion_method,
                Relationship::Authentication => &mut document.authentication,
                Relationship::CapabilityInvocation => &mut document.capability_invocation,
            };
            list.push(VerificationRelationship::Reference(id.clone()));
        }
    }
    document
}

/// A new `did:dojang` for `key` with `relationships`: its document, with `key` as `#key-1`, and
/// that key's DID URL (what the `did.create` entry names as its signer).
pub fn first_key_document(
    key: &PublicKey,
    relationships: &[Relationship],
) -> (DidDocument, DidUrl) {
    let did = dojang_did(key);
    let document = dojang_document(&did, &[(FIRST_KEY, key, relationships)]);
    (document, did.with_fragment(FIRST_KEY))
}
