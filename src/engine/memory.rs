//! Start-up allocation of the engine's large fixed tables.

/// `len` copies of `value` in memory the kernel is asked to back with huge pages (2 MiB on
/// x86-64): lookups land all over a table that may span tens of MiB, and with 4 KiB pages
/// most of them would also miss the TLB. The hint is given before the first write touches
/// the pages; a kernel that declines it leaves ordinary pages with the same contents.
pub fn huge_page_vec<T: Copy>(len: usize, value: T) -> Vec<T> {
    const HUGE_PAGE: usize = 2 << 20;
    let mut vec = Vec::with_capacity(len);
    let bytes = len * std::mem::size_of::<T>();
    #[cfg(target_os = "linux")]
    if bytes >= 2 * HUGE_PAGE {
        let start = vec.as_mut_ptr() as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
        if end > aligned {
            // SAFETY: the range lies inside the allocation just made, which holds no values
            // yet; MADV_HUGEPAGE changes how memory is backed, never what it holds.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    vec.resize(len, value);
    vec
}
