//! Property tests: whatever the parameters, a signed request gets a result or a well-formed
//! Alibaba error, never a panic and never a 500.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{body::Body, http::Request};
use livenotify::auth::signature::percent_encode;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::TestApp;

const NAMES: &[&str] = &[
    "DomainName",
    "StartTime",
    "EndTime",
    "PageSize",
    "PageNumber",
    "Status",
    "AppName",
    "StreamName",
    "RegionId",
    "Format",
    "NotifyUrl",
    "NotifyReqAuth",
    "NotifyAuthKey",
];
const ACTIONS: &[&str] = &[
    "DescribeLiveStreamsNotifyRecords",
    "SetLiveStreamsNotifyUrlConfig",
    "DescribeLiveStreamsNotifyUrlConfig",
    "DeleteLiveStreamsNotifyUrlConfig",
    "Nope",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9-]{0,12}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z?",
        Just("push.example1.com".to_string()),
        "[a-z.]{0,20}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    let known = (0..NAMES.len()).prop_map(|i| NAMES[i].to_string());
    let name = prop_oneof![known, any::<String>()];
    prop::collection::vec((name, value()), 0..8)
}

static NONCE: AtomicU64 = AtomicU64::new(0);

async fn send(app: &TestApp, action: &str, params: &[(String, String)]) -> (u16, Value) {
    let nonce = format!("prop-{}", NONCE.fetch_add(1, Ordering::Relaxed));
    let signer = livenotify::auth::signature::V3Signer {
        access_key_id: &app.key.id,
        access_key_secret: &app.key.secret,
    };
    let headers = signer.sign(
        "POST",
        &app.addr.to_string(),
        action,
        "2016-11-01",
        params,
        b"",
        app.clock.now(),
        &nonce,
    );
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let mut request = Request::post(format!("/?{}", query.join("&")));
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).expect("every answer is JSON"),
    )
}

#[test]
fn any_parameters_get_a_result_or_a_well_formed_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(async {
        let app = TestApp::spawn().await;
        app.domain("push.example1.com").await;
        app
    });
    let config = ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    };
    proptest!(config, |(action in 0..ACTIONS.len(), params in params())| {
        let (status, body) = runtime.block_on(send(&app, ACTIONS[action], &params));
        prop_assert!(status < 500, "{status} {body}");
        prop_assert!(body["RequestId"].is_string());
        if status >= 400 {
            for field in ["Code", "Message", "HostId", "Recommend"] {
                prop_assert!(body[field].is_string(), "{field} missing in {body}");
            }
        }
    });
}
