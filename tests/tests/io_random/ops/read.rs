//! The reading calls. What a call hands back must be the stream's next bytes, also when it
//! fails (`read_to_end` and `read_line` keep what they read). Where a call cut short by the
//! interrupt or a timeout read an unknown amount (`read_exact`, `lines`), the stream's position
//! is lost and the reads after it are skipped.

use std::io::{self, BufRead, ErrorKind, IoSliceMut};

use crate::plan::ReadEnd;
use crate::sides::ReadSide;

pub fn read_once(
    ctx: &str,
    read: &mut ReadSide,
    len: usize,
    cut_short: impl Fn(&io::Error) -> bool,
) {
    let mut buf = vec![0; len];
    match read.read().read(&mut buf) {
        Ok(n) => {
            assert!(n <= len, "{ctx}: read {n}");
            read.check_end(ctx, n, len);
            read.receive(ctx, &buf[..n]);
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => read.expect_failure(ctx, &err),
    }
}

pub fn read_vectored(
    ctx: &str,
    read: &mut ReadSide,
    (a, b): (usize, usize),
    cut_short: impl Fn(&io::Error) -> bool,
) {
    let (mut x, mut y) = (vec![0; a], vec![0; b]);
    let result = read
        .read()
        .read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]);
    match result {
        Ok(n) => {
            assert!(n <= a + b, "{ctx}: read {n}");
            read.check_end(ctx, n, a + b);
            x.extend_from_slice(&y);
            read.receive(ctx, &x[..n]);
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => read.expect_failure(ctx, &err),
    }
}

pub fn read_exact(
    ctx: &str,
    read: &mut ReadSide,
    len: usize,
    cut_short: impl Fn(&io::Error) -> bool,
) {
    let mut buf = vec![0; len];
    match read.read().read_exact(&mut buf) {
        Ok(()) => read.receive(ctx, &buf),
        Err(err) if cut_short(&err) => read.lost = true, // what it read is unspecified
        Err(err) => {
            let left = read.data.len() - read.pos;
            assert!(len > left, "{ctx}: failed with {left} bytes left: {err}");
            read.pos = read.data.len(); // what it read is unspecified
            if read.end == ReadEnd::Eof {
                assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{ctx}: {err}");
            } else {
                read.expect_failure(ctx, &err);
            }
        }
    }
}

pub fn read_to_end(ctx: &str, read: &mut ReadSide, cut_short: impl Fn(&io::Error) -> bool) {
    let mut got = Vec::new();
    let result = read.read().read_to_end(&mut got);
    read.receive(ctx, &got); // kept on failure too
    match result {
        Ok(n) => {
            assert_eq!(n, got.len(), "{ctx}");
            assert!(read.at_eof(), "{ctx}: Ok before the end");
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => read.expect_failure(ctx, &err),
    }
}

pub fn read_line(ctx: &str, read: &mut ReadSide, cut_short: impl Fn(&io::Error) -> bool) {
    let mut line = String::new();
    let result = read.buf_read().read_line(&mut line);
    read.receive(ctx, line.as_bytes()); // kept on failure too
    match result {
        Ok(n) => {
            assert_eq!(n, line.len(), "{ctx}");
            if !line.ends_with('\n') {
                assert!(read.at_eof(), "{ctx}: a line cut short before the end");
            }
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => {
            assert!(!line.contains('\n'), "{ctx}: a whole line and {err}");
            read.expect_failure(ctx, &err);
        }
    }
}

/// `lines().take(n)`.
pub fn lines(ctx: &str, read: &mut ReadSide, n: usize, cut_short: impl Fn(&io::Error) -> bool) {
    for item in read.buf_read().lines().take(n).collect::<Vec<_>>() {
        match item {
            Ok(line) => {
                read.receive(ctx, line.as_bytes());
                if read.pos < read.data.len() {
                    read.receive(ctx, b"\n");
                } else {
                    assert!(read.at_eof(), "{ctx}: a last line before the end");
                }
            }
            Err(err) if cut_short(&err) => {
                read.lost = true; // with the line it was reading
                break;
            }
            Err(err) => {
                // The bytes of the line it was reading are dropped with it: they
                // must be the rest of the stream, with no newline.
                let rest = &read.data[read.pos..];
                assert!(!rest.contains(&b'\n'), "{ctx}: a whole line lost to {err}");
                read.pos = read.data.len();
                read.expect_failure(ctx, &err);
            }
        }
    }
}

/// `fill_buf`, `consume(amount)`, and `fill_buf` again: what was not consumed comes again.
pub fn fill_consume(
    ctx: &str,
    read: &mut ReadSide,
    amount: usize,
    cut_short: impl Fn(&io::Error) -> bool,
) {
    match read.buf_read().fill_buf() {
        Ok(buf) => {
            let buf = buf.to_vec();
            read.check_end(ctx, buf.len(), 1);
            let amount = amount.min(buf.len());
            read.buf_read().consume(amount);
            read.receive(ctx, &buf[..amount]);
            // What was not consumed comes again.
            let again = read.buf_read().fill_buf().map(<[u8]>::to_vec);
            if amount < buf.len() {
                let again = again.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                assert!(
                    again.starts_with(&buf[amount..]),
                    "{ctx}: the unconsumed bytes did not come again"
                );
            } else if let Err(err) = again {
                if !cut_short(&err) {
                    read.expect_failure(ctx, &err);
                }
            }
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => read.expect_failure(ctx, &err),
    }
}
