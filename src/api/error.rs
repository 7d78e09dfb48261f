//! The one error type of the RPC API. Each case knows its Alibaba code, HTTP status and
//! message; internal causes are kept for the log and never reach the response body.

use axum::http::StatusCode;

use crate::auth::signature::SignatureError;
use crate::storage::StorageError;

/// Every way an RPC call can fail, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{name} is mandatory for this action.")]
    MissingParameter { name: &'static str },
    #[error("Parameter invalid. {detail}")]
    InvalidParam { detail: String },
    #[error("Specified parameter {name} is not valid.")]
    InvalidParameterValue { name: &'static str },
    #[error("Specified parameter StartTime is not valid.")]
    InvalidStartTimeMalformed,
    #[error("Specified parameter EndTime is not valid.")]
    InvalidEndTimeMalformed,
    #[error("Specified EndTime does not match the specified StartTime.")]
    InvalidEndTimeMismatch,
    #[error("StartTime needs to be within the last 7 days.")]
    DurationExceed,
    #[error("The domain provided does not belong to you.")]
    DomainNotFound,
    #[error("The callback configuration of this domain does not exist.")]
    NotifyConfigNotFound,
    #[error("Specified api is not found, please check your url and method.")]
    ActionNotFound,
    #[error("Specified parameter Version is not valid.")]
    InvalidVersion,
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("Specified time stamp or date value is expired.")]
    TimestampExpired,
    #[error("Specified signature nonce was used already.")]
    NonceUsed,
    #[error("Too many requests are being checked for replay; retry shortly.")]
    NonceCacheFull,
    #[error("Specified access key is not found.")]
    AccessKeyNotFound,
    #[error("Specified access key is disabled.")]
    AccessKeyInactive,
    #[error("Security tokens (STS) are not supported by livenotify; sign with an AccessKey pair.")]
    SecurityTokenNotSupported,
    #[error("User not authorized to operate on the specified resource.")]
    Forbidden,
    #[error("Request was denied due to user flow control.")]
    Throttled { retry_after_ms: u64 },
    #[error("The request processing has failed due to backend service exception.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// Alibaba's error code.
    pub fn code(&self) -> String {
        let fixed = match self {
            Self::MissingParameter { name } => return format!("Missing{name}"),
            Self::InvalidParameterValue { name } => return format!("Invalid{name}"),
            Self::Signature(error) => return error.code().to_string(),
            Self::InvalidParam { .. } => "InvalidParam",
            Self::InvalidStartTimeMalformed => "InvalidStartTime.Malformed",
            Self::InvalidEndTimeMalformed => "InvalidEndTime.Malformed",
            Self::InvalidEndTimeMismatch => "InvalidEndTime.Mismatch",
            Self::DurationExceed => "Duration.Exceed",
            Self::DomainNotFound => "InvalidDomain.NotFound",
            Self::NotifyConfigNotFound => "InvalidConfig.NotFound",
            Self::ActionNotFound => "InvalidAction.NotFound",
            Self::InvalidVersion => "InvalidVersion",
            Self::TimestampExpired => "InvalidTimeStamp.Expired",
            Self::NonceUsed => "SignatureNonceUsed",
            Self::NonceCacheFull => "ServiceUnavailable",
            Self::AccessKeyNotFound => "InvalidAccessKeyId.NotFound",
            Self::AccessKeyInactive => "InvalidAccessKeyId.Inactive",
            Self::SecurityTokenNotSupported => "InvalidSecurityToken.NotSupported",
            Self::Forbidden => "Forbidden.RAM",
            Self::Throttled { .. } => "Throttling.User",
            Self::Internal(_) => "InternalError",
        };
        fixed.to_string()
    }

    /// The HTTP status Alibaba's gateway answers this code with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Signature(error) => {
                StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            Self::DomainNotFound
            | Self::NotifyConfigNotFound
            | Self::ActionNotFound
            | Self::AccessKeyNotFound => StatusCode::NOT_FOUND,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NonceCacheFull => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the request was refused for who sent it (credentials, signature, replay,
    /// RAM policy or rate limit) rather than for what it asked. Each is logged once at info.
    pub fn is_denial(&self) -> bool {
        matches!(
            self,
            Self::Signature(_)
                | Self::TimestampExpired
                | Self::NonceUsed
                | Self::AccessKeyNotFound
                | Self::AccessKeyInactive
                | Self::SecurityTokenNotSupported
                | Self::Forbidden
                | Self::Throttled { .. }
        )
    }

    /// Milliseconds a throttled client should wait, sent as `x-acs-retry-after`; the Tea
    /// SDK raises `ThrottlingException` when this header is present and positive.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }

    /// A short hint for the `Recommend` field.
    pub fn recommend(&self) -> &'static str {
        match self {
            Self::Signature(SignatureError::SignatureDoesNotMatch { .. }) => {
                "Check the AccessKeySecret and that nothing rewrote the request."
            }
            Self::Signature(SignatureError::InvalidSignatureMethod) => {
                "Sign with HMAC-SHA1 (V1) or ACS3-HMAC-SHA256 / ACS3-HMAC-SM3 (V3)."
            }
            Self::Signature(SignatureError::InvalidSignatureVersion) => {
                "Use SignatureVersion 1.0, or sign with V3."
            }
            Self::Signature(SignatureError::InvalidTimestampFormat) => {
                "Use the yyyy-MM-ddTHH:mm:ssZ format in UTC."
            }
            Self::Signature(_) => "Check the signature parameters and headers the SDK sends.",
            Self::TimestampExpired => "Synchronise the client clock; times are UTC.",
            Self::InvalidStartTimeMalformed | Self::InvalidEndTimeMalformed => {
                "Use the yyyy-MM-ddTHH:mm:ssZ format in UTC."
            }
            Self::DomainNotFound => "Check the DomainName and the account of the AccessKey.",
            _ => "",
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        Self::Internal(Box::new(error))
    }
}
