//! The structural rules of VCDM 2.0, checked on the JSON itself.
//!
//! Each check walks the document in the order of [`Rule::ALL`] and stops at the first broken
//! rule, naming it and the JSON Pointer of the offending value. The checks read `serde_json`
//! values rather than the typed [`Credential`](super::Credential): a document that breaks a
//! rule often cannot be represented by the type at all (an `id` that is an array, an `issuer`
//! that is `null`), and the error must still say which rule it broke.

use serde_json::{Map, Value};

use super::Rule as R;
use super::{CONTEXT_V2, DocumentKind, Rule, Violation, parse_date_time_stamp};

type Checked = Result<(), Violation>;

const ENVELOPED_CREDENTIAL: &str = "EnvelopedVerifiableCredential";
const ENVELOPED_PRESENTATION: &str = "EnvelopedVerifiablePresentation";

/// Properties whose values are objects that must each have a `type` (§4.5's table, §5.10).
const TYPED_PROPERTIES: [(&str, Rule); 6] = [
    ("credentialStatus", R::CredentialStatusType),
    ("evidence", R::EvidenceType),
    ("refreshService", R::RefreshServiceType),
    ("termsOfUse", R::TermsOfUseType),
    ("confidenceMethod", R::ReservedExtensionType),
    ("renderMethod", R::ReservedExtensionType),
];

/// Which kind of document `value` claims to be (by its `type`), checked as that kind.
pub(super) fn document(value: &Value) -> Result<DocumentKind, Violation> {
    let map = object(value, "", R::DocumentObject)?;
    let kind = kind_of(map);
    match kind {
        DocumentKind::Credential => credential(map, ""),
        DocumentKind::Presentation => presentation(map, ""),
        DocumentKind::EnvelopedCredential | DocumentKind::EnvelopedPresentation => {
            enveloped(map, "")
        }
    }?;
    Ok(kind)
}

fn kind_of(map: &Map<String, Value>) -> DocumentKind {
    let has = |name: &str| type_strings(map).any(|t| t == name);
    if has("VerifiablePresentation") {
        DocumentKind::Presentation
    } else if has("VerifiableCredential") {
        DocumentKind::Credential
    } else if has(ENVELOPED_PRESENTATION) {
        DocumentKind::EnvelopedPresentation
    } else if has(ENVELOPED_CREDENTIAL) {
        DocumentKind::EnvelopedCredential
    } else {
        // The type checks below report what is missing.
        DocumentKind::Credential
    }
}

/// A verifiable credential at `at` (a JSON Pointer; `""` for the document itself).
pub(super) fn credential_value(value: &Value, at: &str) -> Checked {
    credential(object(value, at, R::DocumentObject)?, at)
}

/// A verifiable presentation at `at`.
pub(super) fn presentation_value(value: &Value, at: &str) -> Checked {
    presentation(object(value, at, R::DocumentObject)?, at)
}

fn credential(map: &Map<String, Value>, at: &str) -> Checked {
    contexts(map, at)?;
    types(map, at, "VerifiableCredential")?;
    optional_id(map, at)?;
    issuer(map, at)?;
    subjects(map, at)?;
    validity(map, at)?;
    names(map, at)?;
    for (property, rule) in TYPED_PROPERTIES {
        typed_objects(map, at, property, rule)?;
    }
    schemas(map, at)?;
    related_resources(map, at)?;
    nodes(map, at, &[])
}

fn presentation(map: &Map<String, Value>, at: &str) -> Checked {
    contexts(map, at)?;
    types(map, at, "VerifiablePresentation")?;
    optional_id(map, at)?;
    holder(map, at)?;
    presented_credentials(map, at)?;
    for (property, rule) in TYPED_PROPERTIES {
        typed_objects(map, at, property, rule)?;
    }
    related_resources(map, at)?;
    nodes(map, at, &["verifiableCredential"])
}

/// §4.13.1 and §4.13.2: `@context` with the base context, a `data:` URL `id`.
fn enveloped(map: &Map<String, Value>, at: &str) -> Checked {
    let includes_base = match map.get("@context") {
        Some(Value::String(s)) => s == CONTEXT_V2,
        Some(Value::Array(items)) => items.iter().any(|c| c.as_str() == Some(CONTEXT_V2)),
        _ => false,
    };
    if !includes_base {
        return Err(Violation::new(R::EnvelopedContext, child(at, "@context")));
    }
    match map.get("id") {
        Some(Value::String(s)) if is_data_url(s) => Ok(()),
        _ => Err(Violation::new(R::EnvelopedId, child(at, "id"))),
    }
}

/// §4.3.
fn contexts(map: &Map<String, Value>, at: &str) -> Checked {
    let here = child(at, "@context");
    let items: &[Value] = match map.get("@context") {
        None => return Err(Violation::new(R::ContextPresent, here)),
        Some(Value::Array(items)) => items,
        Some(single) => std::slice::from_ref(single),
    };
    match items.first() {
        Some(Value::String(first)) if first == CONTEXT_V2 => {}
        _ => return Err(Violation::new(R::ContextBaseFirst, index(&here, 0))),
    }
    for (i, item) in items.iter().enumerate().skip(1) {
        let ok = match item {
            Value::String(url) => is_url(url),
            Value::Object(_) => true,
            _ => false,
        };
        if !ok {
            return Err(Violation::new(R::ContextItems, index(&here, i)));
        }
    }
    Ok(())
}

/// §4.5: a `type` with values, each a term or URL, including `base`.
fn types(map: &Map<String, Value>, at: &str, base: &str) -> Checked {
    let here = child(at, "type");
    match map.get("type") {
        None | Some(Value::Null) => return Err(Violation::new(R::TypePresent, here)),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(Violation::new(R::TypePresent, here));
        }
        Some(value) => type_values(value, &here)?,
    }
    if type_strings(map).any(|t| t == base) {
        Ok(())
    } else {
        Err(Violation::new(R::TypeBase, here))
    }
}

/// The string values of `map`'s `type`.
fn type_strings(map: &Map<String, Value>) -> impl Iterator<Item = &str> {
    let values: &[Value] = match map.get("type") {
        Some(Value::Array(items)) => items,
        Some(single) => std::slice::from_ref(single),
        None => &[],
    };
    values.iter().filter_map(Value::as_str)
}

/// One or more terms or absolute URL strings.
fn type_values(value: &Value, here: &str) -> Checked {
    let bad = || Violation::new(R::TypeValues, here.to_owned());
    match value {
        Value::String(s) if is_term_or_url(s) => Ok(()),
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if is_term_or_url(s) => {}
                    _ => return Err(Violation::new(R::TypeValues, index(here, i))),
                }
            }
            Ok(())
        }
        _ => Err(bad()),
    }
}

/// §4.4: if present, a single URL.
fn optional_id(map: &Map<String, Value>, at: &str) -> Checked {
    match map.get("id") {
        None => Ok(()),
        Some(value) => id_value(value, &child(at, "id")),
    }
}

fn id_value(value: &Value, here: &str) -> Checked {
    match value {
        Value::String(s) if is_url(s) => Ok(()),
        Value::Array(_) => Err(Violation::new(R::IdSingle, here.to_owned())),
        _ => Err(Violation::new(R::IdUrl, here.to_owned())),
    }
}

/// §4.7.
fn issuer(map: &Map<String, Value>, at: &str) -> Checked {
    let here = child(at, "issuer");
    match map.get("issuer") {
        None => Err(Violation::new(R::IssuerPresent, here)),
        Some(Value::String(s)) if is_url(s) => Ok(()),
        Some(Value::Object(object)) => {
            match object.get("id") {
                Some(Value::String(s)) if is_url(s) => {}
                Some(Value::Array(_)) => {
                    return Err(Violation::new(R::IdSingle, child(&here, "id")));
                }
                _ => return Err(Violation::new(R::IssuerUrl, child(&here, "id"))),
            }
            names(object, &here)
        }
        Some(_) => Err(Violation::new(R::IssuerUrl, here)),
    }
}

/// §4.13: `holder`, if present.
fn holder(map: &Map<String, Value>, at: &str) -> Checked {
    let here = child(at, "holder");
    match map.get("holder") {
        None => Ok(()),
        Some(Value::String(s)) if is_url(s) => Ok(()),
        Some(Value::Object(object)) => match object.get("id") {
            Some(Value::String(s)) if is_url(s) => Ok(()),
            Some(Value::Array(_)) => Err(Violation::new(R::IdSingle, child(&here, "id"))),
            _ => Err(Violation::new(R::HolderUrl, child(&here, "id"))),
        },
        Some(_) => Err(Violation::new(R::HolderUrl, here)),
    }
}

/// The `id` of a `holder` or `issuer` (a URL, or an object's `id`).
fn party_id(value: Option<&Value>) -> Option<&str> {
    match value? {
        Value::String(s) => Some(s),
        Value::Object(object) => object.get("id")?.as_str(),
        _ => None,
    }
}

/// §4.8.
fn subjects(map: &Map<String, Value>, at: &str) -> Checked {
    let here = child(at, "credentialSubject");
    let empty = |pointer: String| Violation::new(R::CredentialSubjectNonEmpty, pointer);
    match map.get("credentialSubject") {
        None => Err(Violation::new(R::CredentialSubjectPresent, here)),
        Some(Value::Object(subject)) if !subject.is_empty() => Ok(()),
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Object(subject) if !subject.is_empty() => {}
                    _ => return Err(empty(index(&here, i))),
                }
            }
            Ok(())
        }
        Some(_) => Err(empty(here)),
    }
}

/// §4.9.
fn validity(map: &Map<String, Value>, at: &str) -> Checked {
    let date = |name: &str, rule: Rule| match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => parse_date_time_stamp(s)
            .map(Some)
            .ok_or_else(|| Violation::new(rule, child(at, name))),
        Some(_) => Err(Violation::new(rule, child(at, name))),
    };
    let from = date("validFrom", R::ValidFromDateTime)?;
    let until = date("validUntil", R::ValidUntilDateTime)?;
    match (from, until) {
        (Some(from), Some(until)) if from > until => {
            Err(Violation::new(R::ValidityOrder, child(at, "validUntil")))
        }
        _ => Ok(()),
    }
}

/// §4.6: `name` and `description`, each a string, a language value object, or an array of
/// them (one per language).
fn names(map: &Map<String, Value>, at: &str) -> Checked {
    for name in ["name", "description"] {
        let Some(value) = map.get(name) else { continue };
        let here = child(at, name);
        let items: &[Value] = match value {
            Value::Array(items) if !items.is_empty() => items,
            Value::Array(_) => return Err(Violation::new(R::NameDescription, here)),
            single => std::slice::from_ref(single),
        };
        for (i, item) in items.iter().enumerate() {
            let pointer = if value.is_array() {
                index(&here, i)
            } else {
                here.clone()
            };
            match item {
                Value::String(_) => {}
                Value::Object(object) if is_language_keyed(object) => {
                    language_value(object, &pointer)?;
                }
                _ => return Err(Violation::new(R::NameDescription, pointer)),
            }
        }
    }
    Ok(())
}

/// An object with any of `@value`, `@language`, `@direction`.
fn is_language_keyed(object: &Map<String, Value>) -> bool {
    ["@value", "@language", "@direction"]
        .iter()
        .any(|k| object.contains_key(*k))
}

/// §11.1: a string `@value`, an optional string `@language` and `ltr`/`rtl` `@direction`,
/// and nothing else.
fn language_value(object: &Map<String, Value>, here: &str) -> Checked {
    let ok = object.get("@value").is_some_and(Value::is_string)
        && object.get("@language").is_none_or(Value::is_string)
        && object
            .get("@direction")
            .is_none_or(|d| matches!(d.as_str(), Some("ltr" | "rtl")))
        && object
            .keys()
            .all(|k| matches!(k.as_str(), "@value" | "@language" | "@direction"));
    if ok {
        Ok(())
    } else {
        Err(Violation::new(R::LanguageValue, here.to_owned()))
    }
}

/// One object or a non-empty array of objects under `property`, each with a `type`.
fn typed_objects(map: &Map<String, Value>, at: &str, property: &str, rule: Rule) -> Checked {
    each_object(map, at, property, rule, |object, here| {
        object_type(object, here, rule)?;
        optional_id(object, here)
    })
}

/// The `type` an object must have, breaking `rule` when absent.
fn object_type(object: &Map<String, Value>, here: &str, rule: Rule) -> Checked {
    match object.get("type") {
        None | Some(Value::Null) => Err(Violation::new(rule, child(here, "type"))),
        Some(types) => type_values(types, &child(here, "type")),
    }
}

/// §4.11: each `credentialSchema` has a `type` and a URL `id`.
fn schemas(map: &Map<String, Value>, at: &str) -> Checked {
    let rule = R::CredentialSchemaType;
    each_object(map, at, "credentialSchema", rule, |object, here| {
        object_type(object, here, rule)?;
        match object.get("id") {
            Some(Value::String(s)) if is_url(s) => Ok(()),
            Some(Value::Array(_)) => Err(Violation::new(R::IdSingle, child(here, "id"))),
            _ => Err(Violation::new(R::CredentialSchemaId, child(here, "id"))),
        }
    })
}

/// §5.3: each `relatedResource` has a URL `id`, unique among them, and a digest.
fn related_resources(map: &Map<String, Value>, at: &str) -> Checked {
    let mut seen: Vec<&str> = Vec::new();
    each_object(
        map,
        at,
        "relatedResource",
        R::RelatedResource,
        |object, here| {
            let bad = || Violation::new(R::RelatedResource, here.to_owned());
            let id = match object.get("id") {
                Some(Value::String(s)) if is_url(s) => s.as_str(),
                Some(Value::Array(_)) => {
                    return Err(Violation::new(R::IdSingle, child(here, "id")));
                }
                _ => return Err(bad()),
            };
            if seen.contains(&id)
                || !(object.contains_key("digestSRI") || object.contains_key("digestMultibase"))
            {
                return Err(bad());
            }
            seen.push(id);
            Ok(())
        },
    )
}

/// Calls `check` on each object under `property` (one object or a non-empty array of them);
/// anything else breaks `rule`.
fn each_object<'a>(
    map: &'a Map<String, Value>,
    at: &str,
    property: &str,
    rule: Rule,
    mut check: impl FnMut(&'a Map<String, Value>, &str) -> Checked,
) -> Checked {
    let here = child(at, property);
    match map.get(property) {
        None => Ok(()),
        Some(Value::Object(object)) => check(object, &here),
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let pointer = index(&here, i);
                match item {
                    Value::Object(object) => check(object, &pointer)?,
                    _ => return Err(Violation::new(rule, pointer)),
                }
            }
            Ok(())
        }
        Some(_) => Err(Violation::new(rule, here)),
    }
}

/// §4.13: each `verifiableCredential` is an object: an enveloped credential, or a credential
/// checked in full (and self-asserted if only the presentation secures it).
fn presented_credentials(map: &Map<String, Value>, at: &str) -> Checked {
    let secured_by_presentation = map.get("proof").is_some_and(|p| !p.is_null());
    let holder = party_id(map.get("holder"));
    each_object(
        map,
        at,
        "verifiableCredential",
        R::VerifiableCredentialObject,
        |vc, here| match kind_of(vc) {
            DocumentKind::Credential if type_strings(vc).any(|t| t == "VerifiableCredential") => {
                credential(vc, here)?;
                let own_proof = vc.get("proof").is_some_and(|p| !p.is_null());
                if secured_by_presentation
                    && !own_proof
                    && (holder.is_none() || holder != party_id(vc.get("issuer")))
                {
                    return Err(Violation::new(R::SelfAssertedHolder, child(at, "holder")));
                }
                Ok(())
            }
            DocumentKind::EnvelopedCredential => enveloped(vc, here),
            _ => Err(Violation::new(
                R::VerifiableCredentialType,
                child(here, "type"),
            )),
        },
    )
}

/// §4.4, §4.5, §11.1 on every object of the document but `@context` (and `skip`, at the top
/// level): each `id` a single URL, each `type` terms or URLs, each language value object
/// well formed.
fn nodes(map: &Map<String, Value>, at: &str, skip: &[&str]) -> Checked {
    let mut stack: Vec<(&Value, String)> = Vec::new();
    for (key, value) in map {
        if key != "@context" && !skip.contains(&key.as_str()) {
            stack.push((value, child(at, key)));
        }
    }
    while let Some((value, here)) = stack.pop() {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    stack.push((item, index(&here, i)));
                }
            }
            Value::Object(object) => {
                if object.contains_key("@language") || object.contains_key("@direction") {
                    language_value(object, &here)?;
                }
                for (key, value) in object {
                    let pointer = child(&here, key);
                    match key.as_str() {
                        "@context" => continue,
                        "id" | "@id" => id_value(value, &pointer)?,
                        "type" | "@type" => type_values(value, &pointer)?,
                        _ => {}
                    }
                    stack.push((value, pointer));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, at: &str, rule: Rule) -> Result<&'a Map<String, Value>, Violation> {
    value
        .as_object()
        .ok_or_else(|| Violation::new(rule, at.to_owned()))
}

/// `at` + `/key`, escaped as RFC 6901 requires.
fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn index(at: &str, i: usize) -> String {
    format!("{at}/{i}")
}

/// An absolute URL (RFC 3986 `absolute-URI`, IRI characters allowed): a scheme, `:`, then
/// only characters a URL may hold, `%` only before two hex digits, at most one `#`.
fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.matches('#').count() > 1 {
        return false;
    }
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        let ok = match c {
            '%' => {
                chars.next().is_some_and(|h| h.is_ascii_hexdigit())
                    && chars.next().is_some_and(|h| h.is_ascii_hexdigit())
            }
            c if c.is_ascii() => c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=".contains(c),
            c => !c.is_control() && !c.is_whitespace(),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// A `data:` URL (RFC 2397): `data:[<media type>][;base64],<data>`.
fn is_data_url(text: &str) -> bool {
    text.get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"))
        && text.contains(',')
        && is_url(text)
}

/// A `type` value: an absolute URL, or a term (a JSON-LD key: not empty, no `:`, no
/// whitespace, not a keyword).
fn is_term_or_url(text: &str) -> bool {
    if text.contains(':') {
        return is_url(text);
    }
    !text.is_empty()
        && !text.starts_with('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for url in [
            "https://example.org/credentials/1",
            "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "urn:uuid:0c07c1ce-57cb-41af-bef2-1b932b986873",
            "did:key:z6Mk#z6Mk",
            "https://vc.example/issuers/%FF",
            "https://example.org/ä",
            "data:application/dc+sd-jwt,a.b.c~d~",
        ] {
            assert!(is_url(url), "{url}");
        }
        for not in [
            "fake-issuer",
            "https ://not-a-url/1",
            "1https://x",
            "https://x/%G0",
            "https://x/a b",
            "https://x/#a#b",
            "https://x/<>",
            ":nothing",
            "",
        ] {
            assert!(!is_url(not), "{not}");
        }
        assert!(is_data_url("data:,x"));
        assert!(is_data_url("DATA:application/vc+jwt,eyJ"));
        assert!(!is_data_url("data:application/vc+jwt"));
        assert!(!is_data_url("https://example.org/,x"));
    }

    #[test]
    fn terms() {
        for ok in [
            "VerifiableCredential",
            "https://example.org/#T",
            "ex:T",
            "Ünïcode",
        ] {
            assert!(is_term_or_url(ok), "{ok}");
        }
        for not in ["", "@id", "two words", "_:b0", "https ://x#T"] {
            assert!(!is_term_or_url(not), "{not}");
        }
    }
}
