//! The demo pages of `dojang up`: an issuer console (issue from a form, find, revoke,
//! suspend) acting for every issuing office, and a citizen's wallet held by the server. Both act
//! with full rights, so their APIs require the demo token from the data directory
//! (`#token=…` in the page URL, sent as a bearer token); the verifier page needs none.
//!
//! Every answer for people is in the reader's language (`?lang=`, else `Accept-Language`; see
//! [`dojang_verifier::http::lang`]): type names and claim labels from the types' metadata,
//! statuses, reasons and errors. Errors never repeat what was sent: claims are personal data.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dojang_core::Lang;
use dojang_core::compact::ChallengeRequest;
use dojang_core::key::Algorithm;
use dojang_issuer::IssuerService;
use dojang_issuer::service::{
    AdminError, CredentialQuery, NewOffer, Reason, StatusAction, Subject, SubjectError,
};
use dojang_schemas::{Catalog, CredentialType, SchemaError, Violation};
use dojang_verifier::http::lang::{self, localized, page_html};
use dojang_wallet::receive::{self, ReceiveOptions};
use dojang_wallet::{Wallet, WalletError, openid4vp};
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
            .get(header::AUTHORIZATION)
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
            _ => Err(PageError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "`dojang up`이 출력한 링크(데모 토큰 포함)로 이 페이지를 여세요 / \
                 Open this page with the link `dojang up` printed (it carries the demo token).",
            )),
        }
    }
}

pub(super) fn app(pages: Pages) -> Router {
    // Every API route acts with full rights: the token is checked first, before the body is
    // read or parsed.
    let api = Router::new()
        .route("/console/api/types", get(types))
        .route("/console/api/offers", post(offer))
        .route("/console/api/offers/{slug}/{id}", get(offer_state))
        .route("/console/api/credentials", get(issued))
        .route("/console/api/reasons", get(reasons))
        .route(
            "/console/api/credentials/{slug}/{id}/{action}",
            post(change),
        )
        .route("/wallet/api/receive", post(receive_offer))
        .route("/wallet/api/credentials", get(held))
        .route("/wallet/api/present", post(present))
        .route("/wallet/api/oid4vp/preview", post(preview))
        .route("/wallet/api/oid4vp/answer", post(answer))
        .layer(DefaultBodyLimit::max(dojang_issuer::http::MAX_REQUEST_LEN))
        .route_layer(middleware::from_fn_with_state(pages.clone(), require_token));
    Router::new()
        .route("/console/", get(|| page(include_str!("console.html"))))
        .route("/wallet/", get(|| page(include_str!("wallet.html"))))
        .merge(api)
        .with_state(pages)
        .layer(middleware::from_fn(lang::negotiate))
}

/// A page in the reader's language, under the verifier page's content security policy.
pub(super) async fn page(html: &'static str) -> Response {
    (
        [(header::CONTENT_SECURITY_POLICY, dojang_verifier::http::CSP)],
        Html(page_html(html)),
    )
        .into_response()
}

async fn require_token(
    State(pages): State<Pages>,
    request: Request,
    next: Next,
) -> Result<Response, PageError> {
    pages.authorize(request.headers())?;
    Ok(next.run(request).await)
}

/// The reader's language; Korean when the request named none.
fn reader() -> Lang {
    lang::reader().unwrap_or_default()
}

/// An error for the pages: a status, a stable code, a message (`"<Korean> / <English>"`, shown
/// in the reader's language) and, for refused claims, the message of each field.
struct PageError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<Value>,
}

impl PageError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        PageError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": localized(&self.message)});
        if !self.fields.is_empty() {
            body["fields"] = Value::Array(self.fields);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<AdminError> for PageError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(SchemaError::Invalid {
                type_id,
                violations,
            }) => invalid_claims(&type_id, &violations),
            AdminError::NotFound => PageError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "찾을 수 없습니다 / Not found.",
            ),
            AdminError::Conflict(_) => PageError::new(
                StatusCode::CONFLICT,
                "conflict",
                "이미 그 상태이거나, 지금 상태에서는 할 수 없는 작업입니다 / The credential is \
                 already so, or this cannot be done from its current status.",
            ),
            AdminError::Registry(_) => PageError::new(
                StatusCode::BAD_GATEWAY,
                "registry_unavailable",
                "레지스트리에 닿지 못했거나 레지스트리가 거절해 아무것도 바뀌지 않았습니다. 잠시 후 \
                 다시 시도하세요 / The registry could not be reached or refused; nothing was \
                 changed. Try again shortly.",
            ),
            AdminError::Internal(_) => {
                tracing::error!(error = %e, "console");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "내부 오류 / Internal error.",
                )
            }
            other => PageError::bad("bad_request", other.to_string()),
        }
    }
}

impl From<WalletError> for PageError {
    fn from(e: WalletError) -> Self {
        // The detail is for the log; the citizen reads what to do.
        tracing::info!(error = %e, "wallet page");
        PageError::bad("wallet", e.in_plain_words())
    }
}

/// A body the page sent that could not be read.
fn unreadable() -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "요청을 읽을 수 없습니다 / The request could not be read.",
    )
}

/// Refused claims: each field's pointer and what is wrong with it in the reader's language
/// (never the value).
fn invalid_claims(type_id: &str, violations: &[Violation]) -> PageError {
    let lang = reader();
    let ty = Catalog::builtin().get(type_id).ok();
    let fields = violations
        .iter()
        .map(|v| {
            let format = ty
                .and_then(|ty| schema_at(ty.schema(), &v.path))
                .and_then(|s| s.get("format"))
                .and_then(Value::as_str);
            json!({"pointer": v.path, "message": field_message(&v.keyword, format, &v.message, lang)})
        })
        .collect();
    PageError {
        fields,
        ..PageError::bad(
            "invalid_claims",
            "입력한 내용 중 고칠 곳이 있습니다 / Some fields need correcting.",
        )
    }
}

/// What is wrong with a field, by the schema keyword that refused it.
fn field_message(keyword: &str, format: Option<&str>, detail: &str, lang: Lang) -> String {
    let (ko, en) = match (keyword, format) {
        ("format", Some("date")) => (
            "올바른 날짜가 아닙니다. 실제 있는 날짜를 YYYY-MM-DD로 입력하세요",
            "Not a valid date: enter a real date as YYYY-MM-DD",
        ),
        ("format", _) | ("pattern", _) => {
            ("형식이 올바르지 않습니다", "Not in the expected format")
        }
        ("required", _) => ("필수 항목입니다", "Required"),
        ("type", _) => ("값의 종류가 올바르지 않습니다", "The wrong kind of value"),
        ("minLength" | "minItems", _) => ("비어 있거나 너무 짧습니다", "Empty or too short"),
        ("maxLength" | "maxItems", _) => ("너무 깁니다", "Too long"),
        ("enum" | "const", _) => (
            "목록에 있는 값 중에서 고르세요",
            "Choose one of the listed values",
        ),
        ("minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum", _) => {
            ("허용 범위를 벗어났습니다", "Out of range")
        }
        ("additionalProperties", _) => ("이 종류에 없는 항목입니다", "Not a field of this type"),
        ("future", _) => ("미래의 날짜일 수 없습니다", "Cannot be in the future"),
        _ => ("값이 올바르지 않습니다", detail),
    };
    lang.choose(ko, en).to_owned()
}

/// The schema of the value at JSON Pointer `pointer` (array positions step into `items`).
fn schema_at<'s>(schema: &'s Value, pointer: &str) -> Option<&'s Value> {
    pointer
        .split('/')
        .skip(1)
        .try_fold(schema, |s, step| match step.parse::<usize>() {
            Ok(_) if s.get("items").is_some() => s.get("items"),
            _ => s.get("properties")?.get(step),
        })
}

fn known_type(type_id: &str) -> Result<&'static CredentialType, PageError> {
    // The catalog's error names the type asked for; the answer names only those it has.
    Catalog::builtin().get(type_id).map_err(|_| {
        let known: Vec<&str> = Catalog::builtin().iter().map(|ty| ty.id()).collect();
        PageError::bad(
            "unknown_type",
            format!(
                "알 수 없는 자격증명 종류입니다 / Unknown credential type; known: {}",
                known.join(", ")
            ),
        )
    })
}

// ---- the console

/// Every type with what the form needs: its schema, labels by JSON Pointer, example claims.
async fn types() -> Json<Value> {
    let lang = reader();
    let list = Catalog::builtin()
        .iter()
        .map(|ty| {
            let labels: serde_json::Map<String, Value> = ty
                .metadata()
                .claims
                .iter()
                .map(|claim| {
                    let pointer = pointer_of(&claim.path);
                    let shown = claim
                        .display
                        .iter()
                        .find(|d| d.lang.parse() == Ok(lang))
                        .map(|d| json!({"label": d.label, "description": d.description}));
                    (pointer, shown.unwrap_or(Value::Null))
                })
                .collect();
            let description = ty
                .metadata()
                .display_in(lang)
                .map(|d| d.description.clone());
            // JSON objects travel with their keys sorted: the form's order goes with them.
            let order: Vec<String> = ty
                .metadata()
                .claims
                .iter()
                .map(|c| pointer_of(&c.path))
                .collect();
            json!({
                "id": ty.id(),
                "name": ty.name_in(lang),
                "description": description,
                "issuer": ty.descriptor().issuers.first().map(|i| {
                    json!({"slug": i.slug, "name": lang.pick(&i.name)})
                }),
                "schema": ty.schema(),
                "order": order,
                "labels": labels,
                "example": ty.example(),
            })
        })
        .collect();
    Json(Value::Array(list))
}

/// A metadata claim path as a JSON Pointer, `-` for every array element.
fn pointer_of(path: &[Option<String>]) -> String {
    path.iter()
        .map(|step| format!("/{}", step.as_deref().unwrap_or("-")))
        .collect()
}

#[derive(Deserialize)]
struct OfferRequest {
    #[serde(rename = "type")]
    type_id: String,
    /// The claims from the form; the type's example when absent.
    #[serde(default)]
    claims: Option<serde_json::Map<String, Value>>,
}

/// An offer of the claims from the form, from the office that issues the type. The office
/// keeps the citizen's card number and name with birth date only as keyed hashes, to find the
/// credential later.
async fn offer(
    State(pages): State<Pages>,
    request: Result<Json<OfferRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let Json(request) = request.map_err(|_| unreadable())?;
    let ty = known_type(&request.type_id)?;
    let slug = ty
        .descriptor()
        .issuers
        .first()
        .map(|i| i.slug.clone())
        .ok_or_else(|| {
            PageError::bad(
                "no_issuer",
                "이 종류를 발급하는 기관이 없습니다 / No office issues this type.",
            )
        })?;
    let offer = NewOffer {
        type_id: request.type_id.clone(),
        claims: request.claims.unwrap_or_else(|| ty.example().clone()),
        subject: None,
        tx_code: true,
        idempotency_key: None,
    };
    let created = pages
        .0
        .issuers
        .create_offer(&local_operator(&slug), &slug, offer, crate::now())
        .await?;
    Ok(Json(json!({
        "issuer": slug,
        "offer_id": created.offer_id,
        "uri": created.credential_offer_uri,
        "tx_code": created.tx_code,
        "svg": created.qr_svg,
        "expires_at": created.expires_at,
    })))
}

/// Whether an offer was redeemed: the console hides its QR code once it was.
async fn offer_state(
    State(pages): State<Pages>,
    Path((slug, offer_id)): Path<(String, String)>,
) -> Result<Json<Value>, PageError> {
    let query = CredentialQuery {
        offer_id: Some(offer_id),
        limit: 1,
        ..CredentialQuery::default()
    };
    let issued = pages
        .0
        .issuers
        .find_credentials(&local_operator(&slug), &slug, &query)
        .await?;
    let state = if issued.is_empty() {
        "open"
    } else {
        "redeemed"
    };
    Ok(Json(json!({ "state": state })))
}

#[derive(Deserialize)]
struct FindQuery {
    card_number: Option<String>,
    name: Option<String>,
    birthdate: Option<String>,
}

/// Credentials of every office, newest first: the latest, or a citizen's by card (or
/// document) number, or by name and birth date.
async fn issued(
    State(pages): State<Pages>,
    query: Result<Query<FindQuery>, QueryRejection>,
) -> Result<Json<Value>, PageError> {
    let Query(find) = query.map_err(|_| unreadable())?;
    let subject = match (
        filled(find.card_number.as_deref()),
        filled(find.name.as_deref()),
        filled(find.birthdate.as_deref()),
    ) {
        (Some(number), _, _) => Some(Subject::number(number)),
        (None, Some(name), Some(date)) => Some(Subject::person(name, date)),
        (None, None, None) => None,
        // A name without a birth date, or a date without a name, finds no one.
        (None, _, _) => Some(Err(SubjectError::Name)),
    }
    .transpose()
    .map_err(search_error)?;
    let lang = reader();
    let mut all = Vec::new();
    for (slug, name, _) in pages.0.issuers.issuers() {
        let query = CredentialQuery {
            subject: subject.clone(),
            limit: 50,
            ..CredentialQuery::default()
        };
        let found = pages
            .0
            .issuers
            .find_credentials(&local_operator(&slug), &slug, &query)
            .await?;
        for listed in found {
            let record = listed.record;
            let type_name = Catalog::builtin()
                .get(&record.type_id)
                .map_or(record.type_id.clone(), |ty| ty.name_in(lang).to_owned());
            all.push(json!({
                "issuer": slug, "issuer_name": lang.pick(&name), "id": record.id, "type": record.type_id,
                "type_name": type_name, "status": record.status,
                "status_name": record.status.label(lang), "issued_at": record.issued_at,
            }));
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse(r["issued_at"].as_i64()));
    Ok(Json(Value::Array(all)))
}

/// `text` unless it is blank.
fn filled(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn search_error(e: SubjectError) -> PageError {
    let message = match e {
        SubjectError::Number => "카드 번호를 입력하세요 / Enter the card number.",
        SubjectError::Date => {
            "생년월일이 날짜가 아닙니다. YYYY-MM-DD로 입력하세요 / The birth date is not a date: \
             use YYYY-MM-DD."
        }
        _ => "이름과 생년월일을 함께 입력하세요 / Enter the name with the birth date.",
    };
    PageError::bad("bad_search", message)
}

/// The reasons a clerk may give for each action, in the reader's language.
async fn reasons() -> Json<Value> {
    let lang = reader();
    let shown = |reasons: &[Reason]| -> Vec<Value> {
        reasons
            .iter()
            .map(|r| json!({"code": r.code(), "label": r.label(lang)}))
            .collect()
    };
    Json(json!({
        "revoke": shown(&Reason::FOR_REVOKE),
        "suspend": shown(&Reason::FOR_SUSPEND),
        "unsuspend": shown(&Reason::FOR_UNSUSPEND),
    }))
}

#[derive(Deserialize)]
struct ChangeRequest {
    reason: String,
}

async fn change(
    State(pages): State<Pages>,
    Path((slug, id, action)): Path<(String, String, String)>,
    request: Result<Json<ChangeRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let (action, allowed): (StatusAction, &[Reason]) = match action.as_str() {
        "revoke" => (StatusAction::Revoke, &Reason::FOR_REVOKE),
        "suspend" => (StatusAction::Suspend, &Reason::FOR_SUSPEND),
        "unsuspend" => (StatusAction::Unsuspend, &Reason::FOR_UNSUSPEND),
        _ => {
            return Err(PageError::bad(
                "unknown_action",
                "알 수 없는 작업입니다 / Unknown action; the actions are revoke, suspend, unsuspend.",
            ));
        }
    };
    let Json(request) = request.map_err(|_| unreadable())?;
    let reason = allowed
        .iter()
        .copied()
        .find(|r| r.code() == request.reason)
        .ok_or_else(|| {
            PageError::bad(
                "unknown_reason",
                "이 작업에 맞는 사유를 고르세요 / Choose one of this action's reasons.",
            )
        })?;
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
        .await?;
    Ok(Json(json!({"id": record.id, "status": record.status})))
}

// ---- the wallet

#[derive(Deserialize)]
struct ReceiveRequest {
    offer: String,
    #[serde(default)]
    tx_code: Option<String>,
}

async fn receive_offer(
    State(pages): State<Pages>,
    request: Result<Json<ReceiveRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let Json(request) = request.map_err(|_| unreadable())?;
    let offer = receive::offer_from_text(&pages.0.http, &request.offer)
        .await
        .map_err(|_| {
            PageError::bad(
                "not_an_offer",
                "이 QR 코드는 자격증명 제안이 아닙니다. 발급 창구의 QR 코드를 찍으세요 / This is not \
                 a credential offer. Scan the QR code the issuing office shows.",
            )
        })?;
    let options = ReceiveOptions {
        tx_code: request.tx_code.as_deref().filter(|c| !c.is_empty()),
        alg: Algorithm::Es256,
        now: crate::now(),
    };
    let stored = receive::receive(&pages.0.wallet, &pages.0.http, &offer, options).await?;
    let type_name = Catalog::builtin()
        .by_vct(&stored.vct)
        .map(|ty| ty.name_in(reader()).to_owned())
        .ok();
    Ok(Json(json!({"id": stored.id, "type_name": type_name})))
}

/// The wallet's credentials: each claim as a labelled row, and which ones the citizen may
/// choose to show.
async fn held(State(pages): State<Pages>) -> Result<Json<Value>, PageError> {
    let lang = reader();
    let mut list = Vec::new();
    for credential in pages.0.wallet.credentials().await? {
        let summary = credential.summary();
        let ty = Catalog::builtin().by_vct(&credential.vct).ok();
        let (claims, _) = credential.claims()?;
        let keys = ty.map(CredentialType::choosable).unwrap_or_default();
        let rows: Vec<Value> = ty
            .map(|ty| ty.rows(&claims, lang))
            .unwrap_or_default()
            .into_iter()
            .map(|row| {
                let mut shown = json!(row);
                shown["choosable"] = Value::Bool(keys.contains(&row.path[0]));
                shown
            })
            .collect();
        let choices: Vec<Value> = ty
            .map(|ty| {
                keys.iter()
                    .filter(|k| claims.contains_key(k.as_str()))
                    .map(|k| json!({"key": k, "label": ty.label(&format!("/{k}"), lang)}))
                    .collect()
            })
            .unwrap_or_default();
        list.push(json!({
            "id": summary.id,
            "type": ty.map(CredentialType::id),
            "type_name": ty.map_or(summary.name.clone(), |ty| ty.name_in(lang).to_owned()),
            "issuer": lang.pick(&summary.issuer),
            "status": summary.status.map(|(status, _)| status),
            "received_at": summary.received_at,
            "claims": rows,
            "choosable": choices,
        }));
    }
    Ok(Json(Value::Array(list)))
}

#[derive(Deserialize)]
struct PresentRequest {
    id: String,
    disclose: Vec<String>,
    /// The text of the verifier's challenge QR code (`DJC1:…`): challenge mode.
    #[serde(default)]
    challenge: Option<String>,
}

/// How long a time-window presentation is accepted (`dojang_core::compact::verify`).
const TIME_WINDOW_SECS: i64 = 60;

/// A QR presentation of the chosen claims (time-window mode, or answering a challenge), as
/// text and as a PNG data URI, with what it carries.
async fn present(
    State(pages): State<Pages>,
    request: Result<Json<PresentRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let Json(request) = request.map_err(|_| unreadable())?;
    if request.disclose.is_empty() {
        return Err(PageError::bad(
            "nothing_selected",
            "보여줄 항목을 하나 이상 고르세요 / Choose at least one item to show.",
        ));
    }
    let challenge = request
        .challenge
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|text| {
            ChallengeRequest::from_qr_text(text).map_err(|_| {
                PageError::bad(
                    "not_a_challenge",
                    "검증 창구의 요청 QR 코드가 아닙니다 / This is not a counter's challenge QR \
                     code.",
                )
            })
        })
        .transpose()?;
    let disclose: Vec<&str> = request.disclose.iter().map(String::as_str).collect();
    let now = crate::now();
    let bytes = pages
        .0
        .wallet
        .present_qr(&request.id, &disclose, challenge.as_ref(), now)
        .await?;
    let text = dojang_core::compact::to_qr_text(&bytes);
    let png = dojang_core::qr::to_png(&text).map_err(WalletError::from)?;
    use base64::Engine as _;
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    let lang = reader();
    let credential = pages.0.wallet.credential(&request.id).await?;
    let ty = Catalog::builtin().by_vct(&credential.vct).ok();
    let labels: Vec<String> = disclose
        .iter()
        .map(|k| ty.map_or((*k).to_owned(), |ty| ty.label(&format!("/{k}"), lang)))
        .collect();
    Ok(Json(json!({
        "text": text,
        "png": data_uri,
        "expires_at": challenge.is_none().then_some(now + TIME_WINDOW_SECS),
        "type_name": ty.map(|ty| ty.name_in(lang)),
        "claims": labels,
    })))
}

#[derive(Deserialize)]
struct OpenId4VpRequest {
    request: String,
}

/// Reads an OpenID4VP request and finds the credentials that answer it.
async fn matches(
    pages: &Pages,
    text: &str,
) -> Result<
    (
        dojang_core::oid4vp::AuthorizationRequest,
        Vec<openid4vp::Match>,
    ),
    PageError,
> {
    let request = openid4vp::request_from_text(text)?;
    let found = openid4vp::matches(&pages.0.wallet, &request).await?;
    Ok((request, found))
}

/// What answering an OpenID4VP request would disclose, and to whom.
async fn preview(
    State(pages): State<Pages>,
    request: Result<Json<OpenId4VpRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let Json(request) = request.map_err(|_| unreadable())?;
    let (request, found) = matches(&pages, &request.request).await?;
    let lang = reader();
    let mut items = Vec::new();
    for m in found {
        let credential = pages.0.wallet.credential(&m.credential_id).await?;
        let ty = Catalog::builtin().by_vct(&credential.vct).ok();
        let claims: Vec<String> = m
            .claim_pointers()
            .into_iter()
            .map(|pointer| ty.map_or(pointer.clone(), |ty| ty.label(&pointer, lang)))
            .collect();
        items.push(json!({
            "credential_id": m.credential_id,
            "type_name": ty.map_or(m.name.clone(), |ty| ty.name_in(lang).to_owned()),
            "claims": claims,
        }));
    }
    Ok(Json(json!({"verifier": request.client_id, "items": items})))
}

/// Answers an OpenID4VP request with what [`preview`] showed.
async fn answer(
    State(pages): State<Pages>,
    request: Result<Json<OpenId4VpRequest>, JsonRejection>,
) -> Result<Json<Value>, PageError> {
    let Json(request) = request.map_err(|_| unreadable())?;
    let (request, found) = matches(&pages, &request.request).await?;
    openid4vp::respond(
        &pages.0.wallet,
        &pages.0.http,
        &request,
        &found,
        crate::now(),
    )
    .await?;
    Ok(Json(json!({"answered": true})))
}
