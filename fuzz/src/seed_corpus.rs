//! Writes the seed corpora: every sample message of the codec (`samples()`), as bare SBE
//! messages for `decode` and as SOFH-framed streams for `frames`.
//!
//! Usage: `seed-corpus <corpus dir>` (creates `<dir>/decode` and `<dir>/frames`).

use std::path::PathBuf;

use exchange::protocol::codec::samples;
use exchange::protocol::sofh::{write_header, SOFH_LEN};

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let decode_dir = root.join("decode");
    let frames_dir = root.join("frames");
    std::fs::create_dir_all(&decode_dir)?;
    std::fs::create_dir_all(&frames_dir)?;
    let mut stream = Vec::new();
    for (i, sample) in samples().iter().enumerate() {
        let mut buf = vec![0u8; 64 << 10];
        let n = sample.encode(&mut buf).expect("64 KiB holds any sample");
        let message = &buf[..n];
        std::fs::write(decode_dir.join(format!("sample-{i:03}")), message)?;
        let mut frame = vec![0u8; SOFH_LEN + n];
        write_header(&mut frame, n).expect("frame buffer sized for the message");
        frame[SOFH_LEN..].copy_from_slice(message);
        std::fs::write(frames_dir.join(format!("sample-{i:03}")), &frame)?;
        stream.extend_from_slice(&frame);
    }
    // All samples back to back, then a partial frame: the splitter's common case.
    stream.extend_from_slice(&stream[..SOFH_LEN + 2].to_vec());
    std::fs::write(frames_dir.join("stream"), &stream)?;
    println!("seed corpus written to {}", root.display());
    Ok(())
}
