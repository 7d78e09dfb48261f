//! Property tests: nothing a client sends makes the verifier panic, and whatever the signers
//! sign, the verifier accepts.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::tests::{signed_v1, signed_v3, TestRequest, SECRET};
use super::*;

/// Names that the V1 signer adds itself or that may appear only once.
const V1_RESERVED: [&str; 9] = [
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "SecurityToken",
    "Action",
    "Version",
];

fn any_params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((any::<String>(), any::<String>()), 0..8)
}

fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop::collection::vec(any::<u8>(), 0..64)
        .prop_filter_map("not a header value", |bytes| HeaderValue::from_bytes(&bytes).ok())
}

/// Authorization values close enough to the real thing to reach the deeper checks.
fn authorization() -> impl Strategy<Value = String> {
    let algorithm = prop_oneof![
        Just("ACS3-HMAC-SHA256".to_owned()),
        Just("ACS3-HMAC-SM3".to_owned()),
        "ACS3-[A-Z0-9-]{0,12}",
    ];
    let names = "(host|x-acs-date|x-acs-action|x-acs-version|x-acs-signature-nonce|\
                 x-acs-content-sha256|[a-zA-Z -]{0,8})";
    let fields = format!("[ ,]?Credential=[a-z]{{0,4}},SignedHeaders=({names};){{0,7}}{names}");
    let tail = ",Signature=[0-9a-f]{0,64}[, =]{0,2}";
    (algorithm, fields.as_str(), tail).prop_map(|(a, f, t)| format!("{a} {f}{t}"))
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("authorization"),
        Just("content-type"),
        Just("host"),
        Just("x-acs-date"),
        Just("x-acs-signature-nonce"),
        Just("x-acs-content-sha256"),
        Just("x-acs-action"),
        Just("x-acs-version"),
        Just("x-acs-security-token"),
    ];
    let random = prop::collection::vec((name, header_value()), 0..12);
    (random, prop::option::of(authorization())).prop_map(|(random, auth)| {
        let mut headers = HeaderMap::new();
        for (name, value) in random {
            headers.append(HeaderName::from_static(name), value);
        }
        if let Some(value) = auth.and_then(|auth| HeaderValue::from_str(&auth).ok()) {
            headers.insert("authorization", value);
        }
        headers
    })
}

/// Query strings mixing arbitrary text with the parameter names V1 looks for.
fn raw_query() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "(Signature|AccessKeyId|SignatureMethod|SignatureVersion|SignatureNonce|Timestamp)=\
         [A-Za-z0-9%+:.-]{0,24}",
        Just("SignatureMethod=HMAC-SHA1".to_owned()),
        Just("SignatureVersion=1.0".to_owned()),
        Just("Timestamp=2026-12-04T15%3A13%3A49Z".to_owned()),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.join("&"))
}

/// Feeds a request to every entry point; only panics matter.
fn exercise(request: &TestRequest) {
    let req = request.incoming();
    let _ = parameters(&req);
    if let Ok(claim) = read_claim(&req) {
        let _ = string_to_sign(&req, &claim);
        let _ = canonical_request(&req, &claim);
        let _ = verify(&req, &claim, SECRET);
    }
}

proptest! {
    #[test]
    fn form_decode_never_panics(raw in any::<String>()) {
        let _ = form_decode(&raw);
    }

    #[test]
    fn form_encode_then_decode_gives_the_pairs_back(pairs in any_params()) {
        prop_assert_eq!(form_decode(&form_encode(&pairs)).unwrap(), pairs);
    }

    #[test]
    fn checking_arbitrary_requests_never_panics(
        raw_query in raw_query(),
        headers in headers(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        exercise(&TestRequest { raw_query, headers, body });
    }

    #[test]
    fn v3_sign_then_verify_accepts(
        query in any_params(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let request = signed_v3(&query, &body);
        prop_assert!(request.check(SECRET).is_ok());
    }

    #[test]
    fn v3_accepts_spaces_sent_as_plus(query in any_params()) {
        let mut request = signed_v3(&query, b"");
        request.raw_query = request.raw_query.replace("%20", "+");
        prop_assert!(request.check(SECRET).is_ok());
    }

    #[test]
    fn v1_sign_then_verify_accepts(params in any_params()) {
        let params: Vec<_> = params
            .into_iter()
            .filter(|(name, _)| !V1_RESERVED.contains(&name.as_str()))
            .collect();
        let request = signed_v1(&params);
        prop_assert!(request.check(SECRET).is_ok());
    }

    #[test]
    fn v3_changed_query_value_is_refused(
        value in any::<String>(),
        other in any::<String>(),
    ) {
        prop_assume!(value != other);
        let mut request = signed_v3(&[("Name".to_owned(), value)], b"");
        request.raw_query = form_encode(&[("Name".to_owned(), other)]);
        prop_assert_eq!(request.check(SECRET).unwrap_err().code(), "SignatureDoesNotMatch");
    }
}
