//! A pipeline in plain sync style: a generator reads lines from an async pipe, a nested sync
//! function splits each line and yields its words, and the words go into an async sink that
//! writes them to stdout.
//!
//! `cargo run --example pipeline`

use std::io;

use corona::prelude::*;
use corona::{co_await, Yielder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const POEM: &str = "\
Stackful coroutines wait where they stand
deep in a sync function with no async in hand
the stream asks for more and the stack carries on
";

/// Plain sync code, no `async` anywhere: it yields into the generator's stream from the
/// middle of a loop, as many words as the line has.
fn long_words(line: &str, y: &Yielder<String>) {
    for word in line.split_whitespace().filter(|w| w.len() > 4) {
        y.yield_(word.to_uppercase());
    }
}

#[corona::main]
fn main() {
    // Someone writes the poem into one end of an in-memory pipe, a line at a time.
    let (mut pipe_in, pipe_out) = tokio::io::duplex(16);
    let writer = corona::spawn_local(move || {
        for line in POEM.lines() {
            co_await!(pipe_in.write_all(line.as_bytes())).expect("write to the pipe");
            co_await!(pipe_in.write_all(b"\n")).expect("write to the pipe");
        }
    });

    // Stage 1: a generator that reads lines and hands each to the sync function above.
    let words = corona::generator(move |y| {
        let mut lines = BufReader::new(pipe_out).lines();
        while let Some(line) = co_await!(lines.next_line()).expect("read a line") {
            long_words(&line, y);
        }
    });

    // Stage 2: an async sink that writes each word to stdout.
    let stdout = futures::sink::unfold(tokio::io::stdout(), |mut out, word: String| async move {
        out.write_all(format!("  {word}\n").as_bytes()).await?;
        Ok::<_, io::Error>(out)
    });
    let mut stdout = Box::pin(stdout);

    println!("long words, as they arrive:");
    let mut count = 0;
    for word in words.co_iter() {
        stdout.co_send(word).expect("write to stdout");
        count += 1;
    }
    stdout.co_close().expect("flush stdout");
    co_await!(writer).expect("the writer finished");
    println!("{count} words");
}
