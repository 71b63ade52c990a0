//! For the benchmark (`corona/benches/http.sh`): the sync server of `sync_server.rs` written
//! as native tokio async, line for line, so that only the way of waiting differs.

use std::io::{self, ErrorKind};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::proto;

pub async fn serve_connection(
    reader: &mut (impl AsyncBufRead + Unpin),
    writer: &mut (impl AsyncWrite + Unpin),
    idle_timeout: Duration,
) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut body = Vec::new();
    let mut out = Vec::with_capacity(1024);
    loop {
        head.clear();
        // The async form of the read timeout: per read, as `Blocking::set_read_timeout`.
        match tokio::time::timeout(idle_timeout, reader.fill_buf()).await {
            Err(_elapsed) => return Ok(()),
            Ok(buf) => {
                if buf?.is_empty() {
                    return Ok(());
                }
            }
        }
        if !read_head(reader, &mut head).await? {
            return Ok(());
        }
        out.clear();
        let request = match proto::parse_head(&head) {
            Ok(request) => request,
            Err(why) => {
                proto::bad_request(why, &mut out);
                writer.write_all(&out).await?;
                return writer.flush().await;
            }
        };
        body.resize(request.content_length, 0);
        reader.read_exact(&mut body).await?;
        proto::respond(&request, &body, &mut out);
        writer.write_all(&out).await?;
        writer.flush().await?;
        if !request.keep_alive {
            return Ok(());
        }
    }
}

async fn read_head(
    reader: &mut (impl AsyncBufRead + Unpin),
    head: &mut Vec<u8>,
) -> io::Result<bool> {
    loop {
        let limit = (proto::MAX_HEAD + 1 - head.len()) as u64;
        if (&mut *reader).take(limit).read_until(b'\n', head).await? == 0 {
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

pub async fn serve_tcp(stream: tokio::net::TcpStream, idle_timeout: Duration) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = tokio::io::BufReader::new(read_half);
    serve_connection(&mut reader, &mut write_half, idle_timeout).await
}
