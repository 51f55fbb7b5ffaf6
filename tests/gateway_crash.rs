//! Kill -9 through the gateway: the real `exchange` server in `sync` durability, two market
//! makers sending orders and cancels over FIXP/SBE, killed with SIGKILL at seeded random points
//! (ten rounds, some with messages in flight), restarted on the same journal each time.
//!
//! After every kill the journal is recovered in-process and checked:
//! - every order whose New execution report a client received is live in the recovered engine
//!   with its OrderID, account, price and quantity, unless its cancel was acknowledged too, in
//!   which case it is gone (orders never cross: bids below 100 000, offers above);
//! - recovery from the latest snapshot and a from-scratch replay of the same journal reach the
//!   same digest.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::wire::{limit_order, WireClient, UNIT};
use exchange::config::{Config, DEFAULT_TOML};
use exchange::engine::{AccountId, OrderId};
use exchange::protocol::codec::{self as wire, Plain};
use exchange::sequencer::{recover, RecoveryOptions, SequencerOptions};
use journal::{Durability, JournalOptions};

const ROUNDS: u64 = 10;
const SESSIONS: [(&str, &str, u32); 2] = [("MM1", "mm1-demo-key", 1), ("MM2", "mm2-demo-key", 2)];

/// An acknowledged order and whether its cancel was acknowledged.
#[derive(Clone, Copy, Debug)]
struct Acked {
    account: u32,
    order_id: u64,
    price: i64,
    qty: i64,
    canceled: bool,
}

/// The server process; SIGKILLed and reaped on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Digests every 10 records and a snapshot every 25, so recoveries start from snapshots.
fn config_text() -> String {
    DEFAULT_TOML
        .replace("digest_every = 10000", "digest_every = 10")
        .replace("snapshot_every = 1000000", "snapshot_every = 25")
}

fn start(dir: &Path, config: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_exchange"))
        .arg("--config")
        .arg(config)
        .arg("--journal-dir")
        .arg(dir)
        .args(["--durability", "sync", "--no-market-data", "--listen"])
        .arg(addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the exchange");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("order entry listening on") {
                let _ = tx.send(());
            }
        }
    });
    let server = Server { child, addr };
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the exchange listens within 30 s");
    server
}

/// A seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// The execution report answering `pred`, or `None` if the server went quiet.
fn reply(
    client: &mut WireClient,
    pred: impl Fn(&wire::ExecutionReport) -> bool,
) -> Option<wire::ExecutionReport> {
    while let Some(message) = client.recv(Duration::from_secs(5)) {
        if let Plain::ExecutionReport(report) = message {
            if pred(&report) {
                return Some(report);
            }
        }
    }
    None
}

/// One round: orders and cancels until `kill_after` acknowledgements, a few more sent without
/// waiting, then SIGKILL.
fn round(r: u64, dir: &Path, config: &Path, acked: &mut BTreeMap<u64, Acked>) {
    let mut rng = Rng(r + 1);
    let server = start(dir, config);
    let mut clients: Vec<WireClient> = SESSIONS
        .iter()
        .map(|(session, key, _)| WireClient::logon(server.addr, session, key))
        .collect();
    let kill_after = 5 + rng.below(40);
    for k in 0..kill_after {
        let c = (k % 2) as usize;
        let account = SESSIONS[c].2;
        let cl = r * 1_000_000 + k + 1;
        let live: Vec<(u64, Acked)> = acked
            .iter()
            .filter(|(_, a)| a.account == account && !a.canceled)
            .map(|(cl, a)| (*cl, *a))
            .collect();
        if k % 5 == 4 && !live.is_empty() {
            let (orig, target) = live[rng.below(live.len() as u64) as usize];
            clients[c].send(&wire::OrderCancelRequest {
                cl_ord_id: cl,
                orig_cl_ord_id: orig,
                order_id: None,
                security_id: 1,
                side: if account == 1 {
                    wire::Side::Buy
                } else {
                    wire::Side::Sell
                },
            });
            let done = reply(&mut clients[c], |e| {
                e.order_id == target.order_id && e.exec_type == wire::ExecType::Canceled
            });
            done.expect("cancel acknowledged");
            acked.get_mut(&orig).expect("known").canceled = true;
            continue;
        }
        let (side, price) = order_terms(account, r, k);
        clients[c].send(&limit_order(cl, side, UNIT / 1000, price));
        let ack = reply(&mut clients[c], |e| {
            e.cl_ord_id == cl && e.exec_type == wire::ExecType::New
        })
        .expect("order acknowledged");
        acked.insert(
            cl,
            Acked {
                account,
                order_id: ack.order_id,
                price,
                qty: UNIT / 1000,
                canceled: false,
            },
        );
    }
    // In flight at the kill: sent, never acknowledged to the test (they may or may not be in
    // the journal; nothing is checked about them).
    for k in kill_after..kill_after + rng.below(4) {
        let c = (k % 2) as usize;
        let (side, price) = order_terms(SESSIONS[c].2, r, k);
        clients[c].send(&limit_order(
            r * 1_000_000 + k + 1,
            side,
            UNIT / 1000,
            price,
        ));
    }
    drop(server);
}

/// MM1 bids below 100 000 and MM2 offers above, each order at its own price: nothing trades.
fn order_terms(account: u32, r: u64, k: u64) -> (wire::Side, i64) {
    let step = (r * 64 + k) as i64;
    if account == 1 {
        (wire::Side::Buy, (99_000 - step) * UNIT)
    } else {
        (wire::Side::Sell, (101_000 + step) * UNIT)
    }
}

/// The recovered digest, the sequencer, and the snapshot recovery started from.
fn recovered_digest(
    config: &Config,
    dir: &Path,
) -> (u64, exchange::sequencer::Sequencer, Option<u64>) {
    let options = RecoveryOptions {
        journal_dir: dir.to_path_buf(),
        journal: JournalOptions {
            durability: Durability::None,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 10,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    };
    let (sequencer, summary) = recover(config, &options).expect("recovery succeeds");
    (sequencer.engine().digest(), sequencer, summary.snapshot_seq)
}

fn copy_without_snapshots(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Returns whether recovery started from a snapshot.
fn check(
    config: &Config,
    dir: &Path,
    scratch: &Path,
    acked: &BTreeMap<u64, Acked>,
    r: u64,
) -> bool {
    copy_without_snapshots(dir, scratch);
    let (from_snapshot, sequencer, snapshot) = recovered_digest(config, dir);
    let engine = sequencer.engine();
    for (cl, a) in acked {
        let order = engine.order(OrderId(a.order_id));
        if a.canceled {
            assert!(order.is_none(), "round {r}: canceled order {cl} is live");
            continue;
        }
        let order = order.unwrap_or_else(|| panic!("round {r}: acknowledged order {cl} lost"));
        let spec = &engine.instrument(order.instrument).unwrap().spec;
        assert_eq!(order.account, AccountId(a.account), "order {cl}");
        assert_eq!(order.cl_ord_id, *cl);
        assert_eq!(spec.ticks_to_price(order.price), a.price, "order {cl}");
        assert_eq!(spec.lots_to_qty(order.open), a.qty, "order {cl}");
    }
    drop(sequencer);
    let (from_zero, _, none) = recovered_digest(config, scratch);
    assert_eq!(none, None, "the scratch copy has no snapshot");
    assert_eq!(
        from_snapshot, from_zero,
        "round {r}: snapshot + tail = replay from zero"
    );
    snapshot.is_some()
}

#[test]
fn sigkill_through_the_gateway_loses_no_acknowledged_order() {
    let base = std::env::temp_dir().join(format!("gateway-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let dir: PathBuf = base.join("journal");
    let scratch = base.join("from-zero");
    let config_path = base.join("exchange.toml");
    std::fs::write(&config_path, config_text()).unwrap();
    let config = Config::parse(&config_text()).expect("valid test configuration");
    let mut acked = BTreeMap::new();
    let mut from_snapshots = 0;
    for r in 0..ROUNDS {
        round(r, &dir, &config_path, &mut acked);
        from_snapshots += check(&config, &dir, &scratch, &acked, r) as u32;
    }
    assert!(
        from_snapshots >= 3,
        "{from_snapshots} recoveries started from a snapshot"
    );
    let live = acked.values().filter(|a| !a.canceled).count();
    assert!(live > 50, "the rounds acknowledged {live} live orders");
    let _ = std::fs::remove_dir_all(&base);
}
