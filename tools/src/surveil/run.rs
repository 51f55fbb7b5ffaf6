//! Running every detector over a journal: the tape (engine re-run) feeds each record and its
//! events to the declared-ownership tracker, then to each detector in a fixed order, so the
//! alerts come out in journal order and the same journal always gives the same report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use exchange::config::Config;

use super::affiliate_house::AffiliateHouse;
use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use super::mm_obligation::{obligations, MmObligation};
use super::ownership::Ownership;
use super::quote_stuffing::QuoteStuffing;
use super::spoofing::Spoofing;
use super::thresholds::Thresholds;
use super::wash_trade::WashTrade;
use crate::tape::{play, play_pipelined, Step, TapeError};

/// What to survey and how.
#[derive(Clone, Debug)]
pub struct SurveilOptions {
    pub journal_dir: PathBuf,
    /// Keep reading as the journal grows (until interrupted).
    pub follow: bool,
    pub thresholds: Thresholds,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct SurveilReport {
    /// Records read.
    pub records: u64,
    /// Sequence number of the last record read.
    pub last_seq: u64,
    /// Alerts per kind and account.
    pub counts: BTreeMap<(AlertKind, u32), u64>,
}

impl SurveilReport {
    /// Total alerts.
    #[must_use]
    pub fn alerts(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The human summary, one line per kind and account.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut text = format!(
            "surveil: {} records to seq {}, {} alerts\n",
            self.records,
            self.last_seq,
            self.alerts()
        );
        for kind in AlertKind::ALL {
            let of_kind: Vec<_> = self
                .counts
                .iter()
                .filter(|((k, _), _)| *k == kind)
                .collect();
            let total: u64 = of_kind.iter().map(|(_, n)| **n).sum();
            text.push_str(&format!("  {:<22} {total}", kind.name()));
            let accounts: Vec<String> = of_kind
                .iter()
                .map(|((_, account), n)| format!("account {account}: {n}"))
                .collect();
            if !accounts.is_empty() {
                text.push_str(&format!("  ({})", accounts.join(", ")));
            }
            text.push('\n');
        }
        text
    }
}

/// Surveys the journal, handing each alert to `on_alert` as soon as it is raised.
///
/// # Errors
/// Configuration errors (obligations included) and every [`TapeError`]: damage stops the
/// run (alerts raised before it were already handed out).
pub fn surveil(
    config: &Config,
    options: &SurveilOptions,
    mut on_alert: impl FnMut(&Alert),
) -> Result<SurveilReport, TapeError> {
    let specs = config.instrument_specs()?;
    let mut security_ids = vec![0; specs.len()];
    for spec in &specs {
        if let Some(slot) = security_ids.get_mut(spec.id.0 as usize) {
            *slot = spec.security_id;
        }
    }
    let mut context = Context {
        ownership: Ownership::default(),
        thresholds: options.thresholds,
        security_ids,
    };
    let mut detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(WashTrade),
        Box::new(AffiliateHouse),
        Box::new(Spoofing::default()),
        Box::new(QuoteStuffing::default()),
        Box::new(MmObligation::new(obligations(config)?)),
    ];
    let mut report = SurveilReport::default();
    let mut alerts = Vec::new();
    let mut emit = |alerts: &mut Vec<Alert>, report: &mut SurveilReport| {
        for alert in alerts.drain(..) {
            *report
                .counts
                .entry((alert.kind, alert.account))
                .or_default() += 1;
            on_alert(&alert);
        }
    };
    let mut observe = |step: &Step<'_>| {
        context.ownership.observe(step);
        for detector in &mut detectors {
            detector.observe(step, &context, &mut alerts);
        }
        emit(&mut alerts, &mut report);
    };
    // Following waits at the end of the journal, so each record is surveyed as it comes;
    // a closed journal is re-run on a second thread while the detectors work here.
    let summary = if options.follow {
        play(config, &options.journal_dir, true, |step, _engine| {
            observe(step);
            true
        })?
    } else {
        play_pipelined(config, &options.journal_dir, observe)?
    };
    for detector in &mut detectors {
        detector.finish(&context, &mut alerts);
    }
    emit(&mut alerts, &mut report);
    report.records = summary.records;
    report.last_seq = summary.last_seq;
    Ok(report)
}
