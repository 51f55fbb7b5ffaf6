//! Codec round trips, every malformed-input class, and a no-panic property over arbitrary bytes.

use exchange::protocol::codec::{
    samples, Asset, BusinessMessageReject, CollateralAmountsEntry, CollateralReport, DecodeError,
    Encode, EncodeError, ExecInst, GroupVec, NewOrderSingle, OrdType, Plain,
    SelfMatchPreventionInstruction, Side, TimeInForce, VarData, GROUP_ENTRIES_MAX, HEADER_LEN,
    SCHEMA_ID, SCHEMA_VERSION, VAR_DATA_MAX,
};
use exchange::protocol::sofh::{self, Frames, SofhError, SOFH_LEN};
use exchange::protocol::{decode, Inbound};
use proptest::prelude::*;

const MAX_FRAME: usize = 4096;

fn encode(msg: &Plain) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_FRAME];
    let n = msg.encode(&mut buf).expect("MAX_FRAME holds every sample");
    buf.truncate(n);
    buf
}

fn order() -> NewOrderSingle {
    NewOrderSingle {
        cl_ord_id: 42,
        price: Some(6_500_012_345_678),
        order_qty: 150_000_000,
        expire_time: None,
        security_id: 1,
        side: Side::Sell,
        ord_type: OrdType::Limit,
        time_in_force: TimeInForce::GoodTillCancel,
        exec_inst: ExecInst::empty().with_post_only(true),
        self_match_prevention_instruction: Some(SelfMatchPreventionInstruction::CancelBoth),
    }
}

fn order_bytes() -> Vec<u8> {
    encode(&Plain::NewOrderSingle(order()))
}

#[test]
fn every_message_round_trips_full_and_default() {
    let all = samples();
    assert_eq!(all.len(), 2 * 34, "two samples per template");
    for msg in &all {
        let bytes = encode(msg);
        let decoded = decode(&bytes).unwrap_or_else(|e| panic!("{msg:?}: {e}"));
        assert_eq!(decoded.template_id(), msg.template_id());
        assert_eq!(&decoded.to_plain(), msg);
    }
}

#[test]
fn new_order_single_has_the_documented_layout() {
    let bytes = order_bytes();
    assert_eq!(bytes.len(), HEADER_LEN + 41);
    assert_eq!(&bytes[..8], &[41, 0, 1, 0, 0x59, 0x1b, 1, 0]);
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), SCHEMA_ID);
    assert_eq!(&bytes[8..16], &42u64.to_le_bytes());
    assert_eq!(&bytes[8 + 36..8 + 41], b"221\x013");
    let Ok(Inbound::NewOrderSingle(view)) = decode(&bytes) else {
        panic!("not an order")
    };
    assert_eq!(view.price(), Some(6_500_012_345_678));
    assert!(view.exec_inst().post_only());
    assert!(!view.exec_inst().reduce_only());
}

#[test]
fn groups_and_var_data_round_trip_through_views() {
    let mut report = CollateralReport {
        account: 7,
        ..Default::default()
    };
    let entry = CollateralAmountsEntry {
        balance: 5,
        held_amount: 1,
        collateral_value: 4,
        currency: Asset::Btc,
    };
    report
        .no_collateral_amounts
        .push(entry)
        .expect("capacity 16");
    let bytes = encode(&Plain::CollateralReport(report));
    let Ok(Inbound::CollateralReport(view)) = decode(&bytes) else {
        panic!("not a report")
    };
    assert_eq!(view.no_collateral_amounts().len(), 1);
    assert_eq!(view.no_collateral_amounts().get(0), Some(entry));
    assert_eq!(view.no_collateral_amounts().iter().count(), 1);

    let reject = BusinessMessageReject {
        text: VarData::from_text("unknown instrument 9").expect("short text"),
        ..Default::default()
    };
    let bytes = encode(&Plain::BusinessMessageReject(reject));
    let Ok(Inbound::BusinessMessageReject(view)) = decode(&bytes) else {
        panic!("not a reject")
    };
    assert_eq!(view.text(), b"unknown instrument 9");
}

#[test]
fn truncated_message_is_rejected() {
    let bytes = order_bytes();
    assert_eq!(
        decode(&bytes[..5]).err(),
        Some(DecodeError::Truncated {
            needed: 8,
            available: 5
        })
    );
    assert_eq!(
        decode(&bytes[..bytes.len() - 1]).err(),
        Some(DecodeError::Truncated {
            needed: 41,
            available: 40
        })
    );
}

#[test]
fn unknown_template_is_rejected() {
    let mut bytes = order_bytes();
    bytes[2..4].copy_from_slice(&999u16.to_le_bytes());
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::UnknownTemplate { template_id: 999 })
    );
}

#[test]
fn wrong_block_length_is_rejected() {
    let mut bytes = order_bytes();
    bytes[0..2].copy_from_slice(&40u16.to_le_bytes());
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::WrongBlockLength {
            template_id: 1,
            expected: 41,
            actual: 40
        })
    );
}

#[test]
fn wrong_schema_id_and_version_are_rejected() {
    let mut bytes = order_bytes();
    bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::WrongSchemaId {
            expected: SCHEMA_ID,
            actual: 1
        })
    );
    let mut bytes = order_bytes();
    bytes[6..8].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::WrongVersion {
            expected: SCHEMA_VERSION,
            actual: 2
        })
    );
}

#[test]
fn invalid_enum_and_set_values_are_rejected() {
    let mut bytes = order_bytes();
    bytes[HEADER_LEN + 36] = b'3';
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::InvalidEnum {
            field: "Side",
            value: 51
        })
    );
    let mut bytes = order_bytes();
    bytes[HEADER_LEN + 39] = 0x80;
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::InvalidSet {
            field: "ExecInst",
            bits: 0x80
        })
    );
    // Null (0) is valid for the optional SelfMatchPreventionInstruction, '9' is not.
    let mut bytes = order_bytes();
    bytes[HEADER_LEN + 40] = 0;
    assert!(decode(&bytes).is_ok());
    bytes[HEADER_LEN + 40] = b'9';
    assert!(matches!(
        decode(&bytes).err(),
        Some(DecodeError::InvalidEnum { .. })
    ));
}

#[test]
fn oversized_group_and_var_data_are_rejected() {
    let report = encode(&Plain::CollateralReport(CollateralReport::default()));
    let dim = HEADER_LEN + usize::from(CollateralReport::BLOCK_LENGTH);
    let mut bytes = report.clone();
    bytes[dim + 2..dim + 4].copy_from_slice(&17u16.to_le_bytes());
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::GroupTooLarge {
            group: "NoCollateralAmounts",
            count: 17,
            max: 16
        })
    );
    let mut bytes = report;
    bytes[dim..dim + 2].copy_from_slice(&24u16.to_le_bytes());
    assert!(matches!(
        decode(&bytes).err(),
        Some(DecodeError::WrongGroupBlockLength { actual: 24, .. })
    ));

    let reject = encode(&Plain::BusinessMessageReject(
        BusinessMessageReject::default(),
    ));
    let var = HEADER_LEN + usize::from(BusinessMessageReject::BLOCK_LENGTH);
    let mut bytes = reject;
    bytes[var..var + 2].copy_from_slice(&257u16.to_le_bytes());
    bytes.resize(bytes.len() + 257, b'x');
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::VarDataTooLong {
            field: "Text",
            len: 257,
            max: VAR_DATA_MAX
        })
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = order_bytes();
    bytes.push(0);
    assert_eq!(
        decode(&bytes).err(),
        Some(DecodeError::TrailingBytes {
            template_id: 1,
            extra: 1
        })
    );
}

#[test]
fn encoder_reports_small_buffers_and_bounds() {
    let mut buf = [0u8; 20];
    assert_eq!(
        order().encode(&mut buf),
        Err(EncodeError::BufferTooSmall {
            needed: 49,
            available: 20
        })
    );
    let long = [b'x'; VAR_DATA_MAX + 1];
    assert!(matches!(
        VarData::<VAR_DATA_MAX>::new(&long),
        Err(EncodeError::VarDataTooLong { .. })
    ));
    let mut group: GroupVec<CollateralAmountsEntry, GROUP_ENTRIES_MAX> = GroupVec::new();
    for _ in 0..GROUP_ENTRIES_MAX {
        group
            .push(CollateralAmountsEntry::default())
            .expect("below capacity");
    }
    assert_eq!(
        group.push(CollateralAmountsEntry::default()),
        Err(EncodeError::GroupFull { max: 16 })
    );
}

#[test]
fn frames_carry_messages_and_bad_frames_fail_specifically() {
    let message = order_bytes();
    let mut stream = vec![0u8; SOFH_LEN + message.len()];
    let n = sofh::write_header(&mut stream, message.len()).expect("sized");
    stream[SOFH_LEN..n].copy_from_slice(&message);
    let frames: Vec<_> = Frames::new(&stream, MAX_FRAME).collect();
    assert_eq!(frames.len(), 1);
    let body = frames[0].expect("valid frame");
    assert!(matches!(decode(body), Ok(Inbound::NewOrderSingle(_))));

    let mut wrong = stream.clone();
    wrong[4] = 0xEC;
    assert_eq!(
        sofh::split_frame(&wrong, MAX_FRAME),
        Err(SofhError::WrongEncodingType { found: 0xEC50 })
    );
    let mut short = stream.clone();
    short[..4].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(
        sofh::split_frame(&short, MAX_FRAME),
        Err(SofhError::LengthTooSmall { length: 3 })
    );
    assert!(matches!(
        sofh::split_frame(&stream, 16),
        Err(SofhError::LengthTooLarge { .. })
    ));
    assert!(matches!(
        sofh::split_frame(&stream[..10], MAX_FRAME),
        Err(SofhError::Truncated { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = decode(&bytes);
        for frame in Frames::new(&bytes, MAX_FRAME) {
            let Ok(body) = frame else { break };
            let _ = decode(body);
        }
    }

    #[test]
    fn decoder_never_panics_on_mutated_valid_messages(
        index in 0usize..64,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let all = samples();
        let mut bytes = encode(&all[index % all.len()]);
        for (pos, value) in flips {
            let len = bytes.len();
            bytes[pos % len] = value;
        }
        let cut = cut % (bytes.len() + 1);
        if let Ok(msg) = decode(&bytes[..cut]) {
            // Whatever decodes must re-encode to the same bytes.
            let plain = msg.to_plain();
            prop_assert_eq!(encode(&plain), bytes[..cut].to_vec());
        }
    }
}
