//! Wire-to-wire latency: order → ExecutionReport(New) over loopback TCP against the real
//! exchange (gateway, FIXP, journal, engine), and the physical floor: a raw loopback TCP
//! ping-pong of the same message size, measured in the same run with the same idle settings.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exchange::config::Config;
use exchange::config::MarketDataConfig;
use exchange::gateway::{Gateway, GatewayConfig};
use exchange::marketdata::codec as md_wire;
use exchange::marketdata::packet::messages;
use exchange::marketdata::publisher::Publisher;
use exchange::protocol::codec::{self as wire, Encode};
use exchange::protocol::fixp::{establish_request, negotiate_request};
use exchange::protocol::sofh::{self, SOFH_LEN};
use exchange::sequencer::{
    recover, session_configs, Idle, RecoveryOptions, Runtime, RuntimeOptions, SequencerOptions,
};
use hdrhistogram::Histogram;
use journal::{Durability, JournalOptions};

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// An exchange running on a thread of this process.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts the exchange on a free loopback port with a fresh journal in `dir`.
    ///
    /// # Panics
    /// If the server cannot start: a benchmark has nothing to measure then.
    /// With `md_port`, market data goes by unicast to 127.0.0.1:`md_port` (incremental).
    /// With `pin_core`, the exchange's threads all run on that core: the sequencer and the
    /// journal, snapshot and market-data threads it starts (they inherit its affinity).
    pub fn start(
        dir: &Path,
        durability: Durability,
        idle: Idle,
        pin_core: Option<usize>,
        md_port: Option<u16>,
    ) -> Server {
        let _ = std::fs::remove_dir_all(dir);
        let dir = dir.to_path_buf();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            crate::affinity::pin(pin_core);
            let mut config = Config::default_config();
            // The open loop leaves every order resting (see `order_to_ack`): one account may
            // hold as many open orders as the pool.
            config.engine.max_open_orders_per_account = config.engine.max_orders;
            let options = RecoveryOptions {
                journal_dir: dir,
                journal: JournalOptions {
                    durability,
                    ..JournalOptions::default()
                },
                sequencer: SequencerOptions::default(),
                snapshots_kept: 2,
            };
            let (sequencer, _) = recover(&config, &options).expect("journal opens");
            // Orders outlive a dropped benchmark connection: no cancel-on-disconnect.
            let mut sessions = session_configs(&config);
            sessions
                .iter_mut()
                .for_each(|s| s.cancel_on_disconnect = false);
            let mut gateway_config = GatewayConfig::with_sessions("127.0.0.1:0".into(), sessions);
            gateway_config.rate_limit_per_sec = 10_000_000;
            gateway_config.rate_limit_burst = 1_000_000;
            let gateway = Gateway::bind(gateway_config).expect("gateway binds");
            ready_tx.send(gateway.local_addr()).expect("bench waits");
            let release_on_durable = durability == Durability::Sync;
            let options = RuntimeOptions {
                idle,
                pin_core,
                release_on_durable,
            };
            let mut runtime = Runtime::new(sequencer, gateway, options, thread_stop);
            if let Some(port) = md_port {
                let md = MarketDataConfig {
                    destination: "unicast".into(),
                    unicast_hosts: vec![Ipv4Addr::LOCALHOST],
                    incremental_port: port,
                    snapshot_port: port.wrapping_add(1),
                    definition_port: port.wrapping_add(2),
                    recovery_listen: "127.0.0.1:0".into(),
                    ..MarketDataConfig::default()
                };
                let publisher = Publisher::new(&md, runtime.sequencer().engine())
                    .expect("market data publisher");
                runtime = runtime.with_market_data(publisher);
            }
            runtime.run().expect("runtime");
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server starts");
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A logged-on session with a non-blocking read side.
pub struct Session {
    stream: TcpStream,
    input: Vec<u8>,
    start: usize,
}

impl Session {
    /// Connects, negotiates and establishes `name`.
    ///
    /// # Errors
    /// Socket errors, or a refusal by the server.
    pub fn logon(addr: SocketAddr, name: &str, key: &str) -> io::Result<Session> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut session = Session {
            stream,
            input: vec![0; 1 << 20],
            start: 0,
        };
        let uuid = wall_ns();
        let refused = |what| io::Error::other(format!("{name}: {what}"));
        let negotiate = negotiate_request(name, key, uuid, wall_ns()).map_err(|_| refused("id"))?;
        session.send(&negotiate)?;
        session
            .expect(wire::NegotiationResponse::TEMPLATE_ID)
            .map_err(|_| refused("negotiate"))?;
        let establish =
            establish_request(name, key, uuid, wall_ns(), 1, 10_000).map_err(|_| refused("id"))?;
        session.send(&establish)?;
        session
            .expect(wire::EstablishmentAck::TEMPLATE_ID)
            .map_err(|_| refused("establish"))?;
        session.stream.set_nonblocking(true)?;
        Ok(session)
    }

    /// Frames and writes one message.
    ///
    /// # Errors
    /// Socket errors.
    pub fn send(&mut self, message: &impl Encode) -> io::Result<()> {
        // A MassQuote of 16 levels is 699 bytes framed.
        let mut frame = [0u8; 1024];
        let len = message
            .encode(&mut frame[SOFH_LEN..])
            .map_err(io::Error::other)?;
        sofh::write_header(&mut frame, len).map_err(io::Error::other)?;
        self.stream.write_all(&frame[..SOFH_LEN + len])
    }

    fn expect(&mut self, template_id: u16) -> io::Result<()> {
        self.stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut frame = [0u8; 4096];
        let mut header = [0u8; SOFH_LEN];
        self.stream.read_exact(&mut header)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let body = &mut frame[..len.saturating_sub(SOFH_LEN)];
        self.stream.read_exact(body)?;
        match wire::decode(body) {
            Ok(message) if message.template_id() == template_id => Ok(()),
            _ => Err(io::Error::other("unexpected reply")),
        }
    }

    /// Calls `seen(cl_ord_id)` for each order's first answer (ExecutionReport New or
    /// Rejected) that has arrived; fails on a Terminate.
    fn drain_acks(&mut self, mut seen: impl FnMut(u64, u64)) -> io::Result<()> {
        self.drain_reports(|report| {
            let first = matches!(
                report.exec_type,
                wire::ExecType::New | wire::ExecType::Rejected
            );
            if first {
                seen(report.cl_ord_id, report.order_id);
            }
        })
    }

    /// Calls `each` for every ExecutionReport that has arrived (and, as a Rejected report,
    /// for every OrderCancelReject); fails on a Terminate.
    ///
    /// # Errors
    /// Socket errors, end of stream, or a Terminate from the exchange.
    pub fn drain_reports(
        &mut self,
        mut each: impl FnMut(&wire::ExecutionReport),
    ) -> io::Result<()> {
        self.drain(|message| match message {
            wire::Inbound::ExecutionReport(report) => each(&report.to_plain()),
            wire::Inbound::OrderCancelReject(reject) => {
                let reject = reject.to_plain();
                each(&wire::ExecutionReport {
                    cl_ord_id: reject.cl_ord_id,
                    exec_type: wire::ExecType::Rejected,
                    ord_rej_reason: Some(reject.cxl_rej_reason),
                    ..Default::default()
                });
            }
            _ => {}
        })
    }

    /// Calls `each` with the QuoteID of every MassQuoteAck that has arrived and the number of
    /// its entries that were rejected; fails on a Terminate.
    ///
    /// # Errors
    /// As [`Session::drain_reports`].
    pub fn drain_quote_acks(&mut self, mut each: impl FnMut(u64, usize)) -> io::Result<()> {
        self.drain(|message| {
            if let wire::Inbound::MassQuoteAck(ack) = message {
                let rejected = ack
                    .no_quote_entry_acks()
                    .iter()
                    .filter(|e| e.quote_entry_reject_reason.is_some())
                    .count();
                each(ack.quote_id(), rejected);
            }
        })
    }

    /// Calls `each` for every message that has arrived; fails on a Terminate.
    fn drain(&mut self, mut each: impl FnMut(&wire::Inbound<'_>)) -> io::Result<()> {
        let end = self.input.len();
        loop {
            let filled = self.start;
            match self.stream.read(&mut self.input[filled..end]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        let mut offset = 0;
        while let Ok(Some(len)) = sofh::frame_len(&self.input[offset..self.start], 1 << 16) {
            if self.start - offset < len {
                break;
            }
            match wire::decode(&self.input[offset + SOFH_LEN..offset + len]) {
                Ok(wire::Inbound::Terminate(t)) => {
                    let code = t.to_plain().termination_code;
                    return Err(io::Error::other(format!(
                        "terminated by the exchange: {code:?}"
                    )));
                }
                Ok(message) => each(&message),
                Err(_) => {}
            }
            offset += len;
        }
        self.input.copy_within(offset..self.start, 0);
        self.start -= offset;
        Ok(())
    }
}

/// Result of one latency measurement.
pub struct Latency {
    pub histogram: Histogram<u64>,
    pub achieved_per_sec: f64,
    /// Order sent (planned) → its book update received on the market-data channel.
    pub market_data: Option<Histogram<u64>>,
}

/// Open loop at `rate_per_sec` for `count` orders spread over `sessions`: order i is planned
/// at start + i / rate; latency = ack arrival − planned send time (corrected for coordinated
/// omission). Orders rest far from the touch and stay for the whole run: a session that
/// mass-cancelled its few thousand orders now and then would hold the sequencer for
/// milliseconds, and every order planned meanwhile would wait behind it (that is the cost of
/// a mass cancel, not of the order path measured here).
///
/// # Errors
/// Socket errors.
pub fn order_to_ack(
    sessions: &mut [Session],
    rate_per_sec: u64,
    count: u64,
    market_data: Option<&UdpSocket>,
) -> io::Result<Latency> {
    let mut order_ids: Vec<(u64, u64)> = Vec::with_capacity(count as usize);
    let mut book_updates: HashMap<u64, u64> = HashMap::with_capacity(count as usize);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let ring = 1 << 20;
    let mut planned = vec![0u64; ring];
    let mut received = 0u64;
    let started = Instant::now();
    let mut sent = 0u64;
    let deadline = Duration::from_secs(60);
    while received < count {
        let now = started.elapsed().as_nanos() as u64;
        while sent < count && sent * interval_ns <= now {
            let which = (sent % sessions.len() as u64) as usize;
            let cl_ord_id = sent + 1;
            planned[(cl_ord_id as usize) & (ring - 1)] = sent * interval_ns;
            let side = if which == 0 {
                wire::Side::Buy
            } else {
                wire::Side::Sell
            };
            let price = if which == 0 { 95_000 } else { 105_000 } * 100_000_000;
            let order = wire::NewOrderSingle {
                cl_ord_id,
                price: Some(price + (sent % 1000) as i64 * 10_000_000),
                order_qty: 1_000_000,
                security_id: 1,
                side,
                ord_type: wire::OrdType::Limit,
                time_in_force: wire::TimeInForce::GoodTillCancel,
                ..Default::default()
            };
            sessions[which].send(&order)?;
            sent += 1;
        }
        for (index, session) in sessions.iter_mut().enumerate() {
            let at = received;
            let context = move |e: io::Error| {
                io::Error::new(e.kind(), format!("session {index} after {at} acks: {e}"))
            };
            session
                .drain_acks(|cl_ord_id, order_id| {
                    let elapsed = started.elapsed().as_nanos() as u64;
                    order_ids.push((cl_ord_id, order_id));
                    let plan = planned[(cl_ord_id as usize) & (ring - 1)];
                    let _ = histogram.record(elapsed.saturating_sub(plan).max(1));
                    received += 1;
                })
                .map_err(context)?;
        }
        if let Some(socket) = market_data {
            drain_book_updates(socket, started, &mut book_updates)?;
        }
        if started.elapsed() > deadline {
            return Err(io::Error::other(format!(
                "only {received} of {count} acks in 60 s"
            )));
        }
    }
    let achieved_per_sec = count as f64 / started.elapsed().as_secs_f64();
    let market_data = match market_data {
        Some(socket) => {
            // Book updates may trail the last ack: collect them for a moment more.
            let until = Instant::now() + Duration::from_millis(200);
            while Instant::now() < until {
                drain_book_updates(socket, started, &mut book_updates)?;
            }
            let mut md = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
            for (cl_ord_id, order_id) in &order_ids {
                if let Some(arrival) = book_updates.get(order_id) {
                    let planned = (cl_ord_id - 1) * interval_ns;
                    let _ = md.record(arrival.saturating_sub(planned).max(1));
                }
            }
            Some(md)
        }
        None => None,
    };
    Ok(Latency {
        histogram,
        achieved_per_sec,
        market_data,
    })
}

/// Records when each order's L3 "New" book update arrives on the incremental channel.
fn drain_book_updates(
    socket: &UdpSocket,
    started: Instant,
    arrivals: &mut HashMap<u64, u64>,
) -> io::Result<()> {
    let mut packet = [0u8; 2048];
    loop {
        let len = match socket.recv(&mut packet) {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        };
        let now = started.elapsed().as_nanos() as u64;
        for message in messages(&packet[..len]).flatten() {
            if let md_wire::Inbound::MDIncrementalRefreshOrderBook(update) = message {
                if update.md_update_action() == md_wire::MDUpdateAction::New {
                    arrivals.entry(update.order_id()).or_insert(now);
                }
            }
        }
    }
}

/// A non-blocking UDP socket on a free loopback port for the incremental channel.
///
/// # Errors
/// Socket errors.
pub fn market_data_socket() -> io::Result<(UdpSocket, u16)> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_nonblocking(true)?;
    let port = socket.local_addr()?.port();
    Ok((socket, port))
}

/// A loopback TCP connection to an echo thread that stands where the sequencer would (same
/// core when it is pinned) and blocks in `read` as the exchange blocks in epoll. The client end
/// is non-blocking and polled, exactly as the order client does, so the floors and the order
/// round trips differ only in what the server side does.
fn echo_pair(pin_core: Option<usize>) -> io::Result<(TcpStream, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let echo = std::thread::spawn(move || -> io::Result<()> {
        crate::affinity::pin(pin_core);
        let (mut stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => stream.write_all(&buf[..n])?,
            }
        }
    });
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_nonblocking(true)?;
    Ok((stream, echo))
}

/// Closes the client end (the echo thread then returns) and reports `count` messages since
/// `started`.
fn close_echo(
    stream: TcpStream,
    echo: JoinHandle<io::Result<()>>,
    histogram: Histogram<u64>,
    count: u64,
    started: Instant,
) -> Latency {
    let achieved_per_sec = count as f64 / started.elapsed().as_secs_f64();
    drop(stream);
    let _ = echo.join();
    Latency {
        histogram,
        achieved_per_sec,
        market_data: None,
    }
}

/// Closed-loop ping-pong of `size`-byte messages against an echo thread on loopback that
/// blocks in `read` (as the exchange blocks in epoll with `--idle block`): the floor any TCP
/// order entry on this machine pays for one round trip.
///
/// # Errors
/// Socket errors.
pub fn tcp_ping_pong(size: usize, count: u64, pin_core: Option<usize>) -> io::Result<Latency> {
    let (mut stream, echo) = echo_pair(pin_core)?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let message = vec![7u8; size];
    let mut reply = vec![0u8; size];
    let started = Instant::now();
    for _ in 0..count {
        let t0 = Instant::now();
        stream.write_all(&message)?;
        let mut got = 0;
        while got < size {
            match stream.read(&mut reply[got..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        let _ = histogram.record((t0.elapsed().as_nanos() as u64).max(1));
    }
    Ok(close_echo(stream, echo, histogram, count, started))
}

/// The open-loop floor: `size`-byte messages sent at `rate_per_sec` on one loopback TCP
/// connection to an echo thread that blocks in `read`, the client polling as the order client
/// does; latency = echo arrival − planned send time, as in [`order_to_ack`]. A closed loop
/// never sees a stall of the machine more than once (the next send waits for it); an open loop
/// counts every message planned during it, so this is the floor that loop's tail compares to.
///
/// # Errors
/// Socket errors.
pub fn tcp_open_loop(
    size: usize,
    rate_per_sec: u64,
    count: u64,
    pin_core: Option<usize>,
) -> io::Result<Latency> {
    let (mut stream, echo) = echo_pair(pin_core)?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let message = vec![7u8; size];
    let mut reply = vec![0u8; 64 * 1024];
    let (mut sent, mut received_bytes) = (0u64, 0usize);
    let started = Instant::now();
    while (received_bytes / size) < count as usize {
        let now = started.elapsed().as_nanos() as u64;
        while sent < count && sent * interval_ns <= now {
            stream.write_all(&message)?;
            sent += 1;
        }
        loop {
            match stream.read(&mut reply) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    let arrival = started.elapsed().as_nanos() as u64;
                    let before = received_bytes / size;
                    received_bytes += n;
                    for i in before..received_bytes / size {
                        let planned = i as u64 * interval_ns;
                        let _ = histogram.record(arrival.saturating_sub(planned).max(1));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(close_echo(stream, echo, histogram, count, started))
}

/// Closed-loop order → ack on one session: the exchange's equivalent of the ping-pong.
///
/// # Errors
/// Socket errors.
pub fn order_ping_pong(session: &mut Session, count: u64) -> io::Result<Latency> {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let started = Instant::now();
    for i in 0..count {
        let _ = histogram.record(order_round_trip(session, 10_000_000 + i, i)?);
    }
    let achieved_per_sec = count as f64 / started.elapsed().as_secs_f64();
    Ok(Latency {
        histogram,
        achieved_per_sec,
        market_data: None,
    })
}

/// One MassQuote of `levels` two-sided levels on BTC-USD (at most 16; quote ids 0..levels,
/// 0.001 BTC a side, bids below 94,000 USD and offers above 106,000 USD), shifted by
/// `shift_ticks` ticks of 0.1 USD.
///
/// # Errors
/// More than 16 levels.
pub fn quote_ladder(quote_id: u64, levels: usize, shift_ticks: i64) -> io::Result<wire::MassQuote> {
    let mut entries = wire::GroupVec::new();
    for k in 0..levels as i64 {
        let entry = wire::QuoteEntriesEntry {
            quote_entry_id: k as u32,
            security_id: 1,
            quote_set_id: 0,
            bid_px: (94_000 - k) * 100_000_000 + shift_ticks * 10_000_000,
            bid_size: 100_000,
            offer_px: (106_000 + k) * 100_000_000 + shift_ticks * 10_000_000,
            offer_size: 100_000,
        };
        entries.push(entry).map_err(io::Error::other)?;
    }
    Ok(wire::MassQuote {
        quote_id,
        exec_inst: wire::ExecInst::empty(),
        no_quote_entries: entries,
    })
}

/// One MassQuote replacing 10 two-sided levels (quote ids 0..9, bids below 94,000 USD and
/// offers above 106,000 USD, clear of the order benchmarks) → its MassQuoteAck; returns the
/// round trip in ns. The ladder moves one tick back and forth with `i`, so every entry really
/// moves.
///
/// # Errors
/// Socket errors, or a rejected quote entry.
pub fn quote_round_trip(session: &mut Session, i: u64) -> io::Result<u64> {
    let quote_id = 20_000_000 + i;
    let quote = quote_ladder(quote_id, 10, (i % 2) as i64)?;
    let t0 = Instant::now();
    session.send(&quote)?;
    let mut acked = None;
    while acked.is_none() {
        session.drain_quote_acks(|id, rejected| {
            if id == quote_id {
                acked = Some(rejected);
            }
        })?;
    }
    let elapsed = t0.elapsed().as_nanos() as u64;
    if acked != Some(0) {
        return Err(io::Error::other(format!(
            "MassQuote {quote_id}: {acked:?} entries rejected"
        )));
    }
    Ok(elapsed.max(1))
}

/// One IOC NewOrderSingle (no liquidity at its price, so New then Canceled) → its
/// ExecutionReport New; returns the round trip in ns.
///
/// # Errors
/// Socket errors.
pub fn order_round_trip(session: &mut Session, cl_ord_id: u64, i: u64) -> io::Result<u64> {
    let order = wire::NewOrderSingle {
        cl_ord_id,
        price: Some((95_000 + (i % 1000) as i64) * 100_000_000),
        order_qty: 1_000_000,
        security_id: 1,
        side: wire::Side::Buy,
        ord_type: wire::OrdType::Limit,
        time_in_force: wire::TimeInForce::ImmediateOrCancel,
        ..Default::default()
    };
    let t0 = Instant::now();
    session.send(&order)?;
    let mut acked = false;
    while !acked {
        session.drain_acks(|id, _| acked |= id == cl_ord_id)?;
    }
    Ok((t0.elapsed().as_nanos() as u64).max(1))
}

/// Closed loop on one session, alternating a single order round trip and a MassQuote of 10
/// two-sided levels round trip, so both see the same server, session and machine state;
/// returns (orders, quotes).
///
/// # Errors
/// Socket errors, or a rejected quote entry.
pub fn order_and_quote_round_trips(
    session: &mut Session,
    count: u64,
) -> io::Result<(Latency, Latency)> {
    let new = || Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let (mut orders, mut quotes) = (new(), new());
    let started = Instant::now();
    for i in 0..count {
        let _ = orders.record(order_round_trip(session, 30_000_000 + i, i)?);
        let _ = quotes.record(quote_round_trip(session, i)?);
    }
    let achieved_per_sec = count as f64 / started.elapsed().as_secs_f64();
    let latency = |histogram| Latency {
        histogram,
        achieved_per_sec,
        market_data: None,
    };
    Ok((latency(orders), latency(quotes)))
}

/// Size of a NewOrderSingle frame: the floor's message size.
pub fn order_frame_bytes() -> usize {
    SOFH_LEN + wire::NewOrderSingle::default().encoded_len()
}

/// A scratch journal directory for a benchmark run.
pub fn scratch_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("exchange-bench-{name}-{}", std::process::id()))
}
