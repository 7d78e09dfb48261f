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

/// Header values of every byte a header may hold, and a well-formed date now and then.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    let byte = prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff];
    let bytes = prop_oneof![
        4 => prop::collection::vec(byte, 0..48),
        1 => Just(b"2026-12-04T15:13:49Z".to_vec()),
    ];
    bytes.prop_filter_map("not a header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

/// Authorization values close enough to the real thing to reach the deeper checks.
fn authorization() -> impl Strategy<Value = String> {
    let algorithm = prop_oneof![
        Just("ACS3-HMAC-SHA256".to_owned()),
        Just("ACS3-HMAC-SM3".to_owned()),
        "ACS3-[A-Z0-9-]{0,12}",
    ];
    let name = prop_oneof![
        Just("host".to_owned()),
        Just("x-acs-date".to_owned()),
        Just("x-acs-security-token".to_owned()),
        "[a-zA-Z -]{0,8}",
    ];
    let signed_headers = prop_oneof![
        Just(
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;\
             x-acs-version"
                .to_owned()
        ),
        prop::collection::vec(name, 0..8).prop_map(|names| names.join(";")),
    ];
    let separator = prop_oneof![3 => Just(",".to_owned()), 1 => "[ ,=]{0,2}"];
    let parts = (
        algorithm,
        "[a-z]{0,4}",
        signed_headers,
        separator,
        "[0-9a-f]{0,64}",
    );
    parts.prop_map(
        |(algorithm, credential, signed_headers, separator, signature)| {
            format!(
                "{algorithm} Credential={credential},SignedHeaders={signed_headers}\
             {separator}Signature={signature}"
            )
        },
    )
}

/// The headers the verifier reads.
fn header_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("authorization"),
        Just("content-type"),
        Just("host"),
        Just("x-acs-date"),
        Just("x-acs-signature-nonce"),
        Just("x-acs-content-sha256"),
        Just("x-acs-action"),
        Just("x-acs-version"),
        Just("x-acs-security-token"),
    ]
}

fn header_map() -> impl Strategy<Value = HeaderMap> {
    let random = prop::collection::vec((header_name(), header_value()), 0..12);
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
fn wire_query() -> impl Strategy<Value = String> {
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

/// One change to a signed request, so that the checks past the claim get exercised too.
#[derive(Debug, Clone)]
enum Mangle {
    SetHeader(&'static str, HeaderValue),
    AddHeader(&'static str, HeaderValue),
    AppendQuery(String),
    CutQuery(usize),
    FormBody(Vec<u8>),
}

impl Mangle {
    fn apply(self, request: &mut TestRequest) {
        match self {
            Self::SetHeader(name, value) => {
                request.headers.insert(name, value);
            }
            Self::AddHeader(name, value) => {
                request.headers.append(name, value);
            }
            Self::AppendQuery(extra) => {
                request.raw_query = format!("{}&{extra}", request.raw_query)
            }
            Self::CutQuery(at) => {
                let mut at = at % (request.raw_query.len() + 1);
                while !request.raw_query.is_char_boundary(at) {
                    at -= 1;
                }
                request.raw_query.truncate(at);
            }
            Self::FormBody(body) => {
                request.set_header("content-type", "application/x-www-form-urlencoded");
                request.body = body;
            }
        }
    }
}

fn mangle() -> impl Strategy<Value = Mangle> {
    let authorization = authorization().prop_filter_map("not a header value", |auth| {
        HeaderValue::from_str(&auth).ok()
    });
    prop_oneof![
        (header_name(), header_value()).prop_map(|(name, value)| Mangle::SetHeader(name, value)),
        (header_name(), header_value()).prop_map(|(name, value)| Mangle::AddHeader(name, value)),
        authorization.prop_map(|value| Mangle::SetHeader("authorization", value)),
        wire_query().prop_map(Mangle::AppendQuery),
        any::<usize>().prop_map(Mangle::CutQuery),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(Mangle::FormBody),
    ]
}

fn without_v1_reserved(params: Vec<(String, String)>) -> Vec<(String, String)> {
    params
        .into_iter()
        .filter(|(name, _)| !V1_RESERVED.contains(&name.as_str()))
        .collect()
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
        raw_query in wire_query(),
        headers in header_map(),
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
    fn checking_mangled_signed_requests_never_panics(
        params in any_params(),
        use_v1 in any::<bool>(),
        mangles in prop::collection::vec(mangle(), 1..4),
    ) {
        let mut request = if use_v1 {
            signed_v1(&without_v1_reserved(params))
        } else {
            signed_v3(&params, b"")
        };
        for mangle in mangles {
            mangle.apply(&mut request);
        }
        exercise(&request);
    }

    #[test]
    fn v1_sign_then_verify_accepts(params in any_params()) {
        let request = signed_v1(&without_v1_reserved(params));
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
