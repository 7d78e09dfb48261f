//! Signature V1 (`HMAC-SHA1`), sent by aliyunsdkcore and by the Tea SDK configured with
//! `signature_algorithm='v2'`: every parameter but `Signature` is signed, headers are not
//! (wire reference §3).

use subtle::ConstantTimeEq;

use super::crypto::hmac_sha1_base64;
use super::encoding::{canonical_query, percent_encode};
use super::error::AuthParameter;
use super::timestamp::parse_timestamp;
use super::{parameters, IncomingRequest, Scheme, SignatureClaim, SignatureError};

/// The only `SignatureMethod` accepted.
pub(super) const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The only `SignatureVersion` accepted.
pub(super) const SIGNATURE_VERSION: &str = "1.0";

pub(super) fn read_claim(req: &IncomingRequest<'_>) -> Result<SignatureClaim, SignatureError> {
    let params = Params::of(req)?;
    params.required(AuthParameter::Signature)?;
    let access_key_id = params.required(AuthParameter::AccessKeyId)?;
    if params.required(AuthParameter::SignatureMethod)? != SIGNATURE_METHOD {
        return Err(SignatureError::InvalidSignatureMethod);
    }
    if params.required(AuthParameter::SignatureVersion)? != SIGNATURE_VERSION {
        return Err(SignatureError::InvalidSignatureVersion);
    }
    let nonce = params.required(AuthParameter::SignatureNonce)?;
    let timestamp = parse_timestamp(params.required(AuthParameter::Timestamp)?)?;

    Ok(SignatureClaim {
        scheme: Scheme::V1HmacSha1,
        access_key_id: access_key_id.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        security_token: params.optional("SecurityToken")?,
        action: params.optional("Action")?,
        version: params.optional("Version")?,
    })
}

/// The canonicalized parameter string, before it is encoded into the string to sign.
pub(super) fn canonical_request(req: &IncomingRequest<'_>) -> Result<Vec<u8>, SignatureError> {
    Ok(Params::of(req)?.canonical().into_bytes())
}

pub(super) fn string_to_sign(req: &IncomingRequest<'_>) -> Result<String, SignatureError> {
    Ok(string_to_sign_of(req.method, &Params::of(req)?.canonical()))
}

pub(super) fn verify(req: &IncomingRequest<'_>, secret: &str) -> Result<(), SignatureError> {
    let params = Params::of(req)?;
    let given = params.required(AuthParameter::Signature)?;
    let string_to_sign = string_to_sign_of(req.method, &params.canonical());
    let expected = signature_of(secret, &string_to_sign);

    if expected.as_bytes().ct_eq(given.as_bytes()).into() {
        Ok(())
    } else {
        Err(SignatureError::SignatureDoesNotMatch { string_to_sign })
    }
}

/// `METHOD&%2F&PE(canonicalized parameters)`.
pub(super) fn string_to_sign_of(method: &str, canonical: &str) -> String {
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(canonical)
    )
}

/// Base64 HMAC-SHA1 keyed with `secret&`.
pub(super) fn signature_of(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    hmac_sha1_base64(key.as_bytes(), string_to_sign.as_bytes())
}

/// The parameters of a V1 request: the query's, then the form body's.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(req: &IncomingRequest<'_>) -> Result<Self, SignatureError> {
        parameters(req).map(Self)
    }

    /// Every parameter except `Signature`, canonicalized.
    fn canonical(&self) -> String {
        let signed = self.0.iter().filter(|(name, _)| name != "Signature");
        canonical_query(signed.map(|(name, value)| (name.as_str(), value.as_str())))
    }

    /// A parameter that may appear at most once.
    fn single(&self, name: &'static str) -> Result<Option<&str>, SignatureError> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(SignatureError::DuplicateParameter { name }),
            (first, None) => Ok(first.map(|(_, value)| value.as_str())),
        }
    }

    /// A parameter that must appear once with a value.
    fn required(&self, parameter: AuthParameter) -> Result<&str, SignatureError> {
        self.single(parameter.name())?
            .filter(|value| !value.is_empty())
            .ok_or(SignatureError::MissingParameter(parameter))
    }

    /// A parameter that may be absent; an empty value counts as absent.
    fn optional(&self, name: &'static str) -> Result<Option<String>, SignatureError> {
        let value = self.single(name)?.filter(|value| !value.is_empty());
        Ok(value.map(str::to_owned))
    }
}
