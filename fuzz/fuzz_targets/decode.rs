//! Arbitrary bytes into the SBE decoder: it must return a value or an error, never panic;
//! a message it accepts must survive `to_plain` and re-encode to a message that decodes.
#![no_main]

use exchange::protocol::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data) {
        let plain = message.to_plain();
        let _ = message.name();
        let mut buf = vec![0u8; data.len() + 1024];
        if let Ok(n) = plain.encode(&mut buf) {
            let again = decode(&buf[..n]).expect("a re-encoded message decodes");
            assert_eq!(again.to_plain(), plain, "decode . encode is the identity");
        }
    }
});
