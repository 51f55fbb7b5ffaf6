//! Market data: MDP 3.0-style SBE packets over UDP.
//!
//! The sequencer hands every engine event of a command to the [`Publisher`] once the command's
//! journal record exists; the publisher keeps an L2 view per instrument, encodes book (L2 and
//! L3), trade and status messages into packets, and `flush` releases them once per loop turn.
//! A snapshot channel and an instrument-definition channel loop at a configured rate; a TCP
//! [`recovery`] service resends retained incremental packets by sequence range.

pub mod codec;
pub mod error;
pub mod l2;
pub mod outbound;
pub mod packet;
pub mod pcap;
pub mod publisher;
pub mod recovery;
pub mod ring;
pub mod sender;
pub mod snapshot;
pub mod socket;

pub use error::{MarketDataError, PacketError};
pub use packet::{messages, PacketBuilder, PacketHeader, MSG_SIZE_LEN, PACKET_HEADER_LEN};
pub use publisher::{Publisher, PublisherStats};
pub use recovery::{RecoveryLimits, RecoveryServer};
pub use ring::PacketRing;
