//! Requests still waiting for their terminal answer.
//!
//! | request | done on |
//! |---|---|
//! | resting limit order | ExecutionReport New or Rejected (or an already final state) |
//! | IOC, FOK, market order | ExecutionReport with a final OrdStatus (filled, canceled, …) |
//! | cancel | ExecutionReport Canceled of the order, or OrderCancelReject |
//! | amend | ExecutionReport Replaced, or OrderCancelReject |
//! | mass cancel | OrderMassCancelReport |
//! | admin message | AdminAck or AdminReject |
//! | positions | TotNumReports PositionReports (at least one) |
//! | collateral | CollateralReport |
//! | quote | MassQuoteAck |
//! | quote cancel | QuoteCancelAck |
//! | MMP config or reset | MmpAck |
//!
//! A BusinessMessageReject naming the request (by RefSeqNum or BusinessRejectRefID) ends
//! any of them.

use exchange::protocol::codec::{
    BusinessMessageReject, ExecType, ExecutionReport, OrdStatus, OrderCancelReject,
};
use exchange::protocol::Plain;

/// What a sent request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// A new order; `immediate` for IOC, FOK and market orders, which end in a final state.
    NewOrder {
        /// ClOrdID.
        cl_ord_id: u64,
        /// Whether the order cannot rest.
        immediate: bool,
    },
    /// A cancel of `orig`.
    Cancel {
        /// ClOrdID of the request.
        cl_ord_id: u64,
        /// ClOrdID of the order.
        orig: u64,
    },
    /// An amend of `orig`.
    Amend {
        /// ClOrdID of the request.
        cl_ord_id: u64,
        /// ClOrdID of the order.
        orig: u64,
    },
    /// A mass cancel.
    MassCancel {
        /// ClOrdID of the request.
        cl_ord_id: u64,
    },
    /// An admin message.
    Admin {
        /// AdminReqID.
        admin_req_id: u64,
    },
    /// Position reports; `received` counts those seen.
    Positions {
        /// PosReqID.
        pos_req_id: u64,
        /// Reports received so far.
        received: u16,
    },
    /// A collateral report.
    Collateral {
        /// CollInquiryID.
        coll_inquiry_id: u64,
    },
    /// A MassQuoteAck.
    Quote {
        /// QuoteID.
        quote_id: u64,
    },
    /// A QuoteCancelAck.
    QuoteCancel {
        /// QuoteID.
        quote_id: u64,
    },
    /// An MmpAck.
    Mmp {
        /// MmpReqID.
        mmp_req_id: u64,
    },
}

impl Awaiting {
    /// The request's own id (ClOrdID, AdminReqID, PosReqID or CollInquiryID).
    pub fn id(&self) -> u64 {
        match *self {
            Awaiting::NewOrder { cl_ord_id, .. }
            | Awaiting::Cancel { cl_ord_id, .. }
            | Awaiting::Amend { cl_ord_id, .. }
            | Awaiting::MassCancel { cl_ord_id } => cl_ord_id,
            Awaiting::Admin { admin_req_id } => admin_req_id,
            Awaiting::Positions { pos_req_id, .. } => pos_req_id,
            Awaiting::Collateral { coll_inquiry_id } => coll_inquiry_id,
            Awaiting::Quote { quote_id } | Awaiting::QuoteCancel { quote_id } => quote_id,
            Awaiting::Mmp { mmp_req_id } => mmp_req_id,
        }
    }
}

/// Sent requests, with the sequence number each took, until answered.
#[derive(Debug, Default, Clone)]
pub struct Outstanding {
    items: Vec<(u32, Awaiting)>,
}

impl Outstanding {
    /// Starts waiting for the request sent as client message `seq_no`.
    pub fn push(&mut self, seq_no: u32, awaiting: Awaiting) {
        self.items.push((seq_no, awaiting));
    }

    /// Number of requests still waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether every request has its answer.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The requests still waiting.
    pub fn waiting(&self) -> impl Iterator<Item = &Awaiting> {
        self.items.iter().map(|(_, a)| a)
    }

    /// Crosses off what `message` answers.
    pub fn on_message(&mut self, message: &Plain) {
        self.items
            .retain_mut(|(seq_no, awaiting)| !answers(message, *seq_no, awaiting));
    }
}

/// Whether `message` ends the wait of the request sent as `seq_no`. Updates the count of
/// position reports.
fn answers(message: &Plain, seq_no: u32, awaiting: &mut Awaiting) -> bool {
    match (message, awaiting) {
        (Plain::BusinessMessageReject(m), a) => rejects(m, seq_no, a),
        (Plain::ExecutionReport(m), a) => execution_ends(m, a),
        (Plain::OrderCancelReject(m), a) => cancel_reject_ends(m, a),
        (Plain::OrderMassCancelReport(m), Awaiting::MassCancel { cl_ord_id }) => {
            m.cl_ord_id == *cl_ord_id
        }
        (Plain::AdminAck(m), Awaiting::Admin { admin_req_id }) => m.admin_req_id == *admin_req_id,
        (Plain::AdminReject(m), Awaiting::Admin { admin_req_id }) => {
            m.admin_req_id == *admin_req_id
        }
        (
            Plain::PositionReport(m),
            Awaiting::Positions {
                pos_req_id,
                received,
            },
        ) if m.pos_req_id == Some(*pos_req_id) => {
            *received = received.saturating_add(1);
            *received >= m.tot_num_reports.max(1)
        }
        (Plain::CollateralReport(m), Awaiting::Collateral { coll_inquiry_id }) => {
            m.coll_inquiry_id == Some(*coll_inquiry_id)
        }
        (Plain::MassQuoteAck(m), Awaiting::Quote { quote_id }) => m.quote_id == *quote_id,
        (Plain::QuoteCancelAck(m), Awaiting::QuoteCancel { quote_id }) => m.quote_id == *quote_id,
        (Plain::MmpAck(m), Awaiting::Mmp { mmp_req_id }) => m.mmp_req_id == *mmp_req_id,
        _ => false,
    }
}

fn rejects(m: &BusinessMessageReject, seq_no: u32, awaiting: &Awaiting) -> bool {
    m.ref_seq_num == seq_no || m.business_reject_ref_id == Some(awaiting.id())
}

fn is_final(status: OrdStatus) -> bool {
    matches!(
        status,
        OrdStatus::Filled | OrdStatus::Canceled | OrdStatus::Rejected | OrdStatus::Expired
    )
}

fn execution_ends(m: &ExecutionReport, awaiting: &Awaiting) -> bool {
    match *awaiting {
        Awaiting::NewOrder {
            cl_ord_id,
            immediate,
        } => {
            m.cl_ord_id == cl_ord_id
                && (is_final(m.ord_status)
                    || (!immediate && matches!(m.exec_type, ExecType::New | ExecType::Rejected)))
        }
        // The venue reports a cancel under the order's ClOrdID or the request's.
        Awaiting::Cancel { cl_ord_id, orig } => {
            let names =
                m.cl_ord_id == cl_ord_id || m.cl_ord_id == orig || m.orig_cl_ord_id == Some(orig);
            names && matches!(m.exec_type, ExecType::Canceled | ExecType::Rejected)
        }
        Awaiting::Amend { cl_ord_id, orig } => {
            let names = m.cl_ord_id == cl_ord_id || m.orig_cl_ord_id == Some(orig);
            names && matches!(m.exec_type, ExecType::Replaced | ExecType::Rejected)
        }
        _ => false,
    }
}

fn cancel_reject_ends(m: &OrderCancelReject, awaiting: &Awaiting) -> bool {
    match *awaiting {
        Awaiting::Cancel { cl_ord_id, .. } | Awaiting::Amend { cl_ord_id, .. } => {
            m.cl_ord_id == cl_ord_id
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{AdminAck, PositionReport};

    fn er(cl_ord_id: u64, exec_type: ExecType, ord_status: OrdStatus) -> Plain {
        Plain::ExecutionReport(ExecutionReport {
            cl_ord_id,
            exec_type,
            ord_status,
            ..Default::default()
        })
    }

    #[test]
    fn resting_order_is_done_on_new() {
        let mut o = Outstanding::default();
        o.push(
            1,
            Awaiting::NewOrder {
                cl_ord_id: 5,
                immediate: false,
            },
        );
        o.on_message(&er(6, ExecType::New, OrdStatus::New));
        assert_eq!(o.len(), 1, "another order's report does not count");
        o.on_message(&er(5, ExecType::New, OrdStatus::New));
        assert!(o.is_empty());
    }

    #[test]
    fn ioc_waits_for_the_final_state_after_new() {
        let mut o = Outstanding::default();
        o.push(
            1,
            Awaiting::NewOrder {
                cl_ord_id: 5,
                immediate: true,
            },
        );
        o.on_message(&er(5, ExecType::New, OrdStatus::New));
        o.on_message(&er(5, ExecType::Trade, OrdStatus::PartiallyFilled));
        assert_eq!(o.len(), 1);
        o.on_message(&er(5, ExecType::Canceled, OrdStatus::Canceled));
        assert!(o.is_empty());
    }

    #[test]
    fn cancel_is_done_on_the_orders_canceled_report_or_a_reject() {
        let mut o = Outstanding::default();
        o.push(
            1,
            Awaiting::Cancel {
                cl_ord_id: 9,
                orig: 5,
            },
        );
        o.push(
            2,
            Awaiting::Cancel {
                cl_ord_id: 10,
                orig: 6,
            },
        );
        o.on_message(&er(5, ExecType::Canceled, OrdStatus::Canceled));
        assert_eq!(o.len(), 1);
        o.on_message(&Plain::OrderCancelReject(OrderCancelReject {
            cl_ord_id: 10,
            ..Default::default()
        }));
        assert!(o.is_empty());
    }

    #[test]
    fn amend_is_done_on_replaced() {
        let mut o = Outstanding::default();
        o.push(
            1,
            Awaiting::Amend {
                cl_ord_id: 9,
                orig: 5,
            },
        );
        o.on_message(&er(9, ExecType::Replaced, OrdStatus::New));
        assert!(o.is_empty());
    }

    #[test]
    fn positions_wait_for_every_report() {
        let mut o = Outstanding::default();
        o.push(
            1,
            Awaiting::Positions {
                pos_req_id: 3,
                received: 0,
            },
        );
        let report = Plain::PositionReport(PositionReport {
            pos_req_id: Some(3),
            tot_num_reports: 2,
            ..Default::default()
        });
        o.on_message(&report);
        assert_eq!(o.len(), 1);
        o.on_message(&report);
        assert!(o.is_empty());
    }

    #[test]
    fn admin_ack_and_business_reject_end_their_request() {
        let mut o = Outstanding::default();
        o.push(1, Awaiting::Admin { admin_req_id: 4 });
        o.push(2, Awaiting::Collateral { coll_inquiry_id: 8 });
        o.on_message(&Plain::AdminAck(AdminAck {
            admin_req_id: 4,
            ..Default::default()
        }));
        o.on_message(&Plain::BusinessMessageReject(BusinessMessageReject {
            ref_seq_num: 2,
            ..Default::default()
        }));
        assert!(o.is_empty());
    }
}
