//! The settlement routing table: one row per department saying who pays what, into which
//! cost center, and what its status asks of its head.
//!
//! Finance imports it to book the settlement; the rows are built once here and written as
//! CSV ([`render_csv`]) or as the first sheet of the workbook (`report::xlsx`), so that both
//! files always say the same thing.

use rust_decimal::Decimal;

use super::journal;
use crate::calc::allocate::minor_unit_digits;
use crate::calc::{Attribution, DepartmentSummary, Status};
use crate::config::{Settings, UNATTRIBUTED};

/// One department's row of the routing table.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRow {
    /// The department (or `UNATTRIBUTED`).
    pub department: String,
    /// The cost center that books the settled amount (empty when none is configured).
    pub cost_center: String,
    /// The head who decides on a warning.
    pub owner: String,
    /// Where alerts go.
    pub contact: String,
    /// The booking: from the provider's payable account to the department's expense account.
    pub flow: String,
    /// Monthly budget (zero when none).
    pub budget: Decimal,
    /// What the department pays.
    pub settled: Decimal,
    /// Its share of the converted usage.
    pub proportion: Decimal,
    /// settled / budget, when it has a budget.
    pub budget_usage: Option<Decimal>,
    /// Status to date.
    pub status: Status,
    /// Every reason of the status, joined.
    pub reasons: String,
    /// What the status calls for.
    pub action: String,
    /// The alert thresholds that decided the status.
    pub thresholds: String,
}

/// The header of the routing table, in column order.
pub const HEADER: [&str; 13] = [
    "department",
    "cost_center",
    "owner",
    "contact",
    "settlement_flow",
    "budget",
    "settled",
    "proportion",
    "budget_usage",
    "status",
    "action",
    "reasons",
    "alert_thresholds",
];

/// Builds the rows, in the attribution's department order.
pub fn rows(settings: &Settings, a: &Attribution) -> Vec<RoutingRow> {
    a.departments.iter().map(|d| row(settings, d)).collect()
}

fn row(settings: &Settings, d: &DepartmentSummary) -> RoutingRow {
    let configured = settings.department(&d.name);
    let text = |pick: fn(&crate::config::Department) -> &String| {
        configured.map(|c| pick(c).clone()).unwrap_or_default()
    };
    let cost_center = text(|c| &c.cost_center);
    RoutingRow {
        department: d.name.clone(),
        flow: format!(
            "{} -> {}",
            journal::PAYABLE_ACCOUNT,
            journal::expense_account(&d.name, &cost_center)
        ),
        cost_center,
        owner: text(|c| &c.owner),
        contact: text(|c| &c.contact),
        budget: d.budget,
        settled: d.settled,
        proportion: d.proportion,
        budget_usage: d.budget_usage,
        status: d.status,
        reasons: d
            .reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        action: action(settings, d),
        thresholds: thresholds(settings, &d.name),
    }
}

/// What a department's status asks for, in one sentence.
pub fn action(settings: &Settings, d: &DepartmentSummary) -> String {
    match d.status {
        Status::Normal => "none".to_string(),
        // Unattributed usage has no head to ask: the settlement owner resolves it.
        Status::Warning if d.name == UNATTRIBUTED => "the settlement owner maps its callers to \
            departments or assigns the usage to a shared line"
            .to_string(),
        // Calls to a model with no price: the settlement owner prices it, the head has
        // nothing to decide.
        Status::Warning
            if d.reasons
                .iter()
                .filter(|r| r.status == Status::Warning)
                .all(|r| r.kind == "unpriced_model") =>
        {
            "the settlement owner adds a price for the unpriced model ([[models]] or --prices) \
             and recalculates"
                .to_string()
        }
        Status::Warning => format!(
            "alert the head ({}); the head decides to expand the budget or to throttle usage",
            owner(settings, &d.name)
        ),
        Status::Fuse => format!(
            "downgrade to the baseline model{} and pause premium models; lifting the fuse needs \
             two sign-offs by two different people: finance and the technical director",
            settings
                .department(&d.name)
                .and_then(|c| c.baseline_model.as_deref())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
    }
}

fn owner(settings: &Settings, department: &str) -> String {
    settings
        .department(department)
        .map(|c| c.owner.trim())
        .filter(|owner| !owner.is_empty())
        .unwrap_or("no owner configured")
        .to_string()
}

/// The thresholds in force for a department, as a short sentence.
pub fn thresholds(settings: &Settings, department: &str) -> String {
    let t = settings.thresholds_for(department);
    format!(
        "warning above {} of budget; fuse above {}; spike above {} growth",
        super::pct(t.warning.0),
        super::pct(Decimal::ONE + t.fuse_margin.0),
        super::pct(t.spike.0)
    )
}

/// The routing table as CSV: amounts as plain decimals (dot, no grouping) so that any
/// spreadsheet reads them as numbers, fractions as decimals, and the disclaimer and the
/// period as note rows starting with `#` after the table.
pub fn render_csv(settings: &Settings, a: &Attribution) -> String {
    render_csv_with(settings, a, None)
}

/// The routing table of a settlement not yet approved: its first note row says it is a
/// draft and why (`why`).
pub fn render_csv_draft(settings: &Settings, a: &Attribution, why: &str) -> String {
    render_csv_with(settings, a, Some(why))
}

fn render_csv_with(settings: &Settings, a: &Attribution, draft: Option<&str>) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let _ = writer.write_record(HEADER);
    let digits = minor_unit_digits(&a.currency) as usize;
    for r in rows(settings, a) {
        let _ = writer.write_record(csv_cells(&r, digits));
    }
    for note in notes_with(a, draft) {
        let _ = writer.write_record([format!("# {note}")]);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn csv_cells(r: &RoutingRow, digits: usize) -> [String; 13] {
    [
        r.department.clone(),
        r.cost_center.clone(),
        r.owner.clone(),
        r.contact.clone(),
        r.flow.clone(),
        format!("{:.digits$}", r.budget),
        format!("{:.digits$}", r.settled),
        r.proportion.round_dp(6).to_string(),
        r.budget_usage
            .map(|u| u.round_dp(6).to_string())
            .unwrap_or_default(),
        r.status.label().to_string(),
        r.action.clone(),
        r.reasons.clone(),
        r.thresholds.clone(),
    ]
}

/// The notes that travel with the table: what it settles, the totals, and the disclaimer.
pub fn notes(a: &Attribution) -> Vec<String> {
    notes_with(a, None)
}

/// The notes, led by the draft note when the settlement is not approved (`draft` says why).
pub fn notes_with(a: &Attribution, draft: Option<&str>) -> Vec<String> {
    let mut notes: Vec<String> = draft.map(super::draft_note).into_iter().collect();
    notes.extend([
        format!(
            "{}: settlement of {} in {}; amount to settle {} ({}), settled {}",
            a.organization,
            a.period.month,
            a.currency,
            a.amount_to_settle,
            if a.from_invoice {
                "invoice total"
            } else {
                "computed cost"
            },
            a.settled
        ),
        format!("note: {}", a.disclaimer),
    ]);
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Settings, Attribution) {
        let (settings, _, attribution) = crate::sample::month().unwrap();
        (settings, attribution)
    }

    #[test]
    fn each_status_calls_for_its_action() {
        let (settings, a) = sample();
        let rows = rows(&settings, &a);
        let legal = rows.iter().find(|r| r.department == "Legal").unwrap();
        assert_eq!(legal.status, Status::Fuse);
        assert!(
            legal.action.contains("claude-3-5-haiku"),
            "{}",
            legal.action
        );
        assert!(legal.action.contains("finance and the technical director"));
        assert_eq!(legal.cost_center, "CC-6200");
        assert!(
            legal.flow.ends_with("Expenses:AI:CC-6200 Legal"),
            "{}",
            legal.flow
        );
        let data = rows
            .iter()
            .find(|r| r.department == "Data Science")
            .unwrap();
        assert!(data.action.contains("Yuki Tanaka"));
        assert!(data.action.contains("expand the budget or to throttle"));
        let unattributed = rows.iter().find(|r| r.department == UNATTRIBUTED).unwrap();
        assert!(unattributed.action.contains("maps its callers"));
        let research = rows.iter().find(|r| r.department == "Research").unwrap();
        assert_eq!(research.action, "none");
        assert_eq!(
            research.thresholds,
            "warning above 80.0 % of budget; fuse above 110.0 %; spike above 50.0 % growth"
        );
    }

    #[test]
    fn the_csv_carries_every_department_and_the_disclaimer() {
        let (settings, a) = sample();
        let text = render_csv(&settings, &a);
        let mut reader = ::csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let table: Vec<_> = records.iter().filter(|r| !r[0].starts_with('#')).collect();
        assert_eq!(table.len(), a.departments.len());
        let sum: Decimal = table.iter().map(|r| r[6].parse::<Decimal>().unwrap()).sum();
        assert_eq!(sum, a.amount_to_settle);
        assert!(text.contains(crate::calc::DISCLAIMER));
    }
}
