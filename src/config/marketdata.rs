//! The `[marketdata]` section: where the UDP channels go, packet size, loop rates, and the
//! limits of the TCP recovery service.

use std::net::{Ipv4Addr, SocketAddr};

use serde::Deserialize;

use super::file::ConfigError;

/// Largest packet a channel may send: a UDP payload that fits an Ethernet MTU of 1500 bytes.
pub const PACKET_BYTES_LIMIT: usize = 1472;

/// `[marketdata]`. Every field has a default (the embedded `default.toml` lists them).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketDataConfig {
    /// Publish at all.
    pub enabled: bool,
    /// `multicast` (one group, loopback only) or `unicast` (each of `unicast_hosts`).
    pub destination: String,
    /// Group of every channel; must be in 239.255.0.0/16 (site-local, never routed). Sent with
    /// IP_MULTICAST_IF 127.0.0.1 and TTL 0, so it never leaves the host.
    pub multicast_group: Ipv4Addr,
    /// Loopback hosts (127.0.0.0/8) each channel sends to in `unicast` mode.
    pub unicast_hosts: Vec<Ipv4Addr>,
    pub incremental_port: u16,
    pub snapshot_port: u16,
    pub definition_port: u16,
    /// Largest packet, header included (at most 1472).
    pub packet_bytes_max: usize,
    /// One loop of the snapshot channel (every instrument's full book) per interval.
    pub snapshot_interval_ms: u64,
    /// One loop of the instrument-definition channel per interval.
    pub definition_interval_ms: u64,
    /// Send from a side thread (the sequencer only copies packets into a ring); otherwise the
    /// sequencer sends each packet itself in `flush`.
    pub send_thread: bool,
    /// Levels per side of the publisher's L2 view of one instrument.
    pub levels_per_side_max: u32,
    /// TCP recovery service address (loopback).
    pub recovery_listen: String,
    /// Incremental packets kept for recovery (a power of two).
    pub recovery_packets_retained: u32,
    /// Most packets one recovery request may ask for.
    pub recovery_request_packets_max: u32,
    /// Requests per second one recovery connection may make; more closes it.
    pub recovery_requests_per_sec: u32,
    /// Recovery connections served at once; more are refused (Busy).
    pub recovery_connections_max: u32,
    /// Packets the snapshot and definition channels keep between two flushes.
    pub loop_packets_max: u32,
}

impl Default for MarketDataConfig {
    fn default() -> MarketDataConfig {
        MarketDataConfig {
            enabled: true,
            destination: "multicast".to_string(),
            multicast_group: Ipv4Addr::new(239, 255, 42, 1),
            unicast_hosts: vec![Ipv4Addr::LOCALHOST],
            incremental_port: 9110,
            snapshot_port: 9111,
            definition_port: 9112,
            packet_bytes_max: 1400,
            snapshot_interval_ms: 1000,
            definition_interval_ms: 1000,
            send_thread: true,
            levels_per_side_max: 100_000,
            recovery_listen: "127.0.0.1:9113".to_string(),
            recovery_packets_retained: 16_384,
            recovery_request_packets_max: 4096,
            recovery_requests_per_sec: 50,
            recovery_connections_max: 4,
            loop_packets_max: 4096,
        }
    }
}

impl MarketDataConfig {
    /// Whether packets go to the multicast group (else to the unicast hosts).
    pub fn is_multicast(&self) -> bool {
        self.destination == "multicast"
    }

    /// The recovery service address.
    ///
    /// # Errors
    /// Not an address, or not on loopback.
    pub fn recovery_addr(&self) -> Result<SocketAddr, ConfigError> {
        let addr: SocketAddr = self
            .recovery_listen
            .parse()
            .map_err(|e| invalid(format!("recovery_listen {:?}: {e}", self.recovery_listen)))?;
        if !addr.ip().is_loopback() {
            return Err(invalid(format!(
                "recovery_listen {addr} is not a loopback address"
            )));
        }
        Ok(addr)
    }

    /// Checks every limit and that no packet can leave the host.
    ///
    /// # Errors
    /// The first setting that is out of range, with its value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.destination.as_str() {
            "multicast" => {
                let [a, b, ..] = self.multicast_group.octets();
                if (a, b) != (239, 255) {
                    return Err(invalid(format!(
                        "multicast_group {} must be in 239.255.0.0/16 (site-local)",
                        self.multicast_group
                    )));
                }
            }
            "unicast" => {
                if self.unicast_hosts.is_empty() {
                    return Err(invalid("unicast_hosts is empty".to_string()));
                }
                if let Some(host) = self.unicast_hosts.iter().find(|h| !h.is_loopback()) {
                    return Err(invalid(format!(
                        "unicast host {host} is not in 127.0.0.0/8: market data stays on this host"
                    )));
                }
            }
            other => return Err(invalid(format!("destination {other:?}: multicast|unicast"))),
        }
        if !(256..=PACKET_BYTES_LIMIT).contains(&self.packet_bytes_max) {
            return Err(invalid(format!(
                "packet_bytes_max {} outside [256, {PACKET_BYTES_LIMIT}]",
                self.packet_bytes_max
            )));
        }
        if !self.recovery_packets_retained.is_power_of_two() {
            return Err(invalid(format!(
                "recovery_packets_retained {} must be a power of two",
                self.recovery_packets_retained
            )));
        }
        let positive = [
            ("snapshot_interval_ms", self.snapshot_interval_ms),
            ("definition_interval_ms", self.definition_interval_ms),
            ("levels_per_side_max", u64::from(self.levels_per_side_max)),
            (
                "recovery_request_packets_max",
                u64::from(self.recovery_request_packets_max),
            ),
            (
                "recovery_requests_per_sec",
                u64::from(self.recovery_requests_per_sec),
            ),
            (
                "recovery_connections_max",
                u64::from(self.recovery_connections_max),
            ),
            ("loop_packets_max", u64::from(self.loop_packets_max)),
        ];
        if let Some((what, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(format!("[marketdata] {what} must be positive")));
        }
        self.recovery_addr()?;
        Ok(())
    }
}

fn invalid(what: String) -> ConfigError {
    ConfigError::Invalid(format!("[marketdata] {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_multicast_on_a_site_local_group() {
        let config = MarketDataConfig::default();
        config.validate().unwrap();
        assert!(config.is_multicast());
    }

    #[test]
    fn a_routable_multicast_group_is_refused() {
        let config = MarketDataConfig {
            multicast_group: Ipv4Addr::new(224, 0, 1, 1),
            ..MarketDataConfig::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn a_unicast_host_off_loopback_is_refused() {
        let config = MarketDataConfig {
            destination: "unicast".into(),
            unicast_hosts: vec![Ipv4Addr::new(10, 0, 0, 1)],
            ..MarketDataConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
