//! The calculator: from buckets to an exact, explained attribution.
//!
//! [`calculate`] maps, prices and weights every bucket ([`aggregate`]), settles the amount
//! ([`settle`]), then judges each department ([`status`]), projects it to the end of the
//! period and checks every line ([`mismatch`]). It reads only buckets, never the files, so a
//! recalculation after a change of mapping, price or weight costs as much as the number of
//! buckets.

pub mod aggregate;
pub mod allocate;
pub mod attribution;
pub mod bucket;
pub mod bucket_table;
pub mod explain;
pub mod explore;
pub mod group;
pub mod mapping;
pub mod mismatch;
pub mod pricing;
pub mod series;
pub mod settle;
pub mod status;
pub mod weight;

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

pub use attribution::*;

use crate::config::{Settings, Thresholds, UNATTRIBUTED};
use crate::load::Dataset;
use crate::load::ledger::Ledger;
use aggregate::{Folded, Totals, fold, illegal_list};
use pricing::PriceTable;
use settle::{Settlement, settle};

/// Calculates the attribution of a month as of `today`.
pub fn calculate(
    settings: &Settings,
    dataset: &Dataset,
    ledger: Option<&Ledger>,
    today: NaiveDate,
) -> Attribution {
    let prices = PriceTable::for_settings(settings);
    let folded = fold(settings, dataset, &prices);
    let names = department_names(settings, &folded);
    let settlement = settle(settings, &folded, &names);
    let period = period_info(settings, dataset, today);
    let illegal = illegal_list(&folded);

    let lines = line_items(settings, &folded, &settlement, ledger);
    let departments: Vec<DepartmentSummary> = names
        .iter()
        .map(|name| {
            department_summary(
                settings,
                name,
                &folded,
                &settlement,
                ledger,
                &period,
                &illegal,
            )
        })
        .collect();

    let mut conservation = Conservation {
        source: "all sources".into(),
        ..Conservation::default()
    };
    for line in &folded.conservation {
        conservation.rows_read += line.rows_read;
        conservation.attributed += line.attributed;
        conservation.unattributed += line.unattributed;
        conservation.rejected += line.rejected;
    }

    let unpriced: Vec<Unpriced> = folded.unpriced.values().cloned().collect();
    let mut mismatches = mismatches(settings, &lines, &unpriced, &folded, &settlement);
    if let Some(ledger) = ledger {
        let booked = ledger.line_amounts(&settings.config.period.month);
        mismatches.extend(mismatch::ledger_without_usage(&booked, &lines));
        let prior_month = prior_month(settings.month_start);
        let known: Vec<&str> = departments.iter().map(|d| d.name.as_str()).collect();
        mismatches.extend(mismatch::ledger_unknown_departments(
            &ledger.department_totals(&prior_month),
            &known,
            &prior_month,
        ));
    }
    let list_cost: Decimal = folded.departments.values().map(|t| t.list_cost).sum();

    let mut attribution = Attribution {
        organization: settings.config.organization.name.clone(),
        time_zone: settings.config.organization.time_zone.clone(),
        period,
        currency: settings.config.organization.currency.clone(),
        amount_to_settle: settlement.amount,
        from_invoice: settlement.from_invoice,
        list_cost,
        converted: folded.departments.values().map(|t| t.converted).sum(),
        settled: departments.iter().map(|d| d.settled).sum(),
        gap: settlement.gap,
        conservation,
        conservation_by_source: folded.conservation.clone(),
        departments,
        lines,
        shared: settlement.shared.clone(),
        mismatches,
        unpriced,
        illegal,
        rejected_rows: dataset.rejects.len() as u64,
        exchange_rates: dataset.rates_used.values().cloned().collect(),
        billed_usage: folded.billed_usage,
        disclaimer: DISCLAIMER,
    };
    mark_lines(&mut attribution);
    attribution
}

/// Configured departments in order, then any other that received usage, `UNATTRIBUTED` last.
fn department_names(settings: &Settings, folded: &Folded) -> Vec<String> {
    let mut names: Vec<String> = settings
        .config
        .departments
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for name in folded.departments.keys() {
        if name != UNATTRIBUTED && !names.contains(name) {
            names.push(name.clone());
        }
    }
    if folded.departments.contains_key(UNATTRIBUTED) {
        names.push(UNATTRIBUTED.to_string());
    }
    names
}

/// The month before `month` (`2026-11` → `2026-10`).
pub fn prior_month(first_day: NaiveDate) -> String {
    first_day
        .checked_sub_months(Months::new(1))
        .unwrap_or(first_day)
        .format("%Y-%m")
        .to_string()
}

fn period_info(settings: &Settings, dataset: &Dataset, today: NaiveDate) -> PeriodInfo {
    let data_through = dataset
        .last_timestamp
        .map(|t| t.with_timezone(&settings.zone).date_naive());
    let window_start = settings.review_window_start();
    PeriodInfo {
        month: settings.config.period.month.clone(),
        first_day: settings.month_start,
        last_day: settings.month_end,
        close_date: settings.close_date,
        review_window_start: window_start,
        today,
        days_to_close: (settings.close_date - today).num_days(),
        in_review_window: today >= window_start && today <= settings.close_date,
        data_through,
        days_without_data: data_through.map_or(0, |d| (settings.month_end - d).num_days().max(0)),
    }
}

fn line_items(
    settings: &Settings,
    folded: &Folded,
    settlement: &Settlement,
    ledger: Option<&Ledger>,
) -> Vec<LineItem> {
    let ledger_lines = ledger
        .map(|l| l.line_amounts(&settings.config.period.month))
        .unwrap_or_default();
    folded
        .lines
        .iter()
        .map(|((department, model), totals)| {
            let key = (department.clone(), model.clone());
            let full_provider_cost = totals.calls > 0 && totals.provider_cost_calls == totals.calls;
            LineItem {
                department: department.clone(),
                model: model.clone(),
                calls: totals.calls,
                failed_calls: totals.failed_calls,
                tokens: totals.tokens,
                list_cost: totals.list_cost,
                converted: totals.converted,
                effective_weight: effective_weight(totals),
                price: folded.prices.get(model).cloned().flatten(),
                provider_cost: full_provider_cost.then_some(totals.provider_cost),
                settled: settlement.lines.get(&key).copied().unwrap_or_default(),
                ledger_amount: ledger_lines.get(&key).copied(),
                mismatches: Vec::new(),
                callers: totals.callers.len(),
            }
        })
        .collect()
}

fn effective_weight(totals: &Totals) -> Option<Decimal> {
    (!totals.list_cost.is_zero()).then(|| (totals.converted / totals.list_cost).round_dp(6))
}

fn department_summary(
    settings: &Settings,
    name: &str,
    folded: &Folded,
    settlement: &Settlement,
    ledger: Option<&Ledger>,
    period: &PeriodInfo,
    illegal: &[IllegalCalls],
) -> DepartmentSummary {
    let empty = Totals::default();
    let totals = folded.departments.get(name).unwrap_or(&empty);
    let total_converted: Decimal = folded.departments.values().map(|t| t.converted).sum();
    let budget = settings
        .department(name)
        .map_or(Decimal::ZERO, |d| d.budget.0);
    let settled = settlement.settled(name);
    let prior_month = prior_month(settings.month_start);
    let prior = ledger.and_then(|l| l.department_totals(&prior_month).get(name).copied());
    let daily = folded.daily.get(name).cloned().unwrap_or_default();
    let thresholds = settings.thresholds_for(name);

    let mut reasons = Vec::new();
    reasons.extend(status::illegal_reasons(name, illegal));
    reasons.extend(
        folded
            .unpriced_by_department
            .iter()
            .filter(|((department, _), (calls, tokens))| {
                department == name && (*calls > 0 || *tokens > 0)
            })
            .map(|((_, model), (calls, tokens))| status::unpriced_reason(model, *calls, *tokens)),
    );
    reasons.extend(status::budget_reason(
        settled,
        budget,
        &thresholds,
        "settled",
    ));
    reasons.extend(status::growth_reason(
        settled,
        prior,
        &prior_month,
        &thresholds,
    ));
    if let (Some(last), true) = (period.data_through, name != UNATTRIBUTED) {
        let daily_budget = budget / Decimal::from(settings.days_in_month());
        let min_excess = daily_budget * thresholds.spike_materiality.0;
        let spikes = status::spike_days(
            &daily,
            settings.month_start,
            last,
            thresholds.spike.0,
            min_excess,
        );
        reasons.extend(status::daily_spike_reason(
            &spikes,
            &settings.config.organization.currency,
        ));
    }
    if name == UNATTRIBUTED && totals.calls > 0 {
        let shared = settings.config.invoice.unattributed.is_some();
        reasons.push(status::unattributed_reason(
            totals.calls,
            totals.callers.len(),
            shared,
        ));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.status));
    let status = status::status_of(&reasons);

    let converted_daily = folded
        .daily_converted
        .get(name)
        .cloned()
        .unwrap_or_default();
    let to_date = ToDate {
        settled,
        usage_settled: settlement.usage.get(name).copied().unwrap_or_default(),
        converted: totals.converted,
        budget,
        status,
    };
    let projection = project(settings, &thresholds, period, &to_date, &converted_daily);

    DepartmentSummary {
        name: name.to_string(),
        calls: totals.calls,
        failed_calls: totals.failed_calls,
        tokens: totals.tokens,
        list_cost: totals.list_cost,
        converted: totals.converted,
        effective_weight: effective_weight(totals),
        proportion: if total_converted.is_zero() {
            Decimal::ZERO
        } else {
            totals.converted / total_converted
        },
        usage_settled: settlement.usage.get(name).copied().unwrap_or_default(),
        shared_settled: settlement.shared_settled(name),
        settled,
        budget,
        budget_usage: (budget > Decimal::ZERO).then(|| settled / budget),
        prior,
        growth: prior
            .filter(|p| *p > Decimal::ZERO)
            .map(|p| settled / p - Decimal::ONE),
        status,
        reasons,
        projection,
        daily,
    }
}

/// A department's figures to date, which its projection starts from.
#[derive(Debug, Clone, Copy)]
struct ToDate {
    settled: Decimal,
    usage_settled: Decimal,
    converted: Decimal,
    budget: Decimal,
    status: Status,
}

/// Projects a department to the end of the period at its trailing seven-day run rate.
///
/// The run rate is the converted amount of the last seven days with data (fewer at the very
/// start of a month) turned into settled money at the department's own ratio of settled
/// usage to converted amount. Only usage is projected: the shared lines of the invoice (a
/// platform fee, a support plan) are the month's and do not grow with the days left.
fn project(
    settings: &Settings,
    thresholds: &Thresholds,
    period: &PeriodInfo,
    to_date: &ToDate,
    daily: &BTreeMap<NaiveDate, Decimal>,
) -> Projection {
    let ToDate {
        settled,
        usage_settled,
        converted,
        budget,
        status: status_to_date,
    } = *to_date;
    let Some(last) = period.data_through else {
        return Projection::default();
    };
    let first = (last - chrono::Duration::days(6)).max(settings.month_start);
    let days = Decimal::from((last - first).num_days() + 1);
    let recent: Decimal = daily.range(first..=last).map(|(_, v)| *v).sum();
    let rate = if converted.is_zero() {
        Decimal::ZERO
    } else {
        recent / days * (usage_settled / converted)
    };

    let remaining = Decimal::from(period.days_without_data);
    let stress = Decimal::ONE + thresholds.stress_factor.0;
    let at_close = settled + rate * remaining;
    let at_close_stress = settled + rate * stress * remaining;
    let judged = |amount: Decimal| {
        let budget_status =
            status::budget_reason(amount, budget, thresholds, "projected").map(|r| r.status);
        Some(budget_status.unwrap_or(Status::Normal).max(status_to_date))
    };

    Projection {
        run_rate_per_day: rate.round_dp(2),
        at_close: at_close.round_dp(2),
        at_close_stress: at_close_stress.round_dp(2),
        status: judged(at_close),
        status_stress: judged(at_close_stress),
    }
}

fn mismatches(
    settings: &Settings,
    lines: &[LineItem],
    unpriced: &[Unpriced],
    folded: &Folded,
    settlement: &Settlement,
) -> Vec<Mismatch> {
    let t = &settings.config.thresholds;
    let mut found = Vec::new();
    for line in lines {
        found.extend(mismatch::ledger_line(line, t));
        found.extend(mismatch::provider_cost(line, t));
    }
    found.extend(unpriced.iter().map(mismatch::unpriced));
    if settlement.from_invoice {
        let shared: Decimal = settlement
            .shared
            .iter()
            .filter(|l| !settle::is_gap_line(&l.name))
            .map(|l| l.amount)
            .sum();
        let list_cost: Decimal = folded.departments.values().map(|t| t.list_cost).sum();
        found.extend(mismatch::invoice_total(
            list_cost.round_dp(2),
            settlement.amount - shared,
            t,
        ));
    }
    found.extend(
        folded
            .conservation
            .iter()
            .filter_map(mismatch::conservation),
    );
    found
}

/// Marks each line with the kinds of mismatch that name it.
pub fn mark_lines(attribution: &mut Attribution) {
    for line in &mut attribution.lines {
        line.mismatches = attribution
            .mismatches
            .iter()
            .filter(|m| {
                m.department.as_deref() == Some(line.department.as_str()) || m.department.is_none()
            })
            .filter(|m| m.model.as_deref() == Some(line.model.as_str()))
            .map(|m| m.kind)
            .collect();
        line.mismatches.sort();
        line.mismatches.dedup();
    }
}

/// The callers a department's calls came from this period, as shown (keys masked), sorted.
pub fn callers_of(settings: &Settings, dataset: &Dataset, department: &str) -> Vec<String> {
    let mapper = mapping::Mapper::new(&settings.config.mapping);
    let mut callers: Vec<String> = dataset
        .buckets
        .callers
        .iter()
        .filter(|caller| mapper.department_of(caller).0 == department)
        .map(|caller| caller.label())
        .collect();
    callers.sort();
    callers.dedup();
    callers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Input, load_inputs};
    use std::path::Path;

    const CONFIG: &str = r#"
revoked_keys = ["key-old"]

[organization]
name = "Revoked"
time_zone = "UTC"
currency = "USD"

[period]
month = "2026-11"

[[departments]]
name = "A"
budget = 1000

[[departments]]
name = "B"
budget = 1000

[[mapping]]
api_key = "key-old"
department = "A"

[[mapping]]
api_key = "key-a"
department = "A"

[[mapping]]
api_key = "key-b"
department = "B"

[[models]]
name = "m"
input = 1
output = 2
"#;

    fn attribution(rows: &str) -> Attribution {
        let settings = Settings::from_toml(CONFIG, Path::new("revoked.toml")).unwrap();
        let text = format!("timestamp,api_key,model,input_tokens,output_tokens\n{rows}");
        let input = Input::from_bytes("logs.csv", text.as_bytes());
        let dataset = load_inputs(&settings, vec![input]).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        calculate(&settings, &dataset, None, today)
    }

    #[test]
    fn a_call_with_a_revoked_key_blows_its_department_fuse() {
        // Well within budget: only the revoked key can fuse A; B stays normal.
        let a = attribution(
            "2026-11-02T10:00:00Z,key-a,m,1000,100\n\
             2026-11-02T11:00:00Z,key-old,m,1000,100\n\
             2026-11-02T12:00:00Z,key-b,m,1000,100\n",
        );
        let dept_a = a.department("A").unwrap();
        assert_eq!(dept_a.status, Status::Fuse);
        let reason = dept_a
            .reasons
            .iter()
            .find(|r| r.kind == "revoked_key")
            .expect("the revoked key is the reason");
        assert_eq!(reason.status, Status::Fuse);
        assert!(
            reason.text.contains("1 call(s) with revoked key"),
            "{}",
            reason.text
        );
        assert_eq!(a.department("B").unwrap().status, Status::Normal);
        assert_eq!(a.worst_status(), Status::Fuse);

        // Without the revoked key's call, A is normal again.
        let a = attribution("2026-11-02T10:00:00Z,key-a,m,1000,100\n");
        assert_eq!(a.department("A").unwrap().status, Status::Normal);
    }

    /// The ledger mismatches of a month with one call of A, against the ledger `text`.
    fn ledger_mismatches(text: &str) -> (Attribution, Vec<Mismatch>) {
        let settings = Settings::from_toml(CONFIG, Path::new("ledger.toml")).unwrap();
        let rows = "timestamp,api_key,model,input_tokens,output_tokens\n\
                    2026-11-02T10:00:00Z,key-a,m,1000000,0\n";
        let dataset = load_inputs(
            &settings,
            vec![Input::from_bytes("logs.csv", rows.as_bytes())],
        )
        .unwrap();
        let ledger = Ledger::from_bytes("ledger.csv", text.as_bytes(), "USD").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let a = calculate(&settings, &dataset, Some(&ledger), today);
        let mismatches = a
            .mismatches
            .iter()
            .filter(|m| m.kind == MismatchKind::Ledger)
            .cloned()
            .collect();
        (a, mismatches)
    }

    #[test]
    fn a_prior_ledger_department_the_configuration_does_not_know_is_a_mismatch() {
        let (a, unknown) = ledger_mismatches(
            "period,department,amount,currency\n\
             2026-10,A,1.00,USD\n\
             2026-10,b,3.00,USD\n",
        );
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert_eq!(unknown[0].department.as_deref(), Some("b"));
        assert_eq!(
            unknown[0].text,
            "the ledger books 3.00 in 2026-10 for 'b', which is not a department of the \
             configuration (did you mean 'B'?): it is left out of the growth"
        );
        assert_eq!(a.department("B").unwrap().prior, None);
        assert_eq!(a.department("A").unwrap().prior, Some(Decimal::ONE));
    }

    #[test]
    fn a_ledger_line_without_usage_is_a_mismatch() {
        let (_, ledger_mismatches) = ledger_mismatches(
            "period,department,model,amount,currency\n\
             2026-11,A,m,1.00,USD\n\
             2026-11,B,m,3.00,USD\n",
        );
        assert_eq!(ledger_mismatches.len(), 1, "{ledger_mismatches:?}");
        let missing = &ledger_mismatches[0];
        assert_eq!(missing.department.as_deref(), Some("B"));
        assert_eq!(missing.expected, Some(Decimal::new(300, 2)));
        assert!(
            missing
                .text
                .ends_with("but the sources show no usage of it this period"),
            "{}",
            missing.text
        );
    }

    #[test]
    fn the_projection_is_judged_by_the_department_own_thresholds() {
        // B warns from 5 % of its budget; A keeps the global 80 %. Both spend 5.00 on the
        // 2nd, so both project 5.00 + 2.50 a day × 28 days = 75.00 at close: 7.5 %.
        let config = CONFIG.replace(
            "name = \"B\"\nbudget = 1000\n",
            "name = \"B\"\nbudget = 1000\nthresholds = { warning = 0.05 }\n",
        );
        let settings = Settings::from_toml(&config, Path::new("overrides.toml")).unwrap();
        let rows = "timestamp,api_key,model,input_tokens,output_tokens\n\
                    2026-11-02T10:00:00Z,key-a,m,5000000,0\n\
                    2026-11-02T10:00:00Z,key-b,m,5000000,0\n";
        let dataset = load_inputs(
            &settings,
            vec![Input::from_bytes("logs.csv", rows.as_bytes())],
        )
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let a = calculate(&settings, &dataset, None, today);

        let (dept_a, dept_b) = (a.department("A").unwrap(), a.department("B").unwrap());
        assert_eq!(dept_b.projection.at_close, Decimal::new(7500, 2));
        assert_eq!(dept_b.status, Status::Normal, "0.5 % to date is below 5 %");
        assert_eq!(dept_b.projection.status, Some(Status::Warning));
        assert_eq!(dept_a.projection.at_close, Decimal::new(7500, 2));
        assert_eq!(dept_a.projection.status, Some(Status::Normal));
    }
}
