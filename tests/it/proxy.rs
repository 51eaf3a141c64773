//! A counting TCP proxy for tests: it forwards every byte between fnox and
//! a real key service (moto, OpenBao) on loopback, and counts the HTTP
//! requests that pass, by action: the `x-amz-target` header of a KMS call
//! (`Decrypt`, `ReEncrypt`...) or the transit path's verb (`decrypt`,
//! `rewrap`...). Tests assert how many requests a command made.

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
};

/// A proxy listening on 127.0.0.1; it runs until the test process ends.
pub struct CountingProxy {
    /// `http://127.0.0.1:PORT`, to use as the service's endpoint.
    pub url: String,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl CountingProxy {
    /// Starts a proxy to `upstream` (`http://HOST:PORT`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let shared = counts.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, counts) = (upstream.clone(), shared.clone());
                thread::spawn(move || relay(client, &upstream, &counts));
            }
        });
        Self { url, counts }
    }

    /// Requests seen so far, by action (`Decrypt`, `transit/decrypt`...).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().unwrap().clone()
    }

    /// Requests seen so far, all actions together.
    pub fn total(&self) -> usize {
        self.counts().values().sum()
    }

    /// Forgets the requests seen so far.
    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }
}

/// Forwards one connection both ways, counting requests client → server.
fn relay(client: TcpStream, upstream: &str, counts: &Mutex<BTreeMap<String, usize>>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (mut from_server, mut to_client) =
        (server.try_clone().unwrap(), client.try_clone().unwrap());
    let back = thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let (mut from_client, mut to_server) = (client, server);
    let mut scanner = Scanner::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from_client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for action in scanner.feed(&buf[..n]) {
            *counts.lock().unwrap().entry(action).or_default() += 1;
        }
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// Finds request heads in a byte stream: a KMS call's `x-amz-target:
/// TrentService.ACTION` header, or a transit request line `POST
/// /v1/MOUNT/VERB/...`.
#[derive(Default)]
struct Scanner {
    pending: Vec<u8>,
}

impl Scanner {
    /// The actions of the request heads completed by `bytes`.
    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut found = Vec::new();
        // Whole lines only; the rest waits for more bytes.
        let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') else {
            return found;
        };
        let lines: Vec<u8> = self.pending.drain(..=end).collect();
        for line in String::from_utf8_lossy(&lines).lines() {
            let lower = line.trim_end().to_ascii_lowercase();
            if lower.starts_with("x-amz-target:") {
                // TrentService.Decrypt → Decrypt
                found.push(line.trim_end().rsplit('.').next().unwrap_or_default().to_string());
            } else if let Some(at) = lower.find("post /v1/") {
                // A request line, maybe right after the last body (no
                // newline ends a JSON body): /v1/MOUNT/VERB/KEY → MOUNT/VERB
                let path = &lower[at + "post /v1/".len()..];
                let parts: Vec<&str> = path.split(['/', ' ']).collect();
                if parts.len() >= 2 {
                    found.push(format!("{}/{}", parts[0], parts[1]));
                }
            }
        }
        found
    }
}

#[test]
fn the_scanner_finds_kms_and_transit_requests_across_reads() {
    let mut s = Scanner::default();
    assert!(s.feed(b"POST / HTTP/1.1\r\nx-amz-tar").is_empty());
    assert_eq!(s.feed(b"get: TrentService.Decrypt\r\n\r\n{\"a\":1}"), ["Decrypt"]);
    let transit = s.feed(b"POST /v1/transit/rewrap/app HTTP/1.1\r\nHost: x\r\n\r\n{}");
    assert_eq!(transit, ["transit/rewrap"]);
    let transit = s.feed(b"POST /v1/transit/decrypt/app HTTP/1.1\r\n");
    assert_eq!(transit, ["transit/decrypt"]);
    assert!(s.feed(b"GET /v1/sys/health HTTP/1.1\r\n").is_empty());
}

#[test]
fn exec_of_three_kms_secrets_makes_three_decrypts_through_the_proxy() {
    use crate::common::{create_kms_key, kms_endpoint, kms_project};
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let proxy = CountingProxy::start(&endpoint);
    let env = kms_project(&proxy.url, &alias);
    for name in ["A", "B", "C"] {
        env.set(name, b"value").success();
    }
    assert_eq!(proxy.counts().get("Encrypt"), Some(&3));
    proxy.reset();
    env.fnox(&["exec", "--", "true"]).success();
    assert_eq!(proxy.counts(), BTreeMap::from([("Decrypt".to_string(), 3)]));
    assert_eq!(proxy.total(), 3);
}
