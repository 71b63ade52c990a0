//! `Seek` (with `Read`, `Write`, `BufRead`) over `tokio::fs::File`.

use std::io::{BufRead, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use corona::co_await;
use corona::io::Blocking;
use corona_tests::finish_within;

/// A file path in the temporary directory, unique to this process and call, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("corona-io-{tag}-{}-{nanos}", std::process::id());
        TempPath(std::env::temp_dir().join(name))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn open_new(path: &std::path::Path) -> tokio::fs::File {
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .unwrap()
}

#[test]
fn seek_read_and_write_a_tokio_file() {
    let path = TempPath::new("seek");
    let file_path = path.0.clone();
    let contents = finish_within(Duration::from_secs(30), move || {
        corona::run(|| {
            let mut file = Blocking::new(co_await!(open_new(&file_path)));
            file.write_all(b"0123456789").unwrap();
            file.flush().unwrap();

            assert_eq!(file.seek(SeekFrom::Start(0)).unwrap(), 0);
            let mut four = [0; 4];
            file.read_exact(&mut four).unwrap();
            assert_eq!(&four, b"0123");

            assert_eq!(file.seek(SeekFrom::Current(2)).unwrap(), 6);
            let mut tail = String::new();
            file.read_to_string(&mut tail).unwrap();
            assert_eq!(tail, "6789");

            assert_eq!(file.seek(SeekFrom::End(-3)).unwrap(), 7);
            file.write_all(b"XYZ!").unwrap(); // overwrites 7..10 and appends one byte
            file.flush().unwrap();
            assert_eq!(file.stream_position().unwrap(), 11);

            let before_start = file.seek(SeekFrom::Current(-20)).unwrap_err();
            assert_eq!(before_start.kind(), ErrorKind::InvalidInput);

            file.rewind().unwrap();
            let mut all = String::new();
            file.read_to_string(&mut all).unwrap();
            all
        })
    });
    assert_eq!(contents, "0123456XYZ!");
    assert_eq!(std::fs::read(&path.0).unwrap(), b"0123456XYZ!");
}

#[test]
fn seek_through_a_tokio_bufreader_then_read_lines() {
    let path = TempPath::new("lines");
    std::fs::write(&path.0, "alpha\nbeta\ngamma\ndelta\n").unwrap();
    let file_path = path.0.clone();
    let lines = finish_within(Duration::from_secs(30), move || {
        corona::run(|| {
            let file = co_await!(tokio::fs::File::open(&file_path)).unwrap();
            let mut reader = Blocking::new(tokio::io::BufReader::new(file));
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            assert_eq!(first, "alpha\n");
            // Skip "beta\n" past the buffered data: the BufReader discards its buffer.
            assert_eq!(reader.seek(SeekFrom::Current(5)).unwrap(), 11);
            reader.lines().collect::<Result<Vec<_>, _>>().unwrap()
        })
    });
    assert_eq!(lines, ["gamma", "delta"]);
}
