//! A file system that refuses a segment's space: the writer says so, refuses the record, and
//! loses nothing it accepted.
//!
//! The kernel refuses the space here through the process's file-size limit (`RLIMIT_FSIZE`:
//! `fallocate` fails with EFBIG), which needs no privileges and takes the writer down the same
//! path as a full disk (ENOSPC): the new segment's space cannot be reserved. The limit holds for
//! the whole process, so this file has one test and is a test binary of its own.

mod common;

use std::path::Path;

use common::{append_range, header, payload, segment_paths, small_options, TestDir};
use journal::{JournalError, JournalReader, JournalWriter};

/// Lowers the soft file-size limit while alive; the hard limit is left as it was.
struct FileSizeLimit {
    before: libc::rlimit,
}

impl FileSizeLimit {
    fn set(bytes: u64) -> FileSizeLimit {
        let mut before = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given and reads nothing else.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut before) },
            0
        );
        let lowered = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: before.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct; lowering a soft limit needs no privilege.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &lowered) }, 0);
        FileSizeLimit { before }
    }
}

impl Drop for FileSizeLimit {
    fn drop(&mut self) {
        // SAFETY: as above; the soft limit goes back to its old value, below the hard one.
        unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &self.before) };
    }
}

/// Names of the files in `dir` that end in `.tmp` (half-made segments).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn a_segment_whose_space_is_refused_is_a_clear_error_and_loses_no_record() {
    // Past the limit the kernel would also send SIGXFSZ, whose default action ends the process;
    // ignored, the call just fails.
    // SAFETY: installs the "ignore" disposition; no handler code runs.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let options = small_options();
    let segment = options.segment_size_bytes;
    let dir = TestDir::new("space");

    // A new journal whose first segment cannot be reserved is refused at open.
    let fresh = dir.path().join("fresh");
    let refused = {
        let _limit = FileSizeLimit::set(segment / 2);
        JournalWriter::open(&fresh, options.clone()).map(|_| ())
    };
    let err = refused.expect_err("the first segment's space is refused");
    assert!(matches!(err, JournalError::Preallocate { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("journal-00000000000000000001.seg"),
        "{message}"
    );
    assert!(segment_paths(&fresh).is_empty(), "no segment left behind");
    assert!(leftovers(&fresh).is_empty(), "{:?}", leftovers(&fresh));

    // A journal whose next segment cannot be reserved refuses the record that needs it.
    let journal = dir.path().join("journal");
    let (mut w, _) = JournalWriter::open(&journal, options.clone()).expect("open");
    append_range(&mut w, 1, 10);
    let (first_refused, err) = {
        let _limit = FileSizeLimit::set(segment / 2);
        let mut seq = 11;
        loop {
            match w.append(&header(seq), &payload(seq)) {
                Ok(()) => seq += 1,
                Err(e) => break (seq, e),
            }
            assert!(seq < 10_000, "a 16 KiB segment fills long before this");
        }
    };
    assert!(matches!(err, JournalError::Preallocate { .. }), "{err}");
    let wanted = format!("journal-{first_refused:020}.seg");
    assert!(err.to_string().contains(&wanted), "names {wanted}: {err}");
    assert_eq!(segment_paths(&journal).len(), 1, "no new segment");
    assert!(leftovers(&journal).is_empty(), "{:?}", leftovers(&journal));

    // Space back: the same record goes in, and the journal goes on from it.
    let last = first_refused + 100;
    append_range(&mut w, first_refused, last);
    drop(w);
    let (_, report) = JournalWriter::open(&journal, options).expect("reopen");
    assert_eq!(report.last_seq, last);
    assert_eq!(report.torn_bytes_truncated, 0);
    let mut r = JournalReader::open(&journal).expect("reader");
    for seq in 1..=last {
        let rec = r.next().expect("read").expect("record present");
        assert_eq!(rec.header, header(seq));
        assert_eq!(rec.payload, payload(seq).as_slice());
    }
    assert!(r.next().expect("read").is_none(), "nothing after {last}");
}
