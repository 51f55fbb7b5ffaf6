//! Property tests of the perpetual engine over random streams of orders, cancels, index moves
//! and time advances across funding settlements, from four accounts:
//! (a) USD is conserved: `total_holdings(Usd)` never changes;
//! (b) positions net to zero and open interest is the sum of the longs;
//! (c) each settlement's payments sum to at most zero, each is `floor(−qty × mark × rate)`,
//!     and the venue's fee bucket moves by exactly the trading fees minus the payments;
//! (d) the book is never left crossed;
//! (e) with small caps, no position and no open interest ever exceeds its cap.

mod common;

use common::*;
use exchange::config::DEFAULT_TOML;
use exchange::engine::order::flags;
use exchange::engine::{
    AccountId, Amend, Asset, Cancel, Command, Event, NewOrder, OrderRef, PriceTicks, QtyLots, Side,
    TimeInForce, Units,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const S: u64 = 1_000_000_000;
/// Units of notional per tick and lot on BTC-USD-PERP.
const NPT: i128 = 100;
const TRADER: AccountId = AccountId(9);
const ACCOUNTS: [AccountId; 4] = [MM1, MM2, AFF1, TRADER];

#[derive(Clone, Debug)]
enum Op {
    /// A limit order `offset_bp` basis points from the mark.
    Order {
        account: usize,
        side: Side,
        offset_bp: i64,
        lots: i64,
        cl: u64,
        ioc: bool,
        reduce_only: bool,
    },
    Cancel {
        account: usize,
        cl: u64,
    },
    /// An amend to `lots` at `offset_bp` from the mark.
    Amend {
        account: usize,
        cl: u64,
        offset_bp: i64,
        lots: i64,
    },
    /// The index moves by `move_bp` basis points (and is fresh again).
    Index {
        move_bp: i64,
    },
    /// Time passes; the index may go stale and samples and settlements may fall due.
    Advance {
        secs: u64,
    },
    /// The index is republished a second before the next settlement, which then happens.
    Settle,
}

fn op() -> impl Strategy<Value = Op> {
    let order = (
        0..ACCOUNTS.len(),
        prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        -150i64..150,
        1i64..300_000,
        1u64..30,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(account, side, offset_bp, lots, cl, ioc, reduce_only)| Op::Order {
                account,
                side,
                offset_bp,
                lots,
                cl,
                ioc,
                reduce_only,
            },
        );
    let cancel = (0..ACCOUNTS.len(), 1u64..30).prop_map(|(account, cl)| Op::Cancel { account, cl });
    let amend = (0..ACCOUNTS.len(), 1u64..30, -150i64..150, 1i64..300_000).prop_map(
        |(account, cl, offset_bp, lots)| Op::Amend {
            account,
            cl,
            offset_bp,
            lots,
        },
    );
    prop_oneof![
        10 => order,
        2 => cancel,
        2 => amend,
        3 => (-300i64..300).prop_map(|move_bp| Op::Index { move_bp }),
        1 => (1u64..3 * 3_600).prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::Settle),
    ]
}

/// The engine under test with what the checks compare against.
struct Run {
    h: Harness,
    index_usd: i64,
    usd_start: i128,
}

impl Run {
    fn new(mut h: Harness) -> Run {
        h.add_trader(TRADER.0, &[(Asset::Usd, Units(50_000 * 100_000_000))]);
        h.publish_index(BTC_PERP, [100_000; 3]);
        let usd_start = h.engine.total_holdings(Asset::Usd);
        Run {
            h,
            index_usd: 100_000,
            usd_start,
        }
    }

    /// `offset_bp` basis points from the mark (from the index before there is one), in ticks.
    fn near_mark(&self, offset_bp: i64) -> i64 {
        let reference = match self.h.engine.perp(BTC_PERP).unwrap().mark.price.0 {
            0 => self.index_usd * 10,
            mark => mark,
        };
        (reference * (10_000 + offset_bp) / 10_000).max(1)
    }

    /// Applies `op`; returns every event it produced.
    fn apply(&mut self, op: &Op) -> Vec<Event> {
        match *op {
            Op::Order {
                account,
                side,
                offset_bp,
                lots,
                cl,
                ioc,
                reduce_only,
            } => {
                let price = self.near_mark(offset_bp);
                let h = &mut self.h;
                h.place(NewOrder {
                    tif: if ioc {
                        TimeInForce::Ioc
                    } else {
                        TimeInForce::Gtc
                    },
                    flags: if reduce_only { flags::REDUCE_ONLY } else { 0 },
                    ..perp_limit(ACCOUNTS[account], side, price, lots, cl)
                })
            }
            Op::Cancel { account, cl } => self.h.apply(Command::Cancel(Cancel {
                account: ACCOUNTS[account],
                order: OrderRef::ClOrdId(cl),
                cl_ord_id: 0,
            })),
            Op::Amend {
                account,
                cl,
                offset_bp,
                lots,
            } => {
                let price = self.near_mark(offset_bp);
                self.h.apply(Command::Amend(Amend {
                    account: ACCOUNTS[account],
                    order: OrderRef::ClOrdId(cl),
                    cl_ord_id: 0,
                    qty: QtyLots(lots),
                    price: PriceTicks(price),
                }))
            }
            Op::Index { move_bp } => {
                self.index_usd =
                    (self.index_usd * (10_000 + move_bp) / 10_000).clamp(50_000, 200_000);
                self.h.publish_index(BTC_PERP, [self.index_usd; 3])
            }
            Op::Advance { secs } => {
                let at = self.h.time_ns + secs * S;
                self.h.at(at, Command::Tick)
            }
            Op::Settle => {
                let h = &mut self.h;
                let next = h.engine.perp(BTC_PERP).unwrap().funding.next_settle_ns;
                let mut events = Vec::new();
                if next - S > h.time_ns {
                    h.time_ns = next - S - 1;
                    events.extend(h.publish_index(BTC_PERP, [self.index_usd; 3]));
                }
                let at = next.max(h.time_ns + 1);
                events.extend(h.at(at, Command::Tick));
                events
            }
        }
    }

    /// Invariants (a), (b) and (d) of the module comment, on the state after a command.
    fn check_state(&self) -> Result<(), TestCaseError> {
        let engine = &self.h.engine;
        prop_assert_eq!(engine.total_holdings(Asset::Usd), self.usd_start);
        let perp = engine.perp(BTC_PERP).unwrap();
        let mut net = 0i64;
        let mut longs = 0i64;
        for account in engine.accounts() {
            let qty = perp.position(account.id.0).qty;
            net += qty;
            longs += qty.max(0);
        }
        prop_assert_eq!(net, 0);
        prop_assert_eq!(perp.open_interest, QtyLots(longs));
        let book = &engine.instrument(BTC_PERP).unwrap().book;
        if let (Some(bid), Some(ask)) = (book.best(Side::Buy), book.best(Side::Sell)) {
            prop_assert!(bid < ask, "book left crossed: bid {} ask {}", bid, ask);
        }
        Ok(())
    }
}

/// Invariant (c) over one command's events, given the venue's USD fees before and after.
fn check_funding(events: &[Event], fees_moved: Units) -> Result<(), TestCaseError> {
    let mut settlement = Units::ZERO;
    let mut payments = Units::ZERO;
    let mut trading_fees = Units::ZERO;
    for event in events {
        match *event {
            Event::FundingPayment {
                qty,
                mark,
                rate_ppm,
                amount,
                ..
            } => {
                let raw = -(qty as i128) * mark.0 as i128 * NPT * rate_ppm as i128;
                prop_assert_eq!(amount.0 as i128, raw.div_euclid(1_000_000));
                settlement += amount;
                payments += amount;
            }
            Event::FundingRate { settled_ns, .. } if settled_ns != 0 => {
                prop_assert!(
                    settlement <= Units::ZERO,
                    "settlement paid out {}",
                    settlement
                );
                settlement = Units::ZERO;
            }
            Event::Fill(fill) => trading_fees += fill.maker_fee + fill.taker_fee,
            _ => {}
        }
    }
    prop_assert_eq!(settlement, Units::ZERO, "payments without their settlement");
    prop_assert_eq!(fees_moved, trading_fees - payments);
    Ok(())
}

fn run_ops(mut run: Run, ops: &[Op], caps: Option<(i64, i64)>) -> Result<(), TestCaseError> {
    for op in ops {
        let fees_before = run.h.engine.fees(Asset::Usd);
        let events = run.apply(op);
        run.check_state()?;
        check_funding(&events, run.h.engine.fees(Asset::Usd) - fees_before)?;
        if let Some((position_max, open_interest_max)) = caps {
            let perp = run.h.engine.perp(BTC_PERP).unwrap();
            prop_assert!(perp.open_interest.0 <= open_interest_max);
            for account in ACCOUNTS {
                prop_assert!(perp.position(account.0).qty.abs() <= position_max);
            }
        }
    }
    Ok(())
}

/// The default configuration with BTC-USD-PERP capped at 2 BTC a position and 3 BTC of open
/// interest.
fn small_caps_config() -> String {
    DEFAULT_TOML
        .replacen(
            "open_interest_max = \"100000\"\n",
            "open_interest_max = \"3\"\n",
            1,
        )
        .replacen("position_max = \"10000\"\n", "position_max = \"2\"\n", 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn perp_streams_conserve_usd_positions_and_funding(
        ops in prop::collection::vec(op(), 1..150),
    ) {
        run_ops(Run::new(Harness::new()), &ops, None)?;
    }

    #[test]
    fn perp_streams_never_exceed_the_position_and_open_interest_caps(
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let h = Harness::with_config_text(&small_caps_config());
        run_ops(Run::new(h), &ops, Some((200_000, 300_000)))?;
    }
}

#[test]
fn payment_formula_matches_the_funding_module() {
    // The check in `check_funding` recomputes floor(−qty × mark × rate); one hand-computed
    // case keeps it honest: 3 lots short at 1 000 003 ticks, 500 ppm: 3 × 50 000.15 =
    // 150 000.45 units → 150 000.
    let event = Event::FundingPayment {
        account: MM1,
        instrument: BTC_PERP,
        qty: -3,
        mark: PriceTicks(1_000_003),
        rate_ppm: 500,
        amount: Units(150_000),
    };
    let settled = Event::FundingRate {
        instrument: BTC_PERP,
        rate_ppm: 500,
        next_funding_ns: 1,
        settled_ns: 1,
    };
    // A lone positive payment breaks (c): the venue would have created money.
    assert!(check_funding(&[event, settled], Units(-150_000)).is_err());
}
