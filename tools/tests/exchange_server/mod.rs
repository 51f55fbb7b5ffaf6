//! The real `exchange` server for end-to-end tests: started on a free loopback port with its
//! own journal directory and no market data, killed and cleaned up when dropped.
//!
//! The binary is taken from the target directory the test runs from
//! (`target/<profile>/exchange`): Cargo offers no `CARGO_BIN_EXE_*` across packages, and a
//! nested `cargo build` would wait on the build lock the running `cargo test` holds. Build it
//! with `cargo build [--release] -p exchange`, or run `cargo test --workspace`.
//!
//! `feed_e2e.rs` starts its own server: it needs market data on ports of its own.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running server; dropping it kills and reaps the process and removes its journal.
pub struct ExchangeServer {
    child: Child,
    journal_dir: PathBuf,
    /// Its order-entry address.
    pub addr: String,
}

impl Drop for ExchangeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.journal_dir);
    }
}

impl ExchangeServer {
    /// Starts the server on the embedded default configuration and returns once it listens.
    /// `name` keeps the journal directories of concurrent tests apart.
    ///
    /// Market data is off: its default ports (UDP sends and the TCP recovery listener on
    /// 9113) would be shared by every server the tests start at once.
    pub fn start(name: &str) -> ExchangeServer {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let journal_dir =
            std::env::temp_dir().join(format!("{name}-{}-{nanos}", std::process::id()));
        let addr = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(exchange_binary())
            .args(["--listen", &addr, "--no-market-data", "--journal-dir"])
            .arg(&journal_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the exchange");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut server = ExchangeServer {
            child,
            journal_dir,
            addr,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads to the end so the server never blocks on a full stdout pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("order entry listening on") {
                    let _ = tx.send(line);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => assert!(line.ends_with(&server.addr), "{line}"),
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                panic!("the exchange did not start listening within 30 s (exit: {status:?})");
            }
        }
        server
    }
}

fn exchange_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/exchange
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let binary = profile_dir.join(format!("exchange{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: build the server first (`cargo build --release -p exchange`, or run \
         `cargo test --workspace`, which builds it)",
        binary.display()
    );
    binary
}

/// A loopback port free a moment ago (the server binds it right after).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("bound address").port()
}
