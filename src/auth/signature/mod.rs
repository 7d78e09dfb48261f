//! Alibaba Cloud RPC request signatures, checked on the server and produced for clients.
//!
//! A request is signed with V3 (`Authorization: ACS3-HMAC-SHA256 …` or `ACS3-HMAC-SM3 …`,
//! the Tea SDK's default) or with V1 (`Signature` parameter, HMAC-SHA1, aliyunsdkcore and the
//! Tea SDK in `v2` mode). The server first reads the [`SignatureClaim`] with [`read_claim`] to
//! learn whose secret to fetch, then calls [`verify`]. The timestamp skew and the nonce replay
//! checks are the caller's, on the claim's `timestamp` and `nonce` (see `auth::nonce`).
//!
//! The algorithms follow `reference/alibaba-sdk-wire.md` §2, §3 and §8. Nothing here panics on
//! request data, and signatures are compared in constant time.

mod crypto;
mod encoding;
mod error;
mod signer;
mod timestamp;
mod v1;
mod v3;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;

pub use encoding::{form_decode, form_encode, percent_encode, FormDecodeError};
pub use error::{AuthParameter, ParameterSource, SignatureError};
pub use signer::{V1Signer, V3Signer};

/// The parts of an HTTP request that signatures cover, as received on the wire.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path, `/` for the RPC API.
    pub path: &'a str,
    /// Everything after the first `?` of the request target, undecoded (`""` if none); see
    /// [`split_target`].
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    V1HmacSha1,
    V3HmacSha256,
    V3HmacSm3,
}

/// What a request claims about its signer, read before the secret is known.
#[derive(Debug, Clone)]
pub struct SignatureClaim {
    pub scheme: Scheme,
    pub access_key_id: String,
    /// From `x-acs-date` (V3) or `Timestamp` (V1), which must be `yyyy-MM-ddTHH:mm:ssZ`.
    pub timestamp: time::OffsetDateTime,
    /// `x-acs-signature-nonce` (V3) or `SignatureNonce` (V1), never empty.
    pub nonce: String,
    /// `x-acs-security-token` (V3, which must then be signed) or `SecurityToken` (V1).
    pub security_token: Option<String>,
    /// The `x-acs-action` header (V3) or the `Action` parameter (V1).
    pub action: Option<String>,
    /// The `x-acs-version` header (V3) or the `Version` parameter (V1).
    pub version: Option<String>,
}

/// Splits a request target into path and raw query at its first `?`; aiohttp can leave
/// further `?` inside the query.
#[must_use]
pub fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

/// Whether the request is signed with V3, whose signed headers carry the action and version
/// (`x-acs-action`, `x-acs-version`); a V1 request carries them only as signed parameters.
pub fn is_v3(headers: &HeaderMap) -> bool {
    v3::is_v3(headers)
}

/// Chooses the scheme and reads the claim. An `Authorization` header starting with `ACS3-`
/// means V3 (an algorithm other than `ACS3-HMAC-SHA256` / `ACS3-HMAC-SM3` is refused);
/// anything else is V1, read from the [`parameters`].
pub fn read_claim(req: &IncomingRequest<'_>) -> Result<SignatureClaim, SignatureError> {
    if v3::is_v3(req.headers) {
        v3::read_claim(req)
    } else {
        v1::read_claim(req)
    }
}

/// Recomputes the signature with `secret` and compares it in constant time. `claim` must be
/// the one [`read_claim`] returned for this request; another one is refused.
pub fn verify(
    req: &IncomingRequest<'_>,
    claim: &SignatureClaim,
    secret: &str,
) -> Result<(), SignatureError> {
    let own = read_claim(req)?;
    if own.scheme != claim.scheme || own.access_key_id != claim.access_key_id {
        return Err(SignatureError::incomplete(
            "claim read from another request",
        ));
    }
    match claim.scheme {
        Scheme::V1HmacSha1 => v1::verify(req, secret),
        Scheme::V3HmacSha256 | Scheme::V3HmacSm3 => v3::verify(req, secret),
    }
}

/// The server's string to sign for this request, the text a mismatch error reports.
pub fn string_to_sign(
    req: &IncomingRequest<'_>,
    claim: &SignatureClaim,
) -> Result<String, SignatureError> {
    match claim.scheme {
        Scheme::V1HmacSha1 => v1::string_to_sign(req),
        Scheme::V3HmacSha256 | Scheme::V3HmacSm3 => v3::string_to_sign(req),
    }
}

/// For diagnostics: the V3 canonical request, or the V1 canonicalized parameter string (the
/// text that is percent-encoded into the V1 string to sign).
pub fn canonical_request(
    req: &IncomingRequest<'_>,
    claim: &SignatureClaim,
) -> Result<Vec<u8>, SignatureError> {
    match claim.scheme {
        Scheme::V1HmacSha1 => v1::canonical_request(req),
        Scheme::V3HmacSha256 | Scheme::V3HmacSm3 => v3::canonical_request(req),
    }
}

/// The request's parameters, decoded with [`form_decode`]: the query's in wire order, then,
/// when `Content-Type` is `application/x-www-form-urlencoded`, the body's. V1 signs exactly
/// this set; the API layer reads its parameters here too, so the two never disagree.
pub fn parameters(req: &IncomingRequest<'_>) -> Result<Vec<(String, String)>, SignatureError> {
    let mut params = decode(req.raw_query, ParameterSource::Query)?;
    if is_form_body(req.headers) {
        let body =
            std::str::from_utf8(req.body).map_err(|error| SignatureError::InvalidEncoding {
                location: ParameterSource::Body,
                source: FormDecodeError::NotUtf8 {
                    offset: error.valid_up_to(),
                },
            })?;
        params.extend(decode(body, ParameterSource::Body)?);
    }
    Ok(params)
}

fn decode(raw: &str, location: ParameterSource) -> Result<Vec<(String, String)>, SignatureError> {
    form_decode(raw).map_err(|source| SignatureError::InvalidEncoding { location, source })
}

/// True when the body is `application/x-www-form-urlencoded` (parameters such as a charset
/// may follow).
fn is_form_body(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let media_type = value.as_bytes().split(|&byte| byte == b';').next();
    media_type.is_some_and(|media_type| {
        media_type
            .trim_ascii()
            .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
    })
}
