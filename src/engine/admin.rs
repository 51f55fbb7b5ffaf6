//! Operator commands: accounts, deposits and withdrawals, securities collateral, halts, the
//! kill switch.

use super::account::Account;
use super::asset::Asset;
use super::command::AdminCommand;
use super::event::{CancelReason, Event, EventSink};
use super::margin::{SecurityCollateral, MAX_SECURITY_CLASSES};
use super::reject::RejectReason;
use super::risk::Outflow;
use super::state::Engine;
use super::types::{AccountId, InstrumentId, RatePpm, Units, PPM};

/// The outcome of an operator command: the account and reason of a reject.
type AdminResult = Result<(), (AccountId, RejectReason)>;

impl Engine {
    pub(crate) fn admin(&mut self, cmd: &AdminCommand, sink: &mut impl EventSink) {
        let result = match *cmd {
            AdminCommand::Deposit {
                account, amount, ..
            }
            | AdminCommand::Withdraw {
                account, amount, ..
            } if amount <= Units::ZERO => Err((account, RejectReason::InvalidAmount)),
            AdminCommand::CreateAccount { account, attrs } => {
                self.create_account(account, attrs, sink)
            }
            AdminCommand::SetAccountAttrs { account, attrs } => {
                self.set_attrs(account, attrs, sink)
            }
            AdminCommand::Deposit {
                account,
                asset,
                amount,
            } => self.move_funds(account, asset, amount, sink),
            AdminCommand::Withdraw {
                account,
                asset,
                amount,
            } => self.move_funds(account, asset, -amount, sink),
            AdminCommand::Halt { instrument } => self.set_halted(instrument, true, sink),
            AdminCommand::Resume { instrument } => self.set_halted(instrument, false, sink),
            AdminCommand::KillAccount { account } => self.kill(account, sink),
            AdminCommand::SetCollateralValue {
                account,
                class,
                value,
                haircut_ppm,
            } => self.set_collateral_value(account, class, value, haircut_ppm, sink),
            AdminCommand::KillGroup { owner_group } => self.kill_group(owner_group, sink),
            AdminCommand::UnblockAccount { account } => self.unblock(account, sink),
            AdminCommand::UnblockGroup { owner_group } => self.unblock_group(owner_group, sink),
        };
        if let Err((account, reason)) = result {
            sink.event(&Event::AdminRejected { account, reason });
        }
    }

    /// Creates an account with zero balances. Ids are dense: any id below the capacity.
    ///
    /// # Errors
    /// `AccountTableFull` beyond the configured capacity, `AccountExists` for a taken id.
    pub fn create_account(
        &mut self,
        account: AccountId,
        attrs: super::account::AccountAttrs,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        let index = account.0 as usize;
        if index >= self.limits.max_accounts as usize {
            return Err((account, RejectReason::AccountTableFull));
        }
        if self.account(account).is_some() {
            return Err((account, RejectReason::AccountExists));
        }
        while self.accounts.len() <= index {
            let id = AccountId(self.accounts.len() as u32);
            self.accounts.push(Account::new(id, Default::default()));
            self.account_exists.push(false);
        }
        self.accounts[index] = Account::new(account, attrs);
        self.account_exists[index] = true;
        self.refresh_margin_membership(account);
        for inst in &mut self.instruments {
            if let Some(perp) = inst.perp.as_mut() {
                perp.ensure_account(account.0);
            }
        }
        sink.event(&Event::AccountUpdated { account });
        Ok(())
    }

    fn set_attrs(
        &mut self,
        account: AccountId,
        attrs: super::account::AccountAttrs,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        if self.account(account).is_none() {
            return Err((account, RejectReason::UnknownAccount));
        }
        self.accounts[account.0 as usize].attrs = attrs;
        self.refresh_margin_membership(account);
        // A new credit limit or eligibility can change the margin status.
        self.mark_dirty(account);
        sink.event(&Event::AccountUpdated { account });
        Ok(())
    }

    /// Adds `amount` (negative: withdraws) to the account's free balance.
    fn move_funds(
        &mut self,
        account: AccountId,
        asset: Asset,
        amount: Units,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        if self.account(account).is_none() {
            return Err((account, RejectReason::UnknownAccount));
        }
        if amount < Units::ZERO {
            let acc = &self.accounts[account.0 as usize];
            self.check_margin_withdrawal(acc, asset, -amount)
                .map_err(|reason| (account, reason))?;
        }
        if amount < Units::ZERO && self.has_perp_exposure(account) {
            // A withdrawal must leave the initial margin covered.
            let outflow = Outflow {
                asset: Some(asset),
                amount: -amount,
            };
            let acc = &self.accounts[account.0 as usize];
            self.check_initial_margin(acc, None, outflow)
                .map_err(|reason| (account, reason))?;
        }
        let balance = self.accounts[account.0 as usize].balance_mut(asset);
        let Some(free) = balance.free.0.checked_add(amount.0) else {
            return Err((account, RejectReason::InvalidAmount));
        };
        // A deposit may leave USD below zero (it repays part of a loan or a realised loss); a
        // withdrawal needs the free balance.
        if amount < Units::ZERO && free < 0 {
            return Err((account, RejectReason::InsufficientFunds));
        }
        balance.free = Units(free);
        let (free, held) = (balance.free, balance.held);
        self.mark_dirty(account);
        sink.event(&Event::BalanceChanged {
            account,
            asset,
            free,
            held,
        });
        Ok(())
    }

    /// Posts securities collateral of `class` for `account` (value before haircut).
    fn set_collateral_value(
        &mut self,
        account: AccountId,
        class: u16,
        value: Units,
        haircut_ppm: RatePpm,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        if self.account(account).is_none() {
            return Err((account, RejectReason::UnknownAccount));
        }
        if class as usize >= MAX_SECURITY_CLASSES {
            return Err((account, RejectReason::UnknownSecurityClass));
        }
        if value < Units::ZERO {
            return Err((account, RejectReason::InvalidAmount));
        }
        if haircut_ppm.0 < 0 || haircut_ppm.0 > PPM {
            return Err((account, RejectReason::InvalidHaircut));
        }
        let collateral = SecurityCollateral { value, haircut_ppm };
        self.accounts[account.0 as usize]
            .margin
            .post(class as usize, collateral);
        self.mark_dirty(account);
        sink.event(&Event::AccountUpdated { account });
        Ok(())
    }

    fn set_halted(
        &mut self,
        instrument: InstrumentId,
        halted: bool,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return Err((AccountId(0), RejectReason::UnknownInstrument));
        };
        inst.halted = halted;
        sink.event(&Event::InstrumentStatus { instrument, halted });
        Ok(())
    }

    fn kill(
        &mut self,
        account: AccountId,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        if self.account(account).is_none() {
            return Err((account, RejectReason::UnknownAccount));
        }
        self.accounts[account.0 as usize].attrs.blocked = true;
        self.cancel_all_of(account, CancelReason::Killed, sink);
        sink.event(&Event::AccountUpdated { account });
        Ok(())
    }
}

impl Engine {
    /// The accounts of `owner_group` in id order (group 0 is "no group": none).
    fn group_members(&self, owner_group: u32) -> Vec<AccountId> {
        if owner_group == 0 {
            return Vec::new();
        }
        (0..self.accounts.len() as u32)
            .map(AccountId)
            .filter(|&a| {
                self.account(a)
                    .is_some_and(|x| x.attrs.owner_group == owner_group)
            })
            .collect()
    }

    /// Kills every account of the group, in account id order (so replay cancels in the same
    /// order). An operator command, not on the order path: the member list may allocate.
    fn kill_group(
        &mut self,
        owner_group: u32,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        self.for_each_member(owner_group, sink, Self::kill)
    }

    /// Applies `each` to every account of `owner_group`, in account id order.
    ///
    /// # Errors
    /// `UnknownOwnerGroup` when no account belongs to it, or the first error of `each`.
    fn for_each_member<S: EventSink>(
        &mut self,
        owner_group: u32,
        sink: &mut S,
        each: fn(&mut Self, AccountId, &mut S) -> AdminResult,
    ) -> Result<(), (AccountId, RejectReason)> {
        let members = self.group_members(owner_group);
        if members.is_empty() {
            return Err((AccountId(0), RejectReason::UnknownOwnerGroup));
        }
        for account in members {
            each(self, account, sink)?;
        }
        Ok(())
    }

    fn unblock(
        &mut self,
        account: AccountId,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        if self.account(account).is_none() {
            return Err((account, RejectReason::UnknownAccount));
        }
        self.accounts[account.0 as usize].attrs.blocked = false;
        sink.event(&Event::AccountUpdated { account });
        Ok(())
    }

    fn unblock_group(
        &mut self,
        owner_group: u32,
        sink: &mut impl EventSink,
    ) -> Result<(), (AccountId, RejectReason)> {
        self.for_each_member(owner_group, sink, Self::unblock)
    }
}
