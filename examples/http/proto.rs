//! HTTP/1.1 without I/O: parsing a request head with `httparse` and writing a response into
//! a buffer. Shared by the sync server (`sync_server.rs`), its native async twin
//! (`native.rs`) and the test `tests/tests/io_http_server.rs`, so that they differ only in
//! how they wait for the socket.

/// The longest request head accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// The longest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: a fixed greeting.
    Hello,
    /// `POST /echo`: the request body back.
    Echo,
    NotFound,
}

/// A parsed request head.
#[derive(Debug)]
pub struct Request {
    pub route: Route,
    pub content_length: usize,
    /// HTTP/1.1 keeps the connection open unless the client says `Connection: close`;
    /// HTTP/1.0 closes it unless the client says `Connection: keep-alive`.
    pub keep_alive: bool,
}

pub const GREETING: &[u8] = b"Hello from a coroutine\n";

/// Parses a complete request head (up to and including the empty line).
pub fn parse_head(head: &[u8]) -> Result<Request, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err("incomplete request head"),
        Err(_) => return Err("malformed request head"),
    }
    let mut keep_alive = request.version == Some(1);
    let mut content_length = 0;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("connection") {
            if header.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if header.value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        } else if header.name.eq_ignore_ascii_case("content-length") {
            content_length = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or("bad Content-Length")?;
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("Transfer-Encoding is not supported");
        }
    }
    if content_length > MAX_BODY {
        return Err("request body too large");
    }
    let route = match (request.method, request.path) {
        (Some("GET"), Some("/")) => Route::Hello,
        (Some("POST"), Some("/echo")) => Route::Echo,
        _ => Route::NotFound,
    };
    Ok(Request {
        route,
        content_length,
        keep_alive,
    })
}

/// Appends the response to `request` (whose body is `body`) to `out`.
pub fn respond(request: &Request, body: &[u8], out: &mut Vec<u8>) {
    let (status, content) = match request.route {
        Route::Hello => ("200 OK", GREETING),
        Route::Echo => ("200 OK", body),
        Route::NotFound => ("404 Not Found", &b"not found\n"[..]),
    };
    write_response(status, content, request.keep_alive, out);
}

/// Appends a `400 Bad Request` saying `why`; the connection closes after it.
pub fn bad_request(why: &str, out: &mut Vec<u8>) {
    write_response("400 Bad Request", why.as_bytes(), false, out);
}

fn write_response(status: &str, body: &[u8], keep_alive: bool, out: &mut Vec<u8>) {
    use std::io::Write;
    let connection = if keep_alive { "keep-alive" } else { "close" };
    write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         connection: {connection}\r\n\r\n",
        body.len()
    )
    .expect("writing to a Vec cannot fail");
    out.extend_from_slice(body);
}

/// Whether `head` ends with the empty line that ends a request head.
pub fn head_complete(head: &[u8]) -> bool {
    head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")
}
