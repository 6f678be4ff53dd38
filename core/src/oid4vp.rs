//! OpenID for Verifiable Presentations 1.0, as dojang uses it: a request passed by value
//! (`openid4vp://?…`), the Client Identifier Prefix `redirect_uri`, response mode
//! `direct_post`, a DCQL query for SD-JWT VCs or mdocs, and the `vp_token` answer.
//!
//! Signed request objects (JAR), other client identifier prefixes and encrypted responses are
//! not supported; a request that needs them is refused with a clear error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sd_jwt::ClaimPath;

/// The scheme wallets register for presentation requests.
pub const SCHEME: &str = "openid4vp://";
/// The ISO 18013-5 mdoc format (OpenID4VP 1.0 Appendix B.2): the `vp_token` presentation is a
/// base64url DeviceResponse; claims are named `[namespace, element]`.
pub const MSO_MDOC: &str = "mso_mdoc";
/// The only Client Identifier Prefix supported.
pub const REDIRECT_URI_PREFIX: &str = "redirect_uri:";

/// Why a presentation request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not an OpenID4VP request.
    #[error("not an OpenID4VP request")]
    NotARequest,
    /// A parameter is missing or malformed.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The request uses something dojang does not support.
    #[error("unsupported request: {0}")]
    Unsupported(String),
}

/// An authorization request for a presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// `redirect_uri:<response_uri>`.
    pub client_id: String,
    /// `vp_token`.
    pub response_type: String,
    /// `direct_post`.
    pub response_mode: String,
    /// Where the wallet posts its answer.
    pub response_uri: String,
    /// Fresh per request; the key binding must carry it.
    pub nonce: String,
    /// Echoed back in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What is asked for.
    pub dcql_query: DcqlQuery,
}

/// A DCQL query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The credentials asked for; every one is required.
    pub credentials: Vec<CredentialQuery>,
}

/// One credential asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// The query's id, the key of its presentation in `vp_token`.
    pub id: String,
    /// The format (`dc+sd-jwt` or `mso_mdoc`).
    pub format: String,
    /// Format-specific constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<CredentialQueryMeta>,
    /// The claims asked for (none: the verifier needs only the always-visible ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
}

/// Format-specific constraints: `vct_values` for SD-JWT VCs, `doctype_value` for mdocs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialQueryMeta {
    /// Acceptable credential types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
    /// The mdoc document type asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype_value: Option<String>,
}

/// One claim asked for, by path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// An id for `claim_sets` (unused by dojang).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Path: object keys as strings, array indices as integers.
    pub path: Vec<Value>,
}

impl ClaimsQuery {
    /// The path as a [`ClaimPath`]; `null` (every array element) is not supported.
    pub fn claim_path(&self) -> Result<ClaimPath, RequestError> {
        let mut pointer = String::new();
        for element in &self.path {
            let token = match element {
                Value::String(s) => s.replace('~', "~0").replace('/', "~1"),
                Value::Number(n) if n.is_u64() => n.to_string(),
                other => {
                    return Err(RequestError::Unsupported(format!(
                        "claim path element {other} (only names and indices)"
                    )));
                }
            };
            pointer.push('/');
            pointer.push_str(&token);
        }
        if pointer.is_empty() {
            return Err(RequestError::Invalid("an empty claim path".into()));
        }
        Ok(ClaimPath::parse(&pointer))
    }
}

impl AuthorizationRequest {
    /// A request from the verifier at `response_uri`.
    pub fn new(
        response_uri: &str,
        nonce: &str,
        state: Option<&str>,
        dcql_query: DcqlQuery,
    ) -> Self {
        AuthorizationRequest {
            client_id: format!("{REDIRECT_URI_PREFIX}{response_uri}"),
            response_type: "vp_token".into(),
            response_mode: "direct_post".into(),
            response_uri: response_uri.into(),
            nonce: nonce.into(),
            state: state.map(str::to_owned),
            dcql_query,
        }
    }

    /// The request by value, as an `openid4vp://` URI (what a QR code or link holds).
    pub fn to_uri(&self) -> String {
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        // Serializing strings cannot fail.
        #[allow(clippy::expect_used)]
        let dcql = serde_json::to_string(&self.dcql_query).expect("queries serialize");
        let mut uri = format!(
            "{SCHEME}?client_id={}&response_type={}&response_mode={}&response_uri={}&nonce={}&dcql_query={}",
            encode(&self.client_id),
            encode(&self.response_type),
            encode(&self.response_mode),
            encode(&self.response_uri),
            encode(&self.nonce),
            encode(&dcql),
        );
        if let Some(state) = &self.state {
            uri.push_str(&format!("&state={}", encode(state)));
        }
        uri
    }

    /// Reads a request URI and checks it is one dojang can answer safely.
    pub fn from_uri(uri: &str) -> Result<Self, RequestError> {
        if uri.len() > 16 * 1024 {
            return Err(RequestError::Invalid("the request is too long".into()));
        }
        let query = uri
            .trim()
            .split_once('?')
            .map(|(_, q)| q)
            .ok_or(RequestError::NotARequest)?;
        let mut params = BTreeMap::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| RequestError::Invalid("not UTF-8".into()))?;
            if params.insert(key.to_owned(), value.into_owned()).is_some() {
                return Err(RequestError::Invalid(format!("`{key}` appears twice")));
            }
        }
        if params.contains_key("request") || params.contains_key("request_uri") {
            return Err(RequestError::Unsupported(
                "signed request objects (JAR)".into(),
            ));
        }
        let mut take = |name: &str| {
            params
                .remove(name)
                .ok_or_else(|| RequestError::Invalid(format!("`{name}` is missing")))
        };
        let dcql = take("dcql_query")?;
        let request = AuthorizationRequest {
            client_id: take("client_id")?,
            response_type: take("response_type")?,
            response_mode: take("response_mode")?,
            response_uri: take("response_uri")?,
            nonce: take("nonce")?,
            state: params.remove("state"),
            dcql_query: serde_json::from_str(&dcql)
                .map_err(|e| RequestError::Invalid(format!("dcql_query: {e}")))?,
        };
        request.check()?;
        Ok(request)
    }

    /// The rules a request must follow for dojang to answer it.
    pub fn check(&self) -> Result<(), RequestError> {
        if self.response_type != "vp_token" {
            return Err(RequestError::Unsupported(format!(
                "response_type `{}`",
                self.response_type
            )));
        }
        if self.response_mode != "direct_post" {
            return Err(RequestError::Unsupported(format!(
                "response_mode `{}`",
                self.response_mode
            )));
        }
        let Some(redirect) = self.client_id.strip_prefix(REDIRECT_URI_PREFIX) else {
            return Err(RequestError::Unsupported(format!(
                "client_id `{}`",
                self.client_id
            )));
        };
        // With `redirect_uri:` and direct_post, the client id names the response URI: the
        // answer can only go where the verifier says it is.
        if redirect != self.response_uri {
            return Err(RequestError::Invalid(
                "client_id does not match response_uri".into(),
            ));
        }
        if !(self.response_uri.starts_with("https://") || self.response_uri.starts_with("http://"))
        {
            return Err(RequestError::Invalid(
                "response_uri is not an http(s) URL".into(),
            ));
        }
        if self.nonce.is_empty() || self.nonce.len() > 256 {
            return Err(RequestError::Invalid(
                "nonce must be 1 to 256 characters".into(),
            ));
        }
        let queries = &self.dcql_query.credentials;
        if queries.is_empty() || queries.len() > 16 {
            return Err(RequestError::Invalid(
                "dcql_query must ask for 1 to 16 credentials".into(),
            ));
        }
        for query in queries {
            let mdoc = query.format == MSO_MDOC;
            if query.format != crate::sd_jwt::vc::TYP && !mdoc {
                return Err(RequestError::Unsupported(format!(
                    "credential format `{}`",
                    query.format
                )));
            }
            if mdoc
                && query
                    .meta
                    .as_ref()
                    .and_then(|m| m.doctype_value.as_ref())
                    .is_none()
            {
                return Err(RequestError::Invalid(
                    "an mso_mdoc query must name its meta.doctype_value".into(),
                ));
            }
            for claim in query.claims.iter().flatten() {
                claim.claim_path()?;
                if mdoc && (claim.path.len() != 2 || !claim.path.iter().all(Value::is_string)) {
                    return Err(RequestError::Invalid(
                        "an mso_mdoc claim path is [namespace, element]".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The wallet's answer (posted as a form to `response_uri`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// Per credential query id, its presentations.
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// The request's `state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl AuthorizationResponse {
    /// The form fields of a `direct_post` answer: `vp_token` as JSON, and `state`.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        // Serializing strings cannot fail.
        #[allow(clippy::expect_used)]
        let mut form = vec![(
            "vp_token",
            serde_json::to_string(&self.vp_token).expect("serializes"),
        )];
        if let Some(state) = &self.state {
            form.push(("state", state.clone()));
        }
        form
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> DcqlQuery {
        serde_json::from_value(serde_json::json!({
            "credentials": [{
                "id": "card",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:dojang:vct:citizen-card:1"]},
                "claims": [{"path": ["name"]}, {"path": ["address", "locality"]}]
            }]
        }))
        .unwrap()
    }

    #[test]
    fn requests_round_trip_and_are_checked() {
        let request = AuthorizationRequest::new(
            "https://employer.example/vp/response",
            "n-1",
            Some("s"),
            query(),
        );
        let uri = request.to_uri();
        assert!(uri.starts_with("openid4vp://?client_id=redirect%5Furi%3Ahttps"));
        assert_eq!(AuthorizationRequest::from_uri(&uri).unwrap(), request);
        let paths: Vec<String> = request.dcql_query.credentials[0]
            .claims
            .iter()
            .flatten()
            .map(|c| c.claim_path().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["/name", "/address/locality"]);

        let mut elsewhere = request.clone();
        elsewhere.response_uri = "https://evil.example/collect".into();
        assert!(matches!(
            AuthorizationRequest::from_uri(&elsewhere.to_uri()),
            Err(RequestError::Invalid(_))
        ));
        let mut did_client = request.clone();
        did_client.client_id = "decentralized_identifier:did:example:123".into();
        assert!(matches!(
            did_client.check(),
            Err(RequestError::Unsupported(_))
        ));
        // An mdoc query names its document type, and its claims as [namespace, element].
        let mut mdoc = request.clone();
        mdoc.dcql_query.credentials[0].format = MSO_MDOC.into();
        assert!(matches!(mdoc.check(), Err(RequestError::Invalid(_))));
        mdoc.dcql_query.credentials[0].meta = Some(CredentialQueryMeta {
            doctype_value: Some("kr.go.mois.mobile_id.1".into()),
            ..Default::default()
        });
        assert!(
            matches!(mdoc.check(), Err(RequestError::Invalid(_))),
            "a one-part path"
        );
        mdoc.dcql_query.credentials[0].claims = Some(vec![ClaimsQuery {
            id: None,
            path: vec!["kr.go.mois.mobile_id.1".into(), "family_name".into()],
        }]);
        mdoc.check().unwrap();
        let mut unknown_format = request.clone();
        unknown_format.dcql_query.credentials[0].format = "jwt_vc_json".into();
        assert!(matches!(
            unknown_format.check(),
            Err(RequestError::Unsupported(_))
        ));
        let mut wildcard = request.clone();
        wildcard.dcql_query.credentials[0].claims = Some(vec![ClaimsQuery {
            id: None,
            path: vec!["a".into(), Value::Null],
        }]);
        assert!(matches!(
            wildcard.check(),
            Err(RequestError::Unsupported(_))
        ));
        assert!(matches!(
            AuthorizationRequest::from_uri("openid4vp://?request_uri=https%3A%2F%2Fx"),
            Err(RequestError::Unsupported(_))
        ));
        assert!(matches!(
            AuthorizationRequest::from_uri("openid4vp://?client_id=a&client_id=b"),
            Err(RequestError::Invalid(_))
        ));
        assert!(matches!(
            AuthorizationRequest::from_uri("hello"),
            Err(RequestError::NotARequest)
        ));
    }

    #[test]
    fn the_answer_is_a_form_with_json_vp_token() {
        let response = AuthorizationResponse {
            vp_token: [("card".to_owned(), vec!["ey…~".to_owned()])]
                .into_iter()
                .collect(),
            state: Some("s".into()),
        };
        let form = response.to_form();
        assert_eq!(form[0], ("vp_token", r#"{"card":["ey…~"]}"#.to_owned()));
        assert_eq!(form[1], ("state", "s".to_owned()));
    }
}
