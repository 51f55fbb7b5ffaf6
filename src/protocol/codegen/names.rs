//! Conversions from FIX names (`ClOrdID`, `HMACSignature`) to Rust identifiers.

/// `ClOrdID` → `cl_ord_id`, `HMACSignature` → `hmac_signature`, `UnrealizedPnL` →
/// `unrealized_pnl`.
pub fn snake(name: &str) -> String {
    let name = name.replace("PnL", "Pnl");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `NO_COLLATERAL` style constant name from a FIX name.
pub fn shouty(name: &str) -> String {
    snake(name).to_ascii_uppercase()
}

/// Rust type name of a schema enum or set: `SideEnum` → `Side`, `ExecInstSet` → `ExecInst`.
pub fn type_name(schema_name: &str) -> String {
    let trimmed = schema_name
        .strip_suffix("Enum")
        .or_else(|| schema_name.strip_suffix("Set"))
        .unwrap_or(schema_name);
    trimmed.to_string()
}

/// Enum variant from a validValue name: acronyms lose their capitals (`USD` → `Usd`) so the
/// generated code follows Rust naming.
pub fn variant(name: &str) -> String {
    if name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        let mut out: String = name[..1].to_string();
        out.push_str(&name[1..].to_ascii_lowercase());
        out
    } else {
        name.to_string()
    }
}

/// Entry struct of a repeating group: `NoCollateralAmounts` → `CollateralAmountsEntry`.
pub fn group_entry(group_name: &str) -> String {
    let base = group_name.strip_prefix("No").unwrap_or(group_name);
    format!("{base}Entry")
}
