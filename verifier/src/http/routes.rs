//! The router and its handlers: each reads its request, calls the service, answers JSON.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{
    BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection,
};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router, middleware};
use serde::{Deserialize, Serialize};

use super::error::unreadable;
use super::{ApiError, OPEN_FOR, TrustView, VerdictView, VerifierService, now};
use crate::input::{MAX_INPUT_LEN, MAX_TEXT_LEN};

/// The router.
pub fn app(service: VerifierService) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/openapi.json", get(openapi))
        .route(
            "/api/verify",
            post(verify)
                .layer(DefaultBodyLimit::max(MAX_INPUT_LEN))
                .layer(middleware::from_fn_with_state(
                    service.clone(),
                    upload_permit,
                )),
        )
        .route("/api/challenges", post(new_challenge))
        .route("/api/trust", get(trust))
        .route("/api/trust/refresh", post(refresh))
        .route(
            "/api/oid4vp/requests",
            post(new_request).layer(DefaultBodyLimit::max(16 << 10)),
        )
        .route("/api/oid4vp/requests/{state}", get(request_result))
        .route(
            "/api/oid4vp/response",
            post(response).layer(DefaultBodyLimit::max(2 * MAX_TEXT_LEN)),
        )
        .with_state(service)
}

/// The employer page (relative URLs: serve it at the router's root, with or without a
/// trailing slash).
pub async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, CSP)],
        Html(include_str!("../page/verifier.html")),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../page/openapi.json"),
    )
}

/// Everything the page needs is inline or same-origin; the camera is allowed, nothing else.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   media-src 'self' blob:; connect-src 'self'";

/// Reads an upload only with a permit, held until it is judged (see
/// [`super::UPLOADS_PER_CHECK`]).
async fn upload_permit(
    State(service): State<VerifierService>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Result<Response, ApiError> {
    let _permit = service.upload_permit()?;
    Ok(next.run(request).await)
}

/// The client's address as the server saw it (unspecified in tests that call the router
/// directly: they share one allowance).
fn client_ip(client: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    client.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip())
}

#[derive(Deserialize)]
struct VerifyQuery {
    challenge: Option<String>,
}

async fn verify(
    State(service): State<VerifierService>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<VerdictView>, ApiError> {
    let Query(query) = query.map_err(|r| unreadable(r.status(), "?challenge=<id>"))?;
    let body = body.map_err(|r| unreadable(r.status(), "the presented credential"))?;
    let verdict = service.verify_upload(body, query.challenge).await?;
    tracing::info!(decision = ?verdict.decision, codes = ?verdict.blocking_codes(), "verified");
    Ok(Json(verdict.into()))
}

#[derive(Serialize)]
struct ChallengeView {
    id: String,
    text: String,
    svg: String,
    expires_in: i64,
}

async fn new_challenge(
    State(service): State<VerifierService>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Response, ApiError> {
    service.may_open(client_ip(client))?;
    let (id, request) = service.challenge(now())?;
    let text = request.to_qr_text();
    let svg = dojang_core::qr::to_svg(&text).map_err(|e| ApiError::internal("challenge QR", e))?;
    Ok(Json(ChallengeView {
        id,
        text,
        svg,
        expires_in: OPEN_FOR,
    })
    .into_response())
}

async fn trust(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(service.trust(now())?))
}

async fn refresh(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(service.refresh_on_request().await?))
}

#[derive(Deserialize)]
struct NewRequest {
    #[serde(rename = "type")]
    type_id: String,
    #[serde(default)]
    claims: Vec<String>,
}

#[derive(Serialize)]
struct RequestView {
    state: String,
    uri: String,
    svg: String,
}

async fn new_request(
    State(service): State<VerifierService>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<NewRequest>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    // Counted before the body is looked at: refused ones cost a parse of at most 16 KiB.
    service.may_open(client_ip(client))?;
    let Json(body) = body.map_err(|r| {
        unreadable(
            r.status(),
            r#"a JSON object {"type": "<type id>", "claims": ["<claim>", …]}"#,
        )
    })?;
    let request = service.online_request(&body.type_id, &body.claims, now())?;
    let uri = request.to_uri();
    let svg = dojang_core::qr::to_svg(&uri).map_err(|e| ApiError::internal("request QR", e))?;
    Ok(Json(RequestView {
        state: request.state.unwrap_or_default(),
        uri,
        svg,
    }))
}

async fn request_result(
    State(service): State<VerifierService>,
    state: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(state) = state.map_err(|r| unreadable(r.status(), "a request's state"))?;
    match service.online_result(&state) {
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "알 수 없거나 만료된 요청입니다 / unknown or expired request",
        )),
        Some(None) => Ok(Json(serde_json::json!({"status": "pending"})).into_response()),
        Some(Some(verdicts)) => Ok(Json(
            serde_json::json!({"status": "answered", "verdicts": verdicts}),
        )
        .into_response()),
    }
}

#[derive(Deserialize)]
struct DirectPost {
    vp_token: String,
    state: String,
}

async fn response(
    State(service): State<VerifierService>,
    form: Result<Form<DirectPost>, FormRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Form(form) = form.map_err(|r| {
        unreadable(
            r.status(),
            "an application/x-www-form-urlencoded body with vp_token and state",
        )
    })?;
    let verdicts = service.online_response(form.state, form.vp_token).await?;
    let accepted = verdicts.iter().all(|v| v.verdict.is_accepted());
    tracing::info!(accepted, "OpenID4VP answer judged");
    Ok(Json(serde_json::json!({})))
}
