//! The client side: signs requests the way the official SDKs do, for the `livenotify records`
//! CLI and for tests.

use time::OffsetDateTime;

use super::encoding::canonical_query;
use super::timestamp::format_timestamp;
use super::v1::{self, SIGNATURE_METHOD, SIGNATURE_VERSION};
use super::v3::{self, Algorithm, CanonicalParts};

/// Signs RPC requests with V3 `ACS3-HMAC-SHA256`, as the Tea SDK does by default.
#[derive(Debug, Clone, Copy)]
pub struct V3Signer<'a> {
    pub access_key_id: &'a str,
    pub access_key_secret: &'a str,
}

impl V3Signer<'_> {
    /// Returns the headers to send, names in lowercase: `host`, `x-acs-action`,
    /// `x-acs-content-sha256`, `x-acs-date`, `x-acs-signature-nonce`, `x-acs-version` (all
    /// signed) and `authorization`. The request goes to path `/` with `query` as its query
    /// string, encoded by [`form_encode`](super::form_encode) or any encoding that
    /// form-decodes to the same pairs, and `body` as its body.
    // The argument list is the interface the CLI and the tests were written against.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn sign(
        &self,
        method: &str,
        host: &str,
        action: &str,
        version: &str,
        query: &[(String, String)],
        body: &[u8],
        now: OffsetDateTime,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let algorithm = Algorithm::HmacSha256;
        let payload_hash = algorithm.hash().hex(body);
        let mut headers: Vec<(String, String)> = [
            ("host", host),
            ("x-acs-action", action),
            ("x-acs-content-sha256", &payload_hash),
            ("x-acs-date", &format_timestamp(now)),
            ("x-acs-signature-nonce", nonce),
            ("x-acs-version", version),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

        let signed_headers = signed_header_list(&headers);
        let signature = self.signature(method, query, &headers, &signed_headers, &payload_hash);
        let authorization = format!(
            "{} Credential={},SignedHeaders={signed_headers},Signature={signature}",
            algorithm.name(),
            self.access_key_id,
        );
        headers.push(("authorization".to_owned(), authorization));
        headers
    }

    fn signature(
        &self,
        method: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        signed_headers: &str,
        payload_hash: &str,
    ) -> String {
        let query = canonical_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut canonical_headers = String::new();
        for (name, value) in headers {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value.trim_ascii());
            canonical_headers.push('\n');
        }
        let canonical = CanonicalParts {
            method,
            path: "/",
            query: &query,
            headers: canonical_headers.as_bytes(),
            signed_headers,
            payload_hash,
        };
        let algorithm = Algorithm::HmacSha256;
        let string_to_sign = v3::string_to_sign_of(algorithm, &canonical.to_bytes());
        algorithm
            .hash()
            .hmac_hex(self.access_key_secret.as_bytes(), string_to_sign.as_bytes())
    }
}

fn signed_header_list(headers: &[(String, String)]) -> String {
    let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    names.join(";")
}

/// Signs RPC requests with V1 `HMAC-SHA1`, as aliyunsdkcore and the Tea SDK in `v2` mode do.
#[derive(Debug, Clone, Copy)]
pub struct V1Signer<'a> {
    pub access_key_id: &'a str,
    pub access_key_secret: &'a str,
}

impl V1Signer<'_> {
    /// Returns `params` (which should hold `Action`, `Version`, `Format` and the action's own
    /// parameters, and none of the signature parameters) followed by `AccessKeyId`,
    /// `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `Timestamp` and `Signature`.
    /// Send them form-encoded in the query, or split between the query and an
    /// `application/x-www-form-urlencoded` body.
    #[must_use]
    pub fn sign(
        &self,
        method: &str,
        params: &[(String, String)],
        now: OffsetDateTime,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let mut all = params.to_vec();
        for (name, value) in [
            ("AccessKeyId", self.access_key_id),
            ("SignatureMethod", SIGNATURE_METHOD),
            ("SignatureVersion", SIGNATURE_VERSION),
            ("SignatureNonce", nonce),
            ("Timestamp", &format_timestamp(now)),
        ] {
            all.push((name.to_owned(), value.to_owned()));
        }

        let canonical = canonical_query(all.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let string_to_sign = v1::string_to_sign_of(method, &canonical);
        let signature = v1::signature_of(self.access_key_secret, &string_to_sign);
        all.push(("Signature".to_owned(), signature));
        all
    }
}
