//! The demo pages of `dojang up`: an issuer console (issue, revoke, suspend) acting for every
//! issuing office, and a citizen's wallet held by the server. Both act with full rights, so both
//! require the demo token from the data directory (`#token=…` in the page URL, sent as a bearer
//! token); the verifier page needs none.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dojang_core::key::Algorithm;
use dojang_issuer::IssuerService;
use dojang_issuer::service::{NewOffer, Reason, StatusAction};
use dojang_schemas::Catalog;
use dojang_wallet::Wallet;
use dojang_wallet::receive::{self, ReceiveOptions};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::issuer::local_operator;

#[derive(Clone)]
pub(super) struct Pages(Arc<Inner>);

struct Inner {
    token: String,
    issuers: IssuerService,
    wallet: Wallet,
    http: reqwest::Client,
}

impl Pages {
    pub(super) fn new(token: String, issuers: IssuerService, wallet: Wallet) -> Self {
        Pages(Arc::new(Inner {
            token,
            issuers,
            wallet,
            http: reqwest::Client::new(),
        }))
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), PageError> {
        // Checked by a layer before any extractor reads the body.
        let presented = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match presented {
            Some(token)
                if aws_lc_rs::constant_time::verify_slices_are_equal(
                    token.as_bytes(),
                    self.0.token.as_bytes(),
                )
                .is_ok() =>
            {
                Ok(())
            }
            _ => Err(PageError(
                StatusCode::UNAUTHORIZED,
                "`dojang up`이 출력한 링크(데모 토큰 포함)로 이 페이지를 여세요. / \
                 Open this page with the link `dojang up` printed (it carries the demo token)."
                    .into(),
            )),
        }
    }
}

pub(super) fn app(pages: Pages) -> Router {
    // Every API route acts with full rights: the token is checked first, before the body is
    // read or parsed.
    let api = Router::new()
        .route("/console/api/offers", post(offer))
        .route("/console/api/credentials", get(issued))
        .route(
            "/console/api/credentials/{slug}/{id}/{action}",
            post(change),
        )
        .route("/wallet/api/receive", post(receive_offer))
        .route("/wallet/api/credentials", get(held))
        .route("/wallet/api/present", post(present))
        .layer(DefaultBodyLimit::max(dojang_issuer::http::MAX_REQUEST_LEN))
        .route_layer(middleware::from_fn_with_state(pages.clone(), require_token));
    Router::new()
        .route(
            "/console/",
            get(|| async { Html(include_str!("console.html")) }),
        )
        .route(
            "/wallet/",
            get(|| async { Html(include_str!("wallet.html")) }),
        )
        .merge(api)
        .with_state(pages)
}

async fn require_token(
    State(pages): State<Pages>,
    request: Request,
    next: Next,
) -> Result<Response, PageError> {
    pages.authorize(request.headers())?;
    Ok(next.run(request).await)
}

/// An error for the pages: a status and a message, as `{"error": …}`.
struct PageError(StatusCode, String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn bad(e: impl std::fmt::Display) -> PageError {
    PageError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
}

#[derive(Deserialize)]
struct OfferRequest {
    #[serde(rename = "type")]
    type_id: String,
}

/// An offer of the type's example claims from the office that issues the type.
async fn offer(
    State(pages): State<Pages>,
    Json(request): Json<OfferRequest>,
) -> Result<Json<Value>, PageError> {
    // The catalog's error names the type asked for; the answer names only those it has.
    let ty = Catalog::builtin().get(&request.type_id).map_err(|_| {
        let known: Vec<&str> = Catalog::builtin().iter().map(|ty| ty.id()).collect();
        bad(format!(
            "알 수 없는 자격증명 종류입니다 / unknown credential type; known: {}",
            known.join(", ")
        ))
    })?;
    let slug = ty
        .descriptor()
        .issuers
        .first()
        .map(|i| i.slug.clone())
        .ok_or_else(|| bad("no office issues this type"))?;
    let offer = NewOffer {
        type_id: request.type_id.clone(),
        claims: ty.example().clone(),
        subject: None,
        tx_code: true,
        idempotency_key: None,
    };
    let created = pages
        .0
        .issuers
        .create_offer(&local_operator(&slug), &slug, offer, crate::now())
        .await
        .map_err(bad)?;
    Ok(Json(json!({
        "issuer": slug,
        "uri": created.credential_offer_uri,
        "tx_code": created.tx_code,
        "svg": created.qr_svg,
    })))
}

/// Every credential every office issued, newest first.
async fn issued(State(pages): State<Pages>) -> Result<Json<Value>, PageError> {
    let mut all = Vec::new();
    for (slug, name, _) in pages.0.issuers.issuers() {
        let records = pages
            .0
            .issuers
            .credentials(&local_operator(&slug), &slug, None)
            .await
            .map_err(bad)?;
        for record in records {
            all.push(json!({
                "issuer": slug, "issuer_name": name, "id": record.id, "type": record.type_id,
                "status": record.status, "issued_at": record.issued_at,
            }));
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse(r["issued_at"].as_i64()));
    Ok(Json(Value::Array(all)))
}

async fn change(
    State(pages): State<Pages>,
    Path((slug, id, action)): Path<(String, String, String)>,
) -> Result<Json<Value>, PageError> {
    let (action, reason) = match action.as_str() {
        "revoke" => (StatusAction::Revoke, Reason::IssuedInError),
        "suspend" => (StatusAction::Suspend, Reason::Investigation),
        "unsuspend" => (StatusAction::Unsuspend, Reason::Resolved),
        _ => {
            return Err(bad(
                "알 수 없는 작업입니다 / unknown action; the actions are revoke, suspend, unsuspend",
            ));
        }
    };
    let record = pages
        .0
        .issuers
        .change_status(
            &local_operator(&slug),
            &slug,
            &id,
            action,
            reason,
            crate::now(),
        )
        .await
        .map_err(bad)?;
    Ok(Json(json!({"id": record.id, "status": record.status})))
}

#[derive(Deserialize)]
struct ReceiveRequest {
    offer: String,
    #[serde(default)]
    tx_code: Option<String>,
}

async fn receive_offer(
    State(pages): State<Pages>,
    Json(request): Json<ReceiveRequest>,
) -> Result<Json<Value>, PageError> {
    let offer = receive::offer_from_text(&pages.0.http, &request.offer)
        .await
        .map_err(bad)?;
    let options = ReceiveOptions {
        tx_code: request.tx_code.as_deref().filter(|c| !c.is_empty()),
        alg: Algorithm::Es256,
        now: crate::now(),
    };
    let stored = receive::receive(&pages.0.wallet, &pages.0.http, &offer, options)
        .await
        .map_err(bad)?;
    Ok(Json(json!({"id": stored.id})))
}

/// The wallet's credentials, with the claims each lets the citizen choose to show in a QR code.
async fn held(State(pages): State<Pages>) -> Result<Json<Value>, PageError> {
    let credentials = pages.0.wallet.credentials().await.map_err(bad)?;
    let list = credentials
        .into_iter()
        .map(|c| {
            let choosable: Vec<String> = Catalog::builtin()
                .by_vct(&c.vct)
                .map(|ty| {
                    ty.descriptor()
                        .selectively_disclosable
                        .iter()
                        .filter_map(|p| p.strip_prefix('/'))
                        .filter(|p| !p.contains('/'))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let summary = c.summary();
            json!({
                "id": summary.id, "name": summary.name, "issuer": summary.issuer,
                "claims": choosable,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

#[derive(Deserialize)]
struct PresentRequest {
    id: String,
    disclose: Vec<String>,
}

/// A time-window QR presentation of the chosen claims, as text and as a PNG data URI.
async fn present(
    State(pages): State<Pages>,
    Json(request): Json<PresentRequest>,
) -> Result<Json<Value>, PageError> {
    let disclose: Vec<&str> = request.disclose.iter().map(String::as_str).collect();
    let bytes = pages
        .0
        .wallet
        .present_qr(&request.id, &disclose, None, crate::now())
        .await
        .map_err(bad)?;
    let text = dojang_core::compact::to_qr_text(&bytes);
    let png = dojang_core::qr::to_png(&text).map_err(bad)?;
    use base64::Engine as _;
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    Ok(Json(json!({"text": text, "png": data_uri})))
}
