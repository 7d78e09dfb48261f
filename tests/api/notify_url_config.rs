//! The callback configuration actions.

use crate::support::{code_of, TestApp};

#[tokio::test]
async fn set_describe_replace_and_delete_a_configuration() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let set = [
        ("DomainName", "push.example1.com"),
        ("NotifyUrl", "https://hooks.example.com/live?team=a"),
        ("NotifyReqAuth", "yes"),
        ("NotifyAuthKey", "0123456789abcdefXYZ"),
        ("ExceptionNotifyUrl", "https://hooks.example.com/exception"),
    ];
    app.call("SetLiveStreamsNotifyUrlConfig", &set)
        .await
        .expect("set");
    let describe = [("DomainName", "push.example1.com")];
    let body = app
        .call("DescribeLiveStreamsNotifyUrlConfig", &describe)
        .await
        .expect("describe");
    let config = &body["LiveStreamsNotifyConfig"];
    assert_eq!(config["NotifyUrl"], "https://hooks.example.com/live?team=a");
    assert_eq!(config["NotifyReqAuth"], "yes");
    assert_eq!(config["NotifyAuthKey"], "0123456789abcdefXYZ");
    assert_eq!(
        config["ExceptionNotifyUrl"],
        "https://hooks.example.com/exception"
    );

    let replace = [
        ("DomainName", "push.example1.com"),
        ("NotifyUrl", "http://other.example.com/cb"),
    ];
    app.call("SetLiveStreamsNotifyUrlConfig", &replace)
        .await
        .expect("replace");
    let body = app
        .call("DescribeLiveStreamsNotifyUrlConfig", &describe)
        .await
        .expect("describe");
    assert_eq!(
        body["LiveStreamsNotifyConfig"]["NotifyUrl"],
        "http://other.example.com/cb"
    );
    assert_eq!(body["LiveStreamsNotifyConfig"]["NotifyReqAuth"], "no");

    app.call("DeleteLiveStreamsNotifyUrlConfig", &describe)
        .await
        .expect("delete");
    let body = app
        .call("DescribeLiveStreamsNotifyUrlConfig", &describe)
        .await
        .expect("describe");
    assert_eq!(body["LiveStreamsNotifyConfig"], serde_json::json!({}));
}

#[tokio::test]
async fn bad_configurations_are_refused_with_invalid_param() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let cases: &[&[(&str, &str)]] = &[
        &[("NotifyUrl", "ftp://x.example.com/")],
        &[("NotifyUrl", "/relative/path")],
        &[
            ("NotifyUrl", "http://x.example.com/"),
            ("NotifyReqAuth", "maybe"),
        ],
        &[
            ("NotifyUrl", "http://x.example.com/"),
            ("NotifyReqAuth", "yes"),
        ],
        &[
            ("NotifyUrl", "http://x.example.com/"),
            ("NotifyReqAuth", "yes"),
            ("NotifyAuthKey", "short"),
        ],
        &[
            ("NotifyUrl", "http://x.example.com/"),
            ("NotifyAuthKey", "has-dashes-0123456789"),
        ],
    ];
    for extra in cases {
        let mut params = vec![("DomainName", "push.example1.com")];
        params.extend_from_slice(extra);
        let result = app.call("SetLiveStreamsNotifyUrlConfig", &params).await;
        assert_eq!(code_of(result), (400, "InvalidParam".into()), "{extra:?}");
    }
    let missing = app
        .call(
            "SetLiveStreamsNotifyUrlConfig",
            &[("DomainName", "push.example1.com")],
        )
        .await;
    assert_eq!(code_of(missing), (400, "MissingNotifyUrl".into()));
    let foreign = app
        .call(
            "SetLiveStreamsNotifyUrlConfig",
            &[
                ("DomainName", "nope.example.com"),
                ("NotifyUrl", "http://a.example.com/"),
            ],
        )
        .await;
    assert_eq!(code_of(foreign), (404, "InvalidDomain.NotFound".into()));
}
