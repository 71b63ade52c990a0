//! The writing calls, and `std::io::copy`. After a loop (`write_all`, `copy`) is cut short by
//! the interrupt or a timeout, what was sent is taken from what the mock accepted (behind a
//! buffer that is unknown, and the writer is not used again).

use std::io::{self, IoSlice, Write};

use crate::plan::READ_FAILURES;
use crate::sides::{ReadSide, WriteSide};

pub fn copy(
    ctx: &str,
    read: &mut ReadSide,
    write: &mut WriteSide,
    cut_short: impl Fn(&io::Error) -> bool,
) {
    let rest = read.data[read.pos..].to_vec();
    let result = std::io::copy(read.read(), &mut write.writer);
    match result {
        Ok(n) => {
            assert_eq!(n, rest.len() as u64, "{ctx}: copied");
            read.pos = read.data.len();
            assert!(read.at_eof(), "{ctx}: Ok before the end");
            write.sent(ctx, &rest);
        }
        Err(err) if cut_short(&err) => {
            read.lost = true;
            write.resync(ctx, &rest);
        }
        Err(err) if READ_FAILURES.contains(&err.kind()) => {
            read.pos = read.data.len();
            read.expect_failure(ctx, &err);
            write.sent(ctx, &rest); // all it read, it wrote
        }
        Err(err) => {
            write.expect_failure(ctx, &err, &rest);
            read.lost = true;
        }
    }
}

pub fn write_once(
    ctx: &str,
    write: &mut WriteSide,
    bytes: &[u8],
    cut_short: impl Fn(&io::Error) -> bool,
) {
    match write.writer.write(bytes) {
        Ok(n) => {
            write.check_written(ctx, n, bytes.len());
            write.sent(ctx, &bytes[..n]);
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => write.expect_failure(ctx, &err, bytes),
    }
}

pub fn write_all(
    ctx: &str,
    write: &mut WriteSide,
    bytes: &[u8],
    cut_short: impl Fn(&io::Error) -> bool,
) {
    match write.writer.write_all(bytes) {
        Ok(()) => write.sent(ctx, bytes),
        Err(err) if cut_short(&err) => write.resync(ctx, bytes),
        Err(err) => write.expect_failure(ctx, &err, bytes),
    }
}

pub fn write_vectored(
    ctx: &str,
    write: &mut WriteSide,
    parts: &[Vec<u8>],
    cut_short: impl Fn(&io::Error) -> bool,
) {
    let slices: Vec<IoSlice<'_>> = parts.iter().map(|part| IoSlice::new(part)).collect();
    let all = parts.concat();
    match write.writer.write_vectored(&slices) {
        Ok(n) => {
            write.check_written(ctx, n, all.len());
            write.sent(ctx, &all[..n]);
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => write.expect_failure(ctx, &err, &all),
    }
}

/// A flush that succeeds reached the mock, and left it with every byte sent.
pub fn flush(ctx: &str, write: &mut WriteSide, cut_short: impl Fn(&io::Error) -> bool) {
    let flushes = write.mock.0.borrow().flushes;
    match write.writer.flush() {
        Ok(()) => {
            let mock = write.mock.0.borrow();
            assert!(
                mock.flushes > flushes,
                "{ctx}: the flush did not reach the mock"
            );
            assert!(
                mock.accepted == write.sent,
                "{ctx}: after a flush the writer has {} bytes, {} were sent",
                mock.accepted.len(),
                write.sent.len()
            );
        }
        Err(err) if cut_short(&err) => {}
        Err(err) => write.expect_failure(ctx, &err, &[]),
    }
}
