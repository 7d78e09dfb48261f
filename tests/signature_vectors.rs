//! Every request captured from the official Python SDKs (and every tampered copy) in
//! `shared/fixtures/alibaba-signature-vectors.json` is accepted or refused as the fixture says,
//! and accepted ones give the fixture's string to sign.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use livenotify::auth::signature::{
    canonical_request, read_claim, string_to_sign, verify, IncomingRequest, Scheme, SignatureError,
};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/alibaba-signature-vectors.json"
);

/// How many vectors the fixture holds; a change to the file must be noticed.
const EXPECTED_VECTORS: usize = 44;

/// One fixture entry, owning what an [`IncomingRequest`] borrows.
struct Vector {
    index: usize,
    note: String,
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
    secret: String,
    expect_valid: bool,
    scheme: Scheme,
    string_to_sign: Option<String>,
    canonical_request: Option<String>,
}

impl Vector {
    fn from_json(index: usize, json: &Value) -> Result<Self, String> {
        let text = |field: &str| {
            json[field]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("vector {index}: no text field {field}"))
        };
        let scheme = match text("signature_version")?.as_str() {
            "V3-ACS3-HMAC-SHA256" => Scheme::V3HmacSha256,
            "V3-ACS3-HMAC-SM3" => Scheme::V3HmacSm3,
            "V1-HMAC-SHA1" => Scheme::V1HmacSha1,
            other => return Err(format!("vector {index}: unknown scheme {other}")),
        };
        Ok(Self {
            index,
            note: text("note")?,
            method: text("method")?,
            path: text("path")?,
            query: text("query")?,
            headers: header_map(&json["headers"]).map_err(|e| format!("vector {index}: {e}"))?,
            body: text("body")?.into_bytes(),
            secret: text("secret")?,
            expect_valid: json["expect_valid"]
                .as_bool()
                .ok_or_else(|| format!("vector {index}: no expect_valid"))?,
            scheme,
            string_to_sign: text("string_to_sign").ok(),
            canonical_request: text("canonical_request").ok(),
        })
    }

    fn request(&self) -> IncomingRequest<'_> {
        IncomingRequest {
            method: &self.method,
            path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Why the verifier disagrees with the fixture, if it does.
    fn problem(&self) -> Option<String> {
        let req = self.request();
        let claim = match read_claim(&req) {
            Ok(claim) => claim,
            Err(error) => return Some(format!("read_claim refused it: {error:?}")),
        };
        if claim.scheme != self.scheme {
            return Some(format!("read as {:?}", claim.scheme));
        }
        match (verify(&req, &claim, &self.secret), self.expect_valid) {
            (Ok(()), true) => self.check_strings(&req, &claim),
            (Err(SignatureError::SignatureDoesNotMatch { .. }), false) => None,
            (Ok(()), false) => Some("accepted a tampered request".to_owned()),
            (Err(error), _) => Some(format!("verify refused it: {error:?}")),
        }
    }

    /// For an accepted vector: our strings equal the fixture's, and a wrong secret yields a
    /// message whose text after the `:` is that string to sign (what aliyunsdkcore reads).
    fn check_strings(
        &self,
        req: &IncomingRequest<'_>,
        claim: &livenotify::auth::signature::SignatureClaim,
    ) -> Option<String> {
        let ours = string_to_sign(req, claim).ok();
        if ours != self.string_to_sign {
            return Some(format!("string to sign {ours:?}"));
        }
        if let Some(expected) = &self.canonical_request {
            let ours = canonical_request(req, claim).ok();
            if ours.as_deref() != Some(expected.as_bytes()) {
                return Some("canonical request differs".to_owned());
            }
        }
        let message = verify(req, claim, "not-the-secret").err()?.to_string();
        let reported = message.split(':').nth(1);
        (reported != self.string_to_sign.as_deref())
            .then(|| format!("mismatch message {message:?}"))
    }
}

fn header_map(json: &Value) -> Result<HeaderMap, String> {
    let object = json.as_object().ok_or("headers is not an object")?;
    let mut headers = HeaderMap::new();
    for (name, value) in object {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = value.as_str().ok_or("header value is not text")?;
        let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        headers.append(name, value);
    }
    Ok(headers)
}

fn load_vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(VECTORS).expect("read the signature vectors");
    let json: Value = serde_json::from_str(&text).expect("parse the signature vectors");
    let list = json.as_array().expect("the vectors are a list");
    list.iter()
        .enumerate()
        .map(|(index, entry)| Vector::from_json(index, entry).expect("well-formed vector"))
        .collect()
}

#[test]
fn every_captured_and_tampered_vector_is_judged_as_the_fixture_says() {
    let vectors = load_vectors();
    assert_eq!(vectors.len(), EXPECTED_VECTORS, "vector count");

    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            let problem = v.problem()?;
            Some(format!("#{} ({}): {problem}", v.index, v.note))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn the_fixture_covers_every_scheme_and_both_outcomes() {
    let vectors = load_vectors();
    let count = |scheme: Scheme, valid: bool| {
        vectors
            .iter()
            .filter(|v| v.scheme == scheme && v.expect_valid == valid)
            .count()
    };
    for scheme in [Scheme::V3HmacSha256, Scheme::V3HmacSm3, Scheme::V1HmacSha1] {
        assert!(count(scheme, true) > 0, "no accepted {scheme:?} vector");
        assert!(count(scheme, false) > 0, "no refused {scheme:?} vector");
    }
    let valid_with_strings = vectors
        .iter()
        .filter(|v| v.expect_valid && v.string_to_sign.is_some())
        .count();
    assert_eq!(
        valid_with_strings,
        vectors.iter().filter(|v| v.expect_valid).count()
    );
}
