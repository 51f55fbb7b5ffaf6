//! Pinning the benchmark thread to one core, so the scheduler does not migrate it mid-run.

/// Where the benchmark thread runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pinning {
    /// The core asked for, if any.
    pub requested_core: Option<usize>,
    /// Whether the thread was pinned to it.
    pub pinned: bool,
}

impl Pinning {
    /// "pinned to core N", "core N requested, not pinned", or "not pinned" followed by
    /// `unrequested_hint` (e.g. how to ask for pinning).
    pub fn describe(&self, unrequested_hint: &str) -> String {
        match (self.requested_core, self.pinned) {
            (Some(core), true) => format!("pinned to core {core}"),
            (Some(core), false) => format!("core {core} requested, not pinned"),
            (None, _) => format!("not pinned{unrequested_hint}"),
        }
    }
}

/// Pins the current thread to `core` when it exists; reports what happened. A missing core or
/// a refused affinity call (e.g. a restricted container) leaves the thread unpinned.
pub fn pin(core: Option<usize>) -> Pinning {
    let Some(wanted) = core else {
        return Pinning {
            requested_core: None,
            pinned: false,
        };
    };
    // Not looked up in `core_affinity::get_core_ids` (nor `available_parallelism`): both see
    // only the cores this thread may already run on, so a thread started by a pinned thread
    // could never move elsewhere. The kernel refuses a core that does not exist.
    Pinning {
        requested_core: Some(wanted),
        pinned: wanted < libc::CPU_SETSIZE as usize
            && core_affinity::set_for_current(core_affinity::CoreId { id: wanted }),
    }
}
