//! Loopback receivers for notification tests: an HTTP server on 127.0.0.1 port 0 that records
//! every request (and can fail the first few, or never answer), and a tiny SMTP server that
//! records each message's DATA.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query.
    pub uri: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Requests still to be answered with HTTP 500.
    failures_left: usize,
}

/// An HTTP receiver; its answers are 200 except the first `failures` (500).
#[derive(Clone)]
pub struct HttpReceiver {
    pub addr: std::net::SocketAddr,
    log: Arc<Mutex<Log>>,
}

impl HttpReceiver {
    pub async fn start(failures: usize) -> HttpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log {
            requests: Vec::new(),
            failures_left: failures,
        }));
        let app = axum::Router::new().fallback(record).with_state(log.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        HttpReceiver { addr, log }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().requests.clone()
    }
}

async fn record(
    State(log): State<Arc<Mutex<Log>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut log = log.lock().unwrap();
    log.requests.push(Received {
        uri: uri.to_string(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    });
    if log.failures_left > 0 {
        log.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// A receiver that accepts connections and never answers: a dead peer that hangs.
pub struct HangingReceiver {
    pub addr: std::net::SocketAddr,
    connections: Arc<Mutex<usize>>,
}

impl HangingReceiver {
    pub async fn start() -> HangingReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(Mutex::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                *counted.lock().unwrap() += 1;
                held.push(stream);
            }
        });
        HangingReceiver { addr, connections }
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

/// A minimal SMTP server (no TLS, no auth): enough of RFC 5321 for a client to deliver.
#[derive(Clone)]
pub struct SmtpReceiver {
    pub addr: std::net::SocketAddr,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpReceiver {
    pub async fn start() -> SmtpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stored = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, stored.clone()));
            }
        });
        SmtpReceiver { addr, messages }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

async fn session(stream: tokio::net::TcpStream, messages: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 loopback ESMTP test\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 loopback\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(&line);
                    data.push_str("\r\n");
                }
                messages.lock().unwrap().push(data);
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 not implemented\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}
