//! A seeded stream of SBE order messages between two accounts that trade with each other:
//! limit orders around one price (about half of them cross) and cancels of recent orders.
//! Used by `crash-child` (crash tests) and to generate journals for replay measurements.

use exchange::protocol::codec::{self as wire, Encode};

/// SplitMix64: a tiny, seedable generator (the stream must be reproducible from its seed).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`; the slight modulo bias does not matter here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// One message of the stream: the account it is sent for, its ClOrdID and the SBE bytes.
#[derive(Debug, Clone)]
pub struct StreamMessage {
    pub account: u32,
    pub cl_ord_id: u64,
    pub payload: Vec<u8>,
}

/// Price units per USD (prices are fixed-point 1e-8).
const UNITS_PER_USD: i64 = 100_000_000;
/// Recent orders remembered per account as cancel targets.
const RECENT: usize = 64;

/// The two trading accounts (demo MM1 and MM2 in the default configuration).
pub const ACCOUNTS: [u32; 2] = [1, 2];

/// Generates the stream; ClOrdIDs count up from `first_cl_ord_id`.
#[derive(Debug, Clone)]
pub struct OrderStream {
    rng: SplitMix64,
    next_cl_ord_id: u64,
    recent: [Vec<u64>; 2],
    buf: Vec<u8>,
}

impl OrderStream {
    /// A stream seeded with `seed` whose first ClOrdID is `first_cl_ord_id`.
    #[must_use]
    pub fn new(seed: u64, first_cl_ord_id: u64) -> OrderStream {
        OrderStream {
            rng: SplitMix64::new(seed),
            next_cl_ord_id: first_cl_ord_id,
            recent: [Vec::with_capacity(RECENT), Vec::with_capacity(RECENT)],
            buf: vec![0u8; 256],
        }
    }

    /// The next message: 80 % limit orders on BTC (security id 1), 20 % cancels.
    pub fn next_message(&mut self) -> StreamMessage {
        let who = self.rng.below(2) as usize;
        let cl_ord_id = self.next_cl_ord_id;
        self.next_cl_ord_id += 1;
        let cancel_target = if self.rng.below(5) == 0 && !self.recent[who].is_empty() {
            let i = self.rng.below(self.recent[who].len() as u64) as usize;
            Some(self.recent[who].swap_remove(i))
        } else {
            None
        };
        let len = match cancel_target {
            Some(orig_cl_ord_id) => self.encode(&wire::OrderCancelRequest {
                cl_ord_id,
                orig_cl_ord_id,
                order_id: None,
                security_id: 1,
                side: wire::Side::Buy,
            }),
            None => {
                let side = if self.rng.below(2) == 0 {
                    wire::Side::Buy
                } else {
                    wire::Side::Sell
                };
                let price_usd = 99_995 + self.rng.below(10) as i64;
                if self.recent[who].len() == RECENT {
                    self.recent[who].swap_remove(0);
                }
                self.recent[who].push(cl_ord_id);
                let order_qty = 1_000_000 * (1 + self.rng.below(3) as i64);
                self.encode(&wire::NewOrderSingle {
                    cl_ord_id,
                    price: Some(price_usd * UNITS_PER_USD),
                    order_qty,
                    security_id: 1,
                    side,
                    ord_type: wire::OrdType::Limit,
                    time_in_force: wire::TimeInForce::GoodTillCancel,
                    ..Default::default()
                })
            }
        };
        StreamMessage {
            account: ACCOUNTS[who],
            cl_ord_id,
            payload: self.buf[..len].to_vec(),
        }
    }

    fn encode(&mut self, message: &impl Encode) -> usize {
        message
            .encode(&mut self.buf)
            .expect("256 bytes hold any order-entry message")
    }
}

/// The ClOrdID of an order-entry message (NewOrderSingle, cancel, cancel/replace).
#[must_use]
pub fn cl_ord_id_of(payload: &[u8]) -> Option<u64> {
    use exchange::protocol::codec::{decode, Inbound};
    match decode(payload).ok()? {
        Inbound::NewOrderSingle(v) => Some(v.to_plain().cl_ord_id),
        Inbound::OrderCancelRequest(v) => Some(v.to_plain().cl_ord_id),
        Inbound::OrderCancelReplaceRequest(v) => Some(v.to_plain().cl_ord_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_stream_with_counting_cl_ord_ids() {
        let mut a = OrderStream::new(7, 100);
        let mut b = OrderStream::new(7, 100);
        for i in 0..500 {
            let (x, y) = (a.next_message(), b.next_message());
            assert_eq!(x.payload, y.payload);
            assert_eq!(x.cl_ord_id, 100 + i);
            assert_eq!(cl_ord_id_of(&x.payload), Some(x.cl_ord_id));
        }
    }
}
