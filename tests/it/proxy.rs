//! A counting TCP proxy for tests: it forwards every byte between fnox and
//! a real key service (moto, OpenBao) on loopback, and counts the HTTP
//! requests that pass, by action: the `x-amz-target` header of a KMS call
//! (`Decrypt`, `ReEncrypt`...) or the transit path's verb (`decrypt`,
//! `rewrap`...). Tests assert how many requests a command made.
//!
//! [`WaveProxy`] speaks HTTP/1.1 itself, so that it can keep its clients'
//! connections open (moto closes its own after every answer) and hold
//! requests back until a given number are in flight at once: tests see how
//! many requests a command has in flight together and whether it reuses
//! connections.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    sync::{Arc, Condvar, Mutex},
    thread,
    time::{Duration, Instant},
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

/// What a [`WaveProxy`] has seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wave {
    /// Requests received.
    pub requests: usize,
    /// Client connections accepted.
    pub connections: usize,
    /// Requests that came on a connection which had carried one before.
    pub reused: usize,
    /// The most requests in flight at once (received, not yet answered).
    pub peak: usize,
    /// Requests in flight now.
    in_flight: usize,
    /// Whether held requests have been let go (the hold was reached, or it
    /// timed out).
    released: bool,
}

/// A keep-alive HTTP/1.1 proxy in front of a real server on loopback. Each
/// request is held until `hold` requests are in flight together (or for at
/// most [`WaveProxy::HOLD_LIMIT`]), then all go on: the peak it reports shows
/// whether a command sends that many at once. Every request goes upstream
/// on a connection of its own, asked to close after the answer; the answer
/// goes back to the client without the upstream's `Connection` header, and
/// the client's connection stays open for its next request.
pub struct WaveProxy {
    /// `http://127.0.0.1:PORT`, to use as the service's endpoint.
    pub url: String,
    state: Arc<(Mutex<Wave>, Condvar)>,
}

impl WaveProxy {
    /// How long the first requests are held at most when fewer than `hold`
    /// arrive together.
    pub const HOLD_LIMIT: Duration = Duration::from_secs(10);

    /// Starts a proxy to `upstream` (`http://HOST:PORT`).
    pub fn start(upstream: &str, hold: usize) -> Self {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new((Mutex::new(Wave::default()), Condvar::new()));
        let shared = state.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                shared.0.lock().unwrap().connections += 1;
                let (upstream, state) = (upstream.clone(), shared.clone());
                thread::spawn(move || serve(client, &upstream, hold, &state));
            }
        });
        Self { url, state }
    }

    /// What the proxy has seen so far.
    pub fn wave(&self) -> Wave {
        self.state.0.lock().unwrap().clone()
    }
}

/// Answers the requests of one client connection, one after the other.
fn serve(client: TcpStream, upstream: &str, hold: usize, state: &(Mutex<Wave>, Condvar)) {
    let (lock, turn) = state;
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut writer = client;
    let mut served = 0;
    while let Some(request) = read_message(&mut reader, false) {
        {
            let mut wave = lock.lock().unwrap();
            wave.requests += 1;
            wave.reused += usize::from(served > 0);
            wave.in_flight += 1;
            wave.peak = wave.peak.max(wave.in_flight);
            if wave.in_flight >= hold {
                wave.released = true;
                turn.notify_all();
            }
            let deadline = Instant::now() + WaveProxy::HOLD_LIMIT;
            while !wave.released {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    wave.released = true;
                    turn.notify_all();
                    break;
                }
                wave = turn.wait_timeout(wave, left).unwrap().0;
            }
        }
        let answer = forward(upstream, &request);
        // Out of flight before the client can see the answer and send its
        // next request, so that the peak never counts one twice.
        lock.lock().unwrap().in_flight -= 1;
        served += 1;
        if writer.write_all(&answer).is_err() {
            break;
        }
    }
}

/// Sends one request upstream on a connection of its own and returns the
/// answer to relay: its head without hop-by-hop headers, then its body.
fn forward(upstream: &str, request: &Message) -> Vec<u8> {
    let mut server = TcpStream::connect(upstream).expect("connect upstream");
    server.write_all(&request.head_with("Connection: close")).unwrap();
    server.write_all(&request.body).unwrap();
    let answer = read_message(&mut BufReader::new(server), true).expect("an upstream answer");
    let mut bytes = answer.head_with(&format!("Content-Length: {}", answer.body.len()));
    bytes.extend_from_slice(&answer.body);
    bytes
}

/// An HTTP/1.1 message: its start line, its end-to-end headers and its body.
struct Message {
    start: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

impl Message {
    /// The start line and headers, with `extra` added, ready to send.
    fn head_with(&self, extra: &str) -> Vec<u8> {
        let mut head = format!("{}\r\n", self.start);
        for header in self.headers.iter().map(String::as_str).chain([extra]) {
            head.push_str(header);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

/// Reads one message; None at the end of the stream. Bodies are delimited
/// by `Content-Length`; an answer without one is read to the end (the
/// upstream was asked to close). `Connection`, `Keep-Alive` and
/// `Content-Length` are left out of the headers kept.
fn read_message(reader: &mut impl BufRead, answer: bool) -> Option<Message> {
    let mut start = String::new();
    if reader.read_line(&mut start).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = Some(value.trim().parse::<usize>().unwrap()),
            "transfer-encoding" => panic!("chunked bodies are not relayed: {line}"),
            "connection" | "keep-alive" => {}
            _ => headers.push(line.to_string()),
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).ok()?;
        }
        None if answer => {
            reader.read_to_end(&mut body).ok()?;
        }
        None => {}
    }
    let start = start.trim_end().to_string();
    // A request keeps its Content-Length (it is not rewritten like an answer's).
    if !answer && length.is_some() {
        headers.push(format!("Content-Length: {}", body.len()));
    }
    Some(Message { start, headers, body })
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

#[test]
fn a_per_secret_exec_sends_every_decrypt_in_one_wave_and_reuses_connections() {
    use crate::common::{create_kms_key, kms_endpoint, kms_project};
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    // The in-flight bound is 128 (docs/performance.md): 130 values are one
    // wave of 128, and two more once answers come back.
    let names: Vec<String> = (0..130).map(|i| format!("S{i:03}")).collect();
    for name in &names {
        env.set(name, b"value").success();
    }
    // Values are bound to the key and the name, not to the endpoint.
    let proxy = WaveProxy::start(&endpoint, 128);
    env.write("fnox.toml", &env.read("fnox.toml").replace(&endpoint, &proxy.url));
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"$S000 $S129\""]).success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), "value value\n");
    let wave = proxy.wave();
    assert_eq!((wave.requests, wave.peak), (130, 128), "{wave:?}");
    // Two requests after the wave: each on a connection an answer freed.
    assert_eq!((wave.connections, wave.reused), (128, 2), "{wave:?}");
}
