//! The registry's HTTP API. Handlers are thin: extract, call [`Registry`], map the result.
//! Errors are JSON `{"error": "<stable code>", "message": "…"}` with a fitting status; internal
//! failures are logged and reported as `internal` without detail. No error repeats what was
//! submitted: not a DID, key id, list id or field of a refused entry, not a number asked for.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::did::Did;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::admission::{Admission, Limiter, Refused};
use crate::service::{Registry, RegistryError};
pub use dojang_ledger::api::{
    Appended, Certificate, ConsistencyProof, DidMetadata, ErrorBody, InclusionProof, Issuer,
    ResolvedDid, StatusList, StoredEntry,
};
use dojang_ledger::bundle::{TrustAnchor, encode_hashes};
use dojang_ledger::entry::{Entry, EntryError, MAX_ENTRY_LEN};
use dojang_ledger::merkle::{Hash, ProofError};
use dojang_ledger::state::{AsOf, are_type_ids};

/// The registry's routes, relative to where they are mounted, with the default limits on open
/// appends.
pub fn app(registry: Registry) -> Router {
    app_with(registry, Admission::default())
}

/// The routes' state: the registry and the limiter of open appends.
#[derive(Clone)]
struct AppState {
    registry: Registry,
    limiter: Limiter,
}

impl FromRef<AppState> for Registry {
    fn from_ref(state: &AppState) -> Registry {
        state.registry.clone()
    }
}

/// [`app`] with the given limits on open appends (see [`crate::admission`]).
pub fn app_with(registry: Registry, admission: Admission) -> Router {
    let state = AppState {
        registry,
        limiter: Limiter::new(admission),
    };
    Router::new()
        .route("/entries", post(submit_entry))
        .route("/entries/{index}", get(get_entry))
        .route("/checkpoint", get(get_checkpoint))
        .route("/proofs/inclusion", get(inclusion_proof))
        .route("/proofs/consistency", get(consistency_proof))
        .route("/dids/{did}", get(resolve_did))
        .route("/dids/{did}/history", get(did_history))
        .route("/issuers", get(issuers))
        .route("/certificates", get(certificates))
        .route("/status-lists/{list_id}", get(status_list))
        .route("/bundle", get(bundle))
        .route("/trust-anchor", get(trust_anchor))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_ENTRY_LEN + 1024))
        .with_state(state)
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "dojang registry",
        description = "The verifiable ledger: DIDs, accreditation, status lists, trust bundles."
    ),
    paths(
        submit_entry,
        get_entry,
        get_checkpoint,
        inclusion_proof,
        consistency_proof,
        resolve_did,
        did_history,
        issuers,
        certificates,
        status_list,
        bundle,
        trust_anchor
    ),
    components(schemas(
        Appended,
        StoredEntry,
        InclusionProof,
        ConsistencyProof,
        ResolvedDid,
        DidMetadata,
        Issuer,
        Certificate,
        StatusList,
        ErrorBody,
        TrustAnchor
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A [`RegistryError`] as an HTTP answer.
pub struct ApiError(RegistryError);

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = error_body(&self.0);
        (status, Json(body)).into_response()
    }
}

/// The status and body the API answers `error` with. Internal failures are logged here and
/// answered without detail.
pub(crate) fn error_body(error: &RegistryError) -> (StatusCode, ErrorBody) {
    let (status, code) = match error {
        RegistryError::Rejected(e) => match e {
            EntryError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "entry_too_large"),
            EntryError::Jws(_) | EntryError::Malformed { .. } => {
                (StatusCode::BAD_REQUEST, "malformed_entry")
            }
            EntryError::BadSignature => (StatusCode::FORBIDDEN, "bad_signature"),
            EntryError::Unauthorized { .. } => (StatusCode::FORBIDDEN, "unauthorized"),
            EntryError::DidExists { .. } => (StatusCode::CONFLICT, "did_exists"),
            EntryError::BrokenChain { .. } => (StatusCode::CONFLICT, "broken_chain"),
            EntryError::UnknownDid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_did"),
            EntryError::Deactivated { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "did_deactivated"),
            EntryError::Genesis { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "genesis"),
            EntryError::StatusList { .. } => (StatusCode::CONFLICT, "status_list"),
            EntryError::Accreditation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "accreditation"),
            EntryError::Certificate { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "certificate"),
        },
        RegistryError::Replayed => (StatusCode::CONFLICT, "replayed"),
        RegistryError::Proof(_) => (StatusCode::BAD_REQUEST, "bad_proof_request"),
        RegistryError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        RegistryError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        RegistryError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        RegistryError::KeyUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "key_unavailable"),
        RegistryError::Store(_) | RegistryError::Keys(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    };
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(%error, "registry request failed");
        "internal error".to_owned()
    } else {
        public_message(error)
    };
    (
        status,
        ErrorBody {
            error: code.into(),
            message,
        },
    )
}

/// The explanation of a refusal, built from the registry's own words only: an entry's DIDs,
/// key id, list id and fields are whatever its sender wrote.
fn public_message(error: &RegistryError) -> String {
    let entry = match error {
        RegistryError::Rejected(entry) => entry,
        RegistryError::Proof(ProofError::IndexOutOfRange { .. }) => {
            return "the index is not in the tree of that size".to_owned();
        }
        RegistryError::Proof(ProofError::InvalidSizes { .. }) => {
            return "no consistency proof exists between these sizes".to_owned();
        }
        other => return other.to_string(),
    };
    match entry {
        EntryError::TooLarge { .. } | EntryError::BadSignature => entry.to_string(),
        EntryError::Jws(e) => format!("entry JWS: {e}"),
        EntryError::Malformed { .. } => {
            "malformed entry: it needs a `kid` naming a key and a well-formed operation".to_owned()
        }
        EntryError::Unauthorized { action, .. } => format!("the signing key may not {action}"),
        EntryError::DidExists { .. } => "the DID already exists".to_owned(),
        EntryError::UnknownDid { .. } => "the DID is not registered".to_owned(),
        EntryError::Deactivated { .. } => "the DID is deactivated".to_owned(),
        EntryError::BrokenChain { .. } => {
            "the operation does not follow the DID's latest operation (replayed or forked)"
                .to_owned()
        }
        EntryError::Genesis { reason } => format!("genesis: {reason}"),
        EntryError::StatusList { reason, .. } => format!("status list: {reason}"),
        EntryError::Accreditation { reason } => format!("accreditation: {reason}"),
        EntryError::Certificate { reason } => format!("certificate: {reason}"),
    }
}

/// An open append that was not admitted: 429 or 503, with when to try again.
fn refusal(refused: Refused) -> Response {
    let (status, code, retry_after, message) = match refused {
        Refused::RateLimited(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            wait.as_secs().max(1),
            "이 주소에서 너무 많은 항목을 보냈습니다. 잠시 후 다시 시도하세요. / \
             Too many entries from this address; try again later.",
        ),
        Refused::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            5,
            "대기 중인 항목이 너무 많습니다. 잠시 후 다시 시도하세요. / \
             Too many entries are waiting; try again later.",
        ),
    };
    (
        status,
        [(header::RETRY_AFTER, retry_after.to_string())],
        Json(ErrorBody {
            error: code.into(),
            message: message.to_owned(),
        }),
    )
        .into_response()
}

fn bad_request(message: &str) -> ApiError {
    ApiError(RegistryError::BadRequest(message.to_owned()))
}

type ApiResult<T> = Result<T, ApiError>;

/// Append a signed entry (the compact JWS as the body). Appends are idempotent: an entry
/// already in the log answers 200 with where it is, so a lost acknowledgement is recovered by
/// sending the same entry again.
#[utoipa::path(post, path = "/entries", request_body(content = String, content_type = "application/jose"),
    responses((status = 201, body = Appended), (status = 200, body = Appended), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn submit_entry(
    State(AppState { registry, limiter }): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: String,
) -> Result<(StatusCode, Json<Appended>), Response> {
    // Parse before queueing: malformed input never reaches the sequencer.
    let entry =
        Entry::parse(body.trim()).map_err(|e| ApiError(RegistryError::from(e)).into_response())?;
    let trusted = registry
        .current_state()
        .await
        .map_err(|e| ApiError(e).into_response())?
        .signed_by_trust_did(&entry);
    // Entries from strangers wait their turn, bounded; authorised acts never do.
    let _permit = if trusted {
        None
    } else {
        let client = client.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
        Some(limiter.admit(client).map_err(refusal)?)
    };
    let appended = registry
        .submit(body.trim().to_owned())
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok((
        if appended.replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(Appended::from(appended)),
    ))
}

/// Read one entry.
#[utoipa::path(get, path = "/entries/{index}", params(("index" = u64, Path, description = "log index")),
    responses((status = 200, body = StoredEntry), (status = 404, body = ErrorBody)))]
async fn get_entry(
    State(registry): State<Registry>,
    Path(index): Path<String>,
) -> ApiResult<Json<StoredEntry>> {
    // Parsed here: the extractor's refusal would repeat the text.
    let index: u64 = index
        .parse()
        .map_err(|_| bad_request("the index is not a number"))?;
    let leaf = registry.leaf(index).await?;
    Ok(Json(StoredEntry {
        index,
        timestamp_ms: leaf.timestamp_ms,
        leaf_hash: STANDARD.encode(leaf.hash()),
        entry: leaf.entry,
    }))
}

/// The latest checkpoint, a C2SP signed note with witness cosignatures.
#[utoipa::path(get, path = "/checkpoint", responses((status = 200, content_type = "text/plain", body = String)))]
async fn get_checkpoint(State(registry): State<Registry>) -> ApiResult<Response> {
    let checkpoint = registry.checkpoint().await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        checkpoint.to_text(),
    )
        .into_response())
}

/// Which leaf, in which tree.
#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// Leaf index (or give `leaf_hash`).
    index: Option<u64>,
    /// Leaf hash, base64 (or give `index`).
    leaf_hash: Option<String>,
    /// Tree size; the latest checkpoint's if omitted.
    size: Option<u64>,
}

/// Prove a leaf is in the tree.
#[utoipa::path(get, path = "/proofs/inclusion", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn inclusion_proof(
    State(registry): State<Registry>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<InclusionProof>> {
    let size = match q.size {
        Some(size) => size,
        None => registry.checkpoint().await?.checkpoint.size,
    };
    let index = match (q.index, q.leaf_hash) {
        (Some(index), _) => index,
        (None, Some(hash)) => {
            let hash: Hash = STANDARD
                .decode(hash)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad_request("leaf_hash is not 32 bytes of base64"))?;
            registry.index_of(&hash).await?
        }
        (None, None) => return Err(bad_request("give index or leaf_hash")),
    };
    let proof = registry.inclusion_proof(index, size).await?;
    Ok(Json(InclusionProof {
        index,
        size,
        proof: encode_hashes(&proof),
    }))
}

/// Two tree sizes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older size.
    first: u64,
    /// The newer size; the latest checkpoint's if omitted.
    second: Option<u64>,
}

/// Prove the tree of `second` extends the tree of `first`.
#[utoipa::path(get, path = "/proofs/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = ErrorBody)))]
async fn consistency_proof(
    State(registry): State<Registry>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    let second = match q.second {
        Some(size) => size,
        None => registry.checkpoint().await?.checkpoint.size,
    };
    let proof = registry.consistency_proof(q.first, second).await?;
    Ok(Json(ConsistencyProof {
        first: q.first,
        second,
        proof: encode_hashes(&proof),
    }))
}

/// Resolve as of a log size or a time.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// Only operations in the first `as_of_size` leaves.
    as_of_size: Option<u64>,
    /// Only operations sequenced at or before this time (ms since the epoch).
    as_of_time: Option<u64>,
}

/// Resolve a `did:dojang`, now or as of a log size or time (key history).
#[utoipa::path(get, path = "/dids/{did}", params(("did" = String, Path, description = "the DID"), AsOfQuery),
    responses((status = 200, body = ResolvedDid), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
async fn resolve_did(
    State(registry): State<Registry>,
    Path(did): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Response> {
    let did = Did::parse(&did).map_err(|_| bad_request("not a DID"))?;
    let as_of = match (q.as_of_size, q.as_of_time) {
        (Some(size), _) => AsOf::Size(size),
        (None, Some(time)) => AsOf::Time(time),
        (None, None) => AsOf::Latest,
    };
    let body = registry.resolve(&did, as_of).await?;
    let deactivated = body.metadata.deactivated;
    let status = if deactivated {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

/// Every version of a DID document, oldest first.
#[utoipa::path(get, path = "/dids/{did}/history", params(("did" = String, Path, description = "the DID")),
    responses((status = 200, body = [ResolvedDid]), (status = 404, body = ErrorBody)))]
async fn did_history(
    State(registry): State<Registry>,
    Path(did): Path<String>,
) -> ApiResult<Json<Vec<ResolvedDid>>> {
    let did = Did::parse(&did).map_err(|_| bad_request("not a DID"))?;
    let state = registry.current_state().await?;
    let record = state.did(&did).ok_or(RegistryError::NotFound)?;
    Ok(Json(
        record
            .versions
            .iter()
            .map(|v| ResolvedDid {
                document: serde_json::to_value(&v.document).unwrap_or_default(),
                metadata: DidMetadata {
                    created_ms: record.versions[0].timestamp_ms,
                    updated_ms: v.timestamp_ms,
                    version_index: v.index,
                    deactivated: false,
                    latest_operation: None,
                },
            })
            .collect(),
    ))
}

/// Issuers with a current accreditation.
#[utoipa::path(get, path = "/issuers", responses((status = 200, body = [Issuer])))]
async fn issuers(State(registry): State<Registry>) -> ApiResult<Json<Vec<Issuer>>> {
    Ok(Json(registry.issuers().await?))
}

/// The X.509 certificates the root authority published: its issuing-authority roots (IACA) and
/// the document signers' certificates of accredited issuers, with revocations — what an mdoc or
/// `x5c` verifier anchors in.
#[utoipa::path(get, path = "/certificates",
    responses((status = 200, description = "`id` (base64url SHA-256 of the DER), `der` \
        (base64url), `is_root`, `subject` (the issuer's DID), `index`, `revoked` ([index, \
        reason] or null).", body = [Certificate])))]
async fn certificates(State(registry): State<Registry>) -> Json<Vec<Certificate>> {
    Json(registry.certificates().await)
}

/// The latest version of a status list. With `Accept: application/statuslist+jwt`, the raw
/// token; with `Accept: application/statuslist+cwt`, its CWT form (404 for a list published
/// without one); otherwise JSON with its inclusion proof.
#[utoipa::path(get, path = "/status-lists/{list_id}", params(("list_id" = String, Path, description = "the list id")),
    responses((status = 200, body = StatusList), (status = 404, body = ErrorBody)))]
async fn status_list(
    State(registry): State<Registry>,
    Path(list_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (media_type, cwt) = if accept.contains("application/statuslist+jwt") {
        ("application/statuslist+jwt", false)
    } else if accept.contains(dojang_mdoc::CWT_TYP) {
        (dojang_mdoc::CWT_TYP, true)
    } else {
        return Ok(Json(registry.status_list(&list_id).await?).into_response());
    };
    let body = {
        let state = registry.current_state().await?;
        let record = state.status_list(&list_id).ok_or(RegistryError::NotFound)?;
        match cwt {
            false => record.token.clone().into_bytes(),
            true => record
                .cwt
                .as_deref()
                .and_then(|cwt| dojang_core::b64::decode(cwt).ok())
                .ok_or(RegistryError::NotFound)?,
        }
    };
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        body,
    )
        .into_response())
}

/// A bundle, or a delta since a size.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BundleQuery {
    /// The checkpoint size the caller holds: return only what is newer, with a consistency
    /// proof.
    since: Option<u64>,
    /// Only the status lists of issuers accredited for these credential types (comma-separated
    /// type ids): a verifier that checks a few types carries a fraction of the lists.
    types: Option<String>,
}

/// The signed trust bundle (compact JWS, `dojang-bundle+jwt`).
#[utoipa::path(get, path = "/bundle", params(BundleQuery),
    responses((status = 200, content_type = "application/jwt", body = String), (status = 400, body = ErrorBody)))]
async fn bundle(
    State(registry): State<Registry>,
    Query(q): Query<BundleQuery>,
) -> ApiResult<Response> {
    let types: Option<Vec<String>> = q
        .types
        .map(|t| t.split(',').map(str::trim).map(str::to_owned).collect());
    if types.as_deref().is_some_and(|types| !are_type_ids(types)) {
        return Err(bad_request(
            "types: 유형 ID 1~32개, 각각 [a-z0-9_.:-] 1~64자 / 1 to 32 type ids of 1 to 64 \
             [a-z0-9_.:-] each",
        ));
    }
    let bundle = registry.bundle_for(q.since, types.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, "application/jwt")], bundle).into_response())
}

/// What verifiers pin to trust this registry.
#[utoipa::path(get, path = "/trust-anchor", responses((status = 200, body = TrustAnchor)))]
async fn trust_anchor(State(registry): State<Registry>) -> Json<TrustAnchor> {
    Json(registry.trust_anchor())
}
