//! A lean HTTP/1.1 client for closed-loop load: keep-alive connections, requests
//! written from prepared bytes, answers framed with `httparse`. The load generator
//! shares the machine's two cores with the server it measures, and reqwest took about a
//! third of them at 16 clients; every CPU cycle the generator spends is one the server
//! (ours or a peer's, alike) does not get.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one exchange may take before it counts as failed, unless told otherwise.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Headers an answer may carry.
const MAX_HEADERS: usize = 32;

/// One server's idle connections, shared by the load's clients.
#[derive(Debug)]
pub struct LeanClient {
    addr: String,
    timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

/// A prepared request: its whole wire form.
#[derive(Debug, Clone)]
pub struct Request(Vec<u8>);

/// An answer's status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl LeanClient {
    /// A client of `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> LeanClient {
        LeanClient::with_timeout(base_url, EXCHANGE_TIMEOUT)
    }

    /// A client whose exchanges fail after `timeout` (the connection is then dropped).
    pub fn with_timeout(base_url: &str, timeout: Duration) -> LeanClient {
        LeanClient {
            addr: base_url.trim_start_matches("http://").to_string(),
            timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A request for `path` on this client's server; a body is sent as JSON.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Request {
        let mut wire = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if !body.is_empty() {
            wire.push_str("Content-Type: application/json\r\n");
        }
        if !body.is_empty() || method != "GET" {
            wire.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        wire.push_str("\r\n");
        let mut wire = wire.into_bytes();
        wire.extend_from_slice(body);
        Request(wire)
    }

    /// Sends `request`; true when it succeeded with a body of at least `min_body` bytes.
    pub async fn answered(&self, request: &Request, min_body: usize) -> bool {
        self.send(request)
            .await
            .is_ok_and(|answer| answer.is_success() && answer.body.len() >= min_body)
    }

    /// Sends `request` on an idle connection (or a new one) and reads the answer.
    pub async fn send(&self, request: &Request) -> io::Result<Answer> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (mut connection, reused) = match idle {
            Some(connection) => (connection, true),
            None => (Connection::open(&self.addr).await?, false),
        };
        let answer = match connection.exchange(&request.0, self.timeout).await {
            Ok(answer) => answer,
            // A kept-alive connection the server has closed meanwhile: once more on a
            // fresh one (nothing of the answer was read, so the request was not served).
            Err(ConnectionError::ClosedBeforeAnswer) if reused => {
                connection = Connection::open(&self.addr).await?;
                connection
                    .exchange(&request.0, self.timeout)
                    .await
                    .map_err(io::Error::from)?
            }
            Err(error) => return Err(error.into()),
        };
        if answer.keep_alive {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(connection);
        }
        Ok(answer.answer)
    }
}

#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

#[derive(Debug)]
enum ConnectionError {
    ClosedBeforeAnswer,
    Io(io::Error),
}

impl From<io::Error> for ConnectionError {
    fn from(error: io::Error) -> Self {
        ConnectionError::Io(error)
    }
}

impl From<ConnectionError> for io::Error {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::ClosedBeforeAnswer => {
                io::Error::new(io::ErrorKind::UnexpectedEof, "closed before answering")
            }
            ConnectionError::Io(error) => error,
        }
    }
}

struct FramedAnswer {
    answer: Answer,
    keep_alive: bool,
}

/// Where an answer's body ends.
enum BodyFraming {
    Length(usize),
    Chunked,
}

impl Connection {
    async fn open(addr: &str) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    async fn exchange(
        &mut self,
        request: &[u8],
        timeout: Duration,
    ) -> Result<FramedAnswer, ConnectionError> {
        match tokio::time::timeout(timeout, self.exchange_unbounded(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time").into()),
        }
    }

    async fn exchange_unbounded(
        &mut self,
        request: &[u8],
    ) -> Result<FramedAnswer, ConnectionError> {
        if self.stream.write_all(request).await.is_err() {
            return Err(ConnectionError::ClosedBeforeAnswer);
        }
        self.buffer.clear();
        let (status, header_len, framing, keep_alive) = loop {
            if self.fill().await? == 0 {
                return Err(if self.buffer.is_empty() {
                    ConnectionError::ClosedBeforeAnswer
                } else {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated headers").into()
                });
            }
            if let Some(head) = parse_head(&self.buffer)? {
                break head;
            }
        };
        let body = match framing {
            BodyFraming::Length(length) => {
                while self.buffer.len() < header_len + length {
                    if self.fill().await? == 0 {
                        return Err(truncated());
                    }
                }
                self.buffer[header_len..header_len + length].to_vec()
            }
            BodyFraming::Chunked => self.read_chunked(header_len).await?,
        };
        Ok(FramedAnswer {
            answer: Answer { status, body },
            keep_alive,
        })
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.buffer.capacity() - self.buffer.len() < 4096 {
            self.buffer.reserve(self.buffer.capacity().max(4096));
        }
        self.stream.read_buf(&mut self.buffer).await
    }

    async fn read_chunked(&mut self, mut at: usize) -> Result<Vec<u8>, ConnectionError> {
        let mut body = Vec::new();
        loop {
            let (consumed, size) = loop {
                match httparse::parse_chunk_size(&self.buffer[at..]) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) => {
                        if self.fill().await? == 0 {
                            return Err(truncated());
                        }
                    }
                    Err(_) => return Err(invalid("bad chunk size").into()),
                }
            };
            let size = usize::try_from(size).map_err(|_| invalid("chunk too large"))?;
            // The chunk and its CRLF (or, after the last chunk, the final CRLF).
            let end = at + consumed + size + 2;
            while self.buffer.len() < end {
                if self.fill().await? == 0 {
                    return Err(truncated());
                }
            }
            body.extend_from_slice(&self.buffer[at + consumed..at + consumed + size]);
            at = end;
            if size == 0 {
                return Ok(body);
            }
        }
    }
}

/// The status, header length, body framing and keep-alive of a complete head.
fn parse_head(buffer: &[u8]) -> io::Result<Option<(u16, usize, BodyFraming, bool)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let header_len = match response.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(invalid(&error.to_string())),
    };
    let status = response.code.unwrap_or_default();
    let mut framing = BodyFraming::Length(0);
    let mut keep_alive = response.version == Some(1);
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let length = std::str::from_utf8(header.value)
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .ok_or_else(|| invalid("bad Content-Length"))?;
            framing = BodyFraming::Length(length);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding")
            && header.value.eq_ignore_ascii_case(b"chunked")
        {
            framing = BodyFraming::Chunked;
        } else if header.name.eq_ignore_ascii_case("connection") {
            keep_alive = !header.value.eq_ignore_ascii_case(b"close");
        }
    }
    Ok(Some((status, header_len, framing, keep_alive)))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn truncated() -> ConnectionError {
    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated body").into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// A server that answers each request on a connection with the next canned answer,
    /// and counts the connections it accepted.
    async fn canned_server(answers: Vec<&'static [u8]>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    for answer in answers {
                        if !matches!(stream.read(&mut request).await, Ok(n) if n > 0) {
                            return;
                        }
                        // Split the answer to exercise reads of partial heads and bodies.
                        let (head, tail) = answer.split_at(answer.len() / 2);
                        stream.write_all(head).await.unwrap();
                        stream.flush().await.unwrap();
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        stream.write_all(tail).await.unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn reads_sized_and_chunked_answers_on_one_kept_alive_connection() {
        let (url, accepted) = canned_server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        let client = LeanClient::new(&url);
        let request = client.request("GET", "/x", b"");
        let first = client.send(&request).await.unwrap();
        assert_eq!((first.status, first.body.as_slice()), (200, &b"hello"[..]));
        let second = client.send(&request).await.unwrap();
        assert_eq!(
            (second.status, second.body.as_slice()),
            (200, &b"abcdefg"[..])
        );
        let third = client.send(&request).await.unwrap();
        assert_eq!((third.status, third.body.len()), (404, 0));
        assert!(!third.is_success());
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one kept-alive connection"
        );
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced() {
        // Each connection answers once, then the server closes it.
        let (url, accepted) =
            canned_server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]).await;
        let client = LeanClient::new(&url);
        let request = client.request("PUT", "/y", b"{}");
        for _ in 0..3 {
            assert!(client.answered(&request, 2).await);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn requests_carry_a_length_when_they_have_a_body_or_are_not_gets() {
        let client = LeanClient::new("http://127.0.0.1:1");
        let get = String::from_utf8(client.request("GET", "/a", b"").0).unwrap();
        assert_eq!(get, "GET /a HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
        let post = String::from_utf8(client.request("POST", "/b", b"").0).unwrap();
        assert!(post.ends_with("Content-Length: 0\r\n\r\n"), "{post}");
        let put = String::from_utf8(client.request("PUT", "/c", b"{}").0).unwrap();
        assert!(put.contains("Content-Type: application/json\r\n"), "{put}");
        assert!(put.ends_with("Content-Length: 2\r\n\r\n{}"), "{put}");
    }
}
