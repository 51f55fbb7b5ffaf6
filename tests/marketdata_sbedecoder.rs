//! Interoperability: packets captured into a pcap file decode, field for field, with the PyPI
//! package `sbedecoder` (its MDP 3.0 decoder) loading `src/marketdata/schema.xml`.
//!
//! The Python environment comes from `tools/python/setup.sh` (a virtualenv in target/pyenv);
//! the test fails, it does not skip, when that environment cannot be made.

mod common;

use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use common::{limit, Harness, BTC_PERP, BTC_USD, MM1, MM2, REF};
use exchange::config::MarketDataConfig;
use exchange::engine::{AdminCommand, Amend, Cancel, Command, OrderRef, PriceTicks, QtyLots, Side};
use exchange::marketdata::codec::Plain;
use exchange::marketdata::pcap::{self, Datagram};
use exchange::marketdata::{messages, socket, PacketHeader, Publisher};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A publisher sending inline to three fresh unicast receivers; returns them and the config.
fn receivers() -> ([UdpSocket; 3], MarketDataConfig) {
    let open = || {
        let socket = socket::unicast_receiver(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        socket
    };
    let sockets = [open(), open(), open()];
    let [i, s, d] = sockets.each_ref().map(|s| s.local_addr().unwrap().port());
    let md = MarketDataConfig {
        destination: "unicast".into(),
        incremental_port: i,
        snapshot_port: s,
        definition_port: d,
        snapshot_interval_ms: 1,
        definition_interval_ms: 1,
        send_thread: false,
        ..MarketDataConfig::default()
    };
    (sockets, md)
}

/// Every message kind the incremental channel carries today, then full snapshot and
/// definition loops.
fn publish_a_session(md: &MarketDataConfig) {
    let mut h = Harness::new();
    let mut publisher = Publisher::new(md, &h.engine).unwrap();
    let run = |h: &mut Harness, publisher: &mut Publisher, command: Command| {
        let events = h.apply(command);
        publisher.publish_command(h.seq, h.time_ns, &events);
    };
    let order =
        |account, side, price, qty, cl| Command::NewOrder(limit(account, side, price, qty, cl));
    run(
        &mut h,
        &mut publisher,
        order(MM1, Side::Buy, REF - 10, 50, 1),
    );
    run(
        &mut h,
        &mut publisher,
        order(MM1, Side::Buy, REF - 10, 20, 2),
    );
    run(
        &mut h,
        &mut publisher,
        order(MM2, Side::Sell, REF + 5, 30, 3),
    );
    run(
        &mut h,
        &mut publisher,
        order(MM2, Side::Sell, REF - 10, 60, 4),
    );
    let amend = Amend {
        account: MM2,
        order: OrderRef::ClOrdId(3),
        cl_ord_id: 0,
        qty: QtyLots(10),
        price: PriceTicks(REF + 5),
    };
    run(&mut h, &mut publisher, Command::Amend(amend));
    let cancel = Cancel {
        account: MM2,
        order: OrderRef::ClOrdId(3),
        cl_ord_id: 0,
    };
    run(&mut h, &mut publisher, Command::Cancel(cancel));
    let halt = AdminCommand::Halt {
        instrument: BTC_USD,
    };
    run(&mut h, &mut publisher, Command::Admin(halt));
    // Perpetual prices: an index (IndexPrice, MarkPrice) fresh at the first premium sample on
    // the minute (FundingRate).
    h.time_ns = 55_000_000_000;
    let events = h.publish_index(BTC_PERP, [100_000, 100_010, 99_990]);
    publisher.publish_command(h.seq, h.time_ns, &events);
    let events = h.at(60_000_000_001, Command::Tick);
    publisher.publish_command(h.seq, h.time_ns, &events);
    for _ in 0..8 {
        publisher.flush(&h.engine);
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// (channel index, payload) of every datagram received.
fn drain(sockets: &[UdpSocket; 3]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    for (channel, socket) in sockets.iter().enumerate() {
        while let Ok(len) = socket.recv(&mut buf) {
            out.push((channel, buf[..len].to_vec()));
        }
    }
    out
}

fn write_pcap(path: &Path, sockets: &[UdpSocket; 3], packets: &[(usize, Vec<u8>)]) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    pcap::write_header(&mut out).unwrap();
    for (channel, payload) in packets {
        let port = sockets[*channel].local_addr().unwrap().port();
        let header = PacketHeader::read(payload).unwrap();
        let datagram = Datagram {
            time_ns: header.sending_time_ns,
            src: (Ipv4Addr::LOCALHOST, 40_000),
            dst: (Ipv4Addr::LOCALHOST, port),
            payload,
        };
        pcap::write_datagram(&mut out, &datagram).unwrap();
    }
}

fn sbedecoder(pcap: &Path) -> Vec<Value> {
    let setup = Process::new("bash")
        .arg(repo().join("tools/python/setup.sh"))
        .status()
        .expect("bash runs tools/python/setup.sh");
    assert!(
        setup.success(),
        "tools/python/setup.sh failed: Python deps are missing"
    );
    let python = repo().join("target/pyenv/bin/python");
    let output = Process::new(&python)
        .arg(repo().join("tools/python/decode_pcap.py"))
        .arg(repo().join("src/marketdata/schema.xml"))
        .arg(pcap)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "decode_pcap.py failed: {stderr}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn c(byte: u8) -> Value {
    json!((byte as char).to_string())
}

/// The fields sbedecoder should report for one of our messages, with its name.
fn expected(plain: &Plain) -> (&'static str, Value, Value) {
    let none = json!({});
    match plain {
        Plain::MDIncrementalRefreshBook(m) => (
            "MDIncrementalRefreshBook",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq, "MDEntryPx": m.md_entry_px,
                "MDEntrySize": m.md_entry_size, "NumberOfOrders": m.number_of_orders,
                "MDUpdateAction": m.md_update_action.to_wire(),
                "MDEntryType": c(m.md_entry_type.to_wire()),
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::MDIncrementalRefreshOrderBook(m) => (
            "MDIncrementalRefreshOrderBook",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq, "OrderID": m.order_id,
                "MDEntryPx": m.md_entry_px, "MDDisplayQty": m.md_display_qty,
                "MDUpdateAction": m.md_update_action.to_wire(),
                "MDEntryType": c(m.md_entry_type.to_wire()),
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::MDIncrementalRefreshTrade(m) => (
            "MDIncrementalRefreshTrade",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq,
                "MDTradeEntryID": m.md_trade_entry_id, "MDEntryPx": m.md_entry_px,
                "MDEntrySize": m.md_entry_size, "AggressorSide": m.aggressor_side.to_wire(),
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::SecurityStatus(m) => (
            "SecurityStatus",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq,
                "SecurityTradingStatus": m.security_trading_status.to_wire(),
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::IndexPrice(m) => (
            "IndexPrice",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq, "IndexPx": m.index_px,
                "NumConstituents": m.num_constituents,
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::MarkPrice(m) => (
            "MarkPrice",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq, "MarkPx": m.mark_px,
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::FundingRate(m) => (
            "FundingRate",
            json!({
                "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                "SecurityID": m.security_id, "RptSeq": m.rpt_seq,
                "FundingRateValue": m.funding_rate_value,
                "NextFundingTime": m.next_funding_time, "SettledTime": m.settled_time,
                "MatchEventIndicator": m.match_event_indicator.bits(),
            }),
            none,
        ),
        Plain::SnapshotFullRefresh(m) => {
            let entries: Vec<Value> = m.no_md_entries.as_slice().iter().map(|e| json!({
                "MDEntryPx": e.md_entry_px, "MDEntrySize": e.md_entry_size,
                "NumberOfOrders": e.number_of_orders, "MDEntryType": c(e.md_entry_type.to_wire()),
            })).collect();
            (
                "SnapshotFullRefresh",
                json!({
                    "LastMsgSeqNumProcessed": m.last_msg_seq_num_processed,
                    "TotNumReports": m.tot_num_reports, "SecurityID": m.security_id,
                    "RptSeq": m.rpt_seq, "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                    "CurrentChunk": m.current_chunk, "NumChunks": m.num_chunks,
                    "MDSecurityTradingStatus": m.md_security_trading_status.to_wire(),
                }),
                json!({ "NoMDEntries": entries }),
            )
        }
        Plain::MDInstrumentDefinition(m) => {
            let end = m
                .symbol
                .iter()
                .position(|b| *b == 0)
                .unwrap_or(m.symbol.len());
            (
                "MDInstrumentDefinition",
                json!({
                    "TotNumReports": m.tot_num_reports, "SecurityID": m.security_id,
                    "Symbol": String::from_utf8_lossy(&m.symbol[..end]),
                    "SecurityType": m.security_type.to_wire(), "BaseAsset": m.base_asset.to_wire(),
                    "QuoteAsset": m.quote_asset.to_wire(),
                    "MinPriceIncrement": m.min_price_increment, "RoundLot": m.round_lot,
                    "MinTradeVol": m.min_trade_vol, "MaxTradeVol": m.max_trade_vol,
                    "LowLimitPrice": m.low_limit_price, "HighLimitPrice": m.high_limit_price,
                    "TradingReferencePrice": m.trading_reference_price,
                    "MDSecurityTradingStatus": m.md_security_trading_status.to_wire(),
                    "LastMsgSeqNumProcessed": m.last_msg_seq_num_processed,
                    "TransactTime": m.transact_time, "EngineSeq": m.engine_seq,
                    "MakerFeeRate": m.maker_fee_rate, "TakerFeeRate": m.taker_fee_rate,
                    "MatchEventIndicator": m.match_event_indicator.bits(),
                }),
                none,
            )
        }
        other => panic!("unexpected message on a channel: {other:?}"),
    }
}

fn check_message(ours: &Plain, theirs: &Value, wire_len: usize) {
    let (name, fields, groups) = expected(ours);
    assert_eq!(theirs["name"], json!(name));
    let got = &theirs["fields"];
    assert_eq!(got["message_size"], json!(wire_len), "{name}: MsgSize");
    assert_eq!(
        got["templateId"],
        json!(ours.template_id()),
        "{name}: templateId"
    );
    assert_eq!(got["schemaId"], json!(7101), "{name}: schemaId");
    for (field, value) in fields.as_object().unwrap() {
        assert_eq!(&got[field], value, "{name}.{field}");
    }
    for (group, entries) in groups.as_object().unwrap() {
        assert_eq!(&theirs["groups"][group], entries, "{name}.{group}");
    }
}

#[test]
fn sbedecoder_decodes_every_packet_field_for_field() {
    let (sockets, md) = receivers();
    publish_a_session(&md);
    let packets = drain(&sockets);
    let count = |channel| packets.iter().filter(|(c, _)| *c == channel).count();
    assert!(
        count(0) >= 1 && count(1) >= 4 && count(2) >= 1,
        "channels: {packets:?}"
    );
    let dir = std::env::temp_dir().join(format!("md-sbedecoder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("feed.pcap");
    write_pcap(&capture, &sockets, &packets);
    let decoded = sbedecoder(&capture);
    assert_eq!(
        decoded.len(),
        packets.len(),
        "one decoded object per captured packet"
    );
    let mut kinds = std::collections::BTreeSet::new();
    for ((_, payload), theirs) in packets.iter().zip(&decoded) {
        let header = PacketHeader::read(payload).unwrap();
        assert_eq!(theirs["seq"], json!(header.msg_seq_num));
        assert_eq!(theirs["sending_time"], json!(header.sending_time_ns));
        let ours: Vec<Plain> = messages(payload).map(|m| m.unwrap().to_plain()).collect();
        let their_messages = theirs["messages"].as_array().unwrap();
        assert_eq!(
            their_messages.len(),
            ours.len(),
            "messages in packet {}",
            header.msg_seq_num
        );
        for (plain, their) in ours.iter().zip(their_messages) {
            let wire_len = 2 + encoded_len(plain);
            check_message(plain, their, wire_len);
            kinds.insert(expected(plain).0);
        }
    }
    assert_eq!(kinds.len(), 9, "message kinds covered: {kinds:?}");
    let incremental: Vec<u64> = decoded
        .iter()
        .zip(&packets)
        .filter(|(_, (c, _))| *c == 0)
        .map(|(v, _)| v["seq"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = (1..=incremental.len() as u64).collect();
    assert_eq!(incremental, want, "incremental sequence numbers");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn encoded_len(plain: &Plain) -> usize {
    let mut buf = [0u8; 2048];
    plain.encode(&mut buf).unwrap()
}
