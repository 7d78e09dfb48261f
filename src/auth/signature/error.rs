//! Why a request's signature was refused, with the Alibaba code and HTTP status of each case.

use super::encoding::FormDecodeError;

/// A parameter that signature V1 cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthParameter {
    AccessKeyId,
    Signature,
    SignatureMethod,
    SignatureVersion,
    SignatureNonce,
    Timestamp,
}

impl AuthParameter {
    /// The parameter's name on the wire.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::AccessKeyId => "AccessKeyId",
            Self::Signature => "Signature",
            Self::SignatureMethod => "SignatureMethod",
            Self::SignatureVersion => "SignatureVersion",
            Self::SignatureNonce => "SignatureNonce",
            Self::Timestamp => "Timestamp",
        }
    }

    /// Alibaba's `Missing<Name>` error code for this parameter.
    fn missing_code(self) -> &'static str {
        match self {
            Self::AccessKeyId => "MissingAccessKeyId",
            Self::Signature => "MissingSignature",
            Self::SignatureMethod => "MissingSignatureMethod",
            Self::SignatureVersion => "MissingSignatureVersion",
            Self::SignatureNonce => "MissingSignatureNonce",
            Self::Timestamp => "MissingTimestamp",
        }
    }
}

/// Where a list of form-encoded parameters came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterSource {
    Query,
    Body,
}

impl std::fmt::Display for ParameterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Query => "query string",
            Self::Body => "form body",
        })
    }
}

/// A refused signature. `Display` is the message Alibaba sends for the case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A V3 `Authorization` header that is malformed or signs too little, or a V3 header that
    /// the signature needs but that is absent, repeated or not text. `reason` is for logs only.
    #[error("The request signature does not conform to Alibaba Cloud standards.")]
    IncompleteSignature { reason: &'static str },

    /// A V1 request without one of the signature parameters (or with it empty).
    #[error("{} is mandatory for this action.", .0.name())]
    MissingParameter(AuthParameter),

    /// A signature or signature-related parameter given more than once.
    #[error("The parameter {name} is specified more than once.")]
    DuplicateParameter { name: &'static str },

    /// An unknown V3 algorithm, or a V1 `SignatureMethod` other than `HMAC-SHA1`.
    #[error("Specified signature method is not supported.")]
    InvalidSignatureMethod,

    /// A V1 `SignatureVersion` other than `1.0`.
    #[error("Specified signature version is not supported.")]
    InvalidSignatureVersion,

    /// `x-acs-date` or `Timestamp` not exactly `yyyy-MM-ddTHH:mm:ssZ`.
    #[error("Specified time stamp or date value is not well formatted.")]
    InvalidTimestampFormat,

    /// The query or the form body does not decode to UTF-8 text.
    #[error("The {location} is not valid form encoding ({source}).")]
    InvalidEncoding {
        location: ParameterSource,
        source: FormDecodeError,
    },

    /// The signature (or the V3 body hash) differs from the server's calculation.
    /// The message ends with the string to sign and holds no other `:`, because aliyunsdkcore
    /// reads it with `Message.split(':')[1]`.
    #[error(
        "Specified signature is not matched with our calculation. \
         server string to sign is:{string_to_sign}"
    )]
    SignatureDoesNotMatch { string_to_sign: String },
}

impl SignatureError {
    /// Alibaba's error code for the `Code` field of the error body.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::IncompleteSignature { .. } => "IncompleteSignature",
            Self::MissingParameter(parameter) => parameter.missing_code(),
            Self::DuplicateParameter { .. } | Self::InvalidEncoding { .. } => "InvalidParameter",
            Self::InvalidSignatureMethod => "InvalidSignatureMethod",
            Self::InvalidSignatureVersion => "InvalidSignatureVersion",
            Self::InvalidTimestampFormat => "InvalidTimeStamp.Format",
            Self::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status Alibaba answers with. Every signature error is the client's.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        400
    }

    pub(super) fn incomplete(reason: &'static str) -> Self {
        Self::IncompleteSignature { reason }
    }
}
