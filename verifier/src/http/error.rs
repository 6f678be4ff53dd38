//! Error answers: a stable code and a fixed message, never a piece of the request.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error: a status, a stable code and a message for people, as
/// `{"error": "<code>", "message": "…"}`. The message is fixed text (with, at most, what the
/// registry answered): never a piece of the request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A failure of ours, logged (never with request data); the client is told only that.
    pub(super) fn internal(what: &'static str, error: impl std::fmt::Display) -> Self {
        tracing::error!(what, %error, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "내부 오류 / internal error",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code (`no_bundle`, `busy`, `bad_request`, `too_large`, `unknown_state`,
    /// `invalid_vp_token`, `unknown_type`, `unknown_request`, `no_registry`,
    /// `registry_unavailable`, `bundle_invalid`, `fork`, `internal`).
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// A request an extractor could not read. axum's own rejection text quotes what it failed on,
/// so only its status is kept; the message says what was `expected`.
pub(super) fn unreadable(status: StatusCode, expected: &'static str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "too_large",
            "요청이 너무 큽니다 / the request body is too large",
        );
    }
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(
        status,
        "bad_request",
        format!("요청을 읽을 수 없습니다 / the request could not be read; expected {expected}"),
    )
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}
