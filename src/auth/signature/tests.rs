//! Sign-then-verify round trips and the error cases of each scheme.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;

pub(super) const KEY_ID: &str = "testid";
pub(super) const SECRET: &str = "testsecret";
pub(super) const NOW: OffsetDateTime = datetime!(2026-12-04 15:13:49 UTC);

/// An owned request, so tests can tamper with it before checking it.
#[derive(Debug, Clone)]
pub(super) struct TestRequest {
    pub(super) raw_query: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl TestRequest {
    pub(super) fn incoming(&self) -> IncomingRequest<'_> {
        IncomingRequest {
            method: "POST",
            path: "/",
            raw_query: &self.raw_query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Runs what the server runs: read the claim, then verify it with `secret`.
    pub(super) fn check(&self, secret: &str) -> Result<SignatureClaim, SignatureError> {
        let req = self.incoming();
        let claim = read_claim(&req)?;
        verify(&req, &claim, secret)?;
        Ok(claim)
    }

    pub(super) fn set_header(&mut self, name: &'static str, value: &str) {
        let value = HeaderValue::from_str(value).expect("test header value");
        self.headers.insert(HeaderName::from_static(name), value);
    }
}

pub(super) fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Parameters with every awkward character the SDK captures showed.
pub(super) fn awkward_params() -> Vec<(String, String)> {
    owned(&[
        ("StreamName", "a b+c/中文~*"),
        ("AppName", ""),
        ("Tag", "x%y&z=w!'()😀;:@,$?#[]"),
        ("Tag", "second value"),
        ("DomainName", "push.example1.com"),
    ])
}

pub(super) fn signed_v3(query: &[(String, String)], body: &[u8]) -> TestRequest {
    let signer = V3Signer {
        access_key_id: KEY_ID,
        access_key_secret: SECRET,
    };
    let signed = signer.sign(
        "POST",
        "127.0.0.1:8080",
        "DescribeLiveStreamsNotifyRecords",
        "2016-11-01",
        query,
        body,
        NOW,
        "de439269ca3722b6d23cf6bd48002bd2",
    );
    let mut headers = HeaderMap::new();
    for (name, value) in signed {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("signer header name");
        let value = HeaderValue::from_str(&value).expect("signer header value");
        headers.append(name, value);
    }
    TestRequest {
        raw_query: form_encode(query),
        headers,
        body: body.to_vec(),
    }
}

pub(super) fn signed_v1(params: &[(String, String)]) -> TestRequest {
    let signer = V1Signer {
        access_key_id: KEY_ID,
        access_key_secret: SECRET,
    };
    let signed = signer.sign("POST", params, NOW, "a31b3e14c93934c0c949a967436eb6b7");
    TestRequest {
        raw_query: form_encode(&signed),
        headers: HeaderMap::new(),
        body: Vec::new(),
    }
}

fn v1_base() -> Vec<(String, String)> {
    let mut params = owned(&[
        ("Action", "DescribeLiveStreamsNotifyRecords"),
        ("Version", "2016-11-01"),
        ("Format", "JSON"),
    ]);
    params.extend(awkward_params());
    params
}

fn code_of<T: std::fmt::Debug>(result: Result<T, SignatureError>) -> &'static str {
    result.expect_err("request should be refused").code()
}

#[test]
fn v3_round_trip_with_awkward_values() {
    let request = signed_v3(&awkward_params(), b"");
    let claim = request.check(SECRET).expect("signed request verifies");
    assert_eq!(claim.scheme, Scheme::V3HmacSha256);
    assert_eq!(claim.access_key_id, KEY_ID);
    assert_eq!(claim.timestamp, NOW);
    assert_eq!(claim.nonce, "de439269ca3722b6d23cf6bd48002bd2");
    assert_eq!(
        claim.action.as_deref(),
        Some("DescribeLiveStreamsNotifyRecords")
    );
    assert_eq!(claim.version.as_deref(), Some("2016-11-01"));
    assert_eq!(claim.security_token, None);
}

#[test]
fn v3_accepts_another_wire_encoding_of_the_same_query() {
    let mut request = signed_v3(&owned(&[("StreamName", "a b~*:/")]), b"");
    request.raw_query = "StreamName=a+b%7E*:/".to_owned();
    assert!(request.check(SECRET).is_ok());
}

#[test]
fn v3_round_trip_with_a_body() {
    let request = signed_v3(&owned(&[("PageSize", "20")]), b"AppName=app&x=%E4%B8%AD");
    assert!(request.check(SECRET).is_ok());
}

#[test]
fn v3_wrong_secret_reports_the_string_to_sign_after_the_only_colon() {
    let request = signed_v3(&awkward_params(), b"");
    let error = request.check("testsecretX").expect_err("wrong secret");
    let SignatureError::SignatureDoesNotMatch { string_to_sign } = &error else {
        panic!("unexpected error {error:?}");
    };
    assert!(string_to_sign.starts_with("ACS3-HMAC-SHA256\n"));
    let message = error.to_string();
    assert_eq!(message.split(':').nth(1), Some(string_to_sign.as_str()));
    assert_eq!(message.split(':').count(), 2);
    assert_eq!(
        (error.code(), error.http_status()),
        ("SignatureDoesNotMatch", 400)
    );
}

#[test]
fn v3_tampered_query_or_body_is_refused() {
    let mut request = signed_v3(&owned(&[("PageSize", "20")]), b"a=b");
    request.raw_query = "PageSize=21".to_owned();
    assert_eq!(code_of(request.check(SECRET)), "SignatureDoesNotMatch");

    let mut request = signed_v3(&owned(&[("PageSize", "20")]), b"a=b");
    request.body = b"a=c".to_vec();
    assert_eq!(code_of(request.check(SECRET)), "SignatureDoesNotMatch");
}

#[test]
fn v3_signed_headers_must_cover_the_sdk_headers() {
    let mut request = signed_v3(&[], b"");
    let auth = request.headers["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    request.set_header("authorization", &auth.replace(";x-acs-version", ""));
    let error = request.check(SECRET).expect_err("x-acs-version unsigned");
    assert_eq!(error.code(), "IncompleteSignature");
    assert_eq!(
        error.to_string(),
        "The request signature does not conform to Alibaba Cloud standards."
    );
}

#[test]
fn v3_malformed_authorization_is_incomplete() {
    for value in [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=testid",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=00",
        "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=00",
        "ACS3-HMAC-SHA256 garbage",
    ] {
        let mut request = signed_v3(&[], b"");
        request.set_header("authorization", value);
        assert_eq!(
            code_of(request.check(SECRET)),
            "IncompleteSignature",
            "{value}"
        );
    }
}

#[test]
fn v3_unknown_algorithm_is_an_invalid_method() {
    let mut request = signed_v3(&[], b"");
    let auth = request.headers["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    request.set_header(
        "authorization",
        &auth.replace("ACS3-HMAC-SHA256", "ACS3-RSA-SHA256"),
    );
    assert_eq!(code_of(request.check(SECRET)), "InvalidSignatureMethod");
}

#[test]
fn v3_unsigned_security_token_is_refused() {
    let mut request = signed_v3(&[], b"");
    request.set_header("x-acs-security-token", "injected");
    assert_eq!(code_of(request.check(SECRET)), "IncompleteSignature");
}

#[test]
fn v3_date_with_a_fraction_is_badly_formatted() {
    let mut request = signed_v3(&[], b"");
    request.set_header("x-acs-date", "2026-12-04T15:13:49.000Z");
    let error = request.check(SECRET).expect_err("fractional date");
    assert_eq!(error.code(), "InvalidTimeStamp.Format");
    assert_eq!(
        error.to_string(),
        "Specified time stamp or date value is not well formatted."
    );
}

#[test]
fn v3_query_that_is_not_utf8_is_an_invalid_parameter() {
    let mut request = signed_v3(&[], b"");
    request.raw_query = "StreamName=%FF".to_owned();
    let error = request.check(SECRET).expect_err("bad query");
    assert_eq!(error.code(), "InvalidParameter");
    assert!(error.to_string().contains("query string"), "{error}");
}

#[test]
fn v1_round_trip_with_awkward_values() {
    let request = signed_v1(&v1_base());
    let claim = request.check(SECRET).expect("signed request verifies");
    assert_eq!(claim.scheme, Scheme::V1HmacSha1);
    assert_eq!(claim.access_key_id, KEY_ID);
    assert_eq!(claim.timestamp, NOW);
    assert_eq!(claim.nonce, "a31b3e14c93934c0c949a967436eb6b7");
    assert_eq!(
        claim.action.as_deref(),
        Some("DescribeLiveStreamsNotifyRecords")
    );
    assert_eq!(claim.version.as_deref(), Some("2016-11-01"));
}

#[test]
fn v1_parameters_may_travel_in_a_form_body() {
    let signed = V1Signer {
        access_key_id: KEY_ID,
        access_key_secret: SECRET,
    }
    .sign("POST", &v1_base(), NOW, "nonce-1");
    let (in_query, in_body) = signed.split_at(4);
    let mut request = TestRequest {
        raw_query: form_encode(in_query),
        headers: HeaderMap::new(),
        body: form_encode(in_body).into_bytes(),
    };
    request.set_header(
        "content-type",
        "application/x-www-form-urlencoded; charset=UTF-8",
    );
    assert!(request.check(SECRET).is_ok());

    request.set_header("content-type", "application/octet-stream");
    assert_eq!(code_of(request.check(SECRET)), "MissingSignature");
}

#[test]
fn v1_wrong_secret_or_extra_parameter_is_a_mismatch() {
    let request = signed_v1(&v1_base());
    let error = request.check("wrong").expect_err("wrong secret");
    let message = error.to_string();
    let expected = string_to_sign(
        &request.incoming(),
        &read_claim(&request.incoming()).unwrap(),
    );
    assert_eq!(message.split(':').nth(1), expected.ok().as_deref());

    let mut request = signed_v1(&v1_base());
    request.raw_query.push_str("&Status2=x");
    assert_eq!(code_of(request.check(SECRET)), "SignatureDoesNotMatch");
}

#[test]
fn v1_missing_parameters_are_named() {
    for (name, code) in [
        ("Signature", "MissingSignature"),
        ("AccessKeyId", "MissingAccessKeyId"),
        ("SignatureMethod", "MissingSignatureMethod"),
        ("SignatureVersion", "MissingSignatureVersion"),
        ("SignatureNonce", "MissingSignatureNonce"),
        ("Timestamp", "MissingTimestamp"),
    ] {
        let signed = V1Signer {
            access_key_id: KEY_ID,
            access_key_secret: SECRET,
        }
        .sign("POST", &v1_base(), NOW, "n");
        let kept: Vec<_> = signed.into_iter().filter(|(n, _)| n != name).collect();
        let request = TestRequest {
            raw_query: form_encode(&kept),
            headers: HeaderMap::new(),
            body: Vec::new(),
        };
        let error = request.check(SECRET).expect_err(name);
        assert_eq!(error.code(), code);
        assert_eq!(
            error.to_string(),
            format!("{name} is mandatory for this action.")
        );
    }
}

#[test]
fn v1_unsupported_method_or_version_is_refused() {
    let mut request = signed_v1(&v1_base());
    request.raw_query = request.raw_query.replace("HMAC-SHA1", "HMAC-SHA256");
    assert_eq!(code_of(request.check(SECRET)), "InvalidSignatureMethod");

    let mut request = signed_v1(&v1_base());
    request.raw_query = request
        .raw_query
        .replace("SignatureVersion=1.0", "SignatureVersion=2.0");
    assert_eq!(code_of(request.check(SECRET)), "InvalidSignatureVersion");
}

#[test]
fn v1_repeated_access_key_id_is_refused() {
    let mut request = signed_v1(&v1_base());
    request.raw_query.push_str("&AccessKeyId=other");
    assert_eq!(code_of(request.check(SECRET)), "InvalidParameter");
}

#[test]
fn v1_form_body_that_is_not_utf8_is_an_invalid_parameter() {
    let mut request = signed_v1(&v1_base());
    request.body = vec![b'a', b'=', 0xFF];
    request.set_header("content-type", "application/x-www-form-urlencoded");
    let error = request.check(SECRET).expect_err("bad body");
    assert_eq!(error.code(), "InvalidParameter");
    assert!(error.to_string().contains("form body"), "{error}");
}

#[test]
fn a_request_without_any_signature_misses_the_signature() {
    let request = TestRequest {
        raw_query: "Action=DescribeLiveStreamsNotifyRecords".to_owned(),
        headers: HeaderMap::new(),
        body: Vec::new(),
    };
    assert_eq!(code_of(request.check(SECRET)), "MissingSignature");
}

#[test]
fn a_claim_from_another_request_is_refused() {
    let v1 = signed_v1(&v1_base());
    let v3 = signed_v3(&[], b"");
    let v1_claim = read_claim(&v1.incoming()).unwrap();
    let result = verify(&v3.incoming(), &v1_claim, SECRET);
    assert_eq!(code_of(result), "IncompleteSignature");
}

#[test]
fn split_target_splits_at_the_first_question_mark() {
    assert_eq!(split_target("/?a=1?b&c"), ("/", "a=1?b&c"));
    assert_eq!(split_target("/"), ("/", ""));
}
