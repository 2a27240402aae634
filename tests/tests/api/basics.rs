//! Health, unknown routes and the error envelope.

use vayu_tests::Daemon;

#[test]
fn health_reports_version_and_workers() {
    let daemon = Daemon::start();
    let health = daemon.get("/health");
    assert_eq!(health.status, 200);
    let body = health.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["workers"], 1);
    assert!(body["version"].is_string());
}

#[test]
fn unknown_routes_are_json_404() {
    let daemon = Daemon::start();
    let missing = daemon.get("/no/such/route");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), "NOT_FOUND");
    assert!(missing
        .header("content-type")
        .is_some_and(|ct| ct.contains("application/json")));
}

/// The control API listens with a backlog of 1,024 (tokio's default is 128): a burst of
/// clients connecting at once (a dashboard opening hundreds of SSE streams) is queued by the
/// kernel instead of waiting for SYN retransmits. 300 concurrent connections, each asking
/// `/health`, all get their answer; where `ss` exists, the listening socket's queue size
/// (its Send-Q) is read back. No timing assertion (a loaded CI machine decides those).
#[test]
fn three_hundred_concurrent_connects_are_all_answered() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    let daemon = Daemon::start();
    let addr = daemon.addr;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(300));
    let started = Instant::now();
    let clients: Vec<_> = (0..300)
        .map(|_| {
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || -> Result<String, String> {
                barrier.wait();
                let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
                    .map_err(|err| format!("connect: {err}"))?;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let head =
                    format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                stream
                    .write_all(head.as_bytes())
                    .map_err(|err| format!("write: {err}"))?;
                let mut answer = String::new();
                stream
                    .read_to_string(&mut answer)
                    .map_err(|err| format!("read: {err}"))?;
                Ok(answer)
            })
        })
        .collect();
    let mut failures = Vec::new();
    for client in clients {
        match client.join() {
            Ok(Ok(answer)) if answer.starts_with("HTTP/1.1 200") => {}
            Ok(Ok(answer)) => failures.push(answer.lines().next().unwrap_or("").to_owned()),
            Ok(Err(err)) => failures.push(err),
            Err(_) => failures.push("client thread panicked".to_owned()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 300 failed: {failures:?}",
        failures.len()
    );
    eprintln!(
        "300 concurrent /health calls answered in {:?}",
        started.elapsed()
    );

    let port = addr.port().to_string();
    if let Ok(out) = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(send_q) = text
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse::<u32>().ok())
        {
            assert!(send_q >= 1024, "listen backlog {send_q}: {text}");
        }
    }
}
