//! Zero-filled segments made ahead of the writer, on a thread of their own.
//!
//! A journal that syncs appends fastest to a segment whose zeros are already on disk (see
//! [`Fill::Zeros`](super::create::Fill)), but writing 256 MiB of zeros takes ~0.4 s: far too
//! long for the writer to wait at a roll-over. So the next segment is prepared while the
//! current one fills, and the writer takes it when it rolls over. If it is not ready yet (or its
//! preparation failed, which is logged), the writer reserves a segment itself, as a journal
//! that does not sync always does, and preparation starts again for the roll-over after.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::create::prepare_segment;
use crate::error::JournalError;

type Prepared = Result<(File, PathBuf), JournalError>;

/// Prepares one zero-filled segment file at a time.
pub(crate) struct Preparer {
    dir: PathBuf,
    size_bytes: u64,
    cancel: Arc<AtomicBool>,
    job: Option<JoinHandle<Prepared>>,
}

impl Preparer {
    /// A preparer of `size_bytes` segments in `dir`; nothing runs until [`start`](Self::start).
    pub(crate) fn new(dir: &Path, size_bytes: u64) -> Self {
        Self {
            dir: dir.to_path_buf(),
            size_bytes,
            cancel: Arc::new(AtomicBool::new(false)),
            job: None,
        }
    }

    /// Starts preparing a segment, unless one is being prepared or waits to be taken.
    pub(crate) fn start(&mut self) {
        if self.job.is_some() {
            return;
        }
        let (dir, size_bytes, cancel) =
            (self.dir.clone(), self.size_bytes, Arc::clone(&self.cancel));
        match std::thread::Builder::new()
            .name("journal-prepare".into())
            .spawn(move || prepare_segment(&dir, size_bytes, &cancel))
        {
            Ok(job) => self.job = Some(job),
            Err(e) => eprintln!(
                "journal: cannot start the segment preparation thread ({e}); new segments \
                 are reserved at roll-over instead"
            ),
        }
    }

    /// The prepared segment (its file and temporary path) if its preparation has finished;
    /// `None` while it still runs, or when it failed (logged).
    pub(crate) fn take_ready(&mut self) -> Option<(File, PathBuf)> {
        let job = self.job.take_if(|job| job.is_finished())?;
        match job.join() {
            Ok(Ok(prepared)) => Some(prepared),
            Ok(Err(e)) => {
                eprintln!("journal: preparing a segment failed ({e}); reserving one instead");
                None
            }
            Err(_) => {
                eprintln!("journal: the segment preparation thread panicked; reserving instead");
                None
            }
        }
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Some(job) = self.job.take() {
            if let Ok(Ok((_, path))) = job.join() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    fn wait_ready(preparer: &mut Preparer) -> (File, PathBuf) {
        loop {
            if let Some(ready) = preparer.take_ready() {
                return ready;
            }
            assert!(preparer.job.is_some(), "preparation failed");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn prepares_a_zero_filled_file_of_the_segment_size() {
        let dir = TestDir::new("prepare");
        let mut preparer = Preparer::new(dir.path(), 64 << 10);
        preparer.start();
        let (file, path) = wait_ready(&mut preparer);
        assert_eq!(file.metadata().expect("metadata").len(), 64 << 10);
        let bytes = std::fs::read(&path).expect("read prepared file");
        assert!(bytes.iter().all(|&b| b == 0));
        // Taken (the writer renames it): the next start prepares another one.
        std::fs::rename(&path, dir.path().join("taken.seg")).expect("rename");
        preparer.start();
        let (_, again) = wait_ready(&mut preparer);
        assert_eq!(again, path);
    }

    #[test]
    fn dropping_removes_a_segment_not_taken() {
        let dir = TestDir::new("prepare-drop");
        let mut preparer = Preparer::new(dir.path(), 64 << 10);
        preparer.start();
        drop(preparer);
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}
