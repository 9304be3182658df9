//! Statuses of departments and the reasons that raise them.
//!
//! Normal up to the warning threshold of budget usage; warning above it, up to the full
//! budget plus the fuse margin, or on a spike (growth over the prior month, or a day above
//! its trailing seven-day median, both beyond the spike threshold) or on calls to a model
//! with no price; fuse above that margin or on any illegal call.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::attribution::{IllegalCalls, Reason, Status};
use crate::config::Thresholds;

/// Fewest earlier days a day must have in the period before it can be called a spike; with
/// fewer, the median says too little (the first days of a month).
pub const MIN_TRAILING_DAYS: usize = 3;

/// Formats a fraction as a percentage with one decimal (`0.9234` → `92.3 %`).
pub fn percent(fraction: Decimal) -> String {
    format!(
        "{} %",
        (fraction * Decimal::ONE_HUNDRED).round_dp(1).normalize()
    )
}

fn reason(status: Status, kind: &str, text: String) -> Reason {
    Reason {
        status,
        kind: kind.to_string(),
        text,
    }
}

/// The budget status of an amount: `None` when the department has no budget.
pub fn budget_reason(
    settled: Decimal,
    budget: Decimal,
    t: &Thresholds,
    what: &str,
) -> Option<Reason> {
    if budget <= Decimal::ZERO {
        return None;
    }
    let usage = settled / budget;
    let fuse_at = Decimal::ONE + t.fuse_margin.0;
    if usage > fuse_at {
        Some(reason(
            Status::Fuse,
            "fuse",
            format!(
                "{what} {} of budget, above the fuse at {}",
                percent(usage),
                percent(fuse_at)
            ),
        ))
    } else if usage > Decimal::ONE {
        Some(reason(
            Status::Warning,
            "over_budget",
            format!("over budget: {what} {} of budget", percent(usage)),
        ))
    } else if usage > t.warning.0 {
        Some(reason(
            Status::Warning,
            "near_budget",
            format!(
                "{what} {} of budget, above the warning at {}",
                percent(usage),
                percent(t.warning.0)
            ),
        ))
    } else {
        None
    }
}

/// A model of the department's calls that has no price: their cost is missing from its list
/// cost (it is never taken as zero), so the department cannot be called normal until the
/// model is priced and the month recalculated.
pub fn unpriced_reason(model: &str, calls: u64, tokens: u64) -> Reason {
    reason(
        Status::Warning,
        "unpriced_model",
        format!(
            "unpriced model '{model}': {calls} calls and {tokens} tokens are not costed; price \
             it in [[models]] and recalculate"
        ),
    )
}

/// A spike over the prior month.
pub fn growth_reason(
    settled: Decimal,
    prior: Option<Decimal>,
    prior_month: &str,
    t: &Thresholds,
) -> Option<Reason> {
    let prior = prior.filter(|p| *p > Decimal::ZERO)?;
    let growth = settled / prior - Decimal::ONE;
    (growth > t.spike.0).then(|| {
        reason(
            Status::Warning,
            "spike_month",
            format!(
                "spike: {} over {prior_month} ({prior} → {settled})",
                plus(growth)
            ),
        )
    })
}

fn plus(fraction: Decimal) -> String {
    format!("+{}", percent(fraction))
}

/// A day whose usage is more than the spike threshold above its trailing median.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeDay {
    /// The local day.
    pub day: NaiveDate,
    /// Its usage.
    pub value: Decimal,
    /// The median of the up to seven days before it.
    pub median: Decimal,
}

/// Finds the spiking days of a daily series from `first` to `last` (days missing from the
/// series count as zero). The trailing window is the up to seven days before a day within the
/// period; a day with fewer than [`MIN_TRAILING_DAYS`] earlier days is not judged. A day
/// spikes when it is more than `threshold` above its trailing median and exceeds that median
/// by at least `min_excess`.
pub fn spike_days(
    daily: &BTreeMap<NaiveDate, Decimal>,
    first: NaiveDate,
    last: NaiveDate,
    threshold: Decimal,
    min_excess: Decimal,
) -> Vec<SpikeDay> {
    let days: Vec<(NaiveDate, Decimal)> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, daily.get(&d).copied().unwrap_or_default()))
        .collect();
    let mut spikes = Vec::new();
    for (index, &(day, value)) in days.iter().enumerate() {
        let trailing: Vec<Decimal> = days[index.saturating_sub(7)..index]
            .iter()
            .map(|(_, v)| *v)
            .collect();
        if trailing.len() < MIN_TRAILING_DAYS {
            continue;
        }
        let median = median(trailing);
        if median > Decimal::ZERO
            && value > median * (Decimal::ONE + threshold)
            && value - median >= min_excess
        {
            spikes.push(SpikeDay { day, value, median });
        }
    }
    spikes
}

/// The median of a list (the mean of the two middle values for an even count).
pub fn median(mut values: Vec<Decimal>) -> Decimal {
    values.sort();
    let n = values.len();
    match n {
        0 => Decimal::ZERO,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / Decimal::TWO,
    }
}

/// The reason for the spiking days, naming the largest.
pub fn daily_spike_reason(spikes: &[SpikeDay], currency: &str) -> Option<Reason> {
    let worst = spikes
        .iter()
        .max_by(|a, b| (a.value / a.median).cmp(&(b.value / b.median)))?;
    let growth = worst.value / worst.median - Decimal::ONE;
    let others = match spikes.len() {
        1 => String::new(),
        n => format!(" and {} more day{}", n - 1, if n == 2 { "" } else { "s" }),
    };
    Some(reason(
        Status::Warning,
        "spike_day",
        format!(
            "spike: {} {} above its trailing 7-day median ({} vs {} {currency}){others}",
            worst.day,
            plus(growth),
            worst.value.round_dp(2),
            worst.median.round_dp(2)
        ),
    ))
}

/// Reasons for illegal calls.
pub fn illegal_reasons(department: &str, illegal: &[IllegalCalls]) -> Vec<Reason> {
    illegal
        .iter()
        .filter(|i| i.department == department)
        .map(|i| {
            let text = match i.kind.as_str() {
                "revoked_key" => format!(
                    "illegal call: {} call(s) with revoked key {} ({})",
                    i.calls, i.caller, i.model
                ),
                _ => format!(
                    "illegal call: {} call(s) to {} not allowed for {department} (caller {})",
                    i.calls, i.model, i.caller
                ),
            };
            reason(Status::Fuse, &i.kind, text)
        })
        .collect()
}

/// The reason unattributed usage carries: a warning while it is left unattributed, a note
/// once the configuration shares it among the departments.
pub fn unattributed_reason(calls: u64, callers: usize, shared: bool) -> Reason {
    let text = format!("{calls} calls from {callers} caller(s) are not mapped to a department");
    match shared {
        false => reason(Status::Warning, "unattributed", text),
        true => reason(
            Status::Normal,
            "unattributed_shared",
            format!("{text}; shared as a line"),
        ),
    }
}

/// The status of a list of reasons: the most severe.
pub fn status_of(reasons: &[Reason]) -> Status {
    reasons
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Normal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
    }

    #[test]
    fn budget_thresholds_at_their_edges() {
        let t = Thresholds::default();
        assert_eq!(budget_reason(d("80"), d("100"), &t, "settled"), None);
        assert_eq!(
            budget_reason(d("80.01"), d("100"), &t, "settled")
                .unwrap()
                .kind,
            "near_budget"
        );
        assert_eq!(
            budget_reason(d("100.01"), d("100"), &t, "settled")
                .unwrap()
                .kind,
            "over_budget"
        );
        assert!(
            budget_reason(d("100.01"), d("100"), &t, "settled")
                .unwrap()
                .text
                .starts_with("over budget")
        );
        assert_eq!(
            budget_reason(d("110"), d("100"), &t, "settled")
                .unwrap()
                .status,
            Status::Warning
        );
        assert_eq!(
            budget_reason(d("110.01"), d("100"), &t, "settled")
                .unwrap()
                .status,
            Status::Fuse
        );
        assert_eq!(budget_reason(d("500"), d("0"), &t, "settled"), None);
    }

    #[test]
    fn month_over_month_spike() {
        let t = Thresholds::default();
        assert!(growth_reason(d("150"), Some(d("100")), "2026-10", &t).is_none());
        let r = growth_reason(d("150.01"), Some(d("100")), "2026-10", &t).unwrap();
        assert_eq!(r.kind, "spike_month");
        assert!(growth_reason(d("150"), None, "2026-10", &t).is_none());
    }

    #[test]
    fn a_day_above_its_trailing_median_spikes() {
        let mut daily = BTreeMap::new();
        for n in 1..=10 {
            daily.insert(day(n), d("100"));
        }
        daily.insert(day(8), d("151"));
        daily.insert(day(9), d("150"));
        let spikes = spike_days(&daily, day(1), day(10), d("0.5"), d("0"));
        assert_eq!(
            spikes.iter().map(|s| s.day).collect::<Vec<_>>(),
            vec![day(8)]
        );
        assert_eq!(spikes[0].median, d("100"));
    }

    #[test]
    fn the_first_days_of_a_month_are_not_judged() {
        let mut daily = BTreeMap::new();
        daily.insert(day(1), d("1"));
        daily.insert(day(2), d("100"));
        daily.insert(day(3), d("1000"));
        assert!(spike_days(&daily, day(1), day(3), d("0.5"), d("0")).is_empty());
        daily.insert(day(4), d("5000"));
        assert_eq!(
            spike_days(&daily, day(1), day(4), d("0.5"), d("0")).len(),
            1
        );
    }

    #[test]
    fn an_immaterial_spike_is_not_reported() {
        let mut daily = BTreeMap::new();
        for n in 1..=8 {
            daily.insert(day(n), d("1.00"));
        }
        daily.insert(day(8), d("1.60"));
        assert!(spike_days(&daily, day(1), day(8), d("0.5"), d("0.61")).is_empty());
        assert_eq!(
            spike_days(&daily, day(1), day(8), d("0.5"), d("0.60")).len(),
            1
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![d("3"), d("1"), d("2")]), d("2"));
        assert_eq!(median(vec![d("4"), d("1"), d("2"), d("3")]), d("2.5"));
    }
}
