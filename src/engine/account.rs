//! Accounts: regulatory attributes (SPEC §2) and per-asset balances.

use super::asset::Asset;
use super::margin::MarginAccount;
use super::types::{AccountId, Units};

/// SFC client classification; perpetuals are for professional investors only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ClientClass {
    #[default]
    Retail = 0,
    Professional = 1,
}

/// The attributes an operator sets on an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccountAttrs {
    pub client_class: ClientClass,
    pub derivatives_knowledge: bool,
    /// Version of the risk disclosure the client acknowledged (0 = none).
    pub risk_disclosure_version_acked: u32,
    pub securities_margin_client: bool,
    pub credit_limit_usd: Units,
    pub affiliate_mm: bool,
    /// Accounts with the same non-zero owner group never trade with each other.
    pub owner_group: u32,
    /// Set by the operator's kill switch: no new orders.
    pub blocked: bool,
}

/// One asset's balance. `free + held` is what the account owns; `held` backs open orders.
///
/// Invariant: `held >= 0`, and `free >= 0` except for USD, which perpetual losses, fees and
/// funding may take below zero: the account's equity (`risk`) then covers it. For a margin
/// client a negative USD balance is its loan (`margin`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Balance {
    pub free: Units,
    pub held: Units,
}

impl Balance {
    #[inline]
    pub fn total(&self) -> Units {
        self.free + self.held
    }
}

/// No order in an intrusive list.
pub const NIL: u32 = u32::MAX;

/// An account and the head of its intrusive list of open orders (for mass cancel and kill switch).
#[derive(Clone, Debug, Default)]
pub struct Account {
    pub id: AccountId,
    pub attrs: AccountAttrs,
    pub balances: [Balance; Asset::COUNT],
    /// Pool slot of the first open order, or `NIL`.
    pub orders_head: u32,
    pub open_orders: u32,
    /// Margin-financing state (securities collateral, interest, call status).
    pub margin: MarginAccount,
}

impl Account {
    pub fn new(id: AccountId, attrs: AccountAttrs) -> Account {
        Account {
            id,
            attrs,
            balances: [Balance::default(); Asset::COUNT],
            orders_head: NIL,
            open_orders: 0,
            margin: MarginAccount::default(),
        }
    }

    #[inline]
    pub fn balance(&self, asset: Asset) -> &Balance {
        &self.balances[asset.index()]
    }

    #[inline]
    pub fn balance_mut(&mut self, asset: Asset) -> &mut Balance {
        &mut self.balances[asset.index()]
    }

    /// Moves `amount` from free to held.
    #[inline]
    pub fn hold(&mut self, asset: Asset, amount: Units) {
        let balance = self.balance_mut(asset);
        // USD may go below zero for a margin-financed buy, whose borrowing was checked.
        debug_assert!(
            balance.free >= amount || asset == Asset::Usd,
            "hold beyond free balance"
        );
        balance.free -= amount;
        balance.held += amount;
    }

    /// Moves `amount` from held back to free.
    #[inline]
    pub fn release(&mut self, asset: Asset, amount: Units) {
        let balance = self.balance_mut(asset);
        debug_assert!(balance.held >= amount, "release beyond held balance");
        balance.held -= amount;
        balance.free += amount;
    }
}
