//! A set of account ids for per-command work lists: membership in O(1) by a flag per
//! account, the members in a list in the order they joined. Sized at start-up; never grows.

/// Account ids below the capacity given at construction.
pub struct AccountSet {
    members: Vec<u32>,
    flags: Vec<bool>,
}

impl AccountSet {
    /// A set for ids below `max_accounts`.
    pub fn new(max_accounts: usize) -> AccountSet {
        AccountSet {
            members: Vec::with_capacity(max_accounts),
            flags: vec![false; max_accounts],
        }
    }

    /// Adds `account` at the end of the list unless it is a member already.
    #[inline]
    pub fn insert(&mut self, account: u32) {
        let flag = &mut self.flags[account as usize];
        if !*flag {
            *flag = true;
            self.members.push(account);
        }
    }

    /// Makes `account` a member or not. Removal is O(members): for sets that change rarely.
    pub fn set(&mut self, account: u32, member: bool) {
        let flag = &mut self.flags[account as usize];
        if *flag == member {
            return;
        }
        *flag = member;
        if member {
            self.members.push(account);
        } else if let Some(at) = self.members.iter().position(|a| *a == account) {
            self.members.swap_remove(at);
        }
    }

    /// Takes the last member out.
    #[inline]
    pub fn pop(&mut self) -> Option<u32> {
        let account = self.members.pop()?;
        self.flags[account as usize] = false;
        Some(account)
    }

    /// The members, in list order.
    #[inline]
    pub fn members(&self) -> &[u32] {
        &self.members
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Sorts the list by id (the order work is done in must not depend on the order of
    /// marking).
    pub fn sort(&mut self) {
        self.members.sort_unstable();
    }

    /// Working through the list in place, step one: `account`, reached in the list, stops
    /// being a member (marking it again appends it anew), while members not reached yet
    /// stay members. Step two, [`AccountSet::drop_front`], removes the entries worked on.
    #[inline]
    pub fn leave(&mut self, account: u32) {
        self.flags[account as usize] = false;
    }

    /// Removes the first `count` list entries, each of which [`AccountSet::leave`] ended.
    pub fn drop_front(&mut self, count: usize) {
        debug_assert!(self.members[..count]
            .iter()
            .all(|a| !self.flags[*a as usize]));
        self.members.drain(..count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_join_once_and_leave() {
        let mut set = AccountSet::new(8);
        set.insert(3);
        set.insert(1);
        set.insert(3);
        assert_eq!(set.members(), [3, 1]);
        set.set(3, false);
        assert_eq!(set.members(), [1]);
        set.set(5, true);
        set.sort();
        assert_eq!(set.members(), [1, 5]);
        assert_eq!(set.pop(), Some(5));
        set.insert(5);
        assert_eq!(set.members(), [1, 5], "5 left with pop and joined again");
        set.pop();
        set.insert(4);
        set.leave(1);
        set.insert(1);
        set.drop_front(1);
        assert_eq!(set.members(), [4, 1], "1 left and joined again");
    }
}
