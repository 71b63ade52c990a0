//! The HTTP/1.1 keep-alive server as plain sync code over `BufRead + Write`: the same
//! function would serve a `std::net::TcpStream` on a thread. Here each connection is a
//! coroutine, and `corona::io::Blocking` turns the async socket into `BufRead + Write`.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::time::Duration;

use corona::io::Blocking;

use crate::proto;

/// Why a connection ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The client closed the connection between requests.
    ClientClosed,
    /// The client asked for it (`Connection: close`, or HTTP/1.0).
    ClientAskedToClose,
    /// No new request within the read timeout.
    Idle,
    /// The request could not be parsed; a 400 was sent.
    BadRequest,
}

/// Serves requests from `reader`, answering on `writer`, until the connection ends.
///
/// A read timeout on the reader (`Blocking::set_read_timeout`, `TcpStream::set_read_timeout`)
/// closes idle connections: a timeout while waiting for the next request ends the connection
/// as [`Ending::Idle`].
pub fn serve_connection(reader: &mut impl BufRead, writer: &mut impl Write) -> io::Result<Ending> {
    let mut head = Vec::with_capacity(1024);
    let mut body = Vec::new();
    let mut out = Vec::with_capacity(1024);
    loop {
        head.clear();
        match read_head(reader, &mut head) {
            Ok(true) => {}
            Ok(false) => return Ok(Ending::ClientClosed),
            // `Blocking` says `TimedOut`; std's `TcpStream` says `WouldBlock` on Unix.
            Err(e) if is_timeout(&e) && head.is_empty() => return Ok(Ending::Idle),
            Err(e) => return Err(e),
        }
        out.clear();
        let request = match proto::parse_head(&head) {
            Ok(request) => request,
            Err(why) => {
                proto::bad_request(why, &mut out);
                writer.write_all(&out)?;
                writer.flush()?;
                return Ok(Ending::BadRequest);
            }
        };
        body.resize(request.content_length, 0);
        reader.read_exact(&mut body)?;
        proto::respond(&request, &body, &mut out);
        writer.write_all(&out)?;
        writer.flush()?;
        if !request.keep_alive {
            return Ok(Ending::ClientAskedToClose);
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock)
}

/// Reads a request head, line by line, into `head`; false at the end of the stream before a
/// request started.
fn read_head(reader: &mut impl BufRead, head: &mut Vec<u8>) -> io::Result<bool> {
    loop {
        let limit = (proto::MAX_HEAD + 1 - head.len()) as u64;
        if reader.by_ref().take(limit).read_until(b'\n', head)? == 0 {
            return match head.is_empty() {
                true => Ok(false),
                false => Err(ErrorKind::UnexpectedEof.into()),
            };
        }
        if head.len() > proto::MAX_HEAD {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        if proto::head_complete(head) {
            return Ok(true);
        }
    }
}

/// Serves one tokio `TcpStream` in the current coroutine: tokio's `BufReader` inside the
/// reading `Blocking` (one value that is `BufRead`, for `read_until`), the writing half
/// bare (each response goes out in one `write_all`).
pub fn serve_tcp(stream: tokio::net::TcpStream, idle_timeout: Duration) -> io::Result<Ending> {
    stream.set_nodelay(true)?;
    let (read_half, write_half) = stream.into_split();
    let mut reader = Blocking::new(tokio::io::BufReader::new(read_half));
    reader.set_read_timeout(Some(idle_timeout))?;
    let mut writer = Blocking::new(write_half);
    serve_connection(&mut reader, &mut writer)
}
