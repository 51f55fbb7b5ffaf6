//! Who owns which account, as the journal declared it: every owner group an account was ever
//! given by an AccountSetup (the bootstrap's or a later operator's), and whether it is an
//! affiliate market maker. Surveillance keeps the whole history on purpose: moving an account
//! out of its group lets it pass self-trade prevention, and the trades it then makes with its
//! former group are exactly what must be flagged.

use rustc_hash::FxHashMap as HashMap;

use exchange::protocol::codec::{decode, BooleanFlag, Inbound};
use exchange::sequencer::{RecordKind, FLAG_OPERATOR};

use crate::tape::Step;

/// Most owner groups remembered per account (a limit: later ones are ignored).
const GROUPS_MAX: usize = 8;

/// What the journal declared about one account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    /// Every non-zero owner group the account was given, in order.
    pub groups: Vec<u32>,
    /// Declared an affiliate market maker at any time.
    pub affiliate_mm: bool,
}

/// The declared ownership of every account seen so far.
#[derive(Clone, Debug, Default)]
pub struct Ownership {
    accounts: HashMap<u32, Declared>,
}

impl Ownership {
    /// Records what an operator AccountSetup in `step` declares (other records are ignored).
    pub fn observe(&mut self, step: &Step<'_>) {
        let header = &step.header;
        if header.kind != RecordKind::Message as u16 || header.flags & FLAG_OPERATOR == 0 {
            return;
        }
        let Ok(Inbound::AccountSetup(view)) = decode(step.payload) else {
            return;
        };
        let Ok(account) = u32::try_from(view.account()) else {
            return;
        };
        let declared = self.accounts.entry(account).or_default();
        let group = view.owner_group();
        if group != 0 && !declared.groups.contains(&group) && declared.groups.len() < GROUPS_MAX {
            declared.groups.push(group);
        }
        declared.affiliate_mm |= view.affiliate_mm() == BooleanFlag::True;
    }

    /// True when `account` was ever declared an affiliate market maker.
    #[must_use]
    pub fn is_affiliate(&self, account: u32) -> bool {
        self.accounts.get(&account).is_some_and(|d| d.affiliate_mm)
    }

    /// True when two distinct accounts ever shared a (non-zero) owner group.
    #[must_use]
    pub fn related(&self, a: u32, b: u32) -> bool {
        if a == b {
            return true;
        }
        let (Some(x), Some(y)) = (self.accounts.get(&a), self.accounts.get(&b)) else {
            return false;
        };
        x.groups.iter().any(|g| y.groups.contains(g))
    }

    /// The groups `account` was declared in (empty if none).
    #[must_use]
    pub fn groups(&self, account: u32) -> &[u32] {
        self.accounts.get(&account).map_or(&[], |d| &d.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::messages::account_setup;
    use journal::RecordHeader;

    fn setup(ownership: &mut Ownership, account: u32, group: u32, operator: bool) {
        let payload = account_setup(1, account, group);
        let header = RecordHeader {
            seq: 1,
            time_ns: 1,
            kind: RecordKind::Message as u16,
            flags: if operator { FLAG_OPERATOR } else { 0 },
            source: 5,
        };
        let step = Step {
            header,
            payload: &payload,
            events: &[],
        };
        ownership.observe(&step);
    }

    #[test]
    fn accounts_stay_related_after_one_leaves_the_group() {
        let mut ownership = Ownership::default();
        setup(&mut ownership, 20, 50, true);
        setup(&mut ownership, 21, 50, true);
        setup(&mut ownership, 22, 0, true);
        assert!(ownership.related(20, 21));
        setup(&mut ownership, 21, 0, true);
        assert!(
            ownership.related(20, 21),
            "moving out does not erase the history"
        );
        assert!(!ownership.related(20, 22), "group 0 is no group");
        assert_eq!(ownership.groups(21), &[50]);
    }

    #[test]
    fn account_setup_from_a_non_operator_declares_nothing() {
        let mut ownership = Ownership::default();
        setup(&mut ownership, 20, 50, false);
        setup(&mut ownership, 21, 50, true);
        assert!(!ownership.related(20, 21));
        assert!(ownership.groups(20).is_empty());
    }
}
