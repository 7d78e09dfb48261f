//! The listener closes connections that do not send a complete request head in time
//! (slowloris), and still serves clients that do.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::Service;

/// A safety net for a hang, far beyond the configured header timeout; not a limit on speed.
const SAFETY_NET: Duration = Duration::from_secs(30);

/// The header timeout the service under test is started with.
const HEADER_READ_TIMEOUT_MS: u64 = 300;

async fn service() -> Service {
    Service::start_with(100, |overrides| {
        overrides.header_read_timeout_ms = Some(HEADER_READ_TIMEOUT_MS);
    })
    .await
}

/// A connection to `service` that has sent `bytes`.
async fn send(service: &Service, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(service.addr).await.expect("connect");
    stream.write_all(bytes).await.expect("send");
    stream
}

/// Reads until the server closes the connection; the bytes it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(SAFETY_NET, stream.read_to_end(&mut received)).await;
    match outcome {
        Ok(_) => received,
        Err(_) => panic!("the server kept the connection open for {SAFETY_NET:?}"),
    }
}

#[tokio::test]
async fn a_connection_that_sends_a_partial_request_head_is_closed() {
    let service = service().await;

    let mut stream = send(&service, b"POST /hooks/events HTTP/1.1\r\nHost: x\r\n").await;
    let answer = read_until_closed(&mut stream).await;

    // hyper may answer 408 before closing; it must never answer as if a request arrived.
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert_eq!(service.get("/healthz").await, Some((200, "ok\n".into())));
    service.stop().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let service = service().await;

    let mut stream = TcpStream::connect(service.addr).await.expect("connect");
    let answer = read_until_closed(&mut stream).await;

    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    service.stop().await;
}

#[tokio::test]
async fn a_complete_request_head_is_answered_under_the_header_timeout() {
    let service = service().await;

    let mut stream = send(
        &service,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let answer = read_until_closed(&mut stream).await;

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");
    service.stop().await;
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_is_answered_and_closed() {
    let service = service().await;

    let mut stream = send(
        &service,
        b"POST /hooks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"action\":",
    )
    .await;
    let answer = read_until_closed(&mut stream).await;

    // The hook is refused (never accepted from a body cut short), and the slot is freed.
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.get(9..12).unwrap_or_default();
    assert!(
        answer.starts_with("HTTP/1.1 4") || answer.is_empty(),
        "{answer}"
    );
    assert_ne!(status, "200", "{answer}");
    assert_eq!(service.get("/healthz").await, Some((200, "ok\n".into())));
    service.stop().await;
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() {
    let service = service().await;

    let mut stream = send(
        &service,
        b"POST /hooks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n",
    )
    .await;
    // One byte every 50 ms, well inside the 300 ms timeout between bytes, for longer than
    // the safety net: only a deadline for the whole body ends it.
    let trickle = async {
        for _ in 0..1000 {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let answered = tokio::time::timeout(SAFETY_NET, trickle).await;
    assert!(
        answered.is_ok(),
        "the server kept reading the body for {SAFETY_NET:?}"
    );

    let mut answer = Vec::new();
    let _ = tokio::time::timeout(SAFETY_NET, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(service.get("/healthz").await, Some((200, "ok\n".into())));
    service.stop().await;
}
