//! The error responses the simulator sends, in Alpaca's shape: an HTTP status
//! and a JSON body `{"code": 8 digits, "message": ...}` whose code starts with
//! the status. Injected faults that Alpaca's proxies would answer with HTML
//! are built in `server`, not here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::alpaca::wire::ApiError;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl Rejection {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Rejection {
            status,
            code,
            message: message.into(),
        }
    }

    /// A request Alpaca cannot even read: unknown or repeated parameters, a
    /// page token that is not its own.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 40010001, message)
    }

    /// A parameter with a value Alpaca does not accept.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, 42210000, message)
    }

    pub fn missing_keys() -> Self {
        let message = "request is not authorized: send APCA-API-KEY-ID and APCA-API-SECRET-KEY";
        Self::new(StatusCode::UNAUTHORIZED, 40110000, message)
    }

    pub fn wrong_keys() -> Self {
        let message = "forbidden: the key id and secret key are not valid for this endpoint";
        Self::new(StatusCode::FORBIDDEN, 40310000, message)
    }

    /// The free plan asking for SIP data of the last 15 minutes. Alpaca uses
    /// the unprocessable-entity code with a 403 status here.
    pub fn recent_sip() -> Self {
        let message = "subscription does not permit querying recent SIP data";
        Self::new(StatusCode::FORBIDDEN, 42210000, message)
    }

    pub fn too_many_requests() -> Self {
        let message = "too many requests: wait until the time in X-RateLimit-Reset";
        Self::new(StatusCode::TOO_MANY_REQUESTS, 42910000, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, 50010000, message)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = ApiError {
            code: Some(self.code),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
