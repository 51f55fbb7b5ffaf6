//! Applying journal records to the engine: the one code path shared by the live sequencer,
//! recovery and the `replay` tool, so replay runs exactly what production ran.

use journal::RecordHeader;

use super::record_kind::{RecordKind, FLAG_OPERATOR};
use crate::engine::command::{Command, MassCancel};
use crate::engine::event::{Event, EventSink};
use crate::engine::perp::index::MAX_SOURCES;
use crate::engine::perp::{Constituent, IndexUpdate};
use crate::engine::quote::{MassQuote, QuoteEntry, QUOTE_ENTRIES_CAPACITY};
use crate::engine::reject::RejectReason;
use crate::engine::{AccountId, Engine};
use crate::protocol::codec::{decode, Inbound};
use crate::protocol::mapping::quote::mass_quote_entries;
use crate::protocol::mapping::{translate, translate_order, Query, SpecLookup, Translated};

/// A journal record that cannot be applied: the journal or the configuration is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoreError {
    #[error("record {seq}: unknown record kind {kind}")]
    UnknownKind { seq: u64, kind: u16 },
    #[error("record {seq}: payload of {len} bytes is not a valid {what}")]
    BadPayload {
        seq: u64,
        len: usize,
        what: &'static str,
    },
    #[error(
        "record {seq}: digest mismatch: journal {journaled:016x}, replayed state {computed:016x}"
    )]
    DigestMismatch {
        seq: u64,
        journaled: u64,
        computed: u64,
    },
    #[error(
        "record {seq}: journal written with another configuration \
         (fingerprint {journaled:016x}, configured {configured:016x})"
    )]
    Fingerprint {
        seq: u64,
        journaled: u64,
        configured: u64,
    },
}

/// What applying a record did, for the caller to reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Events went to the sink. For admin messages, the request id and template to echo.
    Applied { admin: Option<(u64, u16)> },
    /// A read-only query to answer from the current state (nothing was changed).
    Query(Query),
    /// A digest record matched the state.
    DigestVerified,
    /// Genesis, or a message that is not an application message.
    Nothing,
}

/// The part of applying a record that reads no engine state: decoding an order message (new,
/// cancel, amend, mass cancel) and translating it read only the instruments' specs, fixed at
/// start-up. `replay` prepares records on a second core ahead of the engine. The live path and
/// recovery call `Core::apply`, which decodes once and translates order messages with the
/// same `translate_order`, then applies them with the same `apply_translated`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// An order message, translated.
    Order(Translated),
    /// Any other record: applied from its payload.
    Payload,
}

impl Prepared {
    /// Prepares the record `header` + `payload` with instrument specs from `specs`.
    pub fn of<L: SpecLookup + ?Sized>(header: &RecordHeader, payload: &[u8], specs: &L) -> Self {
        if header.kind != RecordKind::Message as u16 {
            return Self::Payload;
        }
        // An undecodable payload is reported by `apply_prepared`, from the payload.
        let Ok(message) = decode(payload) else {
            return Self::Payload;
        };
        match translate_order(AccountId(header.source), &message, specs) {
            Some(translated) => Self::Order(translated),
            None => Self::Payload,
        }
    }

    /// Whether `Core::apply_prepared` reads the payload.
    pub fn needs_payload(&self) -> bool {
        matches!(self, Self::Payload)
    }
}

/// The engine plus the rules for applying journal records to it.
pub struct Core {
    pub engine: Engine,
    fingerprint: u64,
}

impl Core {
    pub fn new(engine: Engine, fingerprint: u64) -> Core {
        Core {
            engine,
            fingerprint,
        }
    }

    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Applies one record, writing engine events (and refusals) to `sink`.
    ///
    /// # Errors
    /// An unknown kind, an undecodable payload, a digest or fingerprint mismatch.
    pub fn apply(
        &mut self,
        header: &RecordHeader,
        payload: &[u8],
        sink: &mut impl EventSink,
    ) -> Result<Outcome, CoreError> {
        let seq = header.seq;
        let kind = RecordKind::from_u16(header.kind).ok_or(CoreError::UnknownKind {
            seq,
            kind: header.kind,
        })?;
        match kind {
            RecordKind::Genesis => {
                let journaled = read_u64(seq, payload, "genesis record")?;
                if journaled != self.fingerprint {
                    let configured = self.fingerprint;
                    return Err(CoreError::Fingerprint {
                        seq,
                        journaled,
                        configured,
                    });
                }
                Ok(Outcome::Nothing)
            }
            RecordKind::Digest => {
                let journaled = read_u64(seq, payload, "digest record")?;
                let computed = self.engine.digest();
                if journaled != computed {
                    return Err(CoreError::DigestMismatch {
                        seq,
                        journaled,
                        computed,
                    });
                }
                Ok(Outcome::DigestVerified)
            }
            RecordKind::Timer => {
                self.engine.apply(seq, header.time_ns, &Command::Tick, sink);
                Ok(Outcome::Applied { admin: None })
            }
            RecordKind::CancelOnDisconnect => {
                let account = AccountId(header.source);
                let mass = MassCancel {
                    account,
                    instrument: None,
                    side: None,
                    cl_ord_id: 0,
                };
                self.engine
                    .apply(seq, header.time_ns, &Command::MassCancel(mass), sink);
                Ok(Outcome::Applied { admin: None })
            }
            RecordKind::Message => self.apply_message(header, payload, sink),
        }
    }

    /// Applies one record prepared by [`Prepared::of`] with this engine's instrument specs;
    /// `payload` may be empty unless `prepared.needs_payload()`. Same outcome as
    /// [`Core::apply`] on the record.
    ///
    /// # Errors
    /// As [`Core::apply`].
    pub fn apply_prepared(
        &mut self,
        header: &RecordHeader,
        payload: &[u8],
        prepared: Prepared,
        sink: &mut impl EventSink,
    ) -> Result<Outcome, CoreError> {
        match prepared {
            Prepared::Order(translated) => Ok(self.apply_translated(header, translated, sink)),
            Prepared::Payload => self.apply(header, payload, sink),
        }
    }

    fn apply_message(
        &mut self,
        header: &RecordHeader,
        payload: &[u8],
        sink: &mut impl EventSink,
    ) -> Result<Outcome, CoreError> {
        let seq = header.seq;
        let bad = || CoreError::BadPayload {
            seq,
            len: payload.len(),
            what: "SBE message",
        };
        let message = decode(payload).map_err(|_| bad())?;
        let operator = header.flags & FLAG_OPERATOR != 0;
        let account = AccountId(header.source);
        let admin = admin_request(&message);
        if let (Inbound::IndexConstituents(view), true) = (&message, operator) {
            // A variable-length group: it enters the engine by its own entry point, so that
            // `Command` stays small and `Copy`.
            self.apply_index(header, account, view, sink);
            return Ok(Outcome::Applied { admin });
        }
        if let Inbound::MassQuote(view) = &message {
            // Its entries are a group: the engine takes them as a slice (see `apply_index`).
            let mut entries = [QuoteEntry::default(); QUOTE_ENTRIES_CAPACITY];
            let count = mass_quote_entries(&self.engine, view, &mut entries);
            let quote = MassQuote {
                account,
                quote_req_id: view.quote_id(),
                mmp: view.exec_inst().mmp(),
                entries: &entries[..count],
            };
            self.engine
                .apply_mass_quote(seq, header.time_ns, &quote, sink);
            return Ok(Outcome::Applied { admin });
        }
        match translate(account, operator, &message, &self.engine) {
            None => Ok(Outcome::Nothing),
            Some(Translated::Query(query)) => Ok(Outcome::Query(query)),
            Some(translated) => {
                self.apply_translated(header, translated, sink);
                Ok(Outcome::Applied { admin })
            }
        }
    }

    /// Applies a translated message: a command, or a refusal (which changes no state; time
    /// still advances for timers).
    fn apply_translated(
        &mut self,
        header: &RecordHeader,
        translated: Translated,
        sink: &mut impl EventSink,
    ) -> Outcome {
        let (seq, time_ns) = (header.seq, header.time_ns);
        match translated {
            Translated::Command(command) => self.engine.apply(seq, time_ns, &command, sink),
            Translated::Refused(event) => {
                self.engine.apply(seq, time_ns, &Command::Tick, sink);
                sink.event(&event);
            }
            Translated::Query(query) => return Outcome::Query(query),
        }
        Outcome::Applied { admin: None }
    }
}

impl Core {
    fn apply_index(
        &mut self,
        header: &RecordHeader,
        account: AccountId,
        view: &crate::protocol::codec::IndexConstituentsView<'_>,
        sink: &mut impl EventSink,
    ) {
        let mut constituents = [Constituent::default(); MAX_SOURCES];
        let mut count = 0;
        for entry in view.no_constituents().iter().take(MAX_SOURCES) {
            constituents[count] = Constituent {
                source_id: entry.constituent_source_id,
                price: entry.constituent_px,
                time_ns: entry.constituent_time,
            };
            count += 1;
        }
        let security_id = view.security_id();
        let Some(instrument) = self
            .engine
            .instrument_by_security_id(security_id)
            .map(|i| i.spec.id)
        else {
            let reason = RejectReason::UnknownInstrument;
            self.engine
                .apply(header.seq, header.time_ns, &Command::Tick, sink);
            sink.event(&Event::AdminRejected { account, reason });
            return;
        };
        let update = IndexUpdate {
            account,
            instrument,
            published_ns: view.transact_time(),
            constituents: &constituents[..count],
        };
        self.engine
            .apply_index(header.seq, header.time_ns, &update, sink);
    }
}

/// AdminReqID and template id of an admin message.
fn admin_request(message: &Inbound<'_>) -> Option<(u64, u16)> {
    use crate::protocol::codec::Encode;
    use crate::protocol::codec::{
        AccountSetup, CollateralValueUpdate, FundsTransfer, IndexConstituents, KillSwitch,
        RiskParameterUpdate, SecurityStatusUpdate,
    };
    Some(match message {
        Inbound::AccountSetup(v) => (v.admin_req_id(), AccountSetup::TEMPLATE_ID),
        Inbound::FundsTransfer(v) => (v.admin_req_id(), FundsTransfer::TEMPLATE_ID),
        Inbound::SecurityStatusUpdate(v) => (v.admin_req_id(), SecurityStatusUpdate::TEMPLATE_ID),
        Inbound::CollateralValueUpdate(v) => (v.admin_req_id(), CollateralValueUpdate::TEMPLATE_ID),
        Inbound::IndexConstituents(v) => (v.admin_req_id(), IndexConstituents::TEMPLATE_ID),
        Inbound::RiskParameterUpdate(v) => (v.admin_req_id(), RiskParameterUpdate::TEMPLATE_ID),
        Inbound::KillSwitch(v) => (v.admin_req_id(), KillSwitch::TEMPLATE_ID),
        _ => return None,
    })
}

fn read_u64(seq: u64, payload: &[u8], what: &'static str) -> Result<u64, CoreError> {
    let bytes: [u8; 8] = payload.try_into().map_err(|_| CoreError::BadPayload {
        seq,
        len: payload.len(),
        what,
    })?;
    Ok(u64::from_le_bytes(bytes))
}
