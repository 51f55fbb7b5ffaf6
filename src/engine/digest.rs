//! A deterministic digest of the complete engine state. The sequencer journals it every N
//! records; replay must reproduce each one bit for bit.
//!
//! Everything that influences future behaviour is hashed, in a fixed order: counters and time,
//! each instrument (status, reference price, both sides level by level from the best price,
//! each order in queue order), each account (attributes, balances, open orders), venue fees,
//! retired ClOrdIDs (their rolling hash, kept as they come and go), then each perpetual market (`perp::persist`), then market maker
//! protection (`mmp`, once any account configured it).
//! The hash is SplitMix64's finaliser folded over 64-bit words: not cryptographic, but stable
//! across platforms and releases, which is what replay needs.

use super::account::NIL;
use super::asset::Asset;
use super::order::{Order, Side};
use super::state::Engine;

/// Folds 64-bit words into a digest.
#[derive(Clone, Copy, Debug)]
pub struct Digest {
    state: u64,
}

impl Default for Digest {
    fn default() -> Digest {
        Digest {
            state: 0x243F_6A88_85A3_08D3,
        }
    }
}

impl Digest {
    #[inline]
    pub fn word(&mut self, word: u64) {
        self.state = finalise(self.state ^ finalise(word.wrapping_add(0x9E37_79B9_7F4A_7C15)));
    }

    #[inline]
    pub fn signed(&mut self, word: i64) {
        self.word(word as u64);
    }

    pub fn finish(&self) -> u64 {
        finalise(self.state)
    }
}

#[inline]
fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Engine {
    /// The digest of the whole state.
    pub fn digest(&self) -> u64 {
        let mut d = Digest::default();
        d.word(self.order_ids.next_serial());
        d.word(self.next_trade_id);
        d.word(self.now);
        for inst in &self.instruments {
            d.word(inst.spec.id.0 as u64);
            d.word(inst.halted as u64);
            d.signed(inst.reference.0);
            for side in [Side::Buy, Side::Sell] {
                inst.book.for_each_level(side, |level| {
                    d.signed(level.price.0);
                    d.signed(level.qty.0);
                    d.word(level.count as u64);
                    let mut slot = level.head;
                    while slot != NIL {
                        let order = self.pool.get(slot);
                        hash_order(&mut d, order);
                        slot = order.next;
                    }
                });
            }
        }
        for account in self.accounts() {
            hash_account(&mut d, account);
            // The list order decides the order of mass-cancel events, so it is state.
            let mut slot = account.orders_head;
            while slot != NIL {
                let order = self.pool.get(slot);
                d.word(order.id.0);
                slot = order.acc_next;
            }
        }
        for asset in Asset::ALL {
            d.signed(self.fees(asset).0);
        }
        d.signed(self.interest_income.0);
        d.word(self.cl_ids.retired_len() as u64);
        d.word(self.cl_ids.window_hash());
        for id in &self.perps {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            perp.encode(&mut |w| d.word(w));
        }
        // Only once configured: journals from before MMP keep their digests.
        if !self.mmp.states().is_empty() {
            self.mmp.encode(&mut |w| d.word(w));
        }
        d.finish()
    }
}

fn hash_order(d: &mut Digest, order: &Order) {
    d.word(order.id.0);
    d.word(order.cl_ord_id);
    d.word(order.account.0 as u64);
    d.word(order.side as u64);
    d.word(order.tif as u64);
    d.word(order.flags as u64);
    d.word(order.stp as u64);
    d.word(order.owner_group as u64);
    d.signed(order.price.0);
    d.signed(order.open.0);
    d.signed(order.filled.0);
    d.signed(order.hold_per_lot.0);
    d.word(order.expire_ns);
}

fn hash_account(d: &mut Digest, account: &super::account::Account) {
    let attrs = &account.attrs;
    d.word(account.id.0 as u64);
    d.word(attrs.client_class as u64);
    d.word(attrs.derivatives_knowledge as u64);
    d.word(attrs.risk_disclosure_version_acked as u64);
    d.word(attrs.securities_margin_client as u64);
    d.signed(attrs.credit_limit_usd.0);
    d.word(attrs.affiliate_mm as u64);
    d.word(attrs.owner_group as u64);
    d.word(attrs.blocked as u64);
    for balance in &account.balances {
        d.signed(balance.free.0);
        d.signed(balance.held.0);
    }
    account.margin.encode(&mut |w| d.word(w));
    d.word(account.open_orders as u64);
}
