//! One index segment file: the engine state at the segment's start and, for the records of the
//! segment, sorted tables of the orders they concern and the ClOrdIDs they first use.
//!
//! File `segment-{base_seq:020}-{end_seq:020}.oix`, little-endian:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "EXOHIX01"
//!      8     4  format version
//!     12     4  crc32c of bytes 16..88
//!     16     8  configuration fingerprint
//!     24     8  base_seq: the snapshot is the engine after this record (0: a fresh engine)
//!     32     8  end_seq: the segment's records are base_seq+1 ..= end_seq
//!     40     8  snapshot length (0 for a fresh engine)
//!     48     8  order rows
//!     56     8  ClOrdID rows
//!     64     8  smallest OrderID in the order rows
//!     72     8  largest OrderID in the order rows
//!     80     4  crc32c of the snapshot
//!     84     4  crc32c of the two fence arrays
//!     88     -  snapshot, order fences, ClOrdID fences, order rows, ClOrdID rows
//! ```
//!
//! Rows are sorted by key and cut into blocks of [`BLOCK_ROWS`]; a fence per block holds the
//! block's first key and its crc32c. A lookup reads the header and fences, then one block,
//! whose checksum it verifies: two small reads per segment, however big the table.
//!
//! Order row (16 bytes): OrderID u64, first touch u32 and last touch u32 as offsets from
//! `base_seq`, the last one's top bit set when the order ended there. ClOrdID row (24 bytes):
//! ClOrdID u64, account u32, offset of the first use u32 with the use in its top 2 bits
//! (0 accepted, 1 amended to, 2 rejected), OrderID u64 (0 when rejected).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use exchange::engine::{AccountId, OrderId};

use super::error::IndexError;
use crate::order_history::ClOrdIdUse;

/// Version of the segment and manifest formats; a different one is refused, not guessed at.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: [u8; 8] = *b"EXOHIX01";
const HEADER_LEN: usize = 88;
/// Rows per checksummed block: 4 KiB of order rows, 6 KiB of ClOrdID rows.
const BLOCK_ROWS: usize = 256;
/// First key (u128) and crc32c of a block, 4 bytes reserved.
const FENCE_LEN: usize = 24;
/// The most records a segment may hold: offsets from `base_seq` keep 30 bits.
pub const SEGMENT_RECORDS_MAX: u64 = (1 << 30) - 1;
const OFFSET_MASK: u32 = (1 << 30) - 1;
const ORDER_DONE: u32 = 1 << 31;

/// What the records of one segment did to one order: the first and last record (in this
/// segment) whose events concern it, and whether the last one ended it. Touches after the
/// end are not kept: the history stops there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRow {
    pub order: OrderId,
    pub first_seq: u64,
    pub last_seq: u64,
    pub done: bool,
}

/// The first use, in one segment, of an account's ClOrdID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClOrdIdRow {
    pub account: AccountId,
    pub cl_ord_id: u64,
    pub seq: u64,
    pub used: ClOrdIdUse,
}

/// A fixed-width row of a sorted table.
pub(crate) trait Row: Copy {
    /// Bytes per row.
    const LEN: usize;
    /// The sort and lookup key.
    fn key(&self) -> u128;
    /// Appends the row; seqs are written as offsets from `base_seq`.
    fn put(&self, base_seq: u64, out: &mut Vec<u8>);
    /// Reads a row of exactly [`Row::LEN`] bytes, or says what is invalid in it.
    fn get(bytes: &[u8], base_seq: u64) -> Result<Self, &'static str>;
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("a 4-byte slice"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("an 8-byte slice"))
}

/// The offset of `seq` in a segment starting after `base_seq` (the builder keeps segments
/// within [`SEGMENT_RECORDS_MAX`] records, so it fits).
fn offset(seq: u64, base_seq: u64) -> u32 {
    let offset = seq - base_seq;
    debug_assert!((1..=SEGMENT_RECORDS_MAX).contains(&offset));
    offset as u32
}

impl Row for OrderRow {
    const LEN: usize = 16;

    fn key(&self) -> u128 {
        self.order.0 as u128
    }

    fn put(&self, base_seq: u64, out: &mut Vec<u8>) {
        let done = if self.done { ORDER_DONE } else { 0 };
        out.extend_from_slice(&self.order.0.to_le_bytes());
        out.extend_from_slice(&offset(self.first_seq, base_seq).to_le_bytes());
        out.extend_from_slice(&(offset(self.last_seq, base_seq) | done).to_le_bytes());
    }

    fn get(bytes: &[u8], base_seq: u64) -> Result<Self, &'static str> {
        let first = u32_at(bytes, 8);
        let last = u32_at(bytes, 12);
        if first == 0 || first > last & OFFSET_MASK {
            return Err("order row with its first touch after its last");
        }
        Ok(OrderRow {
            order: OrderId(u64_at(bytes, 0)),
            first_seq: base_seq + first as u64,
            last_seq: base_seq + (last & OFFSET_MASK) as u64,
            done: last & ORDER_DONE != 0,
        })
    }
}

impl ClOrdIdRow {
    /// The key of `account`'s ClOrdID `cl_ord_id`: account first, so an account's ClOrdIDs
    /// sort together.
    pub fn key_of(account: AccountId, cl_ord_id: u64) -> u128 {
        (account.0 as u128) << 64 | cl_ord_id as u128
    }
}

impl Row for ClOrdIdRow {
    const LEN: usize = 24;

    fn key(&self) -> u128 {
        ClOrdIdRow::key_of(self.account, self.cl_ord_id)
    }

    fn put(&self, base_seq: u64, out: &mut Vec<u8>) {
        let (used, order) = match self.used {
            ClOrdIdUse::Accepted(order) => (0u32, order.0),
            ClOrdIdUse::Amended(order) => (1, order.0),
            ClOrdIdUse::Rejected => (2, 0),
        };
        out.extend_from_slice(&self.cl_ord_id.to_le_bytes());
        out.extend_from_slice(&self.account.0.to_le_bytes());
        out.extend_from_slice(&(offset(self.seq, base_seq) | used << 30).to_le_bytes());
        out.extend_from_slice(&order.to_le_bytes());
    }

    fn get(bytes: &[u8], base_seq: u64) -> Result<Self, &'static str> {
        let packed = u32_at(bytes, 12);
        let order = OrderId(u64_at(bytes, 16));
        let used = match packed >> 30 {
            0 => ClOrdIdUse::Accepted(order),
            1 => ClOrdIdUse::Amended(order),
            2 => ClOrdIdUse::Rejected,
            _ => return Err("ClOrdID row with an unknown use"),
        };
        if packed & OFFSET_MASK == 0 {
            return Err("ClOrdID row at offset 0");
        }
        Ok(ClOrdIdRow {
            account: AccountId(u32_at(bytes, 8)),
            cl_ord_id: u64_at(bytes, 0),
            seq: base_seq + (packed & OFFSET_MASK) as u64,
            used,
        })
    }
}

/// A segment's contents, to be written.
pub struct SegmentData<'a> {
    pub fingerprint: u64,
    pub base_seq: u64,
    pub end_seq: u64,
    /// `Engine::snapshot` after `base_seq`; empty for a fresh engine (`base_seq` 0).
    pub snapshot: &'a [u8],
    /// Sorted by OrderID, one row per order.
    pub orders: &'a [OrderRow],
    /// Sorted by (account, ClOrdID), one row per key.
    pub cl_ord_ids: &'a [ClOrdIdRow],
}

/// The file name of the segment of records `base_seq+1 ..= end_seq`.
pub fn file_name(base_seq: u64, end_seq: u64) -> String {
    format!("segment-{base_seq:020}-{end_seq:020}.oix")
}

/// Rows as blocks, and a fence (first key, crc32c) per block.
fn encode_table<R: Row>(rows: &[R], base_seq: u64, fences: &mut Vec<u8>) -> Vec<u8> {
    debug_assert!(
        rows.windows(2).all(|w| w[0].key() < w[1].key()),
        "rows sorted, unique"
    );
    let mut bytes = Vec::with_capacity(rows.len() * R::LEN);
    for block in rows.chunks(BLOCK_ROWS) {
        let start = bytes.len();
        for row in block {
            row.put(base_seq, &mut bytes);
        }
        fences.extend_from_slice(&block[0].key().to_le_bytes());
        fences.extend_from_slice(&crc32c::crc32c(&bytes[start..]).to_le_bytes());
        fences.extend_from_slice(&[0; 4]);
    }
    bytes
}

/// Writes `data` to `path` atomically (a synced temporary file renamed into place); the
/// caller syncs the directory when it publishes the manifest naming the file.
///
/// # Errors
/// Any write, sync or rename failure.
pub fn write(path: &Path, data: &SegmentData<'_>) -> Result<(), IndexError> {
    let mut fences = Vec::new();
    let orders = encode_table(data.orders, data.base_seq, &mut fences);
    let cl_ord_ids = encode_table(data.cl_ord_ids, data.base_seq, &mut fences);
    let order_min = data.orders.first().map_or(0, |r| r.order.0);
    let order_max = data.orders.last().map_or(0, |r| r.order.0);
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    for v in [
        data.fingerprint,
        data.base_seq,
        data.end_seq,
        data.snapshot.len() as u64,
        data.orders.len() as u64,
        data.cl_ord_ids.len() as u64,
        order_min,
        order_max,
    ] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    header.extend_from_slice(&crc32c::crc32c(data.snapshot).to_le_bytes());
    header.extend_from_slice(&crc32c::crc32c(&fences).to_le_bytes());
    debug_assert_eq!(header.len(), HEADER_LEN);
    let crc = crc32c::crc32c(&header[16..]);
    header[12..16].copy_from_slice(&crc.to_le_bytes());
    let tmp = path.with_extension("oix.tmp");
    let mut file = File::create(&tmp).map_err(IndexError::io("create", &tmp))?;
    for part in [&header[..], data.snapshot, &fences, &orders, &cl_ord_ids] {
        file.write_all(part)
            .map_err(IndexError::io("write", &tmp))?;
    }
    file.sync_all().map_err(IndexError::io("fsync", &tmp))?;
    std::fs::rename(&tmp, path).map_err(IndexError::io("rename", &tmp))
}

/// The fixed header of a segment file.
#[derive(Clone, Copy, Debug)]
struct Header {
    fingerprint: u64,
    base_seq: u64,
    end_seq: u64,
    snapshot_len: u64,
    order_rows: u64,
    cl_ord_id_rows: u64,
    order_min: u64,
    order_max: u64,
    snapshot_crc: u32,
    fences_crc: u32,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Header, String> {
        if bytes[0..8] != MAGIC {
            return Err("not an order index segment (bad magic)".into());
        }
        let version = u32_at(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version}, expected {FORMAT_VERSION}"
            ));
        }
        let (stored, computed) = (u32_at(bytes, 12), crc32c::crc32c(&bytes[16..HEADER_LEN]));
        if stored != computed {
            return Err(format!(
                "header crc32c {stored:#010x}, computed {computed:#010x}"
            ));
        }
        Ok(Header {
            fingerprint: u64_at(bytes, 16),
            base_seq: u64_at(bytes, 24),
            end_seq: u64_at(bytes, 32),
            snapshot_len: u64_at(bytes, 40),
            order_rows: u64_at(bytes, 48),
            cl_ord_id_rows: u64_at(bytes, 56),
            order_min: u64_at(bytes, 64),
            order_max: u64_at(bytes, 72),
            snapshot_crc: u32_at(bytes, 80),
            fences_crc: u32_at(bytes, 84),
        })
    }

    fn blocks(rows: u64) -> usize {
        (rows as usize).div_ceil(BLOCK_ROWS)
    }
}

/// One sorted table of a segment file: where its rows start and its fences.
#[derive(Debug)]
struct Table {
    offset: u64,
    rows: u64,
    /// First key and crc32c of each block.
    fences: Vec<(u128, u32)>,
}

/// An open segment file, its header and fences read and checked.
#[derive(Debug)]
pub struct SegmentFile {
    path: PathBuf,
    file: File,
    header: Header,
    orders: Table,
    cl_ord_ids: Table,
}

impl SegmentFile {
    /// Opens the segment file `path`, which the manifest lists for records
    /// `base_seq+1 ..= end_seq`.
    ///
    /// # Errors
    /// I/O, or a file that is damaged or is not the one the manifest names.
    pub fn open(path: &Path, base_seq: u64, end_seq: u64) -> Result<SegmentFile, IndexError> {
        let file = File::open(path).map_err(IndexError::io("open", path))?;
        let mut bytes = [0u8; HEADER_LEN];
        file.read_exact_at(&mut bytes, 0)
            .map_err(|e| IndexError::corrupt(path, format!("header unreadable: {e}")))?;
        let header = Header::parse(&bytes).map_err(|why| IndexError::corrupt(path, why))?;
        if (header.base_seq, header.end_seq) != (base_seq, end_seq) {
            let why = format!(
                "holds records {}..={}, the manifest says {base_seq}..={end_seq}",
                header.base_seq + 1,
                header.end_seq
            );
            return Err(IndexError::corrupt(path, why));
        }
        let order_blocks = Header::blocks(header.order_rows);
        let fence_bytes = (order_blocks + Header::blocks(header.cl_ord_id_rows)) * FENCE_LEN;
        let mut fences = vec![0u8; fence_bytes];
        let fences_at = HEADER_LEN as u64 + header.snapshot_len;
        file.read_exact_at(&mut fences, fences_at)
            .map_err(|e| IndexError::corrupt(path, format!("fences unreadable: {e}")))?;
        if crc32c::crc32c(&fences) != header.fences_crc {
            return Err(IndexError::corrupt(path, "fences fail their crc32c"));
        }
        let fences: Vec<(u128, u32)> = fences
            .chunks_exact(FENCE_LEN)
            .map(|f| {
                let key = u128::from_le_bytes(f[0..16].try_into().expect("16 bytes"));
                (key, u32_at(f, 16))
            })
            .collect();
        let orders_at = fences_at + fence_bytes as u64;
        let orders = Table {
            offset: orders_at,
            rows: header.order_rows,
            fences: fences[..order_blocks].to_vec(),
        };
        let cl_ord_ids = Table {
            offset: orders_at + header.order_rows * OrderRow::LEN as u64,
            rows: header.cl_ord_id_rows,
            fences: fences[order_blocks..].to_vec(),
        };
        Ok(SegmentFile {
            path: path.to_path_buf(),
            file,
            header,
            orders,
            cl_ord_ids,
        })
    }

    /// The configuration fingerprint the segment was built under.
    pub fn fingerprint(&self) -> u64 {
        self.header.fingerprint
    }

    /// The segment's row for `order`, if its records concern the order.
    ///
    /// # Errors
    /// I/O, or a damaged block.
    pub fn order(&self, order: OrderId) -> Result<Option<OrderRow>, IndexError> {
        if order.0 < self.header.order_min || order.0 > self.header.order_max {
            return Ok(None);
        }
        self.find(&self.orders, order.0 as u128)
    }

    /// The segment's row for `account`'s ClOrdID `cl_ord_id`, if one of its records uses it.
    ///
    /// # Errors
    /// I/O, or a damaged block.
    pub fn cl_ord_id(
        &self,
        account: AccountId,
        cl_ord_id: u64,
    ) -> Result<Option<ClOrdIdRow>, IndexError> {
        self.find(&self.cl_ord_ids, ClOrdIdRow::key_of(account, cl_ord_id))
    }

    /// The engine snapshot at the segment's start (empty: a fresh engine).
    ///
    /// # Errors
    /// I/O, or a snapshot that fails its checksum.
    pub fn snapshot(&self) -> Result<Vec<u8>, IndexError> {
        let mut blob = vec![0u8; self.header.snapshot_len as usize];
        self.file
            .read_exact_at(&mut blob, HEADER_LEN as u64)
            .map_err(|e| IndexError::corrupt(&self.path, format!("snapshot unreadable: {e}")))?;
        if crc32c::crc32c(&blob) != self.header.snapshot_crc {
            return Err(IndexError::corrupt(&self.path, "snapshot fails its crc32c"));
        }
        Ok(blob)
    }

    /// The path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Binary search: the block whose first key is the last at or below `key`, then the row.
    fn find<R: Row>(&self, table: &Table, key: u128) -> Result<Option<R>, IndexError> {
        let block = table.fences.partition_point(|(first, _)| *first <= key);
        let Some(block) = block.checked_sub(1) else {
            return Ok(None);
        };
        let first_row = block * BLOCK_ROWS;
        let rows = BLOCK_ROWS.min(table.rows as usize - first_row);
        let mut bytes = vec![0u8; rows * R::LEN];
        let at = table.offset + (first_row * R::LEN) as u64;
        self.file
            .read_exact_at(&mut bytes, at)
            .map_err(|e| IndexError::corrupt(&self.path, format!("block unreadable: {e}")))?;
        if crc32c::crc32c(&bytes) != table.fences[block].1 {
            let why = format!("block {block} fails its crc32c");
            return Err(IndexError::corrupt(&self.path, why));
        }
        let base_seq = self.header.base_seq;
        let mut low = 0;
        let mut high = rows;
        while low < high {
            let mid = (low + high) / 2;
            let row = R::get(&bytes[mid * R::LEN..(mid + 1) * R::LEN], base_seq)
                .map_err(|why| IndexError::corrupt(&self.path, why))?;
            match row.key().cmp(&key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Ok(Some(row)),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join(file_name(1_000, 1_999))
    }

    /// 900 orders (four blocks), each first touched at record 1,000 + k.
    fn orders() -> Vec<OrderRow> {
        (1..=900u64)
            .map(|k| OrderRow {
                order: OrderId(k * 16 + 3),
                first_seq: 1_000 + k,
                last_seq: 1_000 + k + k % 50,
                done: k % 3 == 0,
            })
            .collect()
    }

    fn cl_ord_ids() -> Vec<ClOrdIdRow> {
        let uses = [
            ClOrdIdUse::Accepted(OrderId(7)),
            ClOrdIdUse::Amended(OrderId(9)),
            ClOrdIdUse::Rejected,
        ];
        (1..=600u64)
            .map(|k| ClOrdIdRow {
                account: AccountId(4 + (k / 300) as u32),
                cl_ord_id: k * 2,
                seq: 1_000 + k,
                used: uses[k as usize % 3],
            })
            .collect()
    }

    fn write_sample(path: &Path, snapshot: &[u8]) {
        let data = SegmentData {
            fingerprint: 0xfeed,
            base_seq: 1_000,
            end_seq: 1_999,
            snapshot,
            orders: &orders(),
            cl_ord_ids: &cl_ord_ids(),
        };
        write(path, &data).expect("write");
    }

    #[test]
    fn every_row_is_found_and_absent_keys_are_not() {
        let path = temp_path("lookup");
        write_sample(&path, b"engine state");
        let file = SegmentFile::open(&path, 1_000, 1_999).expect("open");
        assert_eq!(file.fingerprint(), 0xfeed);
        assert_eq!(file.snapshot().expect("snapshot"), b"engine state");
        for row in orders() {
            assert_eq!(file.order(row.order).expect("read"), Some(row));
            assert_eq!(file.order(OrderId(row.order.0 + 1)).expect("read"), None);
        }
        assert_eq!(file.order(OrderId(1)).expect("read"), None);
        assert_eq!(file.order(OrderId(u64::MAX)).expect("read"), None);
        for row in cl_ord_ids() {
            let found = file.cl_ord_id(row.account, row.cl_ord_id).expect("read");
            assert_eq!(found, Some(row));
            let other_account = AccountId(row.account.0 + 10);
            assert_eq!(
                file.cl_ord_id(other_account, row.cl_ord_id).expect("read"),
                None
            );
        }
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn a_flipped_byte_in_a_block_or_the_header_is_reported_as_damage() {
        let path = temp_path("damage");
        write_sample(&path, b"");
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 5;
        bytes[last] ^= 0x10;
        std::fs::write(&path, &bytes).expect("write");
        let file = SegmentFile::open(&path, 1_000, 1_999).expect("header and fences intact");
        let last_row = cl_ord_ids()[599];
        let err = file
            .cl_ord_id(last_row.account, last_row.cl_ord_id)
            .unwrap_err();
        assert!(err.to_string().contains("fails its crc32c"), "{err}");
        bytes[30] ^= 0x01;
        std::fs::write(&path, &bytes).expect("write");
        let err = SegmentFile::open(&path, 1_000, 1_999).unwrap_err();
        assert!(err.to_string().contains("header crc32c"), "{err}");
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn a_segment_other_than_the_manifest_names_is_refused() {
        let path = temp_path("mismatch");
        write_sample(&path, b"");
        let err = SegmentFile::open(&path, 1_000, 2_500).unwrap_err();
        assert!(err.to_string().contains("the manifest says"), "{err}");
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}
