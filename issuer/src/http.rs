//! The issuer's HTTP API: OpenID4VCI endpoints for wallets (public), and the operator API
//! (bearer operator tokens). Handlers extract, call [`IssuerService`], map the result.

use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dojang_core::clock::unix_now as now;
use dojang_core::oid4vci::{self, CredentialRequest, ErrorResponse, TokenRequest};
use serde::{Deserialize, Serialize};
use serde_json::error::Category;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::service::{
    AdminError, CreatedOffer, CredentialError, CredentialRecord, IssuerService, NewOffer, Reason,
    StatusAction, TokenError,
};

/// The issuer's routes. Issuer identifiers are `<base>/issuers/<slug>`; metadata is also at the
/// well-known locations OpenID4VCI 1.0 derives from them.
pub fn app(service: IssuerService) -> Router {
    Router::new()
        .route("/issuers", get(list_issuers))
        .route(
            "/.well-known/openid-credential-issuer/issuers/{slug}",
            get(metadata),
        )
        .route(
            "/issuers/{slug}/.well-known/openid-credential-issuer",
            get(metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/issuers/{slug}",
            get(authorization_server),
        )
        .route(
            "/issuers/{slug}/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .route(
            "/.well-known/jwt-vc-issuer/issuers/{slug}",
            get(jwt_vc_issuer),
        )
        .route("/issuers/{slug}/token", post(token))
        .route("/issuers/{slug}/nonce", post(nonce))
        .route("/issuers/{slug}/credential", post(credential))
        .route("/issuers/{slug}/offers", post(create_offer))
        .route("/issuers/{slug}/credentials", get(list_credentials))
        .route(
            "/issuers/{slug}/credentials/{id}/{action}",
            post(change_status),
        )
        .route("/openapi/issuer.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_LEN))
        .with_state(service)
}

/// Largest request body the issuer reads: a credential request with its key proofs, an offer
/// with its claims, a status change with its reason all fit many times over.
pub const MAX_REQUEST_LEN: usize = 64 << 10;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "dojang issuer",
        description = "OpenID4VCI issuance, and the operator API for offers and status changes."
    ),
    paths(
        list_issuers,
        metadata,
        jwt_vc_issuer,
        authorization_server,
        token,
        nonce,
        credential,
        create_offer,
        list_credentials,
        change_status
    ),
    components(schemas(
        HostedIssuer,
        CreatedOffer,
        CredentialRecord,
        StatusChange,
        ApiErrorBody
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// What is wrong with a JSON request body, without repeating any of it: serde's own messages
/// quote the values and names they could not take, and those may be a citizen's claims.
fn json_problem(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        Category::Data => "a field is missing, or its value is not allowed there",
        Category::Syntax | Category::Eof => "the body is not JSON of the expected shape",
        Category::Io => "the body could not be read",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// An operator API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable code.
    pub error: &'static str,
    /// Explanation.
    pub message: String,
    /// For invalid claims: every failing value, by JSON Pointer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub violations: Vec<dojang_schemas::Violation>,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            AdminError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            AdminError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AdminError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_claims"),
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AdminError::Registry(_) => (StatusCode::BAD_GATEWAY, "registry_unavailable"),
            AdminError::KeyUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "key_unavailable"),
            AdminError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let violations = match &self {
            AdminError::Invalid(dojang_schemas::SchemaError::Invalid { violations, .. }) => {
                violations.clone()
            }
            _ => Vec::new(),
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "issuer request failed");
            "internal error".to_owned()
        } else if let AdminError::KeyUnavailable(source) = &self {
            tracing::error!(error = %source, "the signing key is unavailable");
            self.to_string()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(ApiErrorBody {
                error: code,
                message,
                violations,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn oauth_error(status: StatusCode, error: &str, description: Option<String>) -> Response {
    let mut response = (
        status,
        Json(ErrorResponse {
            error: error.to_owned(),
            error_description: description,
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let description = Some(self.to_string());
        match self {
            TokenError::InvalidRequest(_) => {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
            }
            TokenError::InvalidGrant(_) => {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
            }
            TokenError::UnsupportedGrantType => {
                oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", None)
            }
            TokenError::Internal(e) => {
                tracing::error!(error = %e, "token endpoint failed");
                oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None)
            }
        }
    }
}

impl IntoResponse for CredentialError {
    fn into_response(self) -> Response {
        let description = Some(self.to_string());
        let unauthorized = |challenge: &'static str| {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            response
        };
        match self {
            CredentialError::MissingToken => unauthorized("Bearer"),
            CredentialError::InvalidToken => unauthorized("Bearer error=\"invalid_token\""),
            CredentialError::InvalidCredentialRequest(_) => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_credential_request",
                description,
            ),
            CredentialError::UnknownCredentialConfiguration => oauth_error(
                StatusCode::BAD_REQUEST,
                "unknown_credential_configuration",
                None,
            ),
            CredentialError::InvalidProof(_) => {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_proof", description)
            }
            CredentialError::InvalidNonce => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_nonce",
                Some("fetch a new c_nonce".into()),
            ),
            CredentialError::Denied(_) => oauth_error(
                StatusCode::BAD_REQUEST,
                "credential_request_denied",
                description,
            ),
            e @ (CredentialError::Registry(_)
            | CredentialError::StatusIndex(_)
            | CredentialError::Internal(_)) => {
                tracing::error!(error = %e, "credential endpoint failed");
                oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None)
            }
        }
    }
}

/// A hosted issuer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostedIssuer {
    /// Short name in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Its DID.
    pub did: String,
    /// Its OpenID4VCI identifier.
    pub credential_issuer: String,
}

/// The issuers this service hosts.
#[utoipa::path(get, path = "/issuers", responses((status = 200, body = [HostedIssuer])))]
async fn list_issuers(State(service): State<IssuerService>) -> Json<Vec<HostedIssuer>> {
    Json(
        service
            .issuers()
            .into_iter()
            .map(|(slug, name, did)| HostedIssuer {
                credential_issuer: service.issuer_id(&slug),
                slug,
                name,
                did: did.to_string(),
            })
            .collect(),
    )
}

/// Credential issuer metadata (OpenID4VCI 1.0 §12.2).
#[utoipa::path(get, path = "/issuers/{slug}/.well-known/openid-credential-issuer", params(("slug" = String, Path, description = "issuer")),
    responses((status = 200, body = Object), (status = 404)))]
async fn metadata(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
) -> Result<Json<oid4vci::IssuerMetadata>, AdminError> {
    Ok(Json(service.metadata(&slug)?))
}

/// JWT VC Issuer Metadata (SD-JWT VC): the issuer's identifier and its current signing key,
/// for verifiers that find SD-JWT VC keys by the issuer's URL.
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer/issuers/{slug}", params(("slug" = String, Path, description = "issuer")),
    responses((status = 200, body = Object), (status = 404)))]
async fn jwt_vc_issuer(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
) -> Result<Json<serde_json::Value>, AdminError> {
    Ok(Json(service.jwt_vc_issuer(&slug).await?))
}

/// OAuth authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/issuers/{slug}/.well-known/oauth-authorization-server", params(("slug" = String, Path, description = "issuer")),
    responses((status = 200, body = Object), (status = 404)))]
async fn authorization_server(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
) -> Result<Json<oid4vci::AuthorizationServerMetadata>, AdminError> {
    Ok(Json(service.authorization_server(&slug)?))
}

/// Token endpoint: pre-authorized code (and transaction code) → access token.
#[utoipa::path(post, path = "/issuers/{slug}/token", params(("slug" = String, Path, description = "issuer")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Object), (status = 400, body = Object)))]
async fn token(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
    Form(request): Form<TokenRequest>,
) -> Response {
    match service.token(&slug, &request, now()).await {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Nonce endpoint: a fresh `c_nonce` for a key proof.
#[utoipa::path(post, path = "/issuers/{slug}/nonce", params(("slug" = String, Path, description = "issuer")),
    responses((status = 200, body = Object)))]
async fn nonce(State(service): State<IssuerService>, Path(slug): Path<String>) -> Response {
    if service.metadata(&slug).is_err() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match service.nonce(&slug, now()) {
        Ok(c_nonce) => {
            let mut response = Json(oid4vci::NonceResponse { c_nonce }).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Credential endpoint: access token + key proof → credential.
#[utoipa::path(post, path = "/issuers/{slug}/credential", params(("slug" = String, Path, description = "issuer")),
    request_body(content = Object), responses((status = 200, body = Object), (status = 400, body = Object), (status = 401)))]
async fn credential(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let request: CredentialRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return CredentialError::InvalidCredentialRequest(json_problem(&e)).into_response();
        }
    };
    match service
        .credential(&slug, bearer(&headers), &request, now())
        .await
    {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Create a credential offer (operator).
#[utoipa::path(post, path = "/issuers/{slug}/offers", params(("slug" = String, Path, description = "issuer")),
    request_body(content = Object, description = "type, claims, subject, tx_code, idempotency_key"),
    responses((status = 201, body = CreatedOffer), (status = 200, body = CreatedOffer, description = "idempotent repeat"),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("operator" = [])))]
async fn create_offer(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<CreatedOffer>), AdminError> {
    let operator = service.authenticate(bearer(&headers), now()).await?;
    let offer: NewOffer =
        serde_json::from_slice(&body).map_err(|e| AdminError::BadRequest(json_problem(&e)))?;
    let created = service.create_offer(&operator, &slug, offer, now()).await?;
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(created)))
}

/// Filter by subject.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SubjectQuery {
    /// The subject reference given at offer time.
    subject: Option<String>,
}

/// List the issuer's credentials (operator; metadata only).
#[utoipa::path(get, path = "/issuers/{slug}/credentials", params(("slug" = String, Path, description = "issuer"), SubjectQuery),
    responses((status = 200, body = [CredentialRecord]), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)),
    security(("operator" = [])))]
async fn list_credentials(
    State(service): State<IssuerService>,
    Path(slug): Path<String>,
    Query(q): Query<SubjectQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<CredentialRecord>>, AdminError> {
    let operator = service.authenticate(bearer(&headers), now()).await?;
    Ok(Json(
        service
            .credentials(&operator, &slug, q.subject.as_deref())
            .await?,
    ))
}

/// A status change request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// Why.
    pub reason: Reason,
}

/// Revoke, suspend or unsuspend a credential (operator); publishes the new status list.
#[utoipa::path(post, path = "/issuers/{slug}/credentials/{id}/{action}",
    params(("slug" = String, Path, description = "issuer"), ("id" = String, Path, description = "credential id"),
           ("action" = String, Path, description = "revoke, suspend or unsuspend")),
    request_body = StatusChange,
    responses((status = 200, body = CredentialRecord), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 502, body = ApiErrorBody)),
    security(("operator" = [])))]
async fn change_status(
    State(service): State<IssuerService>,
    Path((slug, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<CredentialRecord>, AdminError> {
    let operator = service.authenticate(bearer(&headers), now()).await?;
    let action = match action.as_str() {
        "revoke" => StatusAction::Revoke,
        "suspend" => StatusAction::Suspend,
        "unsuspend" => StatusAction::Unsuspend,
        _ => return Err(AdminError::NotFound),
    };
    let change: StatusChange =
        serde_json::from_slice(&body).map_err(|e| AdminError::BadRequest(json_problem(&e)))?;
    Ok(Json(
        service
            .change_status(&operator, &slug, &id, action, change.reason, now())
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::FromRequest as _;
    use axum::http::Request;

    use super::*;

    #[tokio::test]
    async fn token_forms_are_read_as_oauth_clients_send_them() {
        // Unknown parameters are ignored; a repeated one counts with its last value.
        let request = Request::post("/issuers/seoul/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
                 &pre-authorized_code=first&client_id=wallet&pre-authorized_code=second",
            ))
            .unwrap();
        let Form(read) = Form::<TokenRequest>::from_request(request, &())
            .await
            .unwrap();
        assert_eq!(
            read,
            TokenRequest {
                grant_type: Some(oid4vci::PRE_AUTHORIZED_GRANT.into()),
                pre_authorized_code: Some("second".into()),
                tx_code: None,
            }
        );
    }
}
