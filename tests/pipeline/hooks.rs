//! Each kind of hook produces a delivered, signed callback with the right parameters; stops
//! pair with starts, repeats are dropped, and unconfigured or unknown domains queue nothing.

use serde_json::Value;

use crate::receiver::{Receiver, Reply};
use crate::support::{
    assert_every_field_filled, eventually, expected_signature, Options, Pipeline, NODE,
};
use livenotify::domain::{NotifyResult, NotifyType};

const DOMAIN: &str = "push.example1.com";

fn nginx_form(call: &str, client: u32) -> String {
    format!(
        "app=live&flashver=FMLE/3.0&swfurl=&tcurl=rtmp://127.0.0.1:1935/live&pageurl=\
         &addr=192.0.2.44&clientid={client}&call={call}&name=cam1&type=live&k=v&x=y%20z"
    )
}

#[tokio::test]
async fn an_nginx_rtmp_publish_and_stop_arrive_signed_in_order_and_are_recorded() {
    let pipeline = Pipeline::start().await;
    let receiver = Receiver::ok().await;
    pipeline
        .domain(DOMAIN, Some(&receiver.url("/cb?tenant=7")))
        .await;
    let query = format!("?domain={DOMAIN}");

    let started = pipeline.nginx(&query, &nginx_form("publish", 1)).await;
    let stopped = pipeline.nginx(&query, &nginx_form("publish_done", 1)).await;
    let records = pipeline.settled_records(2).await;

    assert_eq!(started, (200, "queued".to_string()));
    assert_eq!(stopped, (200, "queued".to_string()));
    let seen = receiver.seen();
    let actions: Vec<&str> = seen.iter().map(|r| r.param("action")).collect();
    assert_eq!(actions, ["publish", "publish_done"]);
    for request in &seen {
        assert_eq!(request.path, "/cb");
        assert_eq!(request.param("tenant"), "7");
        assert_eq!(request.param("app"), DOMAIN);
        assert_eq!(request.param("appname"), "live");
        assert_eq!(request.param("id"), "cam1");
        assert_eq!(request.param("ip"), "192.0.2.44");
        assert_eq!(request.param("usrargs"), "k=v&x=y%20z");
        assert_eq!(request.param("node"), NODE);
        assert!(request
            .param("time")
            .parse::<i64>()
            .is_ok_and(|t| t > 1_600_000_000));
        let timestamp = request.header("ALI-LIVE-TIMESTAMP");
        assert_eq!(
            request.header("ALI-LIVE-SIGNATURE"),
            expected_signature(DOMAIN, timestamp)
        );
    }
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_every_field_filled(record);
        let r = &record.record;
        assert_eq!(
            (r.notify_result, r.description.as_str()),
            (NotifyResult::Success, "success")
        );
        assert_eq!((r.attempt, r.http_status), (Some(1), Some(200)));
        assert!(r.event_id.is_some() && r.latency_ms.is_some());
        assert!(r.notify_header.contains("ALI-LIVE-SIGNATURE: "));
        assert!(r
            .notify_header
            .starts_with(&format!("Host: {}", receiver.addr)));
        let content: Value = serde_json::from_str(&r.notify_content).expect("json content");
        assert_eq!(content["app"], DOMAIN);
        assert_eq!(content["usrargs"], "k=v&x=y%20z");
    }
    assert_eq!(records[0].record.notify_type, NotifyType::Publish);
    assert_eq!(records[1].record.notify_type, NotifyType::PublishDone);
    pipeline.stop().await;
}

#[tokio::test]
async fn an_srs_hook_is_answered_code_zero_and_delivered() {
    let pipeline = Pipeline::start().await;
    let receiver = Receiver::ok().await;
    pipeline
        .domain("push.example2.com", Some(&receiver.url("/srs")))
        .await;
    let body = r#"{"server_id":"vid-0xk989d","action":"on_publish","client_id":"341w361a",
        "ip":"198.51.100.3","vhost":"__defaultVhost__","app":"live",
        "tcUrl":"rtmp://push.example2.com:1935/live","stream":"livestream",
        "param":"?token=abc","stream_url":"/live/livestream","stream_id":"vid-124q9y3"}"#;

    let answer = pipeline.hook("/hooks/srs", "application/json", body).await;
    let records = pipeline.settled_records(1).await;

    assert_eq!(answer, (200, r#"{"code":0}"#.to_string()));
    let seen = receiver.seen();
    assert_eq!(seen[0].param("app"), "push.example2.com");
    assert_eq!(seen[0].param("ip"), "198.51.100.3");
    assert_eq!(seen[0].param("usrargs"), "token=abc");
    assert_eq!(records[0].record.stream_name, "livestream");
    pipeline.stop().await;
}

#[tokio::test]
async fn a_generic_event_carries_its_time_node_and_resolution() {
    let pipeline = Pipeline::start().await;
    let receiver = Receiver::ok().await;
    pipeline.domain(DOMAIN, Some(&receiver.url("/g"))).await;
    let body = r#"{"action":"publish","domain":"push.example1.com","app":"live","stream":"s9",
        "client_id":"c1","ip":"203.0.113.7","usrargs":"a=1","time":1700000000,
        "node":"edge-7","height":720,"width":1280}"#;

    let (status, answer) = pipeline.event(body).await;
    pipeline.settled_records(1).await;

    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["outcome"], "queued");
    let request = &receiver.seen()[0];
    assert_eq!(request.param("time"), "1700000000");
    assert_eq!(request.param("node"), "edge-7");
    assert_eq!(
        (request.param("height"), request.param("width")),
        ("720", "1280")
    );
    pipeline.stop().await;
}

#[tokio::test]
async fn a_repeated_stop_is_dropped() {
    let pipeline = Pipeline::start().await;
    let receiver = Receiver::ok().await;
    pipeline.domain(DOMAIN, Some(&receiver.url("/cb"))).await;
    let query = format!("?domain={DOMAIN}");

    pipeline.nginx(&query, &nginx_form("publish", 3)).await;
    pipeline.nginx(&query, &nginx_form("publish_done", 3)).await;
    let repeated = pipeline.nginx(&query, &nginx_form("publish_done", 3)).await;
    pipeline.settled_records(2).await;

    assert_eq!(repeated, (200, "duplicate".to_string()));
    assert_eq!(receiver.seen().len(), 2);
    assert_eq!(pipeline.store.count_events().await.expect("count"), 2);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_stop_is_never_delivered_before_its_start() {
    let pipeline = Pipeline::start_with(Options {
        retry_delay_ms: 300,
        ..Options::default()
    })
    .await;
    let receiver = Receiver::start(|n, _| match n {
        0 => Reply::Status(500, b"busy".to_vec()),
        _ => Reply::Status(200, b"ok".to_vec()),
    })
    .await;
    pipeline.domain(DOMAIN, Some(&receiver.url("/cb"))).await;
    let query = format!("?domain={DOMAIN}");

    pipeline.nginx(&query, &nginx_form("publish", 4)).await;
    pipeline.nginx(&query, &nginx_form("publish_done", 4)).await;
    pipeline.settled_records(3).await;

    let actions: Vec<String> = receiver
        .seen()
        .iter()
        .map(|r| r.param("action").to_string())
        .collect();
    assert_eq!(actions, ["publish", "publish", "publish_done"]);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_domain_without_callback_config_or_unknown_is_acknowledged_not_queued() {
    let pipeline = Pipeline::start().await;
    pipeline.domain("quiet.example.com", None).await;

    let unconfigured = pipeline
        .nginx("?domain=quiet.example.com", &nginx_form("publish", 1))
        .await;
    let unknown = pipeline
        .nginx("?domain=nobody.example.com", &nginx_form("publish", 1))
        .await;

    assert_eq!(unconfigured, (200, "no_config".to_string()));
    assert_eq!(unknown, (200, "unknown_domain".to_string()));
    assert_eq!(pipeline.store.count_events().await.expect("events"), 0);
    assert_eq!(pipeline.store.queued_deliveries().await.expect("queue"), 0);
    pipeline.stop().await;
}

#[tokio::test]
async fn with_a_hook_token_only_hooks_that_carry_it_are_accepted() {
    let options = Options {
        hook_token: Some("hook-s3cret".into()),
        ..Options::default()
    };
    let pipeline = Pipeline::start_with(options).await;
    pipeline.domain("quiet.example.com", None).await;
    let form = nginx_form("publish", 1);

    let missing = pipeline.nginx("?domain=quiet.example.com", &form).await;
    let wrong = pipeline
        .nginx("?domain=quiet.example.com&token=nope", &form)
        .await;
    let in_query = pipeline
        .nginx("?domain=quiet.example.com&token=hook-s3cret", &form)
        .await;
    let bearer = pipeline
        .http
        .post(format!("http://{}/hooks/events", pipeline.addr))
        .header("Authorization", "Bearer hook-s3cret")
        .body(r#"{"action":"publish","domain":"quiet.example.com","app":"a","stream":"s"}"#)
        .send()
        .await
        .expect("answered");
    let lower_case_bearer_empty_query = pipeline
        .http
        .post(format!("http://{}/hooks/events?token=", pipeline.addr))
        .header("Authorization", "bearer hook-s3cret")
        .body(r#"{"action":"publish","domain":"quiet.example.com","app":"a","stream":"t"}"#)
        .send()
        .await
        .expect("answered");

    assert_eq!(missing.0, 403);
    assert_eq!(lower_case_bearer_empty_query.status().as_u16(), 200);
    assert_eq!(wrong.0, 403);
    assert_eq!(in_query.0, 200);
    assert_eq!(bearer.status().as_u16(), 200);
    pipeline.stop().await;
}

#[tokio::test]
async fn bad_hook_bodies_are_refused_with_a_clear_message() {
    let pipeline = Pipeline::start().await;

    let nginx = pipeline
        .nginx("?domain=d.example.com", "app=live&name=s")
        .await;
    let srs = pipeline
        .hook("/hooks/srs", "application/json", "{not json")
        .await;
    let generic = pipeline
        .event(r#"{"action":"publish","domain":"d.example.com","app":"a","stream":"s","colour":1}"#)
        .await;
    let no_domain = pipeline.nginx("", "call=publish&app=live&name=s").await;
    let nul_json = pipeline
        .event(r#"{"action":"publish","domain":"d.example.com","app":"a","stream":"a\u0000b"}"#)
        .await;
    let nul_form = pipeline
        .nginx("?domain=d.example.com", "call=publish&app=live&name=x%00y")
        .await;
    let long_id = format!(
        r#"{{"action":"publish","domain":"d.example.com","app":"a","stream":"s","event_id":"{}"}}"#,
        "e".repeat(129)
    );
    let long_id = pipeline.event(&long_id).await;

    assert_eq!(nginx, (400, "call is missing or empty".to_string()));
    assert_eq!(srs.0, 400);
    assert!(srs.1.contains("\"code\":400"), "{}", srs.1);
    assert_eq!(generic.0, 400);
    assert!(
        generic.1.contains("unknown field `colour`"),
        "{}",
        generic.1
    );
    assert_eq!(no_domain.0, 400);
    assert!(no_domain.1.contains("?domain="), "{}", no_domain.1);
    assert_eq!(
        nul_json,
        (
            400,
            r#"{"error":"stream holds a NUL character"}"#.to_string()
        )
    );
    assert_eq!(nul_form, (400, "stream holds a NUL character".to_string()));
    assert_eq!(
        long_id,
        (
            400,
            r#"{"error":"event_id is longer than 128 bytes"}"#.to_string()
        )
    );
    pipeline.stop().await;
}

#[tokio::test]
async fn a_loopback_target_is_refused_unless_private_targets_are_allowed() {
    let options = Options {
        allow_private_targets: false,
        retry_count: 0,
        ..Options::default()
    };
    let pipeline = Pipeline::start_with(options).await;
    let receiver = Receiver::ok().await;
    pipeline
        .domain("a.example.com", Some(&receiver.url("/cb")))
        .await;
    let by_name = format!("http://localhost:{}/cb", receiver.addr.port());
    pipeline.domain("b.example.com", Some(&by_name)).await;

    for domain in ["a.example.com", "b.example.com"] {
        pipeline
            .nginx(&format!("?domain={domain}"), &nginx_form("publish", 1))
            .await;
    }
    let records = pipeline.settled_records(2).await;

    assert!(
        receiver.seen().is_empty(),
        "nothing may reach a refused address"
    );
    for record in &records {
        let r = &record.record;
        assert_eq!(r.notify_result, NotifyResult::Failed);
        assert!(
            r.description
                .starts_with("address 127.0.0.1 refused (loopback)")
                || r.description.starts_with("address ::1 refused (loopback)"),
            "{}",
            r.description
        );
    }
    eventually("nothing else queued", || async {
        (pipeline.store.queued_deliveries().await.ok()? == 0).then_some(())
    })
    .await;
    pipeline.stop().await;
}
