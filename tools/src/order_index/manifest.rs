//! The index directory, `JOURNAL/order-index/`: `manifest.json` names the segment files in
//! journal order and the last record they cover; `lock` serialises the order-history
//! processes that read or update the index.
//!
//! The manifest is the index's single point of truth: segment files are written first, under
//! names no manifest uses yet, then the new manifest is renamed into place and the directory
//! synced, and only then are files it no longer names removed. A crash leaves the old index or
//! the new one, never a mix.

use std::fs::File;
use std::path::{Path, PathBuf};

use journal::RecordHeader;
use serde_json::{json, Value};

use super::error::IndexError;
use super::segment::FORMAT_VERSION;

/// The index directory's name inside the journal directory.
pub const INDEX_DIR: &str = "order-index";
const MANIFEST: &str = "manifest.json";
const LOCK: &str = "lock";

/// The last record the index covers, kept to recognise the journal it was built from: a
/// journal that was cut or replaced no longer has this record at this seq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    pub seq: u64,
    pub time_ns: u64,
    pub kind: u16,
    pub flags: u16,
    pub source: u32,
    pub payload_crc32c: u32,
}

impl Tip {
    /// The identity of the record `header`, `payload`.
    pub fn of(header: &RecordHeader, payload: &[u8]) -> Tip {
        Tip {
            seq: header.seq,
            time_ns: header.time_ns,
            kind: header.kind,
            flags: header.flags,
            source: header.source,
            payload_crc32c: crc32c::crc32c(payload),
        }
    }

    /// Why the journal's record `header`, `payload` is not this one, if it is not.
    pub fn differs(&self, header: &RecordHeader, payload: &[u8]) -> Option<String> {
        let found = Tip::of(header, payload);
        (found != *self).then(|| format!("the index recorded {self:?}, the journal has {found:?}"))
    }
}

/// One segment: records `base_seq+1 ..= end_seq` and the engine state after `base_seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentEntry {
    pub file: String,
    pub base_seq: u64,
    pub end_seq: u64,
}

/// What the index holds.
///
/// Invariants: segments are contiguous (each starts where the previous ended, the first at
/// 0) and the last ends at `tip.seq`; every segment but the last holds `segment_records`
/// records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub fingerprint: u64,
    pub segment_records: u64,
    pub tip: Tip,
    pub segments: Vec<SegmentEntry>,
}

impl Manifest {
    fn to_json(&self) -> Value {
        let t = &self.tip;
        let segments: Vec<Value> = self
            .segments
            .iter()
            .map(|s| json!({"file": s.file, "base_seq": s.base_seq, "end_seq": s.end_seq}))
            .collect();
        json!({
            "format": "exchange order-history index",
            "format_version": FORMAT_VERSION,
            "config_fingerprint": format!("{:016x}", self.fingerprint),
            "segment_records": self.segment_records,
            "tip": {"seq": t.seq, "time_ns": t.time_ns, "kind": t.kind, "flags": t.flags,
                    "source": t.source, "payload_crc32c": t.payload_crc32c},
            "segments": segments,
        })
    }

    /// Reads a manifest whose format version was checked.
    fn from_json(v: &Value) -> Result<Manifest, String> {
        let u64_of = |v: &Value, key: &str| {
            v[key]
                .as_u64()
                .ok_or_else(|| format!("{key} missing or not a number"))
        };
        let fingerprint = v["config_fingerprint"]
            .as_str()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or("config_fingerprint missing or not hexadecimal")?;
        let t = &v["tip"];
        let narrow = |key: &str, max: u64| {
            let n = u64_of(t, key)?;
            (n <= max)
                .then_some(n)
                .ok_or(format!("tip {key} {n} out of range"))
        };
        let tip = Tip {
            seq: u64_of(t, "seq")?,
            time_ns: u64_of(t, "time_ns")?,
            kind: narrow("kind", u16::MAX.into())? as u16,
            flags: narrow("flags", u16::MAX.into())? as u16,
            source: narrow("source", u32::MAX.into())? as u32,
            payload_crc32c: narrow("payload_crc32c", u32::MAX.into())? as u32,
        };
        let segments = v["segments"]
            .as_array()
            .ok_or("segments missing")?
            .iter()
            .map(|s| {
                let file = s["file"].as_str().ok_or("segment file name missing")?;
                Ok(SegmentEntry {
                    file: file.to_string(),
                    base_seq: u64_of(s, "base_seq")?,
                    end_seq: u64_of(s, "end_seq")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let manifest = Manifest {
            fingerprint,
            segment_records: u64_of(v, "segment_records")?,
            tip,
            segments,
        };
        manifest.check()?;
        Ok(manifest)
    }

    /// The invariants of [`Manifest`].
    fn check(&self) -> Result<(), String> {
        let mut expected_base = 0;
        for (k, s) in self.segments.iter().enumerate() {
            let last = k + 1 == self.segments.len();
            let records = s.end_seq.checked_sub(s.base_seq);
            let full = records == Some(self.segment_records);
            let partial = records.is_some_and(|r| r <= self.segment_records);
            if s.base_seq != expected_base || !(full || last && partial) {
                return Err(format!("segment {} does not continue the index", s.file));
            }
            expected_base = s.end_seq;
        }
        if self.segments.is_empty() || expected_base != self.tip.seq {
            let tip = self.tip.seq;
            return Err(format!(
                "segments end at seq {expected_base}, the tip is seq {tip}"
            ));
        }
        Ok(())
    }
}

/// The index directory, locked for as long as this value lives.
#[derive(Debug)]
pub struct IndexDir {
    path: PathBuf,
    /// Held locked: another order-history waits until this one has read or updated the index.
    _lock: File,
}

impl IndexDir {
    /// Opens (creating it if needed) the index directory of `journal_dir` and takes its lock,
    /// waiting for another order-history that holds it.
    ///
    /// # Errors
    /// The directory or its lock file cannot be created (a read-only journal directory).
    pub fn open(journal_dir: &Path) -> Result<IndexDir, IndexError> {
        let path = journal_dir.join(INDEX_DIR);
        let unwritable = |source| IndexError::Unwritable {
            dir: path.clone(),
            source,
        };
        if !path.is_dir() {
            std::fs::create_dir(&path).map_err(unwritable)?;
        }
        let lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path.join(LOCK))
            .map_err(unwritable)?;
        lock.lock()
            .map_err(IndexError::io("lock", &path.join(LOCK)))?;
        Ok(IndexDir { path, _lock: lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest, or `None` when no index was built yet.
    ///
    /// # Errors
    /// I/O; a manifest of another format version or built under another configuration
    /// (`fingerprint` is the configuration's); a damaged manifest.
    pub fn load(&self, fingerprint: u64) -> Result<Option<Manifest>, IndexError> {
        let path = self.path.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(IndexError::io("read", &path)(e)),
        };
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| IndexError::corrupt(&path, format!("not JSON: {e}")))?;
        let found = value["format_version"].as_u64().unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            let dir = self.path.clone();
            let expected = FORMAT_VERSION;
            return Err(IndexError::Version {
                dir,
                found,
                expected,
            });
        }
        let manifest =
            Manifest::from_json(&value).map_err(|why| IndexError::corrupt(&path, why))?;
        if manifest.fingerprint != fingerprint {
            let dir = self.path.clone();
            let found = manifest.fingerprint;
            let expected = fingerprint;
            return Err(IndexError::Fingerprint {
                dir,
                found,
                expected,
            });
        }
        Ok(Some(manifest))
    }

    /// Makes `manifest` the index (atomically), then removes segment files it does not name.
    ///
    /// # Errors
    /// Any write, sync, rename or removal failure.
    pub fn publish(&self, manifest: &Manifest) -> Result<(), IndexError> {
        debug_assert_eq!(manifest.check(), Ok(()));
        let path = self.path.join(MANIFEST);
        let tmp = self.path.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(&manifest.to_json()).unwrap_or_default();
        {
            let mut file = File::create(&tmp).map_err(IndexError::io("create", &tmp))?;
            std::io::Write::write_all(&mut file, (text + "\n").as_bytes())
                .map_err(IndexError::io("write", &tmp))?;
            file.sync_all().map_err(IndexError::io("fsync", &tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(IndexError::io("rename", &tmp))?;
        self.sync()?;
        let keep: Vec<&str> = manifest.segments.iter().map(|s| s.file.as_str()).collect();
        self.remove_segments(|name| !keep.contains(&name))
    }

    /// Removes the manifest and every segment file: the index is gone until rebuilt.
    ///
    /// # Errors
    /// A removal failure.
    pub fn clear(&self) -> Result<(), IndexError> {
        let path = self.path.join(MANIFEST);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(IndexError::io("remove", &path)(e));
            }
            _ => {}
        }
        self.sync()?;
        self.remove_segments(|_| true)
    }

    /// Removes the segment files (and leftover temporary files) whose names `doomed` picks.
    fn remove_segments(&self, doomed: impl Fn(&str) -> bool) -> Result<(), IndexError> {
        let entries = std::fs::read_dir(&self.path).map_err(IndexError::io("list", &self.path))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = name.starts_with("segment-") || name.ends_with(".tmp");
            if ours && (name.ends_with(".tmp") || doomed(name)) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(IndexError::io("remove", &path))?;
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), IndexError> {
        let dir = File::open(&self.path).map_err(IndexError::io("open", &self.path))?;
        dir.sync_all().map_err(IndexError::io("fsync", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let entry = |base_seq, end_seq| SegmentEntry {
            file: super::super::segment::file_name(base_seq, end_seq),
            base_seq,
            end_seq,
        };
        Manifest {
            fingerprint: 0x0123_4567_89ab_cdef,
            segment_records: 100,
            tip: Tip {
                seq: 250,
                time_ns: 1_767_225_600_000_000_000,
                kind: 3,
                flags: 1,
                source: 4,
                payload_crc32c: 0xdead_beef,
            },
            segments: vec![entry(0, 100), entry(100, 200), entry(200, 250)],
        }
    }

    fn temp_journal(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oix-manifest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn published_manifest_loads_back_and_unlisted_segments_are_removed() {
        let journal = temp_journal("roundtrip");
        let dir = IndexDir::open(&journal).expect("open");
        let stale = dir.path().join(super::super::segment::file_name(200, 230));
        std::fs::write(&stale, b"old last segment").expect("write");
        dir.publish(&manifest()).expect("publish");
        assert_eq!(
            dir.load(manifest().fingerprint).expect("load"),
            Some(manifest())
        );
        assert!(
            !stale.exists(),
            "a segment the manifest no longer names is removed"
        );
        let _ = std::fs::remove_dir_all(&journal);
    }

    #[test]
    fn other_format_version_or_configuration_is_refused_with_the_remedy() {
        let journal = temp_journal("refused");
        let dir = IndexDir::open(&journal).expect("open");
        dir.publish(&manifest()).expect("publish");
        let err = dir.load(0x1111).unwrap_err().to_string();
        assert!(err.contains("fingerprint 0123456789abcdef"), "{err}");
        assert!(err.contains("--build-index"), "{err}");
        let path = dir.path().join(MANIFEST);
        let text = std::fs::read_to_string(&path).expect("read");
        let text = text.replace("\"format_version\": 1", "\"format_version\": 99");
        std::fs::write(&path, text).expect("write");
        let err = dir.load(manifest().fingerprint).unwrap_err().to_string();
        assert!(err.contains("format version 99"), "{err}");
        let _ = std::fs::remove_dir_all(&journal);
    }

    #[test]
    fn segments_that_do_not_continue_each_other_are_damage() {
        let mut broken = manifest();
        broken.segments[1].base_seq = 90;
        assert!(broken.check().is_err());
        let mut short = manifest();
        short.segments[0].end_seq = 99;
        short.segments[1].base_seq = 99;
        assert!(
            short.check().is_err(),
            "only the last segment may be partial"
        );
        assert_eq!(manifest().check(), Ok(()));
    }
}
