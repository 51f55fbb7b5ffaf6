//! The assets the venue holds: USD and the two virtual assets the SFC framework allows.

use std::fmt;
use std::str::FromStr;

/// An asset. Only BTC and ETH are allowed as virtual assets; configuration refuses any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Asset {
    Usd = 0,
    Btc = 1,
    Eth = 2,
}

impl Asset {
    pub const COUNT: usize = 3;
    pub const ALL: [Asset; Asset::COUNT] = [Asset::Usd, Asset::Btc, Asset::Eth];

    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn code(self) -> &'static str {
        match self {
            Asset::Usd => "USD",
            Asset::Btc => "BTC",
            Asset::Eth => "ETH",
        }
    }

    pub fn from_index(index: u8) -> Option<Asset> {
        Asset::ALL.get(index as usize).copied()
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The text was not one of USD, BTC, ETH.
#[derive(Debug, thiserror::Error)]
#[error("unknown asset {0:?}: only USD, BTC and ETH are allowed")]
pub struct UnknownAsset(pub String);

impl FromStr for Asset {
    type Err = UnknownAsset;

    fn from_str(s: &str) -> Result<Asset, UnknownAsset> {
        match s.to_ascii_uppercase().as_str() {
            "USD" => Ok(Asset::Usd),
            "BTC" => Ok(Asset::Btc),
            "ETH" => Ok(Asset::Eth),
            _ => Err(UnknownAsset(s.to_string())),
        }
    }
}
