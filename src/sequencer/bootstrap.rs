//! The first records of a new journal: the configured accounts and their opening balances,
//! encoded as the same SBE admin messages an operator would send, so replay needs nothing but
//! the journal (and the instrument configuration its genesis record fingerprints).

use crate::config::{Config, ConfigError};
use crate::engine::account::ClientClass;
use crate::engine::command::AdminCommand;
use crate::engine::Asset;
use crate::protocol::codec::{self as wire, Encode};

/// One encoded SBE admin message per bootstrap command.
///
/// # Errors
/// The configuration's accounts or balances are invalid.
pub fn bootstrap_messages(config: &Config) -> Result<Vec<Vec<u8>>, ConfigError> {
    let mut messages = Vec::new();
    for (i, command) in config.bootstrap_commands()?.into_iter().enumerate() {
        let admin_req_id = i as u64 + 1;
        let encoded = match command {
            AdminCommand::CreateAccount { account, attrs } => Encode::to_vec(&wire::AccountSetup {
                admin_req_id,
                account: account.0 as u64,
                credit_limit_usd: attrs.credit_limit_usd.0,
                owner_group: attrs.owner_group,
                risk_disclosure_version_acked: attrs.risk_disclosure_version_acked as u16,
                client_class: match attrs.client_class {
                    ClientClass::Retail => wire::ClientClass::Retail,
                    ClientClass::Professional => wire::ClientClass::Professional,
                },
                derivatives_knowledge: flag(attrs.derivatives_knowledge),
                securities_margin_client: flag(attrs.securities_margin_client),
                affiliate_mm: flag(attrs.affiliate_mm),
            }),
            AdminCommand::Deposit {
                account,
                asset,
                amount,
            } => Encode::to_vec(&wire::FundsTransfer {
                admin_req_id,
                account: account.0 as u64,
                transfer_amount: amount.0,
                transfer_type: wire::TransferType::Deposit,
                currency: match asset {
                    Asset::Usd => wire::Asset::Usd,
                    Asset::Btc => wire::Asset::Btc,
                    Asset::Eth => wire::Asset::Eth,
                },
            }),
            AdminCommand::SetCollateralValue {
                account,
                class,
                value,
                haircut_ppm,
            } => Encode::to_vec(&wire::CollateralValueUpdate {
                admin_req_id,
                account: account.0 as u64,
                security_collateral_value: value.0,
                // Configuration checked the haircut is within [0, 1e6].
                haircut_ppm: haircut_ppm.0 as u32,
                security_class: class,
            }),
            other => {
                let what = format!("bootstrap cannot encode {other:?}");
                return Err(ConfigError::Invalid(what));
            }
        };
        messages.push(encoded);
    }
    Ok(messages)
}

fn flag(value: bool) -> wire::BooleanFlag {
    if value {
        wire::BooleanFlag::True
    } else {
        wire::BooleanFlag::False
    }
}
