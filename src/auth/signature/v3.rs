//! Signature V3 (`ACS3-HMAC-SHA256`, `ACS3-HMAC-SM3`), the Tea SDK's default: the
//! `Authorization` header, the canonical request and the string to sign (wire reference §2).

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use super::crypto::V3Hash;
use super::encoding::{canonical_query, form_decode};
use super::error::ParameterSource;
use super::timestamp::parse_timestamp;
use super::{IncomingRequest, Scheme, SignatureClaim, SignatureError};

/// Every `Authorization` value of signature V3 starts with this.
const V3_PREFIX: &str = "ACS3-";

/// Headers every SDK signs; a V3 signature that leaves one out is refused.
const REQUIRED_SIGNED_HEADERS: [&str; 6] = [
    "host",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-action",
    "x-acs-version",
];

/// A V3 algorithm, named as in the string to sign and the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algorithm {
    HmacSha256,
    HmacSm3,
}

impl Algorithm {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::HmacSha256 => "ACS3-HMAC-SHA256",
            Self::HmacSm3 => "ACS3-HMAC-SM3",
        }
    }

    pub(super) fn hash(self) -> V3Hash {
        match self {
            Self::HmacSha256 => V3Hash::Sha256,
            Self::HmacSm3 => V3Hash::Sm3,
        }
    }

    fn scheme(self) -> Scheme {
        match self {
            Self::HmacSha256 => Scheme::V3HmacSha256,
            Self::HmacSm3 => Scheme::V3HmacSm3,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::HmacSha256, Self::HmacSm3]
            .into_iter()
            .find(|algorithm| algorithm.name() == name)
    }
}

/// The parts of an `Authorization: ACS3-… Credential=…,SignedHeaders=…,Signature=…` header.
#[derive(Debug)]
struct Authorization<'h> {
    algorithm: Algorithm,
    credential: &'h str,
    signed_headers: &'h str,
    signature: &'h str,
}

/// True when the request carries an `Authorization` header of signature V3.
pub(super) fn is_v3(headers: &HeaderMap) -> bool {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .any(|value| value.as_bytes().starts_with(V3_PREFIX.as_bytes()))
}

pub(super) fn read_claim(req: &IncomingRequest<'_>) -> Result<SignatureClaim, SignatureError> {
    let auth = parse_authorization(req.headers)?;
    let security_token = single_header(req.headers, "x-acs-security-token")?;
    if security_token.is_some() && !is_signed(auth.signed_headers, "x-acs-security-token") {
        return Err(SignatureError::incomplete(
            "x-acs-security-token is not signed",
        ));
    }

    let nonce = required_header(req.headers, "x-acs-signature-nonce")?;
    if nonce.is_empty() {
        return Err(SignatureError::incomplete("x-acs-signature-nonce is empty"));
    }
    Ok(SignatureClaim {
        scheme: auth.algorithm.scheme(),
        access_key_id: auth.credential.to_owned(),
        timestamp: parse_timestamp(required_header(req.headers, "x-acs-date")?)?,
        nonce: nonce.to_owned(),
        security_token: security_token
            .filter(|token| !token.is_empty())
            .map(str::to_owned),
        action: Some(required_header(req.headers, "x-acs-action")?.to_owned()),
        version: Some(required_header(req.headers, "x-acs-version")?.to_owned()),
    })
}

/// The canonical request, built with the hash of the body as received.
pub(super) fn canonical_request(req: &IncomingRequest<'_>) -> Result<Vec<u8>, SignatureError> {
    let auth = parse_authorization(req.headers)?;
    let body_hash = auth.algorithm.hash().hex(req.body);
    canonical_request_of(req, &auth, &body_hash)
}

pub(super) fn string_to_sign(req: &IncomingRequest<'_>) -> Result<String, SignatureError> {
    let auth = parse_authorization(req.headers)?;
    let body_hash = auth.algorithm.hash().hex(req.body);
    let canonical = canonical_request_of(req, &auth, &body_hash)?;
    Ok(string_to_sign_of(auth.algorithm, &canonical))
}

/// Recomputes the signature and also requires `x-acs-content-sha256` to be the hash of the
/// body received; either failure is a mismatch carrying the server's string to sign.
pub(super) fn verify(req: &IncomingRequest<'_>, secret: &str) -> Result<(), SignatureError> {
    let auth = parse_authorization(req.headers)?;
    let hash = auth.algorithm.hash();
    let body_hash = hash.hex(req.body);
    let canonical = canonical_request_of(req, &auth, &body_hash)?;
    let string_to_sign = string_to_sign_of(auth.algorithm, &canonical);
    let expected = hash.hmac_hex(secret.as_bytes(), string_to_sign.as_bytes());

    let signature_matches: bool = expected.as_bytes().ct_eq(auth.signature.as_bytes()).into();
    let claimed_hash = required_header(req.headers, "x-acs-content-sha256")?;
    if signature_matches && claimed_hash.eq_ignore_ascii_case(&body_hash) {
        Ok(())
    } else {
        Err(SignatureError::SignatureDoesNotMatch { string_to_sign })
    }
}

/// `ALGORITHM\n` + hex hash of the canonical request.
pub(super) fn string_to_sign_of(algorithm: Algorithm, canonical_request: &[u8]) -> String {
    format!(
        "{}\n{}",
        algorithm.name(),
        algorithm.hash().hex(canonical_request)
    )
}

/// The parts of a canonical request, assembled by [`CanonicalParts::to_bytes`].
pub(super) struct CanonicalParts<'p> {
    pub(super) method: &'p str,
    pub(super) path: &'p str,
    pub(super) query: &'p str,
    /// `name:value\n` lines, so they already end with a line break.
    pub(super) headers: &'p [u8],
    pub(super) signed_headers: &'p str,
    pub(super) payload_hash: &'p str,
}

impl CanonicalParts<'_> {
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for part in [self.method, self.path, self.query] {
            out.extend_from_slice(part.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(self.headers);
        out.push(b'\n');
        out.extend_from_slice(self.signed_headers.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.payload_hash.as_bytes());
        out
    }
}

/// The canonical request with `body_hash` as its payload hash.
fn canonical_request_of(
    req: &IncomingRequest<'_>,
    auth: &Authorization<'_>,
    body_hash: &str,
) -> Result<Vec<u8>, SignatureError> {
    let pairs = form_decode(req.raw_query).map_err(|source| SignatureError::InvalidEncoding {
        location: ParameterSource::Query,
        source,
    })?;
    let query = canonical_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let headers = canonical_headers(req.headers, auth.signed_headers)?;
    let parts = CanonicalParts {
        method: req.method,
        path: req.path,
        query: &query,
        headers: &headers,
        signed_headers: auth.signed_headers,
        payload_hash: body_hash,
    };
    Ok(parts.to_bytes())
}

/// `name:value\n` for each name of `SignedHeaders`, in its order and spelling. Values are
/// trimmed; a repeated header gives its values sorted and joined with `,`.
fn canonical_headers(headers: &HeaderMap, signed_headers: &str) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::new();
    for name in signed_header_names(signed_headers) {
        let mut values: Vec<&[u8]> = headers
            .get_all(name.to_ascii_lowercase().as_str())
            .iter()
            .map(|value| value.as_bytes().trim_ascii())
            .collect();
        if values.is_empty() {
            return Err(SignatureError::incomplete("a signed header is absent"));
        }
        values.sort_unstable();

        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(&values.join(&b','));
        out.push(b'\n');
    }
    Ok(out)
}

fn signed_header_names(signed_headers: &str) -> impl Iterator<Item = &str> {
    signed_headers.split(';')
}

fn is_signed(signed_headers: &str, header: &str) -> bool {
    signed_header_names(signed_headers).any(|name| name.eq_ignore_ascii_case(header))
}

fn parse_authorization(headers: &HeaderMap) -> Result<Authorization<'_>, SignatureError> {
    let value = single_header(headers, AUTHORIZATION.as_str())?
        .ok_or(SignatureError::incomplete("no Authorization header"))?;
    let (algorithm, fields) = value
        .split_once(' ')
        .ok_or(SignatureError::incomplete("Authorization has no fields"))?;
    let algorithm =
        Algorithm::from_name(algorithm).ok_or(SignatureError::InvalidSignatureMethod)?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(',') {
        let (name, value) = field
            .trim()
            .split_once('=')
            .ok_or(SignatureError::incomplete("Authorization field without ="))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(SignatureError::incomplete("Authorization field repeated"));
        }
    }

    let auth = Authorization {
        algorithm,
        credential: non_empty(credential, "Authorization lacks Credential")?,
        signed_headers: non_empty(signed_headers, "Authorization lacks SignedHeaders")?,
        signature: non_empty(signature, "Authorization lacks Signature")?,
    };
    check_signed_header_list(auth.signed_headers)?;
    Ok(auth)
}

fn check_signed_header_list(signed_headers: &str) -> Result<(), SignatureError> {
    if signed_header_names(signed_headers).any(str::is_empty) {
        return Err(SignatureError::incomplete(
            "SignedHeaders has an empty name",
        ));
    }
    let covered = |required: &&str| is_signed(signed_headers, required);
    if REQUIRED_SIGNED_HEADERS.iter().all(covered) {
        Ok(())
    } else {
        Err(SignatureError::incomplete(
            "SignedHeaders lacks a required header",
        ))
    }
}

fn non_empty<'h>(value: Option<&'h str>, reason: &'static str) -> Result<&'h str, SignatureError> {
    value
        .filter(|value| !value.is_empty())
        .ok_or(SignatureError::incomplete(reason))
}

/// A header that must be present once, as trimmed text.
fn required_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, SignatureError> {
    single_header(headers, name)?.ok_or(SignatureError::incomplete("a V3 header is absent"))
}

/// A header that may be absent but not repeated, as trimmed text.
fn single_header<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, SignatureError> {
    let mut values = headers.get_all(name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(name) {
            Err(SignatureError::incomplete("a V3 header is repeated"))
        } else {
            Ok(None)
        };
    };
    let text = value
        .to_str()
        .map_err(|_| SignatureError::incomplete("a V3 header is not text"))?;
    Ok(Some(text.trim()))
}
