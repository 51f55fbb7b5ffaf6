//! An in-process server on a loopback port and a minimal blocking FIXP/SBE client, for the
//! end-to-end tests of the gateway.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exchange::config::Config;
use exchange::gateway::{Gateway, GatewayConfig};
use exchange::protocol::codec::{self as wire, Encode, Plain};
use exchange::protocol::fixp::{establish_request, negotiate_request};
use exchange::protocol::sofh;
use exchange::sequencer::{
    recover, session_configs, Idle, RecoveryOptions, Runtime, RuntimeOptions, SequencerOptions,
};
use journal::{Durability, JournalOptions};

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A server running in a thread of the test process, on a free loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(name: &str, durability: Durability) -> TestServer {
        let dir = std::env::temp_dir().join(format!("exchange-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TestServer::start_in(dir, durability, |_| {})
    }

    /// Starts on `dir` (kept across restarts), letting `tune` adjust the gateway limits.
    pub fn start_in(
        dir: PathBuf,
        durability: Durability,
        tune: impl FnOnce(&mut GatewayConfig) + Send + 'static,
    ) -> TestServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_stop = Arc::clone(&stop);
        let thread_dir = dir.clone();
        let thread = std::thread::spawn(move || {
            let config = Config::default_config();
            let options = RecoveryOptions {
                journal_dir: thread_dir,
                journal: JournalOptions {
                    segment_size_bytes: 8 << 20,
                    durability,
                    ..JournalOptions::default()
                },
                sequencer: SequencerOptions {
                    digest_every: 100,
                    snapshot_every: 0,
                },
                snapshots_kept: 2,
            };
            let (sequencer, _) = recover(&config, &options).expect("recover");
            let sessions = session_configs(&config);
            let mut gateway_config = GatewayConfig::with_sessions("127.0.0.1:0".into(), sessions);
            tune(&mut gateway_config);
            let gateway = Gateway::bind(gateway_config).expect("bind");
            ready_tx.send(gateway.local_addr()).unwrap();
            let options = RuntimeOptions {
                idle: Idle::Block,
                pin_core: None,
                release_on_durable: durability == Durability::Sync,
            };
            let mut runtime = Runtime::new(sequencer, gateway, options, thread_stop);
            runtime.run().expect("runtime");
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server ready");
        TestServer {
            addr,
            dir,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the server and waits for its thread (the journal is closed afterwards).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A blocking client of one session.
pub struct WireClient {
    pub stream: TcpStream,
    pub uuid: u64,
    buffer: Vec<u8>,
    pub received: Vec<Plain>,
}

static UUIDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl WireClient {
    pub fn connect(addr: SocketAddr) -> WireClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        let uuid = now_ns() ^ UUIDS.fetch_add(1, Ordering::Relaxed);
        WireClient {
            stream,
            uuid,
            buffer: Vec::new(),
            received: Vec::new(),
        }
    }

    /// Connects, negotiates and establishes; panics on any refusal.
    pub fn logon(addr: SocketAddr, session: &str, key: &str) -> WireClient {
        let mut client = WireClient::connect(addr);
        let reply = client.negotiate(session, key, now_ns());
        assert!(
            matches!(reply, Some(Plain::NegotiationResponse(_))),
            "{reply:?}"
        );
        let reply = client.establish(session, key);
        assert!(
            matches!(reply, Some(Plain::EstablishmentAck(_))),
            "{reply:?}"
        );
        client
    }

    pub fn negotiate(&mut self, session: &str, key: &str, timestamp_ns: u64) -> Option<Plain> {
        let request = negotiate_request(session, key, self.uuid, timestamp_ns).unwrap();
        self.send(&request);
        self.recv(Duration::from_secs(5))
    }

    pub fn establish(&mut self, session: &str, key: &str) -> Option<Plain> {
        let request = establish_request(session, key, self.uuid, now_ns(), 1, 1000).unwrap();
        self.send(&request);
        self.recv(Duration::from_secs(5))
    }

    pub fn send(&mut self, message: &impl Encode) {
        let mut buf = vec![0u8; sofh::SOFH_LEN + message.encoded_len()];
        let len = message.encode(&mut buf[sofh::SOFH_LEN..]).unwrap();
        sofh::write_header(&mut buf, len).unwrap();
        self.send_raw(&buf);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// The next message, or None on timeout or end of stream.
    pub fn recv(&mut self, timeout: Duration) -> Option<Plain> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(len) = sofh::frame_len(&self.buffer, 1 << 16).ok().flatten() {
                if self.buffer.len() >= len {
                    let frame: Vec<u8> = self.buffer.drain(..len).collect();
                    let message = wire::decode(&frame[sofh::SOFH_LEN..]).expect("server frame");
                    let plain = message.to_plain();
                    self.received.push(plain);
                    return Some(plain);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
    }

    /// Receives until `pred` matches a message (skipping heartbeats); panics on timeout.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Plain) -> bool) -> Plain {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.recv(left) {
                Some(message) if pred(&message) => return message,
                Some(_) => continue,
                None => break,
            }
        }
        panic!(
            "timed out waiting for {what}; received {:#?}",
            self.received
        );
    }

    /// Execution reports received so far.
    pub fn reports(&self) -> Vec<wire::ExecutionReport> {
        self.received
            .iter()
            .filter_map(|m| match m {
                Plain::ExecutionReport(r) => Some(*r),
                _ => None,
            })
            .collect()
    }
}

/// A GTC limit order on BTC-USD (SecurityID 1): `qty` and `price` in whole-unit decimals × 1e8.
pub fn limit_order(cl_ord_id: u64, side: wire::Side, qty: i64, price: i64) -> wire::NewOrderSingle {
    wire::NewOrderSingle {
        cl_ord_id,
        price: Some(price),
        order_qty: qty,
        security_id: 1,
        side,
        ord_type: wire::OrdType::Limit,
        time_in_force: wire::TimeInForce::GoodTillCancel,
        ..Default::default()
    }
}

/// 1e8: one whole unit on the wire.
pub const UNIT: i64 = 100_000_000;

/// A GTC limit order on BTC-USD-PERP (SecurityID 3): `qty` and `price` as in `limit_order`.
pub fn perp_order(cl_ord_id: u64, side: wire::Side, qty: i64, price: i64) -> wire::NewOrderSingle {
    wire::NewOrderSingle {
        security_id: 3,
        ..limit_order(cl_ord_id, side, qty, price)
    }
}

/// An operator's IndexConstituents for `security_id`: source `i + 1` quotes `prices[i]` (wire
/// decimals), observed at `time_ns`.
pub fn index_constituents(
    admin_req_id: u64,
    security_id: i32,
    prices: &[i64],
    time_ns: u64,
) -> wire::IndexConstituents {
    let mut constituents = wire::GroupVec::new();
    for (i, price) in prices.iter().enumerate() {
        let entry = wire::ConstituentsEntry {
            constituent_px: *price,
            constituent_time: time_ns,
            constituent_source_id: i as u16 + 1,
        };
        constituents.push(entry).expect("at most 16 constituents");
    }
    wire::IndexConstituents {
        admin_req_id,
        transact_time: time_ns,
        security_id,
        no_constituents: constituents,
    }
}
