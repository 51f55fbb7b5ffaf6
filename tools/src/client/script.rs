//! The `--script` language: one request per line, parsed whole before anything is sent.
//!
//! ```text
//! buy|sell INSTRUMENT QTY PRICE [gtc|ioc|fok|day|gtd=NS] [post-only] [reduce-only] [id=N]
//! market buy|sell INSTRUMENT QTY [id=N]
//! cancel CLORDID [instrument=SYM side=buy|sell] [id=N]
//! amend CLORDID QTY PRICE [instrument=SYM side=buy|sell] [id=N]
//! mass-cancel [INSTRUMENT]
//! positions | collateral | sleep MS
//! deposit|withdraw ACCOUNT ASSET AMOUNT            (operator sessions)
//! account ACCOUNT KEY=VALUE...                     (operator sessions)
//! index INSTRUMENT PRICE PRICE...                  (operator sessions)
//! collateral-value ACCOUNT CLASS VALUE [haircut_ppm=N]
//! halt INSTRUMENT | resume INSTRUMENT
//! ```
//!
//! Blank lines and `#` comments are ignored. Cancel and amend name the order by its ClOrdID;
//! when that order was placed earlier in the same script with `id=`, its instrument and side
//! are known, otherwise `instrument=` and `side=` give them (an amend needs them: the venue
//! converts the new price with the instrument's tick).

use std::collections::HashMap;

use exchange::protocol::codec::{
    AccountSetup, ClientClass, SecurityTradingStatus, TimeInForce, TransferType,
};
use thiserror::Error;

use super::decimal::{non_negative_mantissa, positive_mantissa};
use super::reference::Reference;
use super::request::{
    account_setup_defaults, parse_asset, parse_bool, parse_instrument, parse_side, parse_tif,
    parse_uint, LimitOrder, OrderTarget, Request, RequestError,
};

/// Most lines a script may have; a longer one is refused before connecting.
pub const SCRIPT_LINES_MAX: usize = 100_000;

/// Longest `sleep`, in milliseconds (one hour).
pub const SLEEP_MS_MAX: u64 = 3_600_000;

/// A script line that cannot be run, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {reason}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: LineError,
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    /// First word is not a command.
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// Too few words.
    #[error("{command}: missing {what} (usage: {usage})")]
    Missing {
        /// Command word.
        command: &'static str,
        /// Missing argument.
        what: &'static str,
        /// Usage of the command.
        usage: &'static str,
    },
    /// A word the command does not take.
    #[error("{command}: unexpected {word:?} (usage: {usage})")]
    Unexpected {
        /// Command word.
        command: &'static str,
        /// The word.
        word: String,
        /// Usage of the command.
        usage: &'static str,
    },
    /// The same option twice.
    #[error("{option} given twice")]
    Repeated {
        /// The option.
        option: String,
    },
    /// An argument value.
    #[error(transparent)]
    Value(#[from] RequestError),
    /// A ClOrdID used by an earlier line.
    #[error("id={id} is already used on line {first_line}")]
    DuplicateId {
        /// The ClOrdID.
        id: u64,
        /// Where it was first used.
        first_line: usize,
    },
    /// An amend of an order the script does not know, without instrument= and side=.
    #[error(
        "amend of ClOrdID {orig}: the order is not placed with id= earlier in this script; \
         add instrument=SYM side=buy|sell"
    )]
    AmendTargetUnknown {
        /// The OrigClOrdID.
        orig: u64,
    },
    /// Only one of instrument= and side=.
    #[error("instrument= and side= go together")]
    PartialTarget,
    /// The script is too long.
    #[error("the script has more than {SCRIPT_LINES_MAX} lines")]
    TooLong,
}

/// A parsed request with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLine {
    /// 1-based line number.
    pub line: usize,
    /// The request.
    pub request: Request,
}

/// Parses a whole script.
///
/// # Errors
/// The first bad line, as a [`ScriptError`].
pub fn parse_script(text: &str, reference: &Reference) -> Result<Vec<ScriptLine>, ScriptError> {
    let mut parser = Parser {
        reference,
        orders: HashMap::new(),
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if line > SCRIPT_LINES_MAX {
            return Err(ScriptError {
                line,
                reason: LineError::TooLong,
            });
        }
        let content = raw.split('#').next().unwrap_or_default();
        let words: Vec<&str> = content.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let request = parser
            .parse_line(&words, line)
            .map_err(|reason| ScriptError { line, reason })?;
        out.push(ScriptLine { line, request });
    }
    Ok(out)
}

/// Parses one line on its own (the CLI's one-shot commands use the same grammar).
///
/// # Errors
/// [`LineError`] for a bad line; an empty line is [`LineError::UnknownCommand`].
pub fn parse_line(text: &str, reference: &Reference) -> Result<Request, LineError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut parser = Parser {
        reference,
        orders: HashMap::new(),
    };
    parser.parse_line(&words, 1)
}

/// Where each `id=` of the script was used, and for orders, their instrument and side.
struct Parser<'r> {
    reference: &'r Reference,
    orders: HashMap<u64, (usize, Option<OrderTarget>)>,
}

const ORDER_USAGE: &str =
    "buy|sell INSTRUMENT QTY PRICE [gtc|ioc|fok|day|gtd=NS] [post-only] [reduce-only] [id=N]";
const MARKET_USAGE: &str = "market buy|sell INSTRUMENT QTY [id=N]";
const CANCEL_USAGE: &str = "cancel CLORDID [instrument=SYM side=buy|sell] [id=N]";
const AMEND_USAGE: &str = "amend CLORDID QTY PRICE [instrument=SYM side=buy|sell] [id=N]";
const MASS_CANCEL_USAGE: &str = "mass-cancel [INSTRUMENT]";
const FUNDS_USAGE: &str = "deposit|withdraw ACCOUNT ASSET AMOUNT";
const ACCOUNT_USAGE: &str = "account ACCOUNT KEY=VALUE...";
const INDEX_USAGE: &str = "index INSTRUMENT PRICE PRICE...";
const COLLATERAL_VALUE_USAGE: &str = "collateral-value ACCOUNT CLASS VALUE [haircut_ppm=N]";

/// The words of one command: positional arguments in order, then options.
struct Words<'a> {
    command: &'static str,
    usage: &'static str,
    rest: std::slice::Iter<'a, &'a str>,
}

impl<'a> Words<'a> {
    fn next(&mut self, what: &'static str) -> Result<&'a str, LineError> {
        self.rest.next().copied().ok_or(LineError::Missing {
            command: self.command,
            what,
            usage: self.usage,
        })
    }
    fn rest(&mut self) -> Vec<&'a str> {
        self.rest.by_ref().copied().collect()
    }
    fn unexpected(&self, word: &str) -> LineError {
        LineError::Unexpected {
            command: self.command,
            word: word.to_owned(),
            usage: self.usage,
        }
    }
    fn end(&mut self) -> Result<(), LineError> {
        match self.rest.next() {
            Some(word) => Err(self.unexpected(word)),
            None => Ok(()),
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, option: &str) -> Result<(), LineError> {
    if slot.is_some() {
        return Err(LineError::Repeated {
            option: option.to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

impl Parser<'_> {
    fn parse_line(&mut self, words: &[&str], line: usize) -> Result<Request, LineError> {
        let Some((first, rest)) = words.split_first() else {
            return Err(LineError::UnknownCommand(String::new()));
        };
        let words = |command, usage| Words {
            command,
            usage,
            rest: rest.iter(),
        };
        let request = match first.to_ascii_lowercase().as_str() {
            "buy" | "sell" => self.limit(parse_side(first)?, words("buy|sell", ORDER_USAGE))?,
            "market" => self.market(words("market", MARKET_USAGE))?,
            "cancel" => self.cancel(words("cancel", CANCEL_USAGE))?,
            "amend" => self.amend(words("amend", AMEND_USAGE))?,
            "mass-cancel" => self.mass_cancel(words("mass-cancel", MASS_CANCEL_USAGE))?,
            "positions" => no_args(words("positions", "positions"), Request::Positions)?,
            "collateral" => no_args(words("collateral", "collateral"), Request::Collateral)?,
            "sleep" => sleep(words("sleep", "sleep MS"))?,
            "deposit" => funds(words("deposit", FUNDS_USAGE), TransferType::Deposit)?,
            "withdraw" => funds(words("withdraw", FUNDS_USAGE), TransferType::Withdrawal)?,
            "account" => Request::Account(account(words("account", ACCOUNT_USAGE))?),
            "index" => self.index(words("index", INDEX_USAGE))?,
            "collateral-value" => {
                collateral_value(words("collateral-value", COLLATERAL_VALUE_USAGE))?
            }
            "halt" => self.status(words("halt", "halt INSTRUMENT"), true)?,
            "resume" => self.status(words("resume", "resume INSTRUMENT"), false)?,
            _ => return Err(LineError::UnknownCommand((*first).to_owned())),
        };
        self.remember(&request, line)?;
        Ok(request)
    }

    /// Records an explicit ClOrdID, refusing one an earlier line used.
    fn remember(&mut self, request: &Request, line: usize) -> Result<(), LineError> {
        let Some(id) = request.explicit_id() else {
            return Ok(());
        };
        if let Some((first_line, _)) = self.orders.get(&id) {
            return Err(LineError::DuplicateId {
                id,
                first_line: *first_line,
            });
        }
        let target = match request {
            Request::Limit { order, .. } => Some(OrderTarget {
                security_id: order.security_id,
                side: order.side,
            }),
            Request::Market {
                side, security_id, ..
            } => Some(OrderTarget {
                security_id: *security_id,
                side: *side,
            }),
            // The amended order continues under its new ClOrdID.
            Request::Amend { target, .. } => Some(*target),
            _ => None,
        };
        self.orders.insert(id, (line, target));
        Ok(())
    }

    fn instrument(&self, text: &str) -> Result<i32, LineError> {
        Ok(parse_instrument(self.reference, text)?)
    }

    fn limit(
        &self,
        side: exchange::protocol::codec::Side,
        mut w: Words<'_>,
    ) -> Result<Request, LineError> {
        let security_id = self.instrument(w.next("INSTRUMENT")?)?;
        let qty = positive_mantissa("qty", w.next("QTY")?).map_err(RequestError::from)?;
        let price = positive_mantissa("price", w.next("PRICE")?).map_err(RequestError::from)?;
        let mut order = LimitOrder {
            side,
            security_id,
            qty,
            price,
            tif: TimeInForce::GoodTillCancel,
            expire_time_ns: None,
            post_only: false,
            reduce_only: false,
        };
        let (mut tif, mut id, mut post_only, mut reduce_only) = (None, None, None, None);
        for word in w.rest() {
            match word.to_ascii_lowercase().as_str() {
                "post-only" => set_once(&mut post_only, true, word)?,
                "reduce-only" => set_once(&mut reduce_only, true, word)?,
                lower if lower.starts_with("id=") => set_once(&mut id, parse_id(word)?, "id=")?,
                lower if is_tif(lower) => set_once(&mut tif, parse_tif(word)?, "time in force")?,
                _ => return Err(w.unexpected(word)),
            }
        }
        if let Some((t, expiry)) = tif {
            order.tif = t;
            order.expire_time_ns = expiry;
        }
        order.post_only = post_only.unwrap_or(false);
        order.reduce_only = reduce_only.unwrap_or(false);
        Ok(Request::Limit { order, id })
    }

    fn market(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let side = parse_side(w.next("buy|sell")?)?;
        let security_id = self.instrument(w.next("INSTRUMENT")?)?;
        let qty = positive_mantissa("qty", w.next("QTY")?).map_err(RequestError::from)?;
        let mut id = None;
        for word in w.rest() {
            match word.get(..3) {
                Some(p) if p.eq_ignore_ascii_case("id=") => {
                    set_once(&mut id, parse_id(word)?, "id=")?;
                }
                _ => return Err(w.unexpected(word)),
            }
        }
        Ok(Request::Market {
            side,
            security_id,
            qty,
            id,
        })
    }

    /// Options of cancel and amend: `instrument=`, `side=`, `id=`; returns the target (from
    /// the options, else from the script's earlier order) and the request's own id.
    fn order_ref_options(
        &self,
        orig: u64,
        w: &mut Words<'_>,
    ) -> Result<(Option<OrderTarget>, Option<u64>), LineError> {
        let (mut instrument, mut side, mut id) = (None, None, None);
        for word in w.rest() {
            let (key, value) = word.split_once('=').ok_or_else(|| w.unexpected(word))?;
            match key.to_ascii_lowercase().as_str() {
                "instrument" => set_once(&mut instrument, self.instrument(value)?, "instrument=")?,
                "side" => set_once(&mut side, parse_side(value)?, "side=")?,
                "id" => set_once(&mut id, parse_id(word)?, "id=")?,
                _ => return Err(w.unexpected(word)),
            }
        }
        let target = match (instrument, side) {
            (Some(security_id), Some(side)) => Some(OrderTarget { security_id, side }),
            (None, None) => self.orders.get(&orig).and_then(|(_, target)| *target),
            _ => return Err(LineError::PartialTarget),
        };
        Ok((target, id))
    }

    fn cancel(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let orig = parse_cl_ord_id(w.next("CLORDID")?)?;
        let (target, id) = self.order_ref_options(orig, &mut w)?;
        Ok(Request::Cancel { orig, target, id })
    }

    fn amend(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let orig = parse_cl_ord_id(w.next("CLORDID")?)?;
        let qty = positive_mantissa("qty", w.next("QTY")?).map_err(RequestError::from)?;
        let price = positive_mantissa("price", w.next("PRICE")?).map_err(RequestError::from)?;
        let (target, id) = self.order_ref_options(orig, &mut w)?;
        let target = target.ok_or(LineError::AmendTargetUnknown { orig })?;
        Ok(Request::Amend {
            orig,
            qty,
            price,
            target,
            id,
        })
    }

    fn mass_cancel(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let security_id = match w.rest.next() {
            Some(text) => Some(self.instrument(text)?),
            None => None,
        };
        w.end()?;
        Ok(Request::MassCancel { security_id })
    }

    fn index(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let security_id = self.instrument(w.next("INSTRUMENT")?)?;
        let mut prices = Vec::new();
        for word in w.rest() {
            prices.push(positive_mantissa("price", word).map_err(RequestError::from)?);
        }
        let count = prices.len();
        if count == 0 || count > exchange::protocol::codec::GROUP_ENTRIES_MAX {
            return Err(RequestError::ConstituentCount(count).into());
        }
        Ok(Request::Index {
            security_id,
            prices,
        })
    }

    fn status(&self, mut w: Words<'_>, halt: bool) -> Result<Request, LineError> {
        let security_id = self.instrument(w.next("INSTRUMENT")?)?;
        w.end()?;
        let status = if halt {
            SecurityTradingStatus::TradingHalt
        } else {
            SecurityTradingStatus::ReadyToTrade
        };
        Ok(Request::Status {
            security_id,
            status,
        })
    }
}

fn is_tif(lower: &str) -> bool {
    matches!(lower, "gtc" | "ioc" | "fok" | "day") || lower.starts_with("gtd=")
}

fn parse_cl_ord_id(text: &str) -> Result<u64, LineError> {
    Ok(parse_uint("ClOrdID", text, u64::MAX)?)
}

fn parse_id(word: &str) -> Result<u64, LineError> {
    parse_cl_ord_id(word.get(3..).unwrap_or_default())
}

fn no_args(mut w: Words<'_>, request: Request) -> Result<Request, LineError> {
    w.end()?;
    Ok(request)
}

fn sleep(mut w: Words<'_>) -> Result<Request, LineError> {
    let ms = parse_uint("sleep MS", w.next("MS")?, SLEEP_MS_MAX)?;
    w.end()?;
    Ok(Request::Sleep { ms })
}

fn parse_account(text: &str) -> Result<u64, LineError> {
    Ok(parse_uint("ACCOUNT", text, u64::from(u32::MAX))?)
}

fn funds(mut w: Words<'_>, transfer: TransferType) -> Result<Request, LineError> {
    let account = parse_account(w.next("ACCOUNT")?)?;
    let asset = parse_asset(w.next("ASSET")?)?;
    let amount = positive_mantissa("amount", w.next("AMOUNT")?).map_err(RequestError::from)?;
    w.end()?;
    Ok(Request::Funds {
        account,
        asset,
        amount,
        transfer,
    })
}

fn account(mut w: Words<'_>) -> Result<AccountSetup, LineError> {
    let mut setup = account_setup_defaults(parse_account(w.next("ACCOUNT")?)?);
    let mut seen: Vec<String> = Vec::new();
    for word in w.rest() {
        let (key, value) = word.split_once('=').ok_or_else(|| w.unexpected(word))?;
        let key = key.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(LineError::Repeated { option: key });
        }
        apply_account_key(&mut setup, &key, value)?;
        seen.push(key);
    }
    if seen.is_empty() {
        return Err(LineError::Missing {
            command: "account",
            what: "KEY=VALUE",
            usage: ACCOUNT_USAGE,
        });
    }
    Ok(setup)
}

fn apply_account_key(setup: &mut AccountSetup, key: &str, value: &str) -> Result<(), LineError> {
    match key {
        "client_class" => {
            setup.client_class = match value.to_ascii_lowercase().as_str() {
                "retail" => ClientClass::Retail,
                "professional" => ClientClass::Professional,
                _ => return Err(RequestError::ClientClass(value.to_owned()).into()),
            }
        }
        "derivatives_knowledge" => setup.derivatives_knowledge = parse_bool(key_name(key), value)?,
        "risk_disclosure_version_acked" => {
            let n = parse_uint("risk_disclosure_version_acked", value, u64::from(u16::MAX))?;
            setup.risk_disclosure_version_acked = u16::try_from(n).unwrap_or(u16::MAX);
        }
        "securities_margin_client" => {
            setup.securities_margin_client = parse_bool(key_name(key), value)?;
        }
        "credit_limit_usd" => {
            setup.credit_limit_usd =
                non_negative_mantissa("credit_limit_usd", value).map_err(RequestError::from)?;
        }
        "affiliate_mm" => setup.affiliate_mm = parse_bool(key_name(key), value)?,
        "owner_group" => {
            let n = parse_uint("owner_group", value, u64::from(u32::MAX))?;
            setup.owner_group = u32::try_from(n).unwrap_or(u32::MAX);
        }
        _ => return Err(RequestError::AccountKey(key.to_owned()).into()),
    }
    Ok(())
}

/// The static name of a boolean account key, for error messages.
fn key_name(key: &str) -> &'static str {
    match key {
        "derivatives_knowledge" => "derivatives_knowledge",
        "securities_margin_client" => "securities_margin_client",
        _ => "affiliate_mm",
    }
}

fn collateral_value(mut w: Words<'_>) -> Result<Request, LineError> {
    let account = parse_account(w.next("ACCOUNT")?)?;
    let class = parse_uint("CLASS", w.next("CLASS")?, u64::from(u16::MAX))?;
    let value = non_negative_mantissa("value", w.next("VALUE")?).map_err(RequestError::from)?;
    let mut haircut = None;
    for word in w.rest() {
        match word.split_once('=') {
            Some((key, v)) if key.eq_ignore_ascii_case("haircut_ppm") => {
                set_once(&mut haircut, parse_uint("haircut_ppm", v, 1_000_000)?, key)?;
            }
            _ => return Err(w.unexpected(word)),
        }
    }
    Ok(Request::CollateralValue {
        account,
        class: u16::try_from(class).unwrap_or(u16::MAX),
        value,
        haircut_ppm: u32::try_from(haircut.unwrap_or(0)).unwrap_or(u32::MAX),
    })
}
