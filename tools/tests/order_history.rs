//! `order-history` as a binary on a scenario journal: an order's lifecycle with its fill and
//! fee, the same order found by ClOrdID and session, an account's activity, and clear errors
//! with a non-zero exit for unknown ids and sessions.
//!
//! The order index against the full scan on a scenario journal with edge cases appended
//! (amends that change the ClOrdID, a reject whose ClOrdID is then reused, a refused cancel of
//! an order id that never existed, an order still live at the end): orders and ClOrdIDs of
//! every kind answered the same, line for line; the index brought up to date when the journal
//! grows; refused with the remedy when it is of another version or configuration, when the
//! journal no longer matches it, or when it is damaged; a damaged journal stops the query.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use exchange::config::{Config, DEFAULT_TOML};
use exchange::engine::{Event, OrderRef};
use exchange::protocol::codec::{self as wire, Encode};
use exchange::sequencer::RecordKind;
use exchange_tools::order_history::{order_history, Query};
use exchange_tools::order_index::{build_index, open_index, IndexOptions};
use exchange_tools::scenario::messages::{cancel, limit};
use exchange_tools::scenario::{generate, ScenarioOptions};
use exchange_tools::tape::play;
use journal::record::{decode_record, Decoded};
use journal::segment::{list_segments, SEGMENT_HEADER_LEN};
use journal::{JournalOptions, JournalWriter, RecordHeader};

fn scenario(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("order-history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-gen"))
        .args([
            "--out",
            &dir.display().to_string(),
            "--seed",
            "4",
            "--ticks",
            "400",
        ])
        .output()
        .expect("scenario-gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn history(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_order-history"))
        .args(["--journal-dir", &dir.display().to_string()])
        .args(args)
        .output()
        .expect("order-history runs")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn filled_order_shows_acceptance_fill_with_fee_and_is_found_by_cl_ord_id_too() {
    let dir = scenario("lifecycle");
    // RETAIL1's first IOC (ClOrdID 1) takes 0.01 BTC from a market maker.
    let by_cl = history(&dir, &["--cl-ord-id", "1", "--session", "RETAIL1"]);
    assert!(
        by_cl.status.success(),
        "{}",
        String::from_utf8_lossy(&by_cl.stderr)
    );
    let events = lines(&by_cl);
    let texts: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or(""))
        .collect();
    assert!(texts[0].starts_with("Accepted"), "{texts:?}");
    let fill = texts
        .iter()
        .find(|t| t.starts_with("Fill"))
        .expect("a fill");
    assert!(fill.contains("taker_fee: Units("), "{fill}");
    let order_id = texts[0]
        .split("OrderId(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("the accepted order names its id")
        .to_string();
    let by_id = history(&dir, &["--order-id", &order_id]);
    assert!(by_id.status.success());
    assert_eq!(lines(&by_id), events);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn account_activity_respects_the_time_range() {
    let dir = scenario("account");
    let all = lines(&history(&dir, &["--account", "4"]));
    assert!(all.len() > 10, "{}", all.len());
    let cut = all[all.len() / 2]["time_ns"].as_u64().expect("time");
    let first_half = lines(&history(
        &dir,
        &["--account", "4", "--to", &cut.to_string()],
    ));
    assert!(first_half.len() < all.len());
    assert!(first_half
        .iter()
        .all(|l| l["time_ns"].as_u64() <= Some(cut)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_order_id_is_a_clear_error_with_a_failure_exit() {
    let dir = scenario("unknown");
    let out = history(&dir, &["--order-id", "999"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("order id 999 not found in the journal"),
        "{err}"
    );
    let out = history(&dir, &["--cl-ord-id", "424242", "--session", "MM1"]);
    assert_eq!(out.status.code(), Some(1));
    let out = history(&dir, &["--cl-ord-id", "1", "--session", "NOBODY"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown session \"NOBODY\""));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- The order index against the full scan ----

/// RETAIL1, the account the edge cases are sent by.
const RETAIL1: u32 = 4;
/// The scenario's quote stuffer (funded, outside the configuration): sends the filler.
const STUFFER: u32 = 24;
/// Records per index segment in these tests: the journal spans ~50 segments, so orders
/// cross segment boundaries, and the amended order's query skips segments in which nothing
/// happened to it by restoring engines from snapshots.
const SEGMENT_RECORDS: u64 = 100;

/// An account and one of its OrderIDs or ClOrdIDs.
type AccountKey = (u32, u64);

/// A scenario journal written under a configuration with a small order pool (so each engine
/// set-up is cheap), with edge cases appended; the configuration's file is kept beside it.
struct EdgeJournal {
    dir: PathBuf,
    config_path: PathBuf,
    config: Config,
}

impl EdgeJournal {
    fn new(name: &str) -> EdgeJournal {
        let dir = std::env::temp_dir().join(format!("order-index-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let text = DEFAULT_TOML.replace("max_orders = 1000000", "max_orders = 4096");
        assert_ne!(
            text, DEFAULT_TOML,
            "the default configuration sets max_orders"
        );
        let config = Config::parse(&text).expect("the small configuration is valid");
        let config_path = dir.with_extension("toml");
        std::fs::write(&config_path, &text).expect("write the configuration");
        let options = ScenarioOptions {
            seed: 4,
            ticks: 400,
        };
        generate(&dir, &config, &options).expect("scenario journal");
        let journal = EdgeJournal {
            dir,
            config_path,
            config,
        };
        journal.append_edge_cases();
        journal
    }

    /// An order amended twice (the first amend moves it and changes its ClOrdID, the second
    /// keeps its place) and then cancelled, with filler between so that it spans segments;
    /// a rejected order whose ClOrdID then fills an IOC; a refused cancel of OrderID 777,
    /// which never existed; a sell that is still live at the end.
    fn append_edge_cases(&self) {
        let mut a = Appender::open(&self.dir);
        a.send(RETAIL1, &limit(900_001, true, 99_000, 1_000, false));
        a.filler(250);
        a.send(RETAIL1, &amend(900_002, 900_001, true, 99_010, 1_000));
        a.filler(50);
        a.send(RETAIL1, &amend(900_003, 900_002, true, 99_010, 900));
        a.filler(350);
        a.send(RETAIL1, &cancel(900_004, 900_003, true));
        a.send(RETAIL1, &limit(900_010, true, 100_500, 1_000_000_000, true));
        a.send(RETAIL1, &limit(900_010, true, 100_500, 1_000, true));
        a.send(RETAIL1, &cancel_by_order_id(900_011, 777));
        a.send(RETAIL1, &limit(900_020, false, 101_000, 1_000, false));
        a.filler(150);
        a.finish();
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<String> {
        let mut all = vec![
            "--journal-dir".to_string(),
            self.dir.display().to_string(),
            "--config".to_string(),
            self.config_path.display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_order-history"))
            .args(self.args(args))
            .output()
            .expect("order-history runs")
    }

    fn build_index(&self) {
        let options = IndexOptions {
            segment_records: SEGMENT_RECORDS,
        };
        build_index(&self.config, &self.dir, options).expect("index built");
    }

    /// Every (account, OrderID) and (account, ClOrdID) the journal's events name.
    fn keys(&self) -> (Vec<AccountKey>, Vec<AccountKey>) {
        let mut orders = Vec::new();
        let mut cl_ord_ids = Vec::new();
        play(&self.config, &self.dir, false, |step, _| {
            for event in step.events {
                match *event {
                    Event::Accepted {
                        order,
                        cl_ord_id,
                        account,
                        ..
                    } => {
                        orders.push((account.0, order.0));
                        cl_ord_ids.push((account.0, cl_ord_id));
                    }
                    Event::Replaced {
                        cl_ord_id, account, ..
                    }
                    | Event::Rejected {
                        cl_ord_id, account, ..
                    } => cl_ord_ids.push((account.0, cl_ord_id)),
                    Event::CancelRejected {
                        order: OrderRef::Id(order),
                        account,
                        ..
                    } => orders.push((account.0, order.0)),
                    _ => {}
                }
            }
            true
        })
        .expect("the journal plays");
        orders.sort_unstable();
        orders.dedup();
        cl_ord_ids.sort_unstable();
        cl_ord_ids.dedup();
        (orders, cl_ord_ids)
    }
}

impl Drop for EdgeJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.config_path);
    }
}

/// Appends records to a finished scenario journal, 1 ms apart.
struct Appender {
    writer: JournalWriter,
    next_cl: u64,
}

impl Appender {
    fn open(dir: &Path) -> Appender {
        let (writer, _) = JournalWriter::open(dir, JournalOptions::default()).expect("reopen");
        Appender {
            writer,
            next_cl: 800_000,
        }
    }

    fn send(&mut self, account: u32, payload: &[u8]) {
        let header = RecordHeader {
            seq: self.writer.last_seq() + 1,
            time_ns: self.writer.last_time_ns() + 1_000_000,
            kind: RecordKind::Message as u16,
            flags: 0,
            source: account,
        };
        self.writer.append(&header, payload).expect("append");
    }

    /// `records` records of the stuffer entering and cancelling far-away bids.
    fn filler(&mut self, records: u64) {
        for _ in 0..records / 2 {
            let cl = self.next_cl;
            self.next_cl += 2;
            self.send(STUFFER, &limit(cl, true, 98_000, 100, false));
            self.send(STUFFER, &cancel(cl + 1, cl, true));
        }
    }

    fn finish(self) {
        self.writer.sync_now().expect("sync");
    }
}

fn side(buy: bool) -> wire::Side {
    if buy {
        wire::Side::Buy
    } else {
        wire::Side::Sell
    }
}

/// An amend of `orig_cl_ord_id` to `cl_ord_id`, price in whole USD, quantity in lots.
fn amend(cl_ord_id: u64, orig_cl_ord_id: u64, buy: bool, price_usd: i64, lots: i64) -> Vec<u8> {
    Encode::to_vec(&wire::OrderCancelReplaceRequest {
        cl_ord_id,
        orig_cl_ord_id,
        order_id: None,
        price: price_usd * 100_000_000,
        order_qty: lots * 1_000,
        security_id: 1,
        side: side(buy),
    })
}

fn cancel_by_order_id(cl_ord_id: u64, order_id: u64) -> Vec<u8> {
    Encode::to_vec(&wire::OrderCancelRequest {
        cl_ord_id,
        orig_cl_ord_id: 0,
        order_id: Some(order_id),
        security_id: 1,
        side: side(true),
    })
}

/// The lines of `query` by the full scan and from the index, or the errors' texts.
fn both(journal: &EdgeJournal, index: &exchange_tools::order_index::Index, query: Query) {
    let mut scanned = Vec::new();
    let scan = order_history(&journal.config, &journal.dir, query, |l| {
        scanned.push(l.clone())
    })
    .map_err(|e| e.to_string());
    let mut indexed = Vec::new();
    let from_index = index
        .history(&journal.config, &journal.dir, query, |l| {
            indexed.push(l.clone())
        })
        .map_err(|e| e.to_string());
    assert_eq!(from_index, scan, "{query:?}");
    assert_eq!(indexed, scanned, "{query:?}");
}

#[test]
fn index_answers_orders_and_cl_ord_ids_as_the_full_scan_does() {
    let journal = EdgeJournal::new("every");
    journal.build_index();
    let (index, report) = open_index(&journal.config, &journal.dir).expect("index opens");
    assert!(report.is_none(), "the index built above is up to date");
    assert!(index.segments() > 40, "{} segments", index.segments());
    let (orders, cl_ord_ids) = journal.keys();
    assert!(orders.len() > 1_000, "{} orders", orders.len());
    assert!(
        orders.contains(&(RETAIL1, 777)),
        "the refused cancel names OrderID 777"
    );
    // Every tenth order and ClOrdID of the market makers and the stuffer (they are alike and
    // each full scan costs a replay), and all of RETAIL1's: its IOCs and the edge cases.
    let chosen = |k: usize, account: u32| account == RETAIL1 || k.is_multiple_of(10);
    let mut queries = 0;
    for (k, &(account, order)) in orders.iter().enumerate() {
        if chosen(k, account) {
            both(&journal, &index, Query::Order(order));
            queries += 1;
        }
    }
    for (k, &(account, cl_ord_id)) in cl_ord_ids.iter().enumerate() {
        if chosen(k, account) {
            both(&journal, &index, Query::ClOrdId { account, cl_ord_id });
            queries += 1;
        }
    }
    assert!(queries > 300, "{queries} queries");
    for unknown in [
        Query::Order(999),
        Query::ClOrdId {
            account: 4,
            cl_ord_id: 424_242,
        },
    ] {
        both(&journal, &index, unknown);
    }
}

/// stdout and exit status of `args` from the index and by the full scan: the same.
fn same_as_scan(journal: &EdgeJournal, args: &[&str]) -> Output {
    let indexed = journal.run(args);
    let scanned = journal.run(&[args, &["--no-index"]].concat());
    assert_eq!(indexed.status.code(), scanned.status.code(), "{args:?}");
    assert_eq!(
        String::from_utf8_lossy(&indexed.stdout),
        String::from_utf8_lossy(&scanned.stdout),
        "{args:?}"
    );
    indexed
}

fn events(out: &Output) -> Vec<String> {
    lines(out)
        .iter()
        .map(|l| l["event"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn binary_answers_edge_cases_from_the_index_as_the_scan_does() {
    let journal = EdgeJournal::new("binary");
    let built = journal.run(&["--build-index", "--index-segment-records", "100"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let text = String::from_utf8_lossy(&built.stdout);
    assert!(text.contains("order index built: records 1..="), "{text}");
    // Early, middle and late RETAIL1 orders (one every ten ticks), filled.
    for cl in ["1", "20", "39"] {
        let out = same_as_scan(&journal, &["--cl-ord-id", cl, "--session", "RETAIL1"]);
        assert!(events(&out).iter().any(|e| e.starts_with("Fill")), "{cl}");
    }
    // The amended order, by each of its ClOrdIDs: its whole history, ending cancelled.
    let by_first = same_as_scan(&journal, &["--cl-ord-id", "900001", "--session", "RETAIL1"]);
    let texts = events(&by_first);
    assert_eq!(
        texts.iter().filter(|e| e.starts_with("Replaced")).count(),
        2
    );
    assert!(
        texts.last().is_some_and(|e| e.starts_with("Canceled")),
        "{texts:?}"
    );
    for cl in ["900002", "900003"] {
        let out = same_as_scan(&journal, &["--cl-ord-id", cl, "--session", "RETAIL1"]);
        assert_eq!(lines(&out), lines(&by_first), "ClOrdID {cl}");
    }
    // The reject comes first: its ClOrdID's history is the reject alone.
    let rejected = same_as_scan(&journal, &["--cl-ord-id", "900010", "--session", "RETAIL1"]);
    assert_eq!(lines(&rejected).len(), 1);
    assert!(lines(&rejected)[0]["reject_code"].is_u64());
    // OrderID 777 never existed, but a cancel named it: the refusal is its history.
    let refused = same_as_scan(&journal, &["--order-id", "777"]);
    assert!(events(&refused)[0].starts_with("CancelRejected"));
    // Still live at the end of the journal.
    let live = same_as_scan(&journal, &["--cl-ord-id", "900020", "--session", "RETAIL1"]);
    assert!(events(&live)
        .last()
        .is_some_and(|e| e.starts_with("Rested")));
    // Unknown ids: the same message and exit 1 either way.
    for args in [
        &["--order-id", "999"][..],
        &["--cl-ord-id", "424242", "--session", "MM1"],
    ] {
        let out = same_as_scan(&journal, args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not found in the journal"), "{err}");
    }
}

#[test]
fn a_query_brings_the_index_up_to_date_when_the_journal_grows() {
    let journal = EdgeJournal::new("grow");
    journal.build_index();
    let (before, _) = open_index(&journal.config, &journal.dir).expect("index opens");
    let tip = before.tip_seq();
    drop(before);
    let mut a = Appender::open(&journal.dir);
    a.send(RETAIL1, &limit(910_001, false, 101_500, 1_000, false));
    a.filler(250);
    a.send(RETAIL1, &amend(910_002, 910_001, false, 101_400, 1_000));
    a.finish();
    let out = same_as_scan(&journal, &["--cl-ord-id", "910001", "--session", "RETAIL1"]);
    let texts = events(&out);
    assert!(texts.iter().any(|e| e.starts_with("Replaced")), "{texts:?}");
    let (after, report) = open_index(&journal.config, &journal.dir).expect("index opens");
    assert!(report.is_none(), "the query above updated the index");
    assert_eq!(after.tip_seq(), tip + 252);
}

#[test]
fn index_of_another_version_configuration_or_journal_is_refused_with_the_remedy() {
    let journal = EdgeJournal::new("refused");
    journal.build_index();
    let query = ["--order-id", "777"];
    // Under the default configuration (another fingerprint).
    let out = Command::new(env!("CARGO_BIN_EXE_order-history"))
        .args(["--journal-dir", &journal.dir.display().to_string()])
        .args(query)
        .output()
        .expect("order-history runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("configuration fingerprint") && err.contains("--build-index"),
        "{err}"
    );
    // Another format version.
    let manifest = journal.dir.join("order-index/manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let bumped = text.replace("\"format_version\": 1", "\"format_version\": 2");
    std::fs::write(&manifest, bumped).expect("write");
    let out = journal.run(&query);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("format version 2"));
    std::fs::write(&manifest, text).expect("restore");
    assert!(journal.run(&query).status.success());
    // The journal replaced by another one under the same name.
    for segment in list_segments(&journal.dir).expect("segments") {
        std::fs::remove_file(segment.path).expect("remove");
    }
    let options = ScenarioOptions {
        seed: 5,
        ticks: 450,
    };
    generate(&journal.dir, &journal.config, &options).expect("another journal");
    let out = journal.run(&query);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no longer matches its order index"), "{err}");
    assert!(journal.run(&["--build-index"]).status.success());
    assert_eq!(
        journal.run(&["--order-id", "777"]).status.code(),
        Some(1),
        "not in it"
    );
}

/// Offset of the record `back` records before the last in the journal's last segment.
fn record_offset(dir: &Path, back: usize) -> (PathBuf, usize) {
    let segment = list_segments(dir)
        .expect("segments")
        .pop()
        .expect("a segment");
    let bytes = std::fs::read(&segment.path).expect("read");
    let mut offsets = Vec::new();
    let mut offset = SEGMENT_HEADER_LEN;
    while let Decoded::Valid(_, framed) = decode_record(&bytes[offset..]) {
        offsets.push(offset);
        offset += framed;
    }
    (segment.path, offsets[offsets.len() - 1 - back])
}

fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[offset] ^= 0x5a;
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn damaged_journal_or_index_stops_the_query_with_a_clear_error() {
    let journal = EdgeJournal::new("damage");
    journal.build_index();
    let query = ["--cl-ord-id", "1", "--session", "RETAIL1"];
    // A flipped byte in the ClOrdID table of the first segment (one block, read by every
    // ClOrdID query).
    let segment = journal
        .dir
        .join("order-index")
        .read_dir()
        .expect("index dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "oix"))
        .min()
        .expect("a segment file");
    let len = std::fs::metadata(&segment).expect("size").len() as usize;
    flip(&segment, len - 3);
    let out = journal.run(&query);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is damaged") && err.contains("--build-index"),
        "{err}"
    );
    assert!(journal.run(&["--build-index"]).status.success());
    assert!(journal.run(&query).status.success());
    // A flipped byte in the last record the index covers.
    let (path, offset) = record_offset(&journal.dir, 0);
    flip(&path, offset + 40);
    for args in [&query[..], &["--order-id", "777"]] {
        let out = journal.run(args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("damaged journal"), "{err}");
    }
    // With no index yet, the build stops at the damage.
    std::fs::remove_dir_all(journal.dir.join("order-index")).expect("remove the index");
    let out = journal.run(&query);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged journal"));
}
