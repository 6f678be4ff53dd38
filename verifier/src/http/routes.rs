//! The router and its handlers: each reads its request, calls the service, answers JSON.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{
    BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection,
};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router, middleware};
use dojang_core::Verdict;
use dojang_core::clock::unix_now as now;
use dojang_ledger::api::ErrorBody;
use dojang_schemas::Catalog;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ApiError;
use super::error::{internal, unreadable};
use super::lang::{self, localized};
use crate::input::{MAX_INPUT_LEN, MAX_TEXT_LEN};
use crate::service::{IssuerView, OPEN_FOR, TrustView, VerdictView, VerifierService};

/// The router.
pub fn app(service: VerifierService) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/openapi.json", get(openapi))
        .route("/assets/{name}", get(asset))
        .route("/types/{vct}", get(type_metadata))
        .route("/api/types", get(types))
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
            post(new_request).layer(DefaultBodyLimit::max(MAX_REQUEST_LEN)),
        )
        .route("/api/oid4vp/requests/{state}", get(request_result))
        .route(
            "/api/oid4vp/response",
            post(response).layer(DefaultBodyLimit::max(2 * MAX_TEXT_LEN)),
        )
        .with_state(service)
        .layer(middleware::from_fn(lang::negotiate))
}

/// Largest OpenID4VP request body read: a type id and its claims' names fit many times over.
const MAX_REQUEST_LEN: usize = 16 << 10;

/// The OpenAPI document of [`app`]'s routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "dojang verifier",
        description = "Offline verification against the trust bundle, challenge QR codes, bundle \
                       refresh, and OpenID4VP requests. Verdicts carry stable reason codes. Every \
                       error answer is `{\"error\": \"<stable code>\", \"message\": \"<Korean> / \
                       <English>\"}`, and never repeats any part of the request."
    ),
    paths(
        page,
        openapi,
        asset,
        type_metadata,
        types,
        verify,
        new_challenge,
        trust,
        refresh,
        new_request,
        request_result,
        response
    ),
    components(schemas(
        VerdictView,
        TypeView,
        ClaimChoice,
        ChallengeView,
        TrustView,
        IssuerView,
        NewRequest,
        RequestView,
        RequestStatus,
        DirectPost,
        ErrorBody
    ))
)]
pub struct ApiDoc;

/// The employer page (relative URLs: serve it at the router's root, with or without a
/// trailing slash).
#[utoipa::path(get, path = "/",
    responses((status = 200, description = "The employer page.", content_type = "text/html", body = String)))]
pub async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, CSP)],
        Html(lang::page_html(include_str!("../page/verifier.html"))),
    )
}

/// The pages' shared script, style and QR decoder (`jsQR`, vendored from npm: see
/// `verifier/tests/browser/package.json`), so a page works with no network beyond its server.
#[utoipa::path(get, path = "/assets/{name}",
    params(("name" = String, Path, description = "`ui.js`, `ui.css` or `jsQR.js`.")),
    responses((status = 200, description = "The file."), (status = 404, description = "No such file.")))]
pub async fn asset(name: Result<Path<String>, PathRejection>) -> Response {
    let (body, content_type): (&'static str, &str) = match name.as_ref().map(|n| n.as_str()) {
        Ok("ui.js") => (include_str!("../page/assets/ui.js"), "text/javascript"),
        Ok("ui.css") => (include_str!("../page/assets/ui.css"), "text/css"),
        Ok("jsQR.js") => (include_str!("../page/assets/jsQR.js"), "text/javascript"),
        _ => {
            return ApiError::from(crate::service::ServiceError::UnknownRequest)
                .with_status(axum::http::StatusCode::NOT_FOUND)
                .into_response();
        }
    };
    (
        [
            (
                header::CONTENT_TYPE,
                format!("{content_type}; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// A credential type's SD-JWT VC Type Metadata, by its `vct` (the types' `vct`s are URNs, so
/// this is where they resolve): names and claim labels in Korean and English.
#[utoipa::path(get, path = "/types/{vct}",
    params(("vct" = String, Path, description = "The type's `vct`, e.g. `urn:dojang:vct:citizen-card:1`.")),
    responses(
        (status = 200, description = "The Type Metadata.", body = Object),
        (status = 404, description = "No such type (`unknown_type`).", body = ErrorBody)))]
pub async fn type_metadata(vct: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(vct)) = vct else {
        return unknown_type().into_response();
    };
    match Catalog::builtin().by_vct(&vct) {
        Ok(ty) => Json(ty.metadata()).into_response(),
        Err(_) => unknown_type().into_response(),
    }
}

fn unknown_type() -> ApiError {
    ApiError::from(crate::service::ServiceError::UnknownType {
        known: Catalog::builtin()
            .iter()
            .map(|ty| ty.descriptor().vct.clone())
            .collect(),
    })
    .with_status(axum::http::StatusCode::NOT_FOUND)
}

/// A type an OpenID4VP request can ask for, in the reader's language.
#[derive(Serialize, ToSchema)]
struct TypeView {
    /// The type's id.
    id: String,
    /// Its name.
    name: String,
    /// The claims a request may name: `path` dotted (`address.locality`), and its label.
    claims: Vec<ClaimChoice>,
    /// The formats a request may ask for: `dc+sd-jwt`, and `mso_mdoc` for a type also issued
    /// as an ISO mdoc.
    formats: Vec<&'static str>,
}

/// A claim a request may name.
#[derive(Serialize, ToSchema)]
struct ClaimChoice {
    /// Dotted path.
    path: String,
    /// Its label.
    label: String,
}

/// The credential types and their claims, to build an OpenID4VP request.
#[utoipa::path(get, path = "/api/types",
    responses((status = 200, description = "Types with their claims.", body = Vec<TypeView>)))]
async fn types() -> Json<Vec<TypeView>> {
    let lang = lang::reader().unwrap_or_default();
    Json(
        Catalog::builtin()
            .iter()
            .map(|ty| TypeView {
                id: ty.id().to_owned(),
                name: ty.name_in(lang).to_owned(),
                claims: ty
                    .metadata()
                    .claims
                    .iter()
                    .filter_map(|c| {
                        let steps: Option<Vec<&str>> =
                            c.path.iter().map(Option::as_deref).collect();
                        let steps = steps?;
                        let pointer = format!("/{}", steps.join("/"));
                        Some(ClaimChoice {
                            path: steps.join("."),
                            label: ty.label(&pointer, lang),
                        })
                    })
                    .collect(),
                formats: match ty.descriptor().mdoc_doctype {
                    Some(_) => vec![dojang_core::sd_jwt::vc::TYP, dojang_core::oid4vp::MSO_MDOC],
                    None => vec![dojang_core::sd_jwt::vc::TYP],
                },
            })
            .collect(),
    )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json",
    responses((status = 200, description = "The OpenAPI document.", body = Object)))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Everything the page needs is inline or same-origin; the camera is allowed, nothing else.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   media-src 'self' blob:; connect-src 'self'";

/// Reads an upload only with a permit, held until it is judged (see
/// [`crate::service::UPLOADS_PER_CHECK`]).
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct VerifyQuery {
    /// An open challenge id: challenge mode; an accepted answer closes it.
    challenge: Option<String>,
}

/// Verify what was presented: a PNG/JPEG of the QR code, the `DJ1:` text, an SD-JWT VC or a
/// Data Integrity credential (raw body, at most 16 MiB).
#[utoipa::path(post, path = "/api/verify", params(VerifyQuery),
    request_body(content(("application/octet-stream"), ("text/plain"))),
    responses(
        (status = 200, description = "The verdict.", body = VerdictView),
        (status = 400, description = "The request could not be read (`bad_request`).", body = ErrorBody),
        (status = 413, description = "Larger than 16 MiB (`too_large`).", body = ErrorBody),
        (status = 503, description = "No trust bundle loaded yet (`no_bundle`), or every upload \
            slot is taken (`busy`); try again shortly.", body = ErrorBody)))]
async fn verify(
    State(service): State<VerifierService>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<VerdictView>, ApiError> {
    let Query(query) = query.map_err(|r| unreadable(r.status(), "?challenge=<id>"))?;
    let body = body.map_err(|r| unreadable(r.status(), "the presented credential"))?;
    let verdict = service.verify_upload(body, query.challenge).await?;
    tracing::info!(decision = ?verdict.decision, codes = ?verdict.blocking_codes(), "verified");
    Ok(Json(VerdictView::new(verdict, lang::reader())))
}

/// An open challenge, to show as a QR code.
#[derive(Serialize, ToSchema)]
struct ChallengeView {
    /// Its id, for `POST /api/verify?challenge=<id>`.
    id: String,
    /// The QR text (`DJC1:…`).
    text: String,
    /// The QR code, as SVG.
    svg: String,
    /// Seconds it stays open.
    expires_in: i64,
}

/// Open a challenge: id, QR text (`DJC1:`), SVG, lifetime.
#[utoipa::path(post, path = "/api/challenges",
    responses(
        (status = 200, description = "The challenge.", body = ChallengeView),
        (status = 429, description = "This client address opened 60 challenges or requests in \
            the last minute (`too_many_requests`).", body = ErrorBody)))]
async fn new_challenge(
    State(service): State<VerifierService>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Json<ChallengeView>, ApiError> {
    service.may_open(client_ip(client))?;
    let (id, request) = service.challenge(now())?;
    let text = request.to_qr_text();
    let svg = dojang_core::qr::to_svg(&text).map_err(|e| internal("challenge QR", e))?;
    Ok(Json(ChallengeView {
        id,
        text,
        svg,
        expires_in: OPEN_FOR,
    }))
}

/// The trust bundle's freshness and accredited issuers.
#[utoipa::path(get, path = "/api/trust",
    responses(
        (status = 200, description = "Freshness and issuers.", body = TrustView),
        (status = 503, description = "No trust bundle loaded yet (`no_bundle`).", body = ErrorBody)))]
async fn trust(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(in_words(service.trust(now())?)))
}

/// `view` with its policy in the reader's language.
fn in_words(mut view: TrustView) -> TrustView {
    view.issuer_policy_in_words = localized(&view.issuer_policy_in_words).to_owned();
    for issuer in &mut view.issuers {
        issuer.name = localized(&issuer.name).to_owned();
    }
    view
}

/// Fetch and apply the registry's delta (consistency-checked).
#[utoipa::path(post, path = "/api/trust/refresh",
    responses(
        (status = 200, description = "The new freshness.", body = TrustView),
        (status = 409, description = "No registry configured (`no_registry`), or the registry \
            forked (`fork`); the bundle held is kept.", body = ErrorBody),
        (status = 502, description = "The registry could not be reached \
            (`registry_unavailable`) or its bundle does not verify or is larger than 32 MiB \
            (`bundle_invalid`).", body = ErrorBody)))]
async fn refresh(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(in_words(service.refresh_on_request().await?)))
}

/// What a new OpenID4VP request asks for.
#[derive(Deserialize, ToSchema)]
struct NewRequest {
    /// The credential type's id.
    #[serde(rename = "type")]
    type_id: String,
    /// The claims wanted, dotted (`address.city`); none: only what is always disclosed.
    #[serde(default)]
    claims: Vec<String>,
    /// `dc+sd-jwt` (the default), or `mso_mdoc` for a type also issued as an ISO mdoc.
    #[serde(default = "sd_jwt_vc")]
    format: String,
}

fn sd_jwt_vc() -> String {
    dojang_core::sd_jwt::vc::TYP.to_owned()
}

/// An open OpenID4VP request, to show as a QR code.
#[derive(Serialize, ToSchema)]
struct RequestView {
    /// Its state, for `GET /api/oid4vp/requests/{state}`.
    state: String,
    /// The `openid4vp://` URI.
    uri: String,
    /// The URI's QR code, as SVG.
    svg: String,
}

/// Create an OpenID4VP request for a credential type and claims.
#[utoipa::path(post, path = "/api/oid4vp/requests", request_body = NewRequest,
    responses(
        (status = 200, description = "state, openid4vp:// URI, SVG.", body = RequestView),
        (status = 400, description = "The request could not be read (`bad_request`).", body = ErrorBody),
        (status = 413, description = "Larger than 16 KiB (`too_large`).", body = ErrorBody),
        (status = 422, description = "Unknown credential type (`unknown_type`), a claim the \
            type does not have (`unknown_claim`), or a format it is not issued in \
            (`unsupported_format`).", body = ErrorBody),
        (status = 429, description = "This client address opened 60 challenges or requests in \
            the last minute (`too_many_requests`).", body = ErrorBody)))]
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
    let request = service.online_request(&body.type_id, &body.claims, &body.format, now())?;
    let uri = request.to_uri();
    let svg = dojang_core::qr::to_svg(&uri).map_err(|e| internal("request QR", e))?;
    Ok(Json(RequestView {
        state: request.state.unwrap_or_default(),
        uri,
        svg,
    }))
}

/// Where an OpenID4VP request stands.
#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
enum RequestStatus {
    /// No answer yet.
    Pending,
    /// The wallet answered; the verdicts on its presentations.
    Answered {
        /// One per presentation.
        verdicts: Vec<VerdictView>,
    },
}

/// The request's status: pending, or answered with verdicts.
#[utoipa::path(get, path = "/api/oid4vp/requests/{state}",
    params(("state" = String, Path, description = "The request's state.")),
    responses(
        (status = 200, description = "Status.", body = RequestStatus),
        (status = 404, description = "Unknown or expired (`unknown_request`).", body = ErrorBody)))]
async fn request_result(
    State(service): State<VerifierService>,
    state: Result<Path<String>, PathRejection>,
) -> Result<Json<RequestStatus>, ApiError> {
    let Path(state) = state.map_err(|r| unreadable(r.status(), "a request's state"))?;
    Ok(Json(match service.online_result(&state)? {
        None => RequestStatus::Pending,
        Some(verdicts) => RequestStatus::Answered {
            verdicts: verdicts
                .into_iter()
                .map(|v| VerdictView::new(v, lang::reader()))
                .collect(),
        },
    }))
}

/// A wallet's `direct_post` answer.
#[derive(Deserialize, ToSchema)]
struct DirectPost {
    /// A JSON object mapping the query id (`credential`) to an array of one presentation.
    vp_token: String,
    /// The request's state.
    state: String,
}

/// The wallet's `direct_post` answer (`vp_token`, `state`).
#[utoipa::path(post, path = "/api/oid4vp/response",
    request_body(content = DirectPost, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Judged (an empty object).", body = Object),
        (status = 400, description = "Unknown, expired or answered state (`unknown_state`), a \
            `vp_token` that does not answer the query with exactly one presentation \
            (`invalid_vp_token`), or a body that could not be read (`bad_request`).", body = ErrorBody),
        (status = 413, description = "Larger than 512 KiB (`too_large`).", body = ErrorBody),
        (status = 503, description = "No trust bundle loaded yet (`no_bundle`), or every \
            verification slot is taken (`busy`).", body = ErrorBody)))]
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
    let accepted = verdicts.iter().all(Verdict::is_accepted);
    tracing::info!(accepted, "OpenID4VP answer judged");
    Ok(Json(serde_json::json!({})))
}
