//! Property tests of the liquidation engine: leveraged traders, market makers providing (or
//! not) liquidity, and an index that jumps both ways. After every command:
//! (a) USD is conserved: `total_holdings(Usd)` never changes (fees, liquidation fees and
//!     fund takeovers only move money between accounts and the venue);
//! (b) positions net to zero and open interest is the sum of the longs;
//! (c) no account other than an insurance fund is left with negative equity: what a
//!     liquidation could not cover was taken by the fund or by ADL at the bankruptcy price.

mod common;

use common::*;
use exchange::engine::{AccountId, Asset, Command, Side, Units};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const USD: i64 = 100_000_000;
const BTC: i64 = 100_000;
const FUNDS: [u32; 2] = [6, 7];
/// Traders 9..=13.
const TRADERS: u32 = 5;

#[derive(Clone, Debug)]
enum Op {
    /// Trader `trader` trades `lots` (buy > 0) with MM2 at the mark.
    Open { trader: u32, lots: i64 },
    /// MM1 rests `lots` on `side` `offset_bp` from the mark.
    Liquidity {
        side: Side,
        offset_bp: i64,
        lots: i64,
    },
    /// The index moves by `move_bp`.
    Index { move_bp: i64 },
    /// Time passes (funding samples and settlements may fall due).
    Advance { secs: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..TRADERS, -(2 * BTC)..(2 * BTC))
            .prop_filter("non-zero", |(_, l)| *l != 0)
            .prop_map(|(trader, lots)| Op::Open { trader, lots }),
        2 => (prop_oneof![Just(Side::Buy), Just(Side::Sell)], 0i64..300, 1..BTC)
            .prop_map(|(side, offset_bp, lots)| Op::Liquidity { side, offset_bp, lots }),
        3 => (-1_500i64..1_500).prop_map(|move_bp| Op::Index { move_bp }),
        1 => (1u64..20_000).prop_map(|secs| Op::Advance { secs }),
    ]
}

fn mark(h: &Harness) -> i64 {
    h.engine.perp(BTC_PERP).unwrap().mark.price.0
}

fn check(h: &Harness, holdings: i128, step: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        h.engine.total_holdings(Asset::Usd),
        holdings,
        "USD at step {}",
        step
    );
    let perp = h.engine.perp(BTC_PERP).unwrap();
    let (mut net, mut longs) = (0i64, 0i64);
    for &holder in &perp.holders {
        let qty = perp.position(holder).qty;
        net += qty;
        longs += qty.max(0);
    }
    prop_assert_eq!(net, 0, "positions net to zero at step {}", step);
    prop_assert_eq!(
        longs,
        perp.open_interest.0,
        "open interest at step {}",
        step
    );
    for account in h.engine.accounts() {
        if FUNDS.contains(&account.id.0) {
            continue;
        }
        let equity = h.engine.margin_summary(account.id).unwrap().equity;
        prop_assert!(
            equity >= Units::ZERO,
            "account {} equity {} at step {}",
            account.id.0,
            equity.0,
            step
        );
    }
    Ok(())
}

fn run(deposits: &[i64], ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new();
    let mut index = 100_000i64 * USD;
    h.publish_sources(
        BTC_PERP,
        &[
            (1, index, h.time_ns + 1),
            (2, index, h.time_ns + 1),
            (3, index, h.time_ns + 1),
        ],
    );
    for (i, usd) in deposits.iter().enumerate() {
        h.add_trader(9 + i as u32, &[(Asset::Usd, Units(usd * USD))]);
    }
    let holdings = h.engine.total_holdings(Asset::Usd);
    let mut cl = 100;
    for (step, op) in ops.iter().enumerate() {
        cl += 2;
        match *op {
            Op::Open { trader, lots } => {
                let trader = AccountId(9 + trader);
                let (mm_side, side) = if lots > 0 {
                    (Side::Sell, Side::Buy)
                } else {
                    (Side::Buy, Side::Sell)
                };
                let price = mark(&h);
                h.place(perp_limit(MM2, mm_side, price, lots.abs(), cl));
                h.place(perp_limit(trader, side, price, lots.abs(), cl + 1));
            }
            Op::Liquidity {
                side,
                offset_bp,
                lots,
            } => {
                let m = mark(&h);
                let price = match side {
                    Side::Buy => m - m * offset_bp / 10_000,
                    Side::Sell => m + m * offset_bp / 10_000,
                };
                h.place(perp_limit(MM1, side, price, lots, cl));
            }
            Op::Index { move_bp } => {
                index += index / 10_000 * move_bp;
                let now = h.time_ns + 1;
                h.publish_sources(
                    BTC_PERP,
                    &[(1, index, now), (2, index, now), (3, index, now)],
                );
            }
            Op::Advance { secs } => {
                // Keep the index fresh across the advance, as a feeder would.
                let at = h.time_ns + secs * 1_000_000_000;
                h.at(at, Command::Tick);
                let now = h.time_ns + 1;
                h.publish_sources(
                    BTC_PERP,
                    &[(1, index, now), (2, index, now), (3, index, now)],
                );
            }
        }
        check(&h, holdings, step)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn liquidations_conserve_money_and_leave_no_negative_equity(
        deposits in proptest::collection::vec(1_000i64..20_000, TRADERS as usize),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(&deposits, &ops)?;
    }
}

/// Found by the property: a liquidation order filled against a resting sell far below the new
/// mark, which left the seller below zero after the pass; a second pass liquidates it.
#[test]
fn a_liquidation_fill_against_a_stale_quote_is_followed_by_a_second_pass() {
    let deposits = [1000, 3874, 1000, 1000, 4848];
    let ops = vec![
        Op::Open {
            trader: 0,
            lots: -50001,
        },
        Op::Open {
            trader: 4,
            lots: -1,
        },
        Op::Open {
            trader: 4,
            lots: -1,
        },
        Op::Index { move_bp: -285 },
        Op::Advance { secs: 1 },
        Op::Open {
            trader: 4,
            lots: -42605,
        },
        Op::Liquidity {
            side: Side::Sell,
            offset_bp: 1,
            lots: 42571,
        },
        Op::Open {
            trader: 0,
            lots: 51465,
        },
        Op::Index { move_bp: 647 },
        Op::Open {
            trader: 0,
            lots: -39192,
        },
        Op::Index { move_bp: 657 },
    ];
    run(&deposits, &ops).unwrap();
}
