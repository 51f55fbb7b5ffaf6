//! Repeating groups: the `groupSizeEncoding` dimension (blockLength u16, numInGroup u16), a
//! zero-copy view over validated entries, and a fixed-capacity owned list for encoding.

use std::fmt;
use std::marker::PhantomData;

use super::error::{DecodeError, EncodeError};
use super::wire;

/// Size of the group dimension header.
pub const DIMENSION_LEN: usize = 4;

/// A fixed-size group entry, generated from the schema.
pub trait GroupEntry: Copy + Default {
    /// Entry block length.
    const BLOCK_LENGTH: usize;
    /// Group name in the schema.
    const NAME: &'static str;
    /// Rejects invalid enum or set values in an entry block.
    ///
    /// # Errors
    /// [`DecodeError::InvalidEnum`] or [`DecodeError::InvalidSet`].
    fn check(b: &[u8]) -> Result<(), DecodeError>;
    /// Reads an entry block that [`GroupEntry::check`] accepted.
    fn read(b: &[u8]) -> Self;
    /// Writes the entry into a block of exactly `BLOCK_LENGTH` bytes.
    fn write(&self, b: &mut [u8]);
}

/// Bytes a group of `count` entries occupies.
pub fn encoded_len<T: GroupEntry>(count: usize) -> usize {
    DIMENSION_LEN + count * T::BLOCK_LENGTH
}

/// Validates the group at the start of `bytes`; returns its view and its length in bytes.
///
/// # Errors
/// [`DecodeError::Truncated`], [`DecodeError::WrongGroupBlockLength`],
/// [`DecodeError::GroupTooLarge`] (more than `max` entries) or an entry's enum/set error.
pub fn read<T: GroupEntry>(
    bytes: &[u8],
    max: usize,
) -> Result<(GroupView<'_, T>, usize), DecodeError> {
    let dim = wire::take(bytes, DIMENSION_LEN)?;
    let block_length = wire::get_u16(dim, 0);
    let count = usize::from(wire::get_u16(dim, 2));
    if usize::from(block_length) != T::BLOCK_LENGTH {
        return Err(DecodeError::WrongGroupBlockLength {
            group: T::NAME,
            expected: u16::try_from(T::BLOCK_LENGTH).unwrap_or(u16::MAX),
            actual: block_length,
        });
    }
    if count > max {
        return Err(DecodeError::GroupTooLarge {
            group: T::NAME,
            count,
            max,
        });
    }
    let body_len = count * T::BLOCK_LENGTH;
    let entries = wire::take(wire::rest(bytes, DIMENSION_LEN), body_len)?;
    for block in entries.chunks_exact(T::BLOCK_LENGTH) {
        T::check(block)?;
    }
    Ok((
        GroupView {
            entries,
            count,
            entry: PhantomData,
        },
        DIMENSION_LEN + body_len,
    ))
}

/// Writes dimension and entries at the start of `buf`; returns the bytes written.
///
/// The caller guarantees `buf` holds [`encoded_len`] bytes (encoders size-check first).
pub fn write<T: GroupEntry>(buf: &mut [u8], entries: &[T]) -> usize {
    let block_length = u16::try_from(T::BLOCK_LENGTH).unwrap_or(u16::MAX);
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    wire::put_u16(buf, 0, block_length);
    wire::put_u16(buf, 2, count);
    let mut pos = DIMENSION_LEN;
    for entry in entries {
        entry.write(&mut buf[pos..pos + T::BLOCK_LENGTH]);
        pos += T::BLOCK_LENGTH;
    }
    pos
}

/// Zero-copy view of a validated group.
#[derive(Clone, Copy)]
pub struct GroupView<'a, T: GroupEntry> {
    entries: &'a [u8],
    count: usize,
    entry: PhantomData<T>,
}

impl<'a, T: GroupEntry> GroupView<'a, T> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the group has no entry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Entry `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        let start = index.checked_mul(T::BLOCK_LENGTH)?;
        let block = self.entries.get(start..start + T::BLOCK_LENGTH)?;
        Some(T::read(block))
    }

    /// Iterates the entries, decoding each as it goes.
    pub fn iter(&self) -> GroupIter<'a, T> {
        GroupIter {
            blocks: self.entries.chunks_exact(T::BLOCK_LENGTH),
            entry: PhantomData,
        }
    }

    /// Copies the entries into an owned list (at most `N`; `wrap` already bounded the count).
    pub fn to_group_vec<const N: usize>(&self) -> GroupVec<T, N> {
        let mut out = GroupVec::new();
        for entry in self.iter() {
            if out.push(entry).is_err() {
                debug_assert!(false, "group {} longer than its validated maximum", T::NAME);
                break;
            }
        }
        out
    }
}

impl<T: GroupEntry + fmt::Debug> fmt::Debug for GroupView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the entries of a [`GroupView`].
#[derive(Debug, Clone)]
pub struct GroupIter<'a, T> {
    blocks: std::slice::ChunksExact<'a, u8>,
    entry: PhantomData<T>,
}

impl<T: GroupEntry> Iterator for GroupIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.blocks.next().map(T::read)
    }
}

/// An owned list of at most `N` entries, stored inline so messages stay `Copy` and
/// allocation-free.
#[derive(Clone, Copy)]
pub struct GroupVec<T: Copy + Default, const N: usize> {
    len: usize,
    items: [T; N],
}

impl<T: Copy + Default, const N: usize> GroupVec<T, N> {
    /// An empty list.
    pub fn new() -> Self {
        GroupVec {
            len: 0,
            items: [T::default(); N],
        }
    }

    /// A list holding a copy of `entries`.
    ///
    /// # Errors
    /// [`EncodeError::GroupFull`] if `entries` has more than `N` items.
    pub fn from_slice(entries: &[T]) -> Result<Self, EncodeError> {
        let mut out = Self::new();
        for entry in entries {
            out.push(*entry)?;
        }
        Ok(out)
    }

    /// Appends an entry.
    ///
    /// # Errors
    /// [`EncodeError::GroupFull`] if the list already holds `N` entries.
    pub fn push(&mut self, entry: T) -> Result<(), EncodeError> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(EncodeError::GroupFull { max: N })?;
        *slot = entry;
        self.len += 1;
        Ok(())
    }

    /// The entries.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy + Default, const N: usize> Default for GroupVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for GroupVec<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for GroupVec<T, N> {}

impl<T: Copy + Default + fmt::Debug, const N: usize> fmt::Debug for GroupVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}
