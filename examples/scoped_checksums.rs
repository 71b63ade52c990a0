//! Checksums of many files, read concurrently by scoped children that borrow the list of
//! paths and a shared tally: `cargo run --example scoped_checksums`.
//!
//! Each child reads its file through `corona::io::Blocking` with a plain `std::io::Read`
//! loop; while one waits for the disk, the others run. The children borrow `paths` and
//! `bytes_read` from the enclosing coroutine: no `Arc`, no `'static`, no `clone`.

use std::cell::Cell;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use corona::io::Blocking;

/// FNV-1a over everything `reader` yields: a sync function that knows nothing of coroutines.
fn fnv1a(reader: &mut impl Read) -> io::Result<(u64, usize)> {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut total = 0;
    let mut buf = [0u8; 4096];
    loop {
        let n = reader.read(&mut buf)?; // waits inside the coroutine, not the thread
        if n == 0 {
            return Ok((hash, total));
        }
        for &byte in &buf[..n] {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
        total += n;
    }
}

/// Opens and checksums one file (tokio's async file behind a sync `Read`).
fn checksum(path: &Path) -> io::Result<(u64, usize)> {
    let file = corona::co_await!(tokio::fs::File::open(path))?;
    fnv1a(&mut Blocking::new(file))
}

/// Writes `count` files of different sizes into a fresh directory; returns their paths.
fn write_sample_files(dir: &Path, count: usize) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    (0..count)
        .map(|i| {
            let path = dir.join(format!("sample-{i}.txt"));
            let line = format!("file {i}: the quick brown fox jumps over the lazy dog\n");
            std::fs::write(&path, line.repeat(50 + 37 * i))?;
            Ok(path)
        })
        .collect()
}

#[corona::main]
fn main() {
    let dir = std::env::temp_dir().join(format!("corona-checksums-{}", std::process::id()));
    let paths = write_sample_files(&dir, 16).expect("writing the sample files");
    let bytes_read = Cell::new(0);

    let sums: Vec<(&Path, u64)> = corona::scope(|s| {
        let children: Vec<_> = paths
            .iter()
            .map(|path| {
                let bytes_read = &bytes_read;
                s.spawn(move || {
                    let (sum, len) = checksum(path).expect("reading a sample file");
                    bytes_read.set(bytes_read.get() + len);
                    (path.as_path(), sum)
                })
            })
            .collect();
        children.into_iter().map(|child| child.join()).collect()
    });

    for (path, sum) in &sums {
        println!("{sum:016x}  {}", path.display());
        let again = fnv1a(&mut std::fs::File::open(path).unwrap()).unwrap().0;
        assert_eq!(*sum, again, "a concurrent read disagrees with a plain one");
    }
    let combined = sums
        .iter()
        .fold(0u64, |acc, (_, sum)| acc.rotate_left(5) ^ sum);
    println!(
        "{} files, {} bytes, combined checksum {combined:016x}",
        sums.len(),
        bytes_read.get()
    );
    std::fs::remove_dir_all(&dir).expect("removing the sample files");
}
