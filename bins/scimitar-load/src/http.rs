//! A minimal HTTP/1.1 keep-alive client over one TCP connection.
//!
//! The load generator has to outrun the server it measures on the same two cores, so
//! this client does the least work possible per request: requests are written as one
//! pre-built byte buffer, and responses are parsed in place (status, `Content-Length`,
//! `Transfer-Encoding: chunked`, `Connection: close`), with no per-request allocation
//! once the buffers have grown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest response head accepted; anything bigger is a broken peer.
const MAX_HEAD: usize = 64 * 1024;
/// The largest response body accepted (a page of 100 users is about 150 KB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Why a request got no complete HTTP response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, writing or reading failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection before the response was complete.
    #[error("connection closed before the response was complete")]
    Closed,
    /// The response did not come within the time limit.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The response is not well-formed HTTP/1.1.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// The parsed head of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    framing: Framing,
    close: bool,
    len: usize,
}

/// The status and body of one response; the body borrows the connection's buffer.
#[derive(Debug)]
pub struct Response<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The decoded body (empty when the response has none).
    pub body: &'a [u8],
}

impl Response<'_> {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Builds request bytes for one server: host and bearer token are fixed.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    host: String,
    authorization: String,
}

impl RequestTemplate {
    /// A template for requests to `addr` carrying `token` as bearer token.
    pub fn new(addr: SocketAddr, token: &str) -> Self {
        Self {
            host: addr.to_string(),
            authorization: format!("Bearer {token}"),
        }
    }

    /// Writes a complete request into `out` (cleared first). `path` must already be
    /// percent-encoded; a body is sent as `application/scim+json`.
    pub fn write(&self, out: &mut Vec<u8>, method: &str, path: &str, body: Option<&[u8]>) {
        out.clear();
        for part in [
            method,
            " ",
            path,
            " HTTP/1.1\r\nHost: ",
            &self.host,
            "\r\nAuthorization: ",
            &self.authorization,
            "\r\nAccept: application/scim+json\r\n",
        ] {
            out.extend_from_slice(part.as_bytes());
        }
        if let Some(body) = body {
            out.extend_from_slice(b"Content-Type: application/scim+json\r\nContent-Length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// One keep-alive connection; reconnects by itself after the server closes it.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    timeout: Duration,
    stream: Option<TcpStream>,
    /// Bytes read from the socket; `buf[start..end]` are not consumed yet.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The decoded body of the last chunked response.
    chunked_body: Vec<u8>,
}

impl Connection {
    /// A connection to `addr`, opened on the first request; every request must
    /// complete within `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            addr,
            timeout,
            stream: None,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            chunked_body: Vec::new(),
        }
    }

    /// Sends one complete request (as built by [`RequestTemplate::write`]) and reads
    /// its response. After an error the connection is dropped and the next request
    /// opens a new one.
    pub async fn send(&mut self, request: &[u8]) -> Result<Response<'_>, HttpError> {
        let timeout = self.timeout;
        let outcome = match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(HttpError::Timeout(timeout)),
        };
        match outcome {
            Ok((status, body_range, close)) => {
                if close {
                    self.stream = None;
                }
                let body = match body_range {
                    BodyAt::Buffer(from, to) => self.buf.get(from..to).unwrap_or_default(),
                    BodyAt::Chunked => &self.chunked_body,
                };
                Ok(Response { status, body })
            }
            Err(error) => {
                self.stream = None;
                Err(error)
            }
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, BodyAt, bool), HttpError> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(self.addr).await?;
                stream.set_nodelay(true)?;
                self.start = 0;
                self.end = 0;
                self.stream.insert(stream)
            }
        };
        stream.write_all(request).await?;
        // A response never begins with bytes left from the previous one: we do not pipeline.
        self.start = 0;
        self.end = 0;
        let head = loop {
            if let Some(head) = parse_head(self.filled())? {
                break head;
            }
            if self.end >= MAX_HEAD {
                return Err(HttpError::Malformed("response head too large"));
            }
            self.fill().await?;
        };
        self.start = head.len;
        let no_body = head.status == 204 || head.status == 304 || head.status < 200;
        let framing = if no_body {
            Framing::Length(0)
        } else {
            head.framing
        };
        let body = match framing {
            Framing::Length(len) => {
                if len > MAX_BODY {
                    return Err(HttpError::Malformed("response body too large"));
                }
                while self.end - self.start < len {
                    self.fill().await?;
                }
                let body = BodyAt::Buffer(self.start, self.start + len);
                self.start += len;
                body
            }
            Framing::Chunked => {
                self.read_chunked().await?;
                BodyAt::Chunked
            }
            Framing::UntilClose => {
                loop {
                    match self.fill().await {
                        Ok(()) => {}
                        Err(HttpError::Closed) => break,
                        Err(error) => return Err(error),
                    }
                    if self.end - self.start > MAX_BODY {
                        return Err(HttpError::Malformed("response body too large"));
                    }
                }
                BodyAt::Buffer(self.start, self.end)
            }
        };
        let close = head.close || framing == Framing::UntilClose;
        Ok((head.status, body, close))
    }

    fn filled(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Reads more bytes from the socket, growing the buffer when it is full.
    async fn fill(&mut self) -> Result<(), HttpError> {
        let stream = self.stream.as_mut().ok_or(HttpError::Closed)?;
        if self.end == self.buf.len() {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
        let free = self.buf.get_mut(self.end..).unwrap_or_default();
        let read = stream.read(free).await?;
        if read == 0 {
            return Err(HttpError::Closed);
        }
        self.end += read;
        Ok(())
    }

    /// Decodes a chunked body into `chunked_body`, skipping trailers.
    async fn read_chunked(&mut self) -> Result<(), HttpError> {
        self.chunked_body.clear();
        loop {
            let line_end = loop {
                if let Some(at) = find(self.filled(), b"\r\n") {
                    break at;
                }
                self.fill().await?;
            };
            let size = parse_chunk_size(self.filled().get(..line_end).unwrap_or_default())?;
            self.start += line_end + 2;
            if size == 0 {
                // Trailers end with an empty line; we have no use for them.
                loop {
                    if let Some(at) = find(self.filled(), b"\r\n") {
                        self.start += at + 2;
                        if at == 0 {
                            return Ok(());
                        }
                        continue;
                    }
                    self.fill().await?;
                }
            }
            if self.chunked_body.len() + size > MAX_BODY {
                return Err(HttpError::Malformed("response body too large"));
            }
            while self.end - self.start < size + 2 {
                self.fill().await?;
            }
            let chunk = self
                .buf
                .get(self.start..self.start + size)
                .unwrap_or_default();
            self.chunked_body.extend_from_slice(chunk);
            self.start += size + 2;
        }
    }
}

/// Where the body of the last response is.
#[derive(Debug, Clone, Copy)]
enum BodyAt {
    Buffer(usize, usize),
    Chunked,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Parses a response head if `bytes` holds all of it (`Ok(None)` if more is needed).
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, HttpError> {
    let Some(head_end) = find(bytes, b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(bytes.get(..head_end).unwrap_or_default())
        .map_err(|_| HttpError::Malformed("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed("not an HTTP/1.x status line"));
    }
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or(HttpError::Malformed("bad status code"))?;
    let mut framing = Framing::UntilClose;
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Malformed("header line without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked {
            let len = value
                .parse()
                .map_err(|_| HttpError::Malformed("bad Content-Length"))?;
            framing = Framing::Length(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().ends_with("chunked")
        {
            framing = Framing::Chunked;
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                close = true;
            } else if value.contains("keep-alive") {
                close = false;
            }
        }
    }
    Ok(Some(Head {
        status,
        framing,
        close,
        len: head_end + 4,
    }))
}

fn parse_chunk_size(line: &[u8]) -> Result<usize, HttpError> {
    let line = std::str::from_utf8(line).map_err(|_| HttpError::Malformed("bad chunk size"))?;
    let digits = line.split(';').next().unwrap_or_default().trim();
    usize::from_str_radix(digits, 16).map_err(|_| HttpError::Malformed("bad chunk size"))
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head_with_content_length() {
        let bytes = b"HTTP/1.1 201 Created\r\ncontent-length: 12\r\nContent-Type: x\r\n\r\n{\"id\":\"1\"}..";
        let head = parse_head(bytes).unwrap().unwrap();
        assert_eq!(head.status, 201);
        assert_eq!(head.framing, Framing::Length(12));
        assert!(!head.close);
        assert_eq!(&bytes[head.len..], b"{\"id\":\"1\"}..");
    }

    #[test]
    fn needs_more_bytes_until_the_head_ends() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
    }

    #[test]
    fn recognises_chunked_and_close() {
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.framing, Framing::Chunked);
        assert!(head.close);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(parse_chunk_size(b"zz").is_err());
        assert_eq!(parse_chunk_size(b"1a;ext=1").unwrap(), 26);
    }

    #[test]
    fn encodes_a_filter() {
        assert_eq!(
            encode_query_value("userName eq \"a.b@c\""),
            "userName%20eq%20%22a.b%40c%22"
        );
    }

    #[test]
    fn writes_a_request_with_a_body() {
        let template = RequestTemplate::new(SocketAddr::from(([127, 0, 0, 1], 80)), "t");
        let mut out = Vec::new();
        template.write(&mut out, "POST", "/Users", Some(b"{}"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("POST /Users HTTP/1.1\r\nHost: 127.0.0.1:80\r\n"));
        assert!(text.contains("Authorization: Bearer t\r\n"));
        assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
    }

    /// A real round trip against a one-shot server speaking chunked encoding.
    #[tokio::test]
    async fn reads_chunked_and_fixed_length_responses_on_one_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            for reply in [
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"[..],
                &b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"[..],
            ] {
                let _ = socket.read(&mut buf).await.unwrap();
                socket.write_all(reply).await.unwrap();
            }
        });
        let template = RequestTemplate::new(addr, "t");
        let mut request = Vec::new();
        template.write(&mut request, "GET", "/", None);
        let mut connection = Connection::new(addr, Duration::from_secs(5));
        let first = connection.send(&request).await.unwrap();
        assert_eq!((first.status, first.body), (200, &b"abcde"[..]));
        let second = connection.send(&request).await.unwrap();
        assert_eq!((second.status, second.body), (404, &b"nope"[..]));
        assert!(!second.is_success());
        server.await.unwrap();
    }
}
