//! Reject reasons. Each has a stable numeric code that travels on the wire as the FIX
//! OrdRejReason / CxlRejReason / BusinessRejectReason value (codes ≥ 100 are venue-specific).

/// Why a command was refused. A rejected command changes no state other than emitting the reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum RejectReason {
    // Standard FIX OrdRejReason codes.
    /// FIX 1: unknown symbol.
    UnknownInstrument = 1,
    /// FIX 2: exchange closed (instrument halted).
    InstrumentHalted = 2,
    /// FIX 3: order exceeds limit (quantity outside [min, max]).
    QtyOutOfRange = 3,
    /// FIX 5: unknown order.
    UnknownOrder = 5,
    /// FIX 6: duplicate order (a live order already has this ClOrdID).
    DuplicateClOrdId = 6,
    /// FIX 11: unsupported order characteristic.
    UnsupportedOrder = 11,
    /// FIX 13: incorrect quantity (not a whole number of lots).
    QtyOffLot = 13,
    /// FIX 18: invalid price increment (not a whole number of ticks).
    PriceOffTick = 18,
    // Venue-specific codes.
    UnknownAccount = 100,
    InsufficientFunds = 101,
    PriceOutOfRange = 102,
    PriceOutsideBand = 103,
    PostOnlyWouldCross = 104,
    OrderPoolFull = 105,
    AccountOrderLimit = 106,
    OrderFinished = 107,
    NotOrderOwner = 108,
    FokNotFillable = 109,
    NoLiquidity = 110,
    AmendNoChange = 111,
    AmendQtyBelowFilled = 112,
    ExpireTimeInPast = 113,
    AccountBlocked = 114,
    InvalidAmount = 115,
    AccountTableFull = 116,
    AccountExists = 117,
    AssetNotAllowed = 118,
    TimerQueueFull = 119,
    BookLevelsFull = 120,
    NotOperator = 121,
    Unsupported = 122,
    MissingPrice = 123,
    /// Every order id has been issued (see `order_ids`): the venue takes no new orders.
    OrderIdsExhausted = 124,
    // Perpetual gating (SFC: professional investors only); used by the perpetual engine.
    NotProfessionalInvestor = 200,
    NoDerivativesKnowledge = 201,
    RiskDisclosureNotAcked = 202,
    PerpetualNotEnabled = 203,
    // Perpetual engine.
    /// The index is stale: only orders that reduce positions are accepted.
    IndexStale = 204,
    InsufficientMargin = 205,
    ReduceOnlyWouldIncrease = 206,
    OrderNotionalTooLarge = 207,
    OpenInterestCap = 208,
    PositionLimit = 209,
    CircuitBreakerHalted = 210,
    MarginTierExceeded = 211,
    NotPerpetual = 212,
    IndexTooFewConstituents = 213,
    IndexOutOfOrder = 214,
    IndexSourcesFull = 215,
    IndexDuplicateSource = 216,
    IndexFutureTime = 217,
    InvalidPrice = 218,
    // Margin financing (SPEC §2: securities-margin clients only, within credit and collateral).
    MarginCallActive = 219,
    CreditLimitExceeded = 220,
    InsufficientCollateral = 221,
    UnknownSecurityClass = 222,
    InvalidHaircut = 223,
    // Market-maker toolkit (mass quotes, market maker protection).
    /// MMP froze the account's MMP orders on this underlying.
    MmpFrozen = 240,
    MmpNotConfigured = 241,
    /// MMP window, quantity limit and delta limit must be positive.
    MmpInvalidConfig = 242,
    /// An MMP order or quote side above the instrument's maximum quote quantity.
    MmpQtyTooLarge = 243,
    MmpTableFull = 244,
    /// MMP covers BTC and ETH only.
    MmpUnderlying = 245,
    /// Bid at or above the offer within one quote.
    QuoteCrossed = 246,
    TooManyQuoteEntries = 247,
    /// ClOrdIDs with bit 63 set name quote sides.
    ReservedClOrdId = 248,
    // Kill switch and owner groups (230-239).
    /// A kill switch named an owner group no account belongs to (or group 0).
    UnknownOwnerGroup = 230,
}

impl RejectReason {
    /// The numeric code sent on the wire.
    #[inline]
    pub fn code(self) -> u16 {
        self as u16
    }

    /// A short human-readable text for the FIX Text field and the tools.
    pub fn text(self) -> &'static str {
        use RejectReason::*;
        match self {
            UnknownInstrument => "unknown instrument",
            InstrumentHalted => "instrument halted",
            QtyOutOfRange => "quantity outside the instrument's min/max",
            UnknownOrder => "unknown order",
            DuplicateClOrdId => "a live order already has this ClOrdID",
            UnsupportedOrder => "unsupported order characteristic",
            QtyOffLot => "quantity is not a whole number of lots",
            PriceOffTick => "price is not a whole number of ticks",
            UnknownAccount => "unknown account",
            InsufficientFunds => "insufficient funds",
            PriceOutOfRange => "price outside the instrument's price range",
            PriceOutsideBand => "price outside the band around the reference price",
            PostOnlyWouldCross => "post-only order would cross",
            OrderPoolFull => "order capacity of the venue reached",
            AccountOrderLimit => "open-order limit of the account reached",
            OrderFinished => "order already finished",
            NotOrderOwner => "order belongs to another account",
            FokNotFillable => "fill-or-kill order cannot be filled entirely",
            NoLiquidity => "no liquidity within the protection price",
            AmendNoChange => "amend changes neither price nor quantity",
            AmendQtyBelowFilled => "amended quantity not above the filled quantity",
            ExpireTimeInPast => "expire time is not in the future",
            AccountBlocked => "account blocked by the operator",
            InvalidAmount => "amount must be positive",
            AccountTableFull => "account capacity reached",
            AccountExists => "account already exists",
            AssetNotAllowed => "asset not allowed",
            TimerQueueFull => "expiry queue full",
            BookLevelsFull => "price level capacity of the book reached",
            NotOperator => "admin messages are for operator sessions only",
            Unsupported => "not supported by this venue yet",
            MissingPrice => "a limit order needs a price",
            OrderIdsExhausted => "order ids of the venue exhausted",
            NotProfessionalInvestor => "perpetuals are for professional investors only",
            NoDerivativesKnowledge => "derivatives knowledge assessment not passed",
            RiskDisclosureNotAcked => "current risk disclosure not acknowledged",
            PerpetualNotEnabled => "perpetual trading not enabled",
            IndexStale => "index stale: only orders that reduce positions are accepted",
            InsufficientMargin => "initial margin not covered",
            ReduceOnlyWouldIncrease => "reduce-only order would open or increase a position",
            OrderNotionalTooLarge => "order notional above the instrument's maximum",
            OpenInterestCap => "open-interest cap of the instrument reached",
            PositionLimit => "position limit of the account reached",
            CircuitBreakerHalted => "instrument halted by the circuit breaker",
            MarginTierExceeded => "position beyond the last margin tier",
            NotPerpetual => "not a perpetual instrument",
            IndexTooFewConstituents => "an index update needs at least 3 constituents",
            IndexOutOfOrder => "index update older than the previous one",
            IndexSourcesFull => "too many index price sources",
            IndexDuplicateSource => "a price source appears twice",
            IndexFutureTime => "constituent time in the future",
            InvalidPrice => "price must be positive",
            MarginCallActive => "account is under a margin call: no new borrowing or exposure",
            CreditLimitExceeded => "borrowing would exceed the account's credit limit",
            InsufficientCollateral => "loan would exceed the loanable value of the collateral",
            UnknownSecurityClass => "unknown security class",
            InvalidHaircut => "haircut must be between 0 and 1",
            MmpFrozen => "market maker protection frozen: MMP orders refused until reset or expiry",
            MmpNotConfigured => "market maker protection not configured for this underlying",
            MmpInvalidConfig => "MMP window, quantity and delta limits must be positive",
            MmpQtyTooLarge => "MMP order or quote size above the instrument's maximum quote size",
            MmpTableFull => "MMP configuration capacity of the venue reached",
            MmpUnderlying => "market maker protection covers BTC and ETH only",
            QuoteCrossed => "quote bid at or above its offer",
            TooManyQuoteEntries => "more quote entries than the venue allows in one message",
            ReservedClOrdId => "ClOrdIDs with bit 63 set are reserved for quotes",
            UnknownOwnerGroup => "no account belongs to this owner group",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text(), self.code())
    }
}
