//! The feed's state machine, free of sockets: incremental packets in sequence, gap detection,
//! buffering, sync from the snapshot channel, and the books.
//!
//! Sync: until every instrument has a book, incremental packets are buffered. A complete
//! snapshot of an instrument (all its chunks) with LastMsgSeqNumProcessed N is taken when
//! the buffer holds every packet after N that was received, so nothing between the snapshot
//! and the buffer is missing. When every instrument has a book the feed goes live from the
//! lowest N + 1; messages of a packet at or below an instrument's own N are skipped for it.
//! Live: a packet above the next expected sequence is buffered and the missing range is a gap
//! for the caller to recover (TCP); if recovery fails the feed re-syncs from snapshots.

use std::collections::{BTreeMap, HashMap};

use exchange::marketdata::codec::{Inbound, MatchEventIndicator, SnapshotFullRefreshView};
use exchange::marketdata::{messages, PacketHeader};

use super::book::{BookOrder, FundingQuote, InstrumentBook, L2Book, L3Book, LastTrade, LevelQty};

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    pub packets: u64,
    pub messages: u64,
    pub duplicates: u64,
    pub gaps: u64,
    pub recovered_packets: u64,
    pub resyncs: u64,
    pub buffer_overflows: u64,
    pub decode_errors: u64,
    pub snapshots_applied: u64,
    /// The channel started over at sequence 1 (the exchange restarted): books re-synced.
    pub channel_resets: u64,
}

/// A snapshot being assembled from its chunks.
struct Assembly {
    next_chunk: u16,
    book: L2Book,
    last: u32,
    engine_seq: u64,
    halted: bool,
}

/// The handler.
pub struct FeedHandler {
    pub books: BTreeMap<i32, InstrumentBook>,
    pub stats: FeedStats,
    /// Engine sequence of the last applied message, and whether it ended its command.
    pub last_engine_seq: u64,
    pub last_event_complete: bool,
    /// Next incremental sequence to apply; `None` while syncing.
    expected: Option<u32>,
    buffer: BTreeMap<u32, Vec<u8>>,
    buffer_max: usize,
    assemblies: HashMap<i32, Assembly>,
    instruments_expected: Option<u32>,
    symbols: HashMap<i32, String>,
    /// Highest incremental sequence known to exist.
    known_last: u32,
}

impl FeedHandler {
    /// A handler buffering at most `buffer_max` packets while syncing or recovering.
    pub fn new(buffer_max: usize) -> FeedHandler {
        FeedHandler {
            books: BTreeMap::new(),
            stats: FeedStats::default(),
            last_engine_seq: 0,
            last_event_complete: true,
            expected: None,
            buffer: BTreeMap::new(),
            buffer_max,
            assemblies: HashMap::new(),
            instruments_expected: None,
            symbols: HashMap::new(),
            known_last: 0,
        }
    }

    /// Whether every instrument has a book and packets are applied as they come.
    pub fn is_live(&self) -> bool {
        self.expected.is_some()
    }

    /// Next sequence the feed will apply.
    pub fn expected(&self) -> Option<u32> {
        self.expected
    }

    /// The missing range the caller should recover, if any.
    pub fn gap(&self) -> Option<(u32, u32)> {
        let expected = self.expected?;
        let end = match self.buffer.keys().next() {
            Some(first) => first - 1,
            None => self.known_last,
        };
        (end >= expected).then_some((expected, end))
    }

    /// An incremental packet (from UDP or from recovery).
    pub fn on_incremental(&mut self, packet: &[u8]) {
        let Ok(header) = PacketHeader::read(packet) else {
            self.stats.decode_errors += 1;
            return;
        };
        let seq = header.msg_seq_num;
        self.known_last = self.known_last.max(seq);
        let Some(expected) = self.expected else {
            self.buffer_packet(seq, packet);
            return;
        };
        if seq == 1 && expected > 1 {
            // A publisher numbers from 1 when it starts: the exchange restarted. Nothing
            // before this packet belongs to the new stream.
            self.stats.channel_resets += 1;
            self.buffer.clear();
            self.known_last = 1;
            self.resync();
            self.buffer_packet(seq, packet);
            return;
        }
        if seq < expected || self.buffer.contains_key(&seq) {
            self.stats.duplicates += 1;
            return;
        }
        if seq > expected {
            if self.buffer.is_empty() {
                self.stats.gaps += 1;
            }
            self.buffer_packet(seq, packet);
            return;
        }
        self.apply(seq, packet);
        self.expected = Some(seq + 1);
        self.drain();
    }

    fn buffer_packet(&mut self, seq: u32, packet: &[u8]) {
        if self.buffer.len() >= self.buffer_max {
            self.stats.buffer_overflows += 1;
            self.buffer.pop_first();
        }
        self.buffer.insert(seq, packet.to_vec());
    }

    fn drain(&mut self) {
        while let Some(expected) = self.expected {
            let Some(packet) = self.buffer.remove(&expected) else {
                break;
            };
            self.apply(expected, &packet);
            self.expected = Some(expected + 1);
        }
    }

    /// Recovery could not provide the gap: rebuild every book from the snapshot channel.
    pub fn recovery_failed(&mut self) {
        self.stats.resyncs += 1;
        self.resync();
    }

    /// Forgets every book's sync point: each waits for its next snapshot.
    fn resync(&mut self) {
        self.expected = None;
        for book in self.books.values_mut() {
            book.synced_at = None;
        }
    }

    fn apply(&mut self, seq: u32, packet: &[u8]) {
        self.stats.packets += 1;
        for message in messages(packet) {
            let Ok(message) = message else {
                self.stats.decode_errors += 1;
                continue;
            };
            self.stats.messages += 1;
            self.apply_message(seq, &message);
        }
    }

    fn book_for(&mut self, seq: u32, security_id: i32) -> Option<&mut InstrumentBook> {
        let book = self.books.get_mut(&security_id)?;
        match book.synced_at {
            Some(at) if seq > at => Some(book),
            _ => None,
        }
    }

    fn note_event(&mut self, engine_seq: u64, indicator: MatchEventIndicator) {
        self.last_engine_seq = self.last_engine_seq.max(engine_seq);
        self.last_event_complete = indicator.end_of_event();
    }

    fn apply_message(&mut self, seq: u32, message: &Inbound<'_>) {
        match message {
            Inbound::MDIncrementalRefreshBook(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    let qty = LevelQty {
                        size: m.md_entry_size,
                        orders: m.number_of_orders,
                    };
                    let (side, action) = (m.md_entry_type, m.md_update_action);
                    book.l2.apply(side, action, m.md_entry_px, qty);
                }
            }
            Inbound::MDIncrementalRefreshOrderBook(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    let order = BookOrder {
                        side: m.md_entry_type,
                        px: m.md_entry_px,
                        qty: m.md_display_qty,
                    };
                    book.l3.apply(m.order_id, order, m.md_update_action);
                }
            }
            Inbound::MDIncrementalRefreshTrade(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.trades += 1;
                    book.last_trade = Some(LastTrade {
                        px: m.md_entry_px,
                        size: m.md_entry_size,
                        aggressor_buy: m.aggressor_side
                            == exchange::marketdata::codec::AggressorSide::Buy,
                    });
                }
            }
            Inbound::SecurityStatus(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.halted = m.security_trading_status
                        == exchange::marketdata::codec::SecurityTradingStatus::TradingHalt;
                }
            }
            _ => self.apply_perp_message(seq, message),
        }
    }

    /// Index, mark and funding-rate messages of perpetuals.
    fn apply_perp_message(&mut self, seq: u32, message: &Inbound<'_>) {
        match message {
            Inbound::IndexPrice(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.perp.index = Some((m.index_px, m.num_constituents));
                }
            }
            Inbound::MarkPrice(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.perp.mark_px = Some(m.mark_px);
                }
            }
            Inbound::FundingRate(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.perp.funding = Some(FundingQuote {
                        rate_ppb: m.funding_rate_value,
                        next_funding_ns: m.next_funding_time,
                        settled_ns: m.settled_time,
                    });
                }
            }
            Inbound::Liquidation(v) => {
                let m = v.to_plain();
                self.note_event(m.engine_seq, m.match_event_indicator);
                if let Some(book) = self.book_for(seq, m.security_id) {
                    book.perp.liquidations += 1;
                }
            }
            _ => {}
        }
    }

    /// An instrument-definition packet: names the instruments.
    pub fn on_definition(&mut self, packet: &[u8]) {
        for message in messages(packet).flatten() {
            if let Inbound::MDInstrumentDefinition(v) = message {
                let m = v.to_plain();
                let end = m
                    .symbol
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(m.symbol.len());
                let symbol = String::from_utf8_lossy(&m.symbol[..end]).into_owned();
                if let Some(book) = self.books.get_mut(&m.security_id) {
                    book.symbol.clone_from(&symbol);
                }
                self.symbols.insert(m.security_id, symbol);
            }
        }
    }

    /// A snapshot packet.
    pub fn on_snapshot(&mut self, packet: &[u8]) {
        for message in messages(packet) {
            match message {
                Ok(Inbound::SnapshotFullRefresh(v)) => self.snapshot_chunk(&v),
                Ok(_) => {}
                Err(_) => self.stats.decode_errors += 1,
            }
        }
    }

    fn snapshot_chunk(&mut self, v: &SnapshotFullRefreshView<'_>) {
        let m = v.to_plain();
        self.instruments_expected = Some(m.tot_num_reports);
        let id = m.security_id;
        if m.current_chunk == 1 {
            self.assemblies.insert(
                id,
                Assembly {
                    next_chunk: 1,
                    book: L2Book::default(),
                    last: m.last_msg_seq_num_processed,
                    engine_seq: m.engine_seq,
                    halted: m.md_security_trading_status
                        == exchange::marketdata::codec::SecurityTradingStatus::TradingHalt,
                },
            );
        }
        let Some(assembly) = self.assemblies.get_mut(&id) else {
            return;
        };
        if assembly.next_chunk != m.current_chunk || assembly.last != m.last_msg_seq_num_processed {
            self.assemblies.remove(&id);
            return;
        }
        for entry in m.no_md_entries.as_slice() {
            let qty = LevelQty {
                size: entry.md_entry_size,
                orders: entry.number_of_orders,
            };
            let action = exchange::marketdata::codec::MDUpdateAction::New;
            assembly
                .book
                .apply(entry.md_entry_type, action, entry.md_entry_px, qty);
        }
        assembly.next_chunk += 1;
        if m.current_chunk == m.num_chunks {
            if let Some(done) = self.assemblies.remove(&id) {
                self.try_sync(id, done);
            }
        }
    }

    fn try_sync(&mut self, id: i32, snapshot: Assembly) {
        let synced = self.books.get(&id).is_some_and(|b| b.synced_at.is_some());
        if synced || self.is_live() {
            return;
        }
        let n = snapshot.last;
        // Every packet received after N must be in the buffer, without holes.
        let after: Vec<u32> = self.buffer.range(n + 1..).map(|(s, _)| *s).collect();
        let contiguous = after
            .iter()
            .enumerate()
            .all(|(i, s)| *s == n + 1 + i as u32);
        if !contiguous {
            return;
        }
        self.known_last = self.known_last.max(n);
        self.last_engine_seq = self.last_engine_seq.max(snapshot.engine_seq);
        let symbol = self.symbols.get(&id).cloned().unwrap_or_default();
        let book = self.books.entry(id).or_default();
        *book = InstrumentBook {
            security_id: id,
            symbol,
            l2: snapshot.book,
            l3: L3Book {
                orders: HashMap::new(),
                complete: n == 0,
            },
            halted: snapshot.halted,
            last_trade: book.last_trade,
            trades: book.trades,
            perp: book.perp,
            synced_at: Some(n),
        };
        self.stats.snapshots_applied += 1;
        self.go_live_if_synced();
    }

    fn go_live_if_synced(&mut self) {
        let Some(expected_count) = self.instruments_expected else {
            return;
        };
        let synced: Vec<u32> = self.books.values().filter_map(|b| b.synced_at).collect();
        if synced.len() < expected_count as usize {
            return;
        }
        let start = synced.iter().min().copied().unwrap_or(0) + 1;
        while self
            .buffer
            .first_key_value()
            .is_some_and(|(s, _)| *s < start)
        {
            self.buffer.pop_first();
        }
        self.expected = Some(start);
        self.drain();
    }
}
