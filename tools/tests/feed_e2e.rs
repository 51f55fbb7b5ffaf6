//! The real `exchange` server publishes market data by multicast on loopback; `feed --check`
//! joins late, follows the live incremental channel while `mm-client` trades, and its L2 books
//! equal the engine rebuilt from the journal.
//!
//! The server binary comes from the target directory this test runs from (see
//! `mm_client_e2e.rs`: `cargo test --workspace` builds it).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills and reaps the server, and removes its files, however the test ends.
struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn exchange_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let binary = profile_dir.join(format!("exchange{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: build the server first",
        binary.display()
    );
    binary
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("bound address").port()
}

/// The embedded default with this test's own ports and a fast snapshot loop.
fn config(dir: &Path) -> PathBuf {
    let mut text = exchange::config::DEFAULT_TOML.to_string();
    for (key, default) in [
        ("incremental_port", "9110"),
        ("snapshot_port", "9111"),
        ("definition_port", "9112"),
    ] {
        let from = format!("{key} = {default}");
        assert!(text.contains(&from), "default config lacks {from}");
        text = text.replace(&from, &format!("{key} = {}", free_port()));
    }
    let recovery = format!("recovery_listen = \"127.0.0.1:{}\"", free_port());
    text = text.replace("recovery_listen = \"127.0.0.1:9113\"", &recovery);
    text = text.replace("snapshot_interval_ms = 1000", "snapshot_interval_ms = 100");
    let path = dir.join("exchange.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start_server(dir: &Path, config: &Path) -> (Server, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(exchange_binary())
        .arg("--config")
        .arg(config)
        .args(["--listen", &addr, "--journal-dir"])
        .arg(dir.join("journal"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the exchange");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("market data:") {
                let _ = tx.send(line);
            }
        }
    });
    let server = Server {
        child,
        dir: dir.to_path_buf(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the exchange starts market data within 30 s");
    assert!(line.contains("multicast"), "{line}");
    (server, addr)
}

fn run_script(addr: &str, session: &str, key: &str, script: &str) {
    let mut client = Command::new(env!("CARGO_BIN_EXE_mm-client"))
        .args(["--connect", addr, "--session", session, "--key", key])
        .args(["--json", "--wait-ms", "500", "--script", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mm-client");
    client
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let status = client.wait().unwrap();
    assert!(status.success(), "mm-client {session} failed");
}

#[test]
fn feed_check_matches_the_engine_rebuilt_from_the_journal() {
    let dir = std::env::temp_dir().join(format!("feed-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&dir);
    let (_server, addr) = start_server(&dir, &config);
    // RETAIL1 does not cancel on disconnect: its orders make the book the feed must rebuild.
    let resting = "buy BTC-USD 0.01 99000 id=1\nbuy BTC-USD 0.02 99000 id=2\n\
                   buy BTC-USD 0.01 98990.5 id=3\nsell BTC-USD 0.01 101000 id=4\n\
                   sell ETH-USD 0.5 3100 id=5\nbuy ETH-USD 0.1 2900 id=6\n";
    run_script(&addr, "RETAIL1", "retail1-demo-key", resting);
    let feed = Command::new(env!("CARGO_BIN_EXE_feed"))
        .arg("--config")
        .arg(&config)
        .arg("--journal-dir")
        .arg(dir.join("journal"))
        .args(["--check", "--duration", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start feed");
    std::thread::sleep(Duration::from_millis(800));
    // While the feed listens: trades, an amend and cancels (MM1 cancels on disconnect too).
    let trading = "sell BTC-USD 0.015 99000 ioc id=11\nbuy BTC-USD 0.01 99500 id=12\n\
                   amend 12 0.02 99600 instrument=BTC-USD side=buy\nsell ETH-USD 0.2 3050\n";
    run_script(&addr, "MM1", "mm1-demo-key", trading);
    let later = "cancel 3 instrument=BTC-USD side=buy\n\
                 amend 6 0.05 2900 instrument=ETH-USD side=buy\n";
    run_script(&addr, "RETAIL1", "retail1-demo-key", later);
    let output = feed.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "feed --check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("L2 books equal the engine's"), "{stdout}");
    assert!(
        stdout.contains("99000"),
        "the resting bid is in the feed's view:\n{stdout}"
    );
    println!("{stdout}");
}
