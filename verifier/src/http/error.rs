//! Error answers: a stable code and a fixed message, never a piece of the request.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dojang_ledger::api::ErrorBody;

use crate::service::ServiceError;

/// An API error: a status, a stable code and a message for people, as
/// `{"error": "<code>", "message": "…"}` ([`ErrorBody`]). The message is fixed text (with, at
/// most, what the registry answered): never a piece of the request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// The same error answered with `status`.
    #[must_use]
    pub fn with_status(self, status: StatusCode) -> Self {
        ApiError { status, ..self }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code: a [`ServiceError::code`], or `bad_request` and `too_large` for a
    /// request that could not be read.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = match &error {
            ServiceError::UnknownState
            | ServiceError::VpTokenUnreadable
            | ServiceError::VpTokenNotOnePresentation => StatusCode::BAD_REQUEST,
            ServiceError::UnknownRequest => StatusCode::NOT_FOUND,
            ServiceError::NoRegistry | ServiceError::Fork => StatusCode::CONFLICT,
            ServiceError::UnknownType { .. }
            | ServiceError::UnknownClaim { .. }
            | ServiceError::UnsupportedFormat { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::RegistryUnavailable { .. }
            | ServiceError::BundleUnreadable { .. }
            | ServiceError::BundleInvalid { .. } => StatusCode::BAD_GATEWAY,
            ServiceError::NoBundle | ServiceError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

/// A failure of ours outside the service (drawing a QR code), logged; the client is told only
/// that.
pub(super) fn internal(
    what: &'static str,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> ApiError {
    ServiceError::internal(what, error).into()
}

/// A request an extractor could not read. axum's own rejection text quotes what it failed on,
/// so only its status is kept; the message says what was `expected`.
pub(super) fn unreadable(status: StatusCode, expected: &'static str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError {
            status,
            code: "too_large",
            message: "요청이 너무 큽니다 / the request body is too large".to_owned(),
        };
    }
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError {
        status,
        code: "bad_request",
        message: format!(
            "요청을 읽을 수 없습니다 / the request could not be read; expected {expected}"
        ),
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: Cow::Borrowed(self.code),
            message: super::lang::localized(&self.message).to_owned(),
        };
        (self.status, Json(body)).into_response()
    }
}
