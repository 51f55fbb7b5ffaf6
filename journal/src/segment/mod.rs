//! Segments: preallocated files holding a header and then records.

mod create;
mod header;
mod name;
mod prepare;

pub(crate) use create::{
    create_segment, fsync_dir, map_read, map_write, open_rw, publish_segment, Fill,
};
pub use header::{SegmentHeader, FORMAT_VERSION, SEGMENT_HEADER_LEN};
pub use name::{list_segments, parse_segment_file_name, segment_file_name, SegmentEntry};
pub(crate) use prepare::Preparer;
