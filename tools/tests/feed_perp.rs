//! The feed follows a perpetual's index, mark and funding rate from the incremental channel,
//! each command's last message still ends its event, and `--top` shows them.

mod common;

use exchange::engine::{
    AccountId, Command, InstrumentId, NewOrder, OrdType, PriceTicks, QtyLots, Side, StpMode,
    TimeInForce,
};
use exchange_tools::feed::top;

use common::{feed_and_config, settle, sync, Sim};

const BTC_PERP: InstrumentId = InstrumentId(2);
const USD: i64 = 100_000_000;

fn perp_order(account: u32, side: Side, cl_ord_id: u64) -> Command {
    Command::NewOrder(NewOrder {
        account: AccountId(account),
        instrument: BTC_PERP,
        cl_ord_id,
        side,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        price: PriceTicks(1_000_000),
        qty: QtyLots(100_000),
        expire_ns: 0,
        flags: 0,
        stp: StpMode::CancelResting,
    })
}

#[test]
fn index_mark_and_funding_reach_the_feed_and_its_top_view() {
    let (mut feed, md) = feed_and_config(20);
    let mut sim = Sim::new(&md, 5);
    assert!(sync(&mut sim, &mut feed, 200), "feed never synced");
    // 5 s before the first premium sample (whole minutes), so the index is fresh for it.
    sim.time_ns = 55_000_000_000;
    sim.publish_index(BTC_PERP, [100_000 * USD, 100_010 * USD, 99_990 * USD]);
    sim.apply(perp_order(2, Side::Sell, 1));
    sim.apply(perp_order(1, Side::Buy, 2));
    sim.time_ns = 60_000_000_000;
    sim.apply(Command::Tick);
    sim.flush();
    let last = sim.publisher.last_incremental_seq();
    assert!(
        settle(&mut feed, last, std::time::Duration::from_secs(5)),
        "feed did not catch up: {:?}",
        feed.handler.stats
    );
    let handler = &feed.handler;
    assert_eq!(handler.stats.decode_errors, 0);
    assert!(
        handler.last_event_complete,
        "the last message ends its command"
    );
    let book = &handler.books[&3];
    assert_eq!(book.perp.index, Some((100_000 * USD, 3)));
    let mark = book.perp.mark_px.expect("a mark after the index");
    let engine_mark = sim.engine.perp(BTC_PERP).unwrap().mark.price.0 * 10_000_000;
    assert_eq!(mark, engine_mark);
    let funding = book.perp.funding.expect("a premium sample at 60 s");
    assert_eq!(
        funding.settled_ns, 0,
        "a running estimate, not a settlement"
    );
    assert_eq!(funding.next_funding_ns, 28_800_000_000_000);
    // The spot books have no perpetual prices.
    assert!(!handler.books[&1].perp.is_known());
    let screen = top::render(handler);
    let line = screen
        .lines()
        .find(|l| l.contains("estimate"))
        .unwrap_or_else(|| panic!("no perpetual line in:\n{screen}"));
    assert!(line.contains("100000"), "{line}");
    assert!(line.contains("08:00:00"), "{line}");
    println!("{screen}");
}
