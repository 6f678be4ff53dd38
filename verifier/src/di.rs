//! Offline verification of W3C Data Integrity credentials.
//!
//! Two cryptosuites are accepted: `eddsa-rdfc-2022` (Ed25519) and
//! `ecdsa-rdfc-2019` (P-256). Proofs are checked with SpruceID's
//! `ssi`, but everything it may need is local:
//!
//! * JSON-LD contexts come only from contexts compiled into the binary: the
//!   ones `ssi` bundles (VCDM v1/v2 and their examples, Data Integrity v1/v2,
//!   Multikey, …) plus [`BUNDLED_CONTEXTS`]. Any other context URL fails with
//!   [`DiError::UnknownContext`]; nothing is ever fetched.
//! * Verification methods must be `did:key` URLs, resolved from the key
//!   material in the identifier itself.
//!
//! P-384 keys are refused ([`DiError::UnsupportedCryptosuite`]): `ssi` 0.16's RDF
//! canonicalization always hashes with SHA-256, while `ecdsa-rdfc-2019` with P-384 requires
//! SHA-384, so such proofs could only be judged by luck of blank-node labelling.
//!
//! A VCDM 2.0 credential (first context `https://www.w3.org/ns/credentials/v2`) must also keep
//! every rule of the data model. The structural ones ([`dojang_core::credential`]) are checked
//! before the proof. The three that need JSON-LD — every context processable offline, every
//! term defined, the document expanding without error — hold for any document whose proof
//! verifies, because `ssi` expands the document with a strict policy (undefined terms and
//! invalid IRIs are errors, not dropped) before canonicalizing it; when that fails, the
//! document is expanded again here to name the rule. A broken rule is
//! [`DiError::DataModel`]. [`validate`] runs every check on any document (credential,
//! presentation, enveloped) without a proof, for `dojang credential validate`. VCDM 1.1
//! credentials are verified as before: the 2.0 rules are not theirs.
//!
//! [`verify`] checks the data model and the proof; [`judge`] adds the validity period and that a
//! DID issuer is the key's controller, and the [`Verifier`](crate::Verifier) the accreditation.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{LazyLock, Mutex};

use did_method_key::DIDKey;
use serde_json::{Map, Value};
use ssi_claims_core::{Invalid, ProofValidationError, VerificationParameters};
use ssi_data_integrity::{AnySuite, DataIntegrity, DataIntegrityDocument, DecodeError};
use ssi_dids_core::{DIDResolver, DIDURL, VerificationMethodDIDResolver};
use ssi_json_ld::expansion::Error as ExpansionError;
use ssi_json_ld::syntax::Parse as _;
use ssi_json_ld::{
    CompactJsonLd, ContextLoader, Expandable as _, Iri, JsonLdError, LoadError, Loader,
    RemoteDocument,
};
use ssi_verification_methods::AnyMethod;

use dojang_core::credential::{self, DocumentKind, Rule, Violation};
use dojang_core::verdict::ReasonCode;

/// A Data Integrity credential whose proof verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedDi {
    /// The issuer's id: `issuer` itself when it is a string, else `issuer.id`.
    pub issuer: String,
    /// The credential's `type` values, in document order.
    pub types: Vec<String>,
    /// The proof's cryptosuite: `eddsa-rdfc-2022` or `ecdsa-rdfc-2019`.
    pub cryptosuite: String,
    /// The proof's `verificationMethod` (a `did:key` URL). The caller decides
    /// whether this key speaks for [`issuer`](Self::issuer).
    pub verification_method: String,
    /// The `credentialSubject` object.
    pub claims: Map<String, Value>,
    /// `validFrom` (VCDM 2) or `issuanceDate` (VCDM 1.1), exactly as given.
    pub valid_from: Option<String>,
    /// `validUntil` (VCDM 2) or `expirationDate` (VCDM 1.1), exactly as given.
    pub valid_until: Option<String>,
}

/// Why a document was not accepted as a verified Data Integrity credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiError {
    /// The input is not JSON (or nests deeper than the JSON parser allows).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The input is JSON but not a verifiable credential.
    #[error("not a verifiable credential: {0}")]
    NotACredential(&'static str),
    /// The credential carries no `proof`.
    #[error("the credential has no proof")]
    NoProof,
    /// The proof is not a `DataIntegrityProof` with a supported cryptosuite;
    /// holds the cryptosuite (or proof type) found.
    #[error("unsupported cryptosuite or proof type `{0}`")]
    UnsupportedCryptosuite(String),
    /// A JSON-LD context that is not bundled in the binary; holds its URL.
    #[error("JSON-LD context `{0}` is not bundled (no context is fetched)")]
    UnknownContext(String),
    /// The verification method could not be resolved offline (it is not a
    /// valid `did:key` URL, or the key it names does not exist).
    #[error("cannot resolve verification method: {0}")]
    UnresolvableMethod(String),
    /// The signature does not verify, or the proof value is malformed.
    #[error("invalid proof")]
    InvalidProof,
    /// Anything else structurally wrong with the credential or its proof.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// A VCDM 2.0 credential breaks a rule of the data model.
    #[error("not a valid VCDM 2.0 credential: {0}")]
    DataModel(#[source] Violation),
}

/// The cryptosuites [`verify`] accepts.
pub const SUPPORTED_CRYPTOSUITES: [&str; 2] = ["eddsa-rdfc-2022", "ecdsa-rdfc-2019"];

/// Contexts bundled here in addition to those `ssi` ships: (URL, document).
///
/// * `https://w3id.org/citizenship/v4rc1`: the W3C CCG Citizenship Vocabulary
///   context (w3c-ccg/citizenship-vocab, `contexts/citizenship-v4rc1.jsonld`),
///   used by the W3C Data Integrity test vectors' "employ" credentials.
/// * `https://www.w3.org/ns/credentials/undefined-terms/v2`: the context VCDM 2.0 §5.2.1
///   requires last in documents whose contexts do not define every term they use (its
///   normative content, from w3c/vc-data-model `contexts/credentials/undefined-terms/v2`).
pub const BUNDLED_CONTEXTS: [(&str, &str); 2] = [
    (
        "https://w3id.org/citizenship/v4rc1",
        include_str!("contexts/citizenship-v4rc1.jsonld"),
    ),
    (
        "https://www.w3.org/ns/credentials/undefined-terms/v2",
        r#"{"@context": {"@vocab": "https://www.w3.org/ns/credentials/undefined-term#"}}"#,
    ),
];

/// Deepest JSON nesting accepted; real credentials stay far below it.
const MAX_DEPTH: usize = 64;

/// Most JSON objects without an `id` that look alike, in a document verified. Such objects
/// are blank nodes once the document is RDF, and canonicalization (RDFC-1.0, inside `ssi`, with
/// no limit of its own) labels a blank node at once only when what it holds and where it hangs
/// tell it apart from the others; for those that look alike it tries permutations —
/// exponentially many. A 1.5 KB credential holding three alike objects of eight alike objects
/// each cost `ssi` over nine minutes of CPU. Real credentials have few or none.
pub const MAX_ALIKE_BLANK_NODES: usize = 8;

const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
const BASE58BTC: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// `ssi`'s static contexts plus [`BUNDLED_CONTEXTS`], built once.
static CONTEXTS: LazyLock<Result<ContextLoader, String>> = LazyLock::new(|| {
    let extra = BUNDLED_CONTEXTS
        .iter()
        .map(|(url, doc)| ((*url).to_owned(), (*doc).to_owned()))
        .collect();
    ContextLoader::default()
        .with_context_map_from(extra)
        .map_err(|e| format!("a bundled JSON-LD context is invalid: {e}"))
});

/// Verifies the Data Integrity proof of the credential in `document`, offline.
///
/// Accepts one `DataIntegrityProof` (a one-element proof array too) using
/// `eddsa-rdfc-2022` or `ecdsa-rdfc-2019` with `proofPurpose`
/// `assertionMethod` and a `did:key` verification method. A VCDM 2.0 credential must first
/// keep every rule of the data model ([`DiError::DataModel`]). Time validity is
/// not checked. This is a blocking call (CPU only, no I/O); it may be called
/// from any thread, including inside an async runtime.
pub fn verify(document: &str) -> Result<VerifiedDi, DiError> {
    // `ssi` and its JSON-LD stack are not ours; make sure a panic in them can
    // never escape to the caller as anything but an error.
    catch_unwind(AssertUnwindSafe(|| verify_inner(document))).unwrap_or_else(|_| {
        Err(DiError::Malformed(
            "internal error while verifying the proof".to_owned(),
        ))
    })
}

/// True if `text` looks like a JSON credential with a `DataIntegrityProof`
/// (a cheap sniff: nothing is parsed as JSON-LD and nothing is verified).
pub fn looks_like_data_integrity(text: &str) -> bool {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{')
        || !trimmed.contains("\"proof\"")
        || !trimmed.contains("DataIntegrityProof")
    {
        return false;
    }
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(trimmed) else {
        return false;
    };
    match doc.get("proof") {
        Some(Value::Object(proof)) => is_data_integrity_proof(proof),
        Some(Value::Array(proofs)) => proofs
            .iter()
            .any(|p| p.as_object().is_some_and(is_data_integrity_proof)),
        _ => false,
    }
}

fn is_data_integrity_proof(proof: &Map<String, Value>) -> bool {
    proof.get("type").and_then(Value::as_str) == Some("DataIntegrityProof")
}

fn verify_inner(document: &str) -> Result<VerifiedDi, DiError> {
    let value: Value =
        serde_json::from_str(document).map_err(|e| DiError::NotJson(e.to_string()))?;
    let Value::Object(doc) = &value else {
        return Err(DiError::NotACredential("not a JSON object"));
    };
    if depth(&value) > MAX_DEPTH {
        return Err(DiError::Malformed(format!(
            "JSON nests deeper than {MAX_DEPTH} levels"
        )));
    }
    check_blank_nodes(&value)?;

    let credential = read_credential(doc)?;
    let proof = read_proof(doc)?;

    // `ssi` gets exactly the value read above, re-serialized, so what it
    // verifies is what is returned (duplicate keys, for one, are gone).
    let reserialized = serde_json::to_string(&value)
        .map_err(|e| DiError::Malformed(format!("cannot re-serialize the document: {e}")))?;
    if credential.vcdm2 {
        credential::Credential::from_json(&value).map_err(|e| match e {
            credential::CredentialError::Invalid(violation) => DiError::DataModel(violation),
            other => DiError::Malformed(other.to_string()),
        })?;
    }
    match futures::executor::block_on(check_proof(&reserialized, &proof.verification_method)) {
        // `ssi` expands the document with the same strict policy as `json_ld_rules` before
        // it canonicalizes, so a document that breaks a JSON-LD rule never verifies; only then
        // is it expanded again, to say which rule. (Expanding every document twice would add
        // a fifth to a third to every verification.)
        Err(DiError::Malformed(why)) if credential.vcdm2 => {
            return Err(
                match futures::executor::block_on(json_ld_rules(&reserialized)) {
                    Err(JsonLdFailure::Broken(violation)) => DiError::DataModel(violation),
                    _ => DiError::Malformed(why),
                },
            );
        }
        outcome => outcome?,
    }

    Ok(VerifiedDi {
        issuer: credential.issuer,
        types: credential.types,
        cryptosuite: proof.cryptosuite,
        verification_method: proof.verification_method,
        claims: credential.claims,
        valid_from: credential.valid_from,
        valid_until: credential.valid_until,
    })
}

/// The credential fields read before any cryptography.
struct Credential {
    /// The first context is VCDM 2.0's (else 1.1's).
    vcdm2: bool,
    issuer: String,
    types: Vec<String>,
    claims: Map<String, Value>,
    valid_from: Option<String>,
    valid_until: Option<String>,
}

fn read_credential(doc: &Map<String, Value>) -> Result<Credential, DiError> {
    let first_context = match doc.get("@context") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        _ => return Err(DiError::NotACredential("no @context")),
    };
    if !matches!(first_context, Some(CREDENTIALS_V1 | CREDENTIALS_V2)) {
        return Err(DiError::NotACredential(
            "the first @context is not the VCDM v1 or v2 context",
        ));
    }

    let types = match doc.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(DiError::NotACredential("a `type` value is not a string"))?,
        _ => return Err(DiError::NotACredential("no `type`")),
    };
    if !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(DiError::NotACredential(
            "`type` does not include VerifiableCredential",
        ));
    }

    let issuer = match doc.get("issuer") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(DiError::NotACredential(
                    "the issuer object has no string `id`",
                ));
            }
        },
        _ => return Err(DiError::NotACredential("no `issuer`")),
    };

    let claims = match doc.get("credentialSubject") {
        Some(Value::Object(o)) => o.clone(),
        Some(Value::Array(items)) => match items.as_slice() {
            [Value::Object(o)] => o.clone(),
            _ => {
                return Err(DiError::Malformed(
                    "only a single credentialSubject object is supported".to_owned(),
                ));
            }
        },
        _ => return Err(DiError::NotACredential("no credentialSubject object")),
    };

    Ok(Credential {
        vcdm2: first_context == Some(CREDENTIALS_V2),
        issuer,
        types,
        claims,
        valid_from: date(doc, "validFrom", "issuanceDate")?,
        valid_until: date(doc, "validUntil", "expirationDate")?,
    })
}

/// The first of `v2_name` / `v1_name` present, which must be a string.
fn date(doc: &Map<String, Value>, v2_name: &str, v1_name: &str) -> Result<Option<String>, DiError> {
    for name in [v2_name, v1_name] {
        match doc.get(name) {
            None => {}
            Some(Value::String(s)) => return Ok(Some(s.clone())),
            Some(_) => return Err(DiError::Malformed(format!("`{name}` is not a string"))),
        }
    }
    Ok(None)
}

/// Checks `document` against every rule of VCDM 2.0, offline: the structural rules
/// ([`credential::validate_document`]: a credential, presentation or enveloped one, as its
/// `type` says), then the rules that need JSON-LD ([`Rule::needs_json_ld`]) by expanding it
/// with `ssi`'s strict policy and only the bundled contexts. Proofs are not checked. A
/// blocking call (CPU only, no I/O), like [`verify`].
pub fn validate(document: &Value) -> Result<DocumentKind, Violation> {
    let kind = credential::validate_document(document)?;
    let text = serde_json::to_string(document).map_err(|e| {
        Violation::new(Rule::DocumentObject, "").found(format!("cannot serialize: {e}"))
    })?;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(json_ld_rules(&text))
    }))
    .unwrap_or_else(|_| {
        Err(JsonLdFailure::Internal(
            "internal error while expanding the document".to_owned(),
        ))
    });
    match outcome {
        Ok(()) => Ok(kind),
        Err(JsonLdFailure::UnknownContext(url)) => {
            Err(
                Violation::new(Rule::ContextProcessable, "/@context").found(format!(
                    "`{url}` is not a bundled context (no context is fetched)"
                )),
            )
        }
        Err(JsonLdFailure::Broken(violation)) => Err(violation),
        Err(JsonLdFailure::Internal(why)) => {
            Err(Violation::new(Rule::JsonLdExpansion, "").found(why))
        }
    }
}

/// Why JSON-LD expansion refused a document.
enum JsonLdFailure {
    /// A context that is not bundled; holds its URL.
    UnknownContext(String),
    /// A rule of the data model is broken.
    Broken(Violation),
    /// The bundled contexts or the JSON-LD processor failed, not the document.
    Internal(String),
}

/// The rules of VCDM 2.0 that need JSON-LD: `json` expands, under contexts served only from
/// memory, with every term and type defined and every IRI valid. This is the expansion `ssi`'s
/// Data Integrity suites perform before canonicalizing (`CompactJsonLd`, invalid IRIs
/// rejected, undefined terms refused), so the two agree on what breaks these rules.
async fn json_ld_rules(json: &str) -> Result<(), JsonLdFailure> {
    let contexts = CONTEXTS
        .as_ref()
        .map_err(|e| JsonLdFailure::Internal(e.clone()))?;
    let loader = OfflineLoader {
        contexts,
        missing: Mutex::new(None),
    };
    let (document, _) = ssi_json_ld::syntax::Value::parse_str(json)
        .map_err(|e| JsonLdFailure::Internal(format!("cannot re-read the document: {e}")))?;
    let outcome = CompactJsonLd(document).expand(&loader).await;
    if let Some(DiError::UnknownContext(url)) = loader.unknown_context() {
        return Err(JsonLdFailure::UnknownContext(url));
    }
    let error = match outcome {
        Ok(_) => return Ok(()),
        Err(JsonLdError::Expansion(error)) => error,
        Err(other) => return Err(JsonLdFailure::Internal(other.to_string())),
    };
    let broken = match &error {
        ExpansionError::ContextSyntax(_) | ExpansionError::ContextProcessing(_) => {
            Violation::new(Rule::ContextProcessable, "/@context")
        }
        ExpansionError::KeyExpansionFailed(term) => {
            Violation::new(Rule::TermsDefined, "").found(format!("`{term}` is not defined"))
        }
        ExpansionError::InvalidTypeValue => Violation::new(Rule::TermsDefined, "")
            .found("a type does not expand to a URL".to_owned()),
        _ => Violation::new(Rule::JsonLdExpansion, ""),
    };
    let broken = if broken.found.is_some() {
        broken
    } else {
        broken.found(error.to_string())
    };
    Err(JsonLdFailure::Broken(broken))
}

/// The proof fields read before any cryptography.
struct ProofInfo {
    cryptosuite: String,
    verification_method: String,
}

fn read_proof(doc: &Map<String, Value>) -> Result<ProofInfo, DiError> {
    let proof = match doc.get("proof") {
        None | Some(Value::Null) => return Err(DiError::NoProof),
        Some(Value::Object(p)) => p,
        Some(Value::Array(items)) => match items.as_slice() {
            [] => return Err(DiError::NoProof),
            [Value::Object(p)] => p,
            [_] => return Err(DiError::Malformed("the proof is not an object".to_owned())),
            _ => {
                return Err(DiError::Malformed(
                    "proof sets and chains (several proofs) are not supported".to_owned(),
                ));
            }
        },
        Some(_) => return Err(DiError::Malformed("the proof is not an object".to_owned())),
    };

    let proof_type = match proof.get("type") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(DiError::Malformed(
                "the proof has no string `type`".to_owned(),
            ));
        }
    };
    if proof_type != "DataIntegrityProof" {
        return Err(DiError::UnsupportedCryptosuite(proof_type.to_owned()));
    }
    let cryptosuite = match proof.get("cryptosuite") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(DiError::Malformed(
                "the proof has no string `cryptosuite`".to_owned(),
            ));
        }
    };
    if !SUPPORTED_CRYPTOSUITES.contains(&cryptosuite.as_str()) {
        return Err(DiError::UnsupportedCryptosuite(cryptosuite));
    }

    match proof.get("proofPurpose") {
        Some(Value::String(s)) if s == "assertionMethod" => {}
        _ => {
            return Err(DiError::Malformed(
                "the proof's purpose is not assertionMethod".to_owned(),
            ));
        }
    }

    let verification_method = match proof.get("verificationMethod") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(DiError::UnresolvableMethod(
                "verificationMethod is not a URL string".to_owned(),
            ));
        }
        None => {
            return Err(DiError::Malformed(
                "the proof has no verificationMethod".to_owned(),
            ));
        }
    };
    if !is_did_key_url(&verification_method) {
        return Err(DiError::UnresolvableMethod(format!(
            "`{verification_method}` is not a did:key URL with a fragment (only did:key is resolvable offline)"
        )));
    }
    // P-384 Multikeys (`z82…`): ssi 0.16 canonicalizes with SHA-256 where ecdsa-rdfc-2019
    // with P-384 requires SHA-384, so such proofs are refused as a suite we do not support
    // rather than misjudged.
    if cryptosuite == "ecdsa-rdfc-2019" && verification_method.starts_with("did:key:z82") {
        return Err(DiError::UnsupportedCryptosuite(
            "ecdsa-rdfc-2019 with a P-384 key".to_owned(),
        ));
    }

    // Both suites encode the signature as multibase base58btc ('z' prefix).
    match proof.get("proofValue") {
        Some(Value::String(s))
            if s.len() > 1
                && s.starts_with('z')
                && s[1..].chars().all(|c| BASE58BTC.contains(c)) => {}
        _ => return Err(DiError::InvalidProof),
    }

    Ok(ProofInfo {
        cryptosuite,
        verification_method,
    })
}

/// `did:key:<multibase key>#<fragment>`, the only form resolvable offline.
fn is_did_key_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("did:key:") else {
        return false;
    };
    match rest.split_once('#') {
        Some((id, fragment)) => {
            !id.is_empty()
                && !fragment.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric())
                && fragment.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Bounds the work of canonicalizing `value` (see [`MAX_ALIKE_BLANK_NODES`]): no blank node
/// identifiers (`_:…`, which could tie objects into cycles), and at most that many objects
/// without an `id` alike at first degree — the same key above them, whether what holds them
/// has an `id`, the same plain values, the same keys to objects below. That is what the first
/// canonicalization step sees of a blank node, so objects it does not tell apart look alike
/// here too (some that it does may also, which only errs on the side of refusing).
fn check_blank_nodes(value: &Value) -> Result<(), DiError> {
    let mut looks: HashMap<String, usize> = HashMap::new();
    // (value, the key it hangs under, whether its holder is a blank node)
    let mut stack = vec![(value, "", false)];
    while let Some((v, key, under_blank)) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, key, under_blank))),
            Value::Object(map) => {
                let id = map.get("id").or_else(|| map.get("@id"));
                if let Some(Value::String(id)) = id
                    && id.starts_with("_:")
                {
                    return Err(DiError::Malformed(
                        "blank node identifiers (`_:`) are not accepted".into(),
                    ));
                }
                let blank = id.is_none() && !map.contains_key("@value");
                if blank {
                    let mut plain = Vec::new();
                    let mut below = Vec::new();
                    for (k, v) in map {
                        match v {
                            Value::Object(_) => below.push(k.as_str()),
                            Value::Array(items) if items.iter().any(Value::is_object) => {
                                below.push(k.as_str());
                            }
                            other => plain.push(format!("{k}={other}")),
                        }
                    }
                    plain.sort();
                    below.sort();
                    let look = format!("{key}|{under_blank}|{plain:?}|{below:?}");
                    *looks.entry(look).or_default() += 1;
                }
                stack.extend(map.iter().map(|(k, v)| (v, k.as_str(), blank)));
            }
            _ => {}
        }
    }
    let alike: usize = looks.values().filter(|&&n| n > 1).sum();
    if alike > MAX_ALIKE_BLANK_NODES {
        return Err(DiError::Malformed(format!(
            "{alike} objects without an id look alike; at most {MAX_ALIKE_BLANK_NODES} are \
             accepted (canonicalizing more costs exponential time)"
        )));
    }
    Ok(())
}

/// JSON nesting depth, computed without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// Runs `ssi`'s Data Integrity verification on `json` (already checked to
/// carry one supported proof with a did:key method).
async fn check_proof(json: &str, verification_method: &str) -> Result<(), DiError> {
    let contexts = CONTEXTS
        .as_ref()
        .map_err(|e| DiError::Malformed(e.clone()))?;
    let loader = OfflineLoader {
        contexts,
        missing: Mutex::new(None),
    };

    // `DataIntegrityDocument` has no claims validation: the credential's
    // validity period is left to the caller.
    let secured: DataIntegrity<DataIntegrityDocument, AnySuite> =
        match ssi_data_integrity::from_json_str(json) {
            Ok(secured) => secured,
            Err(DecodeError::Syntax(e)) => {
                return Err(DiError::Malformed(format!("cannot decode the proof: {e}")));
            }
            Err(DecodeError::ProofPreparation(e)) => {
                return Err(DiError::Malformed(format!("cannot prepare the proof: {e}")));
            }
        };

    resolve_did_key(verification_method).await?;
    let resolver = VerificationMethodDIDResolver::<DIDKey, AnyMethod>::new(DIDKey);
    let params = VerificationParameters::from_resolver(resolver).with_json_ld_loader(&loader);
    let outcome = secured.verify(&params).await;

    // A missing context explains whatever error followed it.
    if let Some(e) = loader.unknown_context() {
        return Err(e);
    }
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Invalid::Proof(_))) => Err(DiError::InvalidProof),
        Ok(Err(Invalid::Claims(e))) => Err(DiError::Malformed(e.to_string())),
        Err(e) => Err(map_validation_error(e, verification_method)),
    }
}

/// Checks that `verification_method` names a key of its did:key document, so
/// that an unusable method is reported as such rather than as a bad proof.
async fn resolve_did_key(verification_method: &str) -> Result<(), DiError> {
    let unresolvable =
        |why: String| DiError::UnresolvableMethod(format!("`{verification_method}`: {why}"));
    let url = DIDURL::new(verification_method.as_bytes())
        .map_err(|_| unresolvable("not a DID URL".to_owned()))?;
    let dereferenced = DIDKey
        .dereference(url)
        .await
        .map_err(|e| unresolvable(e.to_string()))?;
    dereferenced
        .content
        .into_verification_method()
        .map(drop)
        .map_err(|_| unresolvable("does not name a verification method".to_owned()))
}

fn map_validation_error(e: ProofValidationError, verification_method: &str) -> DiError {
    use ProofValidationError as E;
    match e {
        E::InvalidProof | E::InvalidSignature | E::MissingSignature | E::InvalidKeyUse => {
            DiError::InvalidProof
        }
        E::UnknownKey
        | E::InvalidKey
        | E::MissingPublicKey
        | E::AmbiguousPublicKey
        | E::UnsupportedKeyController(_)
        | E::KeyControllerNotFound(_)
        | E::InvalidKeyController
        | E::InvalidVerificationMethod(_) => {
            DiError::UnresolvableMethod(format!("`{verification_method}`: {e}"))
        }
        other => DiError::Malformed(other.to_string()),
    }
}

/// JSON-LD document loader that only knows compiled-in contexts and records
/// the first URL it could not serve.
struct OfflineLoader<'a> {
    contexts: &'a ContextLoader,
    missing: Mutex<Option<String>>,
}

impl OfflineLoader<'_> {
    fn unknown_context(&self) -> Option<DiError> {
        let missing = self.missing.lock().ok()?;
        missing.clone().map(DiError::UnknownContext)
    }
}

impl Loader for OfflineLoader<'_> {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument, LoadError> {
        let result = self.contexts.load(url).await;
        if result.is_err()
            && let Ok(mut missing) = self.missing.lock()
        {
            missing.get_or_insert_with(|| url.as_str().to_owned());
        }
        result
    }
}

impl DiError {
    /// The verdict's reason code for this failure.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            DiError::NoProof | DiError::InvalidProof => ReasonCode::SignatureInvalid,
            DiError::UnsupportedCryptosuite(_) => ReasonCode::UnsupportedAlgorithm,
            DiError::UnknownContext(_) => ReasonCode::UnsupportedFormat,
            DiError::UnresolvableMethod(_) => ReasonCode::IssuerUnknown,
            DiError::NotJson(_)
            | DiError::NotACredential(_)
            | DiError::Malformed(_)
            | DiError::DataModel(_) => ReasonCode::MalformedCredential,
        }
    }
}

impl VerifiedDi {
    /// The most specific type: the last one that is not `VerifiableCredential`.
    pub fn most_specific_type(&self) -> &str {
        self.types
            .iter()
            .rev()
            .find(|t| *t != "VerifiableCredential")
            .map_or("VerifiableCredential", String::as_str)
    }

    /// The DID whose key made the proof: the verification method without its fragment.
    pub fn signer(&self) -> &str {
        self.verification_method
            .split_once('#')
            .map_or(self.verification_method.as_str(), |(did, _)| did)
    }
}

/// What rejects the credential at `now` besides its proof: a validity period that has not
/// begun or has ended, an unreadable date, or an issuer DID other than the key's controller.
pub fn judge(verified: &VerifiedDi, now: i64, leeway: i64) -> Option<(ReasonCode, String)> {
    if verified.issuer.starts_with("did:") && verified.issuer != verified.signer() {
        return Some((
            ReasonCode::SignatureInvalid,
            format!(
                "the proof was made by {}, not by the issuer {}",
                verified.signer(),
                verified.issuer
            ),
        ));
    }
    let parse = |text: &str| {
        credential::parse_datetime(text).ok_or_else(|| {
            (
                ReasonCode::MalformedCredential,
                format!("`{text}` is not a date-time with a time zone"),
            )
        })
    };
    let check = || -> Result<(), (ReasonCode, String)> {
        if let Some(from) = verified.valid_from.as_deref() {
            let from_secs = parse(from)?;
            if from_secs > now + leeway {
                return Err((ReasonCode::NotYetValid, format!("valid from {from}")));
            }
        }
        if let Some(until) = verified.valid_until.as_deref() {
            let until_secs = parse(until)?;
            if until_secs <= now - leeway {
                return Err((ReasonCode::Expired, format!("valid until {until}")));
            }
        }
        Ok(())
    };
    check().err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Every bundled context parses, and loading is purely in-memory: each
    /// load completes on its first poll, so no I/O can have been awaited.
    #[test]
    fn loader_is_static_only() {
        let contexts = CONTEXTS.as_ref().expect("bundled contexts parse");
        let loader = OfflineLoader {
            contexts,
            missing: Mutex::new(None),
        };
        let mut cx = Context::from_waker(Waker::noop());
        for url in [
            CREDENTIALS_V1,
            CREDENTIALS_V2,
            "https://w3id.org/security/data-integrity/v2",
            "https://w3id.org/citizenship/v4rc1",
            "https://www.w3.org/ns/credentials/undefined-terms/v2",
        ] {
            let iri = Iri::new(url).expect("valid IRI");
            let mut fut = pin!(loader.load(iri));
            assert!(
                matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(_))),
                "{url}"
            );
        }
        let unknown = Iri::new("https://example.org/unknown-context/v1").expect("valid IRI");
        let mut fut = pin!(loader.load(unknown));
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
        assert!(matches!(
            loader.unknown_context(),
            Some(DiError::UnknownContext(u)) if u == "https://example.org/unknown-context/v1"
        ));
    }

    #[test]
    fn did_key_url_shape() {
        assert!(is_did_key_url("did:key:z6Mkabc#z6Mkabc"));
        assert!(!is_did_key_url("did:key:z6Mkabc"));
        assert!(!is_did_key_url("did:web:example.com#key-1"));
        assert!(!is_did_key_url("did:key:z6M/k#x"));
    }
}
