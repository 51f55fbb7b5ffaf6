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
//! quote INSTRUMENT BIDQTY@BIDPX ASKQTY@ASKPX [id=QUOTEID] [set=QUOTESET] [mmp]
//! quote-cancel [INSTRUMENT]
//! mmp-config UNDERLYING window=MS qty=X delta=Y [frozen=MS]
//! mmp-reset UNDERLYING
//! ```
//!
//! `buy` and `sell` also take `mmp` (the order is covered by market maker protection).
//!
//! Blank lines and `#` comments are ignored. Cancel and amend name the order by its ClOrdID;
//! when that order was placed earlier in the same script with `id=`, its instrument and side
//! are known, otherwise `instrument=` and `side=` give them (an amend needs them: the venue
//! converts the new price with the instrument's tick).

use std::collections::HashMap;

use exchange::protocol::codec::{
    AccountSetup, ClientClass, KillSwitchAction, SecurityTradingStatus, TimeInForce, TransferType,
};
use thiserror::Error;

use super::decimal::{non_negative_mantissa, positive_mantissa};
use super::quote::{parse_mmp_options, parse_quote_side, QuoteLine};
use super::reference::Reference;
use super::request::{
    account_setup_defaults, parse_asset, parse_bool, parse_instrument, parse_side, parse_tif,
    parse_uint, KillTarget, LimitOrder, OrderTarget, Request, RequestError,
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

const ORDER_USAGE: &str = "buy|sell INSTRUMENT QTY PRICE [gtc|ioc|fok|day|gtd=NS] [post-only] \
     [reduce-only] [mmp] [id=N]";
const QUOTE_USAGE: &str =
    "quote INSTRUMENT BIDQTY@BIDPX ASKQTY@ASKPX [id=QUOTEID] [set=QUOTESET] [mmp]";
const MMP_CONFIG_USAGE: &str = "mmp-config UNDERLYING window=MS qty=X delta=Y [frozen=MS]";
const MARKET_USAGE: &str = "market buy|sell INSTRUMENT QTY [id=N]";
const CANCEL_USAGE: &str = "cancel CLORDID [instrument=SYM side=buy|sell] [id=N]";
const AMEND_USAGE: &str = "amend CLORDID QTY PRICE [instrument=SYM side=buy|sell] [id=N]";
const MASS_CANCEL_USAGE: &str = "mass-cancel [INSTRUMENT]";
const FUNDS_USAGE: &str = "deposit|withdraw ACCOUNT ASSET AMOUNT";
const ACCOUNT_USAGE: &str = "account ACCOUNT KEY=VALUE...";
const INDEX_USAGE: &str = "index INSTRUMENT PRICE PRICE...";
const KILL_USAGE: &str = "kill|unblock account=ACCOUNT|group=OWNER_GROUP";
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
            "quote" => self.quote(words("quote", QUOTE_USAGE))?,
            "quote-cancel" => {
                match self.mass_cancel(words("quote-cancel", "quote-cancel [INSTRUMENT]"))? {
                    Request::MassCancel { security_id } => Request::QuoteCancel { security_id },
                    other => other,
                }
            }
            "mmp-config" => mmp_config(words("mmp-config", MMP_CONFIG_USAGE))?,
            "mmp-reset" => {
                let mut w = words("mmp-reset", "mmp-reset UNDERLYING");
                let underlying = parse_asset(w.next("UNDERLYING")?)?;
                w.end()?;
                Request::MmpReset { underlying }
            }
            "kill" => kill(words("kill", KILL_USAGE), KillSwitchAction::Kill)?,
            "unblock" => kill(words("unblock", KILL_USAGE), KillSwitchAction::Unblock)?,
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
            mmp: false,
        };
        let (mut tif, mut id, mut post_only, mut reduce_only) = (None, None, None, None);
        let mut mmp = None;
        for word in w.rest() {
            match word.to_ascii_lowercase().as_str() {
                "post-only" => set_once(&mut post_only, true, word)?,
                "mmp" => set_once(&mut mmp, true, word)?,
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
        order.mmp = mmp.unwrap_or(false);
        Ok(Request::Limit { order, id })
    }

    fn quote(&self, mut w: Words<'_>) -> Result<Request, LineError> {
        let security_id = self.instrument(w.next("INSTRUMENT")?)?;
        let (bid_qty, bid_px) = parse_quote_side(w.next("BIDQTY@BIDPX")?)?;
        let (offer_qty, offer_px) = parse_quote_side(w.next("ASKQTY@ASKPX")?)?;
        let (mut id, mut set, mut mmp) = (None, None, None);
        for word in w.rest() {
            let lower = word.to_ascii_lowercase();
            match lower.split_once('=') {
                Some(("id", v)) => {
                    set_once(&mut id, parse_uint("QUOTEID", v, u32::MAX.into())?, "id=")?
                }
                Some(("set", v)) => set_once(
                    &mut set,
                    parse_uint("QUOTESET", v, u16::MAX.into())?,
                    "set=",
                )?,
                None if lower == "mmp" => set_once(&mut mmp, true, word)?,
                _ => return Err(w.unexpected(word)),
            }
        }
        // Without id= the quote is the instrument's: a repeated line replaces it.
        let quote_id = id.unwrap_or(security_id.unsigned_abs().into());
        Ok(Request::Quote(QuoteLine {
            security_id,
            quote_id: u32::try_from(quote_id).unwrap_or(u32::MAX),
            quote_set: u16::try_from(set.unwrap_or(0)).unwrap_or(u16::MAX),
            bid_qty,
            bid_px,
            offer_qty,
            offer_px,
            mmp: mmp.unwrap_or(false),
        }))
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

/// `kill account=N` / `kill group=N` (and `unblock …`): the operator's kill switch.
fn kill(mut w: Words<'_>, action: KillSwitchAction) -> Result<Request, LineError> {
    let word = w.next("account=ACCOUNT|group=OWNER_GROUP")?;
    let target = match word.split_once('=') {
        Some((key, value)) if key.eq_ignore_ascii_case("account") => {
            KillTarget::Account(parse_account(value)?)
        }
        Some((key, value)) if key.eq_ignore_ascii_case("group") => {
            let group = parse_uint("OWNER_GROUP", value, u64::from(u32::MAX))?;
            KillTarget::OwnerGroup(u32::try_from(group).unwrap_or(u32::MAX))
        }
        _ => return Err(w.unexpected(word)),
    };
    w.end()?;
    Ok(Request::KillSwitch { target, action })
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

fn mmp_config(mut w: Words<'_>) -> Result<Request, LineError> {
    let underlying = parse_asset(w.next("UNDERLYING")?)?;
    let options = w.rest();
    Ok(Request::MmpConfig(parse_mmp_options(underlying, &options)?))
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

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{Asset, BooleanFlag, Side};

    use crate::client::decimal::DecimalError;

    fn parse(text: &str) -> Result<Vec<Request>, ScriptError> {
        let reference = Reference::from_default_config();
        parse_script(text, &reference).map(|lines| lines.into_iter().map(|l| l.request).collect())
    }

    fn one(text: &str) -> Request {
        let mut requests = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(requests.len(), 1, "{text:?}");
        requests.remove(0)
    }

    fn error(text: &str) -> ScriptError {
        parse(text).expect_err(text)
    }

    fn reason(text: &str) -> LineError {
        error(text).reason
    }

    const BTC: i32 = 1;
    const ETH: i32 = 2;
    const UNIT: i64 = 100_000_000;

    #[test]
    fn limit_order_defaults_to_gtc_without_flags() {
        let Request::Limit { order, id } = one("buy BTC-USD 0.5 100000.5") else {
            panic!("not a limit order");
        };
        assert_eq!(id, None);
        assert_eq!(order.side, Side::Buy);
        assert_eq!(order.security_id, BTC);
        assert_eq!(order.qty, UNIT / 2);
        assert_eq!(order.price, 10_000_050_000_000);
        assert_eq!(order.tif, TimeInForce::GoodTillCancel);
        assert!(!order.post_only && !order.reduce_only);
    }

    #[test]
    fn limit_order_options_in_any_order() {
        let Request::Limit { order, id } =
            one("SELL eth-usd 2 3000 id=77 reduce-only ioc post-only")
        else {
            panic!("not a limit order");
        };
        assert_eq!(id, Some(77));
        assert_eq!(order.side, Side::Sell);
        assert_eq!(order.security_id, ETH);
        assert_eq!(order.tif, TimeInForce::ImmediateOrCancel);
        assert!(order.post_only && order.reduce_only);
    }

    #[test]
    fn every_time_in_force() {
        for (word, tif, expiry) in [
            ("gtc", TimeInForce::GoodTillCancel, None),
            ("ioc", TimeInForce::ImmediateOrCancel, None),
            ("fok", TimeInForce::FillOrKill, None),
            ("day", TimeInForce::Day, None),
            (
                "gtd=1700000000000000000",
                TimeInForce::GoodTillDate,
                Some(1_700_000_000_000_000_000),
            ),
        ] {
            let Request::Limit { order, .. } = one(&format!("buy 1 1 1 {word}")) else {
                panic!("not a limit order");
            };
            assert_eq!((order.tif, order.expire_time_ns), (tif, expiry), "{word}");
        }
    }

    #[test]
    fn market_order() {
        assert_eq!(
            one("market sell BTC-USD-PERP 0.001 id=5"),
            Request::Market {
                side: Side::Sell,
                security_id: 3,
                qty: 100_000,
                id: Some(5)
            }
        );
    }

    #[test]
    fn cancel_of_an_order_placed_earlier_knows_its_target() {
        let requests = parse("buy ETH-USD 1 3000 id=4\ncancel 4").expect("valid");
        assert_eq!(
            requests[1],
            Request::Cancel {
                orig: 4,
                target: Some(OrderTarget {
                    security_id: ETH,
                    side: Side::Buy
                }),
                id: None
            }
        );
    }

    #[test]
    fn cancel_of_an_unknown_order_goes_without_target_or_with_the_given_one() {
        assert_eq!(
            one("cancel 99"),
            Request::Cancel {
                orig: 99,
                target: None,
                id: None
            }
        );
        assert_eq!(
            one("cancel 99 instrument=BTC-USD side=sell id=100"),
            Request::Cancel {
                orig: 99,
                target: Some(OrderTarget {
                    security_id: BTC,
                    side: Side::Sell
                }),
                id: Some(100)
            }
        );
    }

    #[test]
    fn amend_uses_the_target_of_the_placed_order_and_its_new_id_continues() {
        let requests = parse("sell BTC-USD 1 101000 id=1\namend 1 2 101500 id=2\namend 2 1 101400")
            .expect("valid");
        let target = OrderTarget {
            security_id: BTC,
            side: Side::Sell,
        };
        assert_eq!(
            requests[1],
            Request::Amend {
                orig: 1,
                qty: 2 * UNIT,
                price: 10_150_000_000_000,
                target,
                id: Some(2)
            }
        );
        assert!(matches!(requests[2], Request::Amend { orig: 2, target: t, .. } if t == target));
    }

    #[test]
    fn amend_of_an_unknown_order_needs_instrument_and_side() {
        assert_eq!(
            reason("amend 5 1 100"),
            LineError::AmendTargetUnknown { orig: 5 }
        );
        assert!(matches!(
            one("amend 5 1 100 instrument=ETH-USD side=buy"),
            Request::Amend {
                target: OrderTarget {
                    security_id: ETH,
                    side: Side::Buy
                },
                ..
            }
        ));
        assert_eq!(
            reason("amend 5 1 100 instrument=ETH-USD"),
            LineError::PartialTarget
        );
    }

    #[test]
    fn mass_cancel_all_or_one_instrument() {
        assert_eq!(
            one("mass-cancel"),
            Request::MassCancel { security_id: None }
        );
        assert_eq!(
            one("mass-cancel ETH-USD-PERP"),
            Request::MassCancel {
                security_id: Some(4)
            }
        );
    }

    #[test]
    fn queries_and_sleep() {
        assert_eq!(one("positions"), Request::Positions);
        assert_eq!(one("collateral"), Request::Collateral);
        assert_eq!(one("sleep 250"), Request::Sleep { ms: 250 });
    }

    #[test]
    fn deposit_and_withdraw() {
        assert_eq!(
            one("deposit 4 usd 1000.25"),
            Request::Funds {
                account: 4,
                asset: Asset::Usd,
                amount: 100_025_000_000,
                transfer: TransferType::Deposit
            }
        );
        assert!(matches!(
            one("withdraw 4 BTC 0.1"),
            Request::Funds {
                asset: Asset::Btc,
                amount: 10_000_000,
                transfer: TransferType::Withdrawal,
                ..
            }
        ));
    }

    #[test]
    fn account_keys_override_the_configured_attributes() {
        let Request::Account(setup) = one(
            "account 4 client_class=professional derivatives_knowledge=true \
             risk_disclosure_version_acked=3 securities_margin_client=true \
             credit_limit_usd=50000.5 affiliate_mm=false owner_group=9",
        ) else {
            panic!("not an account line");
        };
        assert_eq!(setup.account, 4);
        assert_eq!(setup.client_class, ClientClass::Professional);
        assert_eq!(setup.derivatives_knowledge, BooleanFlag::True);
        assert_eq!(setup.risk_disclosure_version_acked, 3);
        assert_eq!(setup.securities_margin_client, BooleanFlag::True);
        assert_eq!(setup.credit_limit_usd, 5_000_050_000_000);
        assert_eq!(setup.affiliate_mm, BooleanFlag::False);
        assert_eq!(setup.owner_group, 9);
        // Keys not given keep the embedded configuration's values (MM1: owner group 1).
        let Request::Account(mm1) = one("account 1 credit_limit_usd=0") else {
            panic!("not an account line");
        };
        assert_eq!(mm1.owner_group, 1);
        assert_eq!(mm1.client_class, ClientClass::Professional);
    }

    #[test]
    fn index_collateral_value_halt_resume() {
        assert_eq!(
            one("index BTC-USD-PERP 100000 100010.5 99990"),
            Request::Index {
                security_id: 3,
                prices: vec![10_000_000_000_000, 10_001_050_000_000, 9_999_000_000_000]
            }
        );
        assert_eq!(
            one("collateral-value 4 7 250000 haircut_ppm=300000"),
            Request::CollateralValue {
                account: 4,
                class: 7,
                value: 250_000 * UNIT,
                haircut_ppm: 300_000
            }
        );
        assert!(matches!(
            one("collateral-value 4 7 0"),
            Request::CollateralValue {
                haircut_ppm: 0,
                value: 0,
                ..
            }
        ));
        assert_eq!(
            one("halt ETH-USD"),
            Request::Status {
                security_id: ETH,
                status: SecurityTradingStatus::TradingHalt
            }
        );
        assert_eq!(
            one("resume 2"),
            Request::Status {
                security_id: ETH,
                status: SecurityTradingStatus::ReadyToTrade
            }
        );
    }

    #[test]
    fn kill_and_unblock_target_an_account_or_an_owner_group() {
        assert_eq!(
            one("kill account=3"),
            Request::KillSwitch {
                target: KillTarget::Account(3),
                action: KillSwitchAction::Kill
            }
        );
        assert_eq!(
            one("unblock group=100"),
            Request::KillSwitch {
                target: KillTarget::OwnerGroup(100),
                action: KillSwitchAction::Unblock
            }
        );
        let reference = Reference::from_default_config();
        for bad in [
            "kill",
            "kill 3",
            "kill desk=1",
            "kill account=x",
            "kill group=1 extra",
        ] {
            assert!(parse_line(bad, &reference).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_lines_and_comments_are_ignored_and_line_numbers_kept() {
        let reference = Reference::from_default_config();
        let lines = parse_script(
            "# quotes\n\n  buy 1 1 1  # bid\n\t\npositions\n",
            &reference,
        )
        .expect("valid");
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [3, 5]);
    }

    #[test]
    fn the_first_bad_line_is_reported_with_its_number() {
        let e = error("buy 1 1 1\npositions\nfrobnicate\nbuy nonsense");
        assert_eq!(e.line, 3);
        assert_eq!(e.reason, LineError::UnknownCommand("frobnicate".into()));
        assert_eq!(e.to_string(), "line 3: unknown command \"frobnicate\"");
    }

    #[test]
    fn missing_arguments_name_what_is_missing() {
        for (text, what) in [
            ("buy BTC-USD 1", "PRICE"),
            ("sell", "INSTRUMENT"),
            ("market buy BTC-USD", "QTY"),
            ("market", "buy|sell"),
            ("cancel", "CLORDID"),
            ("amend 1 2", "PRICE"),
            ("sleep", "MS"),
            ("deposit 1 USD", "AMOUNT"),
            ("withdraw 1", "ASSET"),
            ("account", "ACCOUNT"),
            ("account 1", "KEY=VALUE"),
            ("index", "INSTRUMENT"),
            ("collateral-value 1 2", "VALUE"),
            ("halt", "INSTRUMENT"),
            ("resume", "INSTRUMENT"),
        ] {
            match reason(text) {
                LineError::Missing { what: w, .. } => assert_eq!(w, what, "{text}"),
                other => panic!("{text}: {other}"),
            }
        }
    }

    #[test]
    fn unexpected_words_are_refused() {
        for text in [
            "buy 1 1 1 maybe",
            "market buy 1 1 ioc",
            "cancel 1 2",
            "cancel 1 colour=red",
            "amend 1 1 1 instrument=1 side=buy extra",
            "mass-cancel BTC-USD ETH-USD",
            "positions now",
            "collateral 1",
            "sleep 1 2",
            "deposit 1 USD 1 2",
            "account 1 owner_group",
            "collateral-value 1 2 3 4",
            "halt 1 2",
        ] {
            assert!(
                matches!(reason(text), LineError::Unexpected { .. }),
                "{text}: {}",
                reason(text)
            );
        }
    }

    #[test]
    fn repeated_options_are_refused() {
        for text in [
            "buy 1 1 1 ioc fok",
            "buy 1 1 1 post-only post-only",
            "buy 1 1 1 reduce-only reduce-only",
            "buy 1 1 1 id=1 id=2",
            "market buy 1 1 id=1 id=2",
            "cancel 1 side=buy side=sell instrument=1",
            "account 1 owner_group=1 owner_group=2",
            "collateral-value 1 2 3 haircut_ppm=1 haircut_ppm=2",
        ] {
            assert!(
                matches!(reason(text), LineError::Repeated { .. }),
                "{text}: {}",
                reason(text)
            );
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_value_error() {
        fn value(text: &str) -> RequestError {
            match reason(text) {
                LineError::Value(e) => e,
                other => panic!("{text}: {other}"),
            }
        }
        assert!(matches!(
            value("buy DOGE-USD 1 1"),
            RequestError::UnknownInstrument { .. }
        ));
        assert!(matches!(value("market up 1 1"), RequestError::Side(_)));
        assert!(matches!(
            value("cancel 1 instrument=1 side=up"),
            RequestError::Side(_)
        ));
        assert!(matches!(
            value("buy 1 1 1 gtd=soon"),
            RequestError::TimeInForce(_)
        ));
        assert!(matches!(
            value("buy 1 1 1 gtd=0"),
            RequestError::TimeInForce(_)
        ));
        assert!(matches!(
            value("buy 1 0.000000001 1"),
            RequestError::Decimal(DecimalError::TooPrecise { places: 9, .. })
        ));
        assert!(matches!(
            value("buy 1 abc 1"),
            RequestError::Decimal(DecimalError::NotANumber { .. })
        ));
        assert!(matches!(
            value("sell 1 1 0"),
            RequestError::Decimal(DecimalError::NotPositive { .. })
        ));
        assert!(matches!(
            value("amend 1 -1 1 instrument=1 side=buy"),
            RequestError::Decimal(DecimalError::NotPositive { .. })
        ));
        assert!(matches!(value("cancel x"), RequestError::Integer { .. }));
        assert!(matches!(
            value("buy 1 1 1 id=-3"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(
            value("sleep 3600001"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(value("deposit 1 DOGE 1"), RequestError::Asset(_)));
        assert!(matches!(
            value("deposit x USD 1"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(
            value("withdraw 1 USD 0"),
            RequestError::Decimal(DecimalError::NotPositive { .. })
        ));
        assert!(matches!(
            value("account 1 colour=red"),
            RequestError::AccountKey(_)
        ));
        assert!(matches!(
            value("account 1 client_class=vip"),
            RequestError::ClientClass(_)
        ));
        assert!(matches!(
            value("account 1 affiliate_mm=yes"),
            RequestError::Boolean { .. }
        ));
        assert!(matches!(
            value("account 1 risk_disclosure_version_acked=70000"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(
            value("account 1 credit_limit_usd=-5"),
            RequestError::Decimal(DecimalError::Negative { .. })
        ));
        assert!(matches!(
            value("index 3"),
            RequestError::ConstituentCount(0)
        ));
        assert!(matches!(
            value(&format!("index 3{}", " 1".repeat(17))),
            RequestError::ConstituentCount(17)
        ));
        assert!(matches!(
            value("collateral-value 1 70000 1"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(
            value("collateral-value 1 2 1 haircut_ppm=1000001"),
            RequestError::Integer { .. }
        ));
        assert!(matches!(
            value("halt NOPE"),
            RequestError::UnknownInstrument { .. }
        ));
    }

    #[test]
    fn a_reused_id_points_at_its_first_line() {
        let e = error("buy 1 1 1 id=5\nsell 1 1 2\ncancel 5 id=5");
        assert_eq!(e.line, 3);
        assert_eq!(
            e.reason,
            LineError::DuplicateId {
                id: 5,
                first_line: 1
            }
        );
    }

    #[test]
    fn unknown_instrument_lists_the_known_symbols() {
        let e = error("buy DOGE-USD 1 1");
        assert!(e.to_string().contains("BTC-USD, ETH-USD"), "{e}");
    }

    #[test]
    fn one_shot_line_parses_alone() {
        let reference = Reference::from_default_config();
        assert_eq!(parse_line("positions", &reference), Ok(Request::Positions));
        assert_eq!(
            parse_line("", &reference),
            Err(LineError::UnknownCommand(String::new()))
        );
    }
}
