//! The configured sessions and what the gateway knows of each: whether a connection holds it,
//! its last connection's UUID, its outbound sequence number and its outbound log.

use super::config::SessionConfig;
use super::outbound_log::OutboundLog;
use crate::protocol::fixp::{SessionDirectory, SessionEntry, SessionRole};

/// Index of a session in the table.
pub type SessionIndex = usize;

/// One configured session's live state.
pub struct Session {
    pub config: SessionConfig,
    /// Token of the connection holding the session, if any.
    pub connection: Option<usize>,
    pub last_uuid: Option<u64>,
    /// Last server application sequence number assigned (continues across connections).
    pub last_outbound_seq_no: u32,
    pub log: OutboundLog,
}

/// All configured sessions.
pub struct SessionTable {
    pub sessions: Vec<Session>,
}

impl SessionTable {
    pub fn new(configs: &[SessionConfig], log_messages: usize, log_bytes: usize) -> SessionTable {
        let sessions = configs
            .iter()
            .map(|config| Session {
                config: config.clone(),
                connection: None,
                last_uuid: None,
                last_outbound_seq_no: 0,
                log: OutboundLog::new(log_messages, log_bytes),
            })
            .collect();
        SessionTable { sessions }
    }

    pub fn by_name(&self, name: &str) -> Option<SessionIndex> {
        self.sessions.iter().position(|s| s.config.name == name)
    }
}

impl SessionDirectory for SessionTable {
    fn lookup(&self, session_id: &str) -> Option<SessionEntry<'_>> {
        let session = self.sessions.iter().find(|s| s.config.name == session_id)?;
        Some(SessionEntry {
            secret: session.config.key.as_bytes(),
            role: if session.config.operator {
                SessionRole::Admin
            } else {
                SessionRole::Trading
            },
            live: session.connection.is_some(),
            last_uuid: session.last_uuid,
            last_outbound_seq_no: session.last_outbound_seq_no,
            first_retained_seq_no: session
                .log
                .first_seq_no()
                .unwrap_or(session.last_outbound_seq_no + 1),
        })
    }
}
