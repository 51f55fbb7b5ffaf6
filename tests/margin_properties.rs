//! Property tests of margin financing: a margin client borrowing to buy BTC, selling, repaying,
//! its securities collateral revalued, the BTC index jumping both ways, time passing. After
//! every command:
//! (a) every asset is conserved: `total_holdings` changes only by deposits, and interest only
//!     moves USD from the borrower to the venue's interest income;
//! (b) the borrower never ends a command with negative equity at market value (USD + BTC at
//!     the index + securities before haircut): the call and close-out levels and the
//!     margin-loan fund (sales, takeover at the floor, write-off) see to it;
//! (c) a close-out never outlives its command while the index is valid and the fund can pay;
//! (d) the same commands give the same digest on a second engine (determinism).

mod common;

use common::*;
use exchange::engine::margin::MarginStatus;
use exchange::engine::{AccountId, AdminCommand, Asset, Command, RatePpm, Side, Units};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const USD: i64 = 100_000_000;
/// 1 BTC in lots of BTC-USD.
const BTC: i64 = 100_000;
const CLIENT: AccountId = AccountId(20);
const FUND: AccountId = AccountId(21);

#[derive(Clone, Debug)]
enum Op {
    /// MM2 offers `lots` at `offset_bp` from the reference and the client buys them.
    Buy {
        lots: i64,
        offset_bp: i64,
    },
    /// MM1 bids `lots` at `offset_bp` from the reference and the client sells into it.
    Sell {
        lots: i64,
        offset_bp: i64,
    },
    /// MM1 rests a bid near the index (liquidity for close-outs).
    Bid {
        lots: i64,
        offset_bp: i64,
    },
    /// The BTC index moves by `move_bp`.
    Index {
        move_bp: i64,
    },
    /// The operator revalues the client's securities (the configured class 0: down to zero).
    Securities {
        value_usd: i64,
        haircut_ppm: i64,
    },
    Deposit {
        usd: i64,
    },
    /// Time passes (interest), then the index is published again at its level.
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..(4 * BTC), -300i64..300).prop_map(|(lots, offset_bp)| Op::Buy { lots, offset_bp }),
        2 => (1..(2 * BTC), -300i64..300).prop_map(|(lots, offset_bp)| Op::Sell { lots, offset_bp }),
        2 => (1..(2 * BTC), -900i64..0).prop_map(|(lots, offset_bp)| Op::Bid { lots, offset_bp }),
        3 => (-3_000i64..2_000).prop_map(|move_bp| Op::Index { move_bp }),
        2 => (0i64..1_500_000, 300_000i64..600_000)
            .prop_map(|(value_usd, haircut_ppm)| Op::Securities { value_usd, haircut_ppm }),
        1 => (1i64..100_000).prop_map(|usd| Op::Deposit { usd }),
        1 => (1u64..200_000).prop_map(|secs| Op::Advance { secs }),
    ]
}

/// The BTC index in whole USD.
fn index_usd(h: &Harness) -> i64 {
    h.engine.perp(BTC_PERP).unwrap().index.price.0 / 10
}

fn reference(h: &Harness) -> i64 {
    h.engine.instrument(BTC_USD).unwrap().reference.0
}

fn at_offset(price: i64, offset_bp: i64) -> i64 {
    price + price * offset_bp / 10_000
}

/// Applies `op`; returns the USD and BTC it brought into the venue.
fn apply(h: &mut Harness, op: &Op, cl: &mut u64) -> [i128; 3] {
    *cl += 2;
    let mut inflow = [0i128; 3];
    match *op {
        Op::Buy { lots, offset_bp } => {
            let price = at_offset(reference(h), offset_bp);
            h.place(limit(MM2, Side::Sell, price, lots, *cl));
            h.place(limit(CLIENT, Side::Buy, price, lots, *cl + 1));
        }
        Op::Sell { lots, offset_bp } => {
            let price = at_offset(reference(h), offset_bp);
            h.place(limit(MM1, Side::Buy, price, lots, *cl));
            h.place(limit(CLIENT, Side::Sell, price, lots, *cl + 1));
        }
        Op::Bid { lots, offset_bp } => {
            let price = at_offset(index_usd(h) * 10, offset_bp);
            h.place(limit(MM1, Side::Buy, price, lots, *cl));
        }
        Op::Index { move_bp } => {
            let price = at_offset(index_usd(h), move_bp).clamp(10_000, 900_000);
            h.publish_index(BTC_PERP, [price; 3]);
        }
        Op::Securities {
            value_usd,
            haircut_ppm,
        } => {
            h.apply(Command::Admin(AdminCommand::SetCollateralValue {
                account: CLIENT,
                class: 0,
                value: Units(value_usd * USD),
                haircut_ppm: RatePpm(haircut_ppm),
            }));
        }
        Op::Deposit { usd } => {
            let events = h.apply(Command::Admin(AdminCommand::Deposit {
                account: CLIENT,
                asset: Asset::Usd,
                amount: Units(usd * USD),
            }));
            if rejected(&events).is_none() {
                inflow[Asset::Usd.index()] += (usd * USD) as i128;
            }
        }
        Op::Advance { secs } => {
            let later = h.time_ns + secs * 1_000_000_000;
            h.at(later, Command::Tick);
            let price = index_usd(h);
            h.publish_index(BTC_PERP, [price; 3]);
        }
    }
    inflow
}

fn check(h: &Harness, holdings: &[i128; 3], step: usize) -> Result<(), TestCaseError> {
    for asset in Asset::ALL {
        prop_assert_eq!(
            h.engine.total_holdings(asset),
            holdings[asset.index()],
            "{} at step {}",
            asset,
            step
        );
    }
    let client = h.engine.account(CLIENT).unwrap();
    prop_assert_eq!(client.margin.interest_charged, h.engine.interest_income());
    let index = &h.engine.perp(BTC_PERP).unwrap().index;
    if !index.is_valid(h.engine.now()) {
        return Ok(());
    }
    let btc_units = client.balance(Asset::Btc).total().0 as i128;
    let btc_value = btc_units * index.price.0 as i128 * 10_000_000 / 100_000_000;
    let securities: i128 = client
        .margin
        .securities
        .iter()
        .map(|s| s.value.0 as i128)
        .sum();
    let equity = client.balance(Asset::Usd).total().0 as i128 + btc_value + securities;
    prop_assert!(
        equity >= 0,
        "negative market equity {} at step {}",
        equity,
        step
    );
    prop_assert_ne!(
        client.margin.status,
        MarginStatus::CloseOut,
        "close-out left open at step {}",
        step
    );
    // The trigger index found every crossing: the status is what the exact coverage says.
    let coverage = h.engine.loan_view(CLIENT).unwrap().coverage_ppm;
    let rules = h.engine.limits().margin;
    let expected = if coverage < rules.call_ratio_ppm.0 {
        MarginStatus::Call
    } else {
        MarginStatus::Normal
    };
    prop_assert_eq!(
        client.margin.status,
        expected,
        "coverage {} at step {}",
        coverage,
        step
    );
    prop_assert!(
        coverage >= rules.close_out_ratio_ppm.0,
        "coverage {} at step {}",
        coverage,
        step
    );
    Ok(())
}

fn run(ops: &[Op]) -> Result<u64, TestCaseError> {
    let mut h = Harness::new();
    // A deep margin-loan fund: the properties assume the fund can pay.
    h.apply(Command::Admin(AdminCommand::Deposit {
        account: FUND,
        asset: Asset::Usd,
        amount: Units(100_000_000 * USD),
    }));
    h.publish_index(BTC_PERP, [100_000; 3]);
    let mut holdings = Asset::ALL.map(|asset| h.engine.total_holdings(asset));
    let mut cl = 0;
    for (step, op) in ops.iter().enumerate() {
        let inflow = apply(&mut h, op, &mut cl);
        for (held, added) in holdings.iter_mut().zip(inflow) {
            *held += added;
        }
        check(&h, &holdings, step)?;
    }
    Ok(h.engine.digest())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn margin_financing_conserves_money_and_equity(ops in prop::collection::vec(op(), 1..60)) {
        let first = run(&ops)?;
        let second = run(&ops)?;
        prop_assert_eq!(first, second, "same commands, same digest");
    }
}
