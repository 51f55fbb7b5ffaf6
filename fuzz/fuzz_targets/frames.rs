//! Arbitrary bytes into the SOFH frame splitter: frames must tile the consumed prefix, never
//! exceed the maximum, and decoding each frame must not panic.
#![no_main]

use exchange::protocol::decode;
use exchange::protocol::sofh::{Frames, SOFH_LEN};
use libfuzzer_sys::fuzz_target;

const MAX_FRAME_LEN: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut frames = Frames::new(data, MAX_FRAME_LEN);
    let mut total = 0usize;
    let mut failed = false;
    for frame in frames.by_ref() {
        match frame {
            Ok(message) => {
                assert!(message.len() + SOFH_LEN <= MAX_FRAME_LEN);
                total += message.len() + SOFH_LEN;
                let _ = decode(message);
            }
            Err(_) => failed = true,
        }
    }
    assert_eq!(
        frames.consumed(),
        total,
        "consumed bytes are exactly the frames returned"
    );
    assert!(total <= data.len());
    if failed {
        assert_eq!(frames.next(), None, "a failed stream yields nothing more");
    }
});
