//! Reference data the client needs from the embedded default configuration: instrument symbols
//! and SecurityIDs, and which account a demo session trades for.

use exchange::config::Config;

/// Instruments and accounts known to the client.
#[derive(Debug, Clone)]
pub struct Reference {
    instruments: Vec<(String, i32)>,
    sessions: Vec<(String, u64)>,
}

impl Reference {
    /// From the exchange's embedded default configuration.
    pub fn from_default_config() -> Reference {
        Reference::from_config(&Config::default_config())
    }

    /// From a configuration.
    pub fn from_config(config: &Config) -> Reference {
        Reference {
            instruments: config
                .instruments
                .iter()
                .map(|i| (i.symbol.clone(), i.security_id))
                .collect(),
            sessions: config
                .accounts
                .iter()
                .map(|a| (a.session.clone(), u64::from(a.id)))
                .collect(),
        }
    }

    /// SecurityID of `text`: a symbol (case-insensitive) or a SecurityID number.
    pub fn security_id(&self, text: &str) -> Option<i32> {
        if let Some((_, id)) = self
            .instruments
            .iter()
            .find(|(symbol, _)| symbol.eq_ignore_ascii_case(text))
        {
            return Some(*id);
        }
        text.parse::<i32>().ok().filter(|id| *id > 0)
    }

    /// Symbol of a SecurityID, if the configuration lists it.
    pub fn symbol(&self, security_id: i32) -> Option<&str> {
        self.instruments
            .iter()
            .find(|(_, id)| *id == security_id)
            .map(|(symbol, _)| symbol.as_str())
    }

    /// Symbols, for error messages.
    pub fn symbols(&self) -> Vec<&str> {
        self.instruments.iter().map(|(s, _)| s.as_str()).collect()
    }

    /// Account of a configured session.
    pub fn account_of(&self, session_id: &str) -> Option<u64> {
        self.sessions
            .iter()
            .find(|(name, _)| name == session_id)
            .map(|(_, account)| *account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_numbers_resolve_to_security_ids() {
        let r = Reference::from_default_config();
        assert_eq!(r.security_id("BTC-USD"), Some(1));
        assert_eq!(r.security_id("eth-usd-perp"), Some(4));
        assert_eq!(r.security_id("7"), Some(7));
        assert_eq!(r.security_id("0"), None);
        assert_eq!(r.security_id("DOGE-USD"), None);
        assert_eq!(r.symbol(3), Some("BTC-USD-PERP"));
    }

    #[test]
    fn demo_sessions_map_to_their_accounts() {
        let r = Reference::from_default_config();
        assert_eq!(r.account_of("MM1"), Some(1));
        assert_eq!(r.account_of("ADMIN"), Some(5));
        assert_eq!(r.account_of("NOBODY"), None);
    }
}
