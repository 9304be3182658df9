//! The result of a calculation: everything the reports, the review and the archive show.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::load::Tokens;

/// The sentence every screen and export carries.
pub const DISCLAIMER: &str =
    "weights reflect complexity differences only and do not replace financial settlement rules";

/// The month and where today stands in it.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodInfo {
    /// `YYYY-MM`.
    pub month: String,
    /// First local day.
    pub first_day: NaiveDate,
    /// Last local day.
    pub last_day: NaiveDate,
    /// The day the books close.
    pub close_date: NaiveDate,
    /// First day of the review window.
    pub review_window_start: NaiveDate,
    /// The day the calculation was made for.
    pub today: NaiveDate,
    /// Days from today to the close (negative once it passed).
    pub days_to_close: i64,
    /// Whether today is inside the review window.
    pub in_review_window: bool,
    /// The last local day with data, if any.
    pub data_through: Option<NaiveDate>,
    /// Days of the period after the last day with data.
    pub days_without_data: i64,
}

/// Rows read against where they ended, for one source or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conservation {
    /// The source's name, or `all sources`.
    pub source: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows attributed to a department.
    pub attributed: u64,
    /// Rows whose caller no rule maps.
    pub unattributed: u64,
    /// Rows rejected with a reason.
    pub rejected: u64,
}

impl Conservation {
    /// Whether every row is accounted for.
    pub fn holds(&self) -> bool {
        self.rows_read == self.attributed + self.unattributed + self.rejected
    }

    /// The line as reports print it.
    pub fn line(&self) -> String {
        format!(
            "rows read {} = attributed {} + unattributed {} + rejected {}{}",
            self.rows_read,
            self.attributed,
            self.unattributed,
            self.rejected,
            if self.holds() {
                ""
            } else {
                "  (DOES NOT ADD UP)"
            }
        )
    }
}

/// A department's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Green: within budget, no spike.
    Normal,
    /// Yellow: near or over budget, or a spike.
    Warning,
    /// Red: far over budget or an illegal call; needs two sign-offs to clear.
    Fuse,
}

impl Status {
    /// The label shown beside the light.
    pub fn label(self) -> &'static str {
        match self {
            Status::Normal => "normal",
            Status::Warning => "warning",
            Status::Fuse => "fuse",
        }
    }
}

/// Why a status was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The status this reason raises.
    pub status: Status,
    /// A short machine-readable kind (`over_budget`, `spike_month`, `illegal_model`, …).
    pub kind: String,
    /// The sentence shown to people.
    pub text: String,
}

/// The projection of a department to the end of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Projection {
    /// Settled amount per day over the trailing seven days of data.
    pub run_rate_per_day: Decimal,
    /// Settled to date plus the run rate over the days without data.
    pub at_close: Decimal,
    /// The same under the stress factor.
    pub at_close_stress: Decimal,
    /// Status the projection would have.
    pub status: Option<Status>,
    /// Status under stress.
    pub status_stress: Option<Status>,
}

/// One department's figures.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentSummary {
    /// Name (or `UNATTRIBUTED`).
    pub name: String,
    /// Successful calls.
    pub calls: u64,
    /// Failed calls, not charged.
    pub failed_calls: u64,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// Σ list cost of its calls.
    pub list_cost: Decimal,
    /// Σ list cost × weight.
    pub converted: Decimal,
    /// converted / list cost, when it has cost.
    pub effective_weight: Option<Decimal>,
    /// Its share of all converted amounts.
    pub proportion: Decimal,
    /// Its share of the usage.
    pub usage_settled: Decimal,
    /// Its share of the shared lines and of the invoice gap.
    pub shared_settled: Decimal,
    /// What it pays.
    pub settled: Decimal,
    /// Monthly budget (zero when it has none).
    pub budget: Decimal,
    /// settled / budget, when it has a budget.
    pub budget_usage: Option<Decimal>,
    /// Last period's settled amount from the ledger.
    pub prior: Option<Decimal>,
    /// Growth over the prior period.
    pub growth: Option<Decimal>,
    /// Status to date.
    pub status: Status,
    /// Every reason of the status, most severe first.
    pub reasons: Vec<Reason>,
    /// Projection to the end of the period.
    pub projection: Projection,
    /// List cost per local day with data.
    pub daily: BTreeMap<NaiveDate, Decimal>,
}

/// The price and weight that produced a line.
#[derive(Debug, Clone, Serialize)]
pub struct PriceUsed {
    /// Per million uncached input tokens.
    pub input: Decimal,
    /// Per million cached input tokens.
    pub cached_input: Decimal,
    /// Per million cache-write tokens.
    pub cache_write: Decimal,
    /// Per million one-hour cache-write tokens.
    pub cache_write_1h: Decimal,
    /// Per million output tokens.
    pub output: Decimal,
    /// Complexity coefficient.
    pub complexity: Decimal,
    /// Where the price came from, with its effective date when it has one; several
    /// sources joined by `; ` when the line's calls were priced at several versions.
    pub source: String,
    /// The first day of the rates shown, when they are dated.
    pub effective_from: Option<NaiveDate>,
}

/// Kinds of mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The ledger holds a different amount for the line.
    Ledger,
    /// The provider's cost differs from the price table, or the model has no price.
    Price,
    /// Σ list cost differs from the invoice's usage.
    Total,
    /// Rows do not add up.
    Conservation,
}

/// A difference to resolve.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Its kind.
    pub kind: MismatchKind,
    /// The department of the line, if it is about one.
    pub department: Option<String>,
    /// The model of the line, if it is about one.
    pub model: Option<String>,
    /// Our figure.
    pub computed: Decimal,
    /// The other figure (ledger, provider, invoice).
    pub expected: Option<Decimal>,
    /// What is wrong.
    pub text: String,
}

/// One line item: a department's use of one model.
#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    /// Department.
    pub department: String,
    /// Model (canonical name; the source's name when unpriced).
    pub model: String,
    /// Successful calls.
    pub calls: u64,
    /// Failed calls.
    pub failed_calls: u64,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// Σ list cost.
    pub list_cost: Decimal,
    /// Σ converted amount.
    pub converted: Decimal,
    /// converted / list cost.
    pub effective_weight: Option<Decimal>,
    /// The price used, `None` when the model is unpriced.
    pub price: Option<PriceUsed>,
    /// The provider's own cost where every call carried one.
    pub provider_cost: Option<Decimal>,
    /// Its share of the department's usage allocation.
    pub settled: Decimal,
    /// The ledger's amount for this line in this period.
    pub ledger_amount: Option<Decimal>,
    /// Its mismatches.
    pub mismatches: Vec<MismatchKind>,
    /// Number of distinct callers.
    pub callers: usize,
}

/// A shared invoice line and how it was split.
#[derive(Debug, Clone, Serialize)]
pub struct SharedAllocation {
    /// What the line is.
    pub name: String,
    /// Its amount.
    pub amount: Decimal,
    /// How it was split.
    pub strategy: crate::config::Strategy,
    /// Amount per department.
    pub by_department: BTreeMap<String, Decimal>,
}

/// The prefix of a reviewer's adjustment's name among the settlement's shared lines.
pub const ADJUSTMENT_PREFIX: &str = "adjustment ";

impl SharedAllocation {
    /// Whether this line is a reviewer's adjustment rather than a line of the invoice.
    pub fn is_adjustment(&self) -> bool {
        self.name.starts_with(ADJUSTMENT_PREFIX)
    }
}

/// A model that has no price.
#[derive(Debug, Clone, Serialize)]
pub struct Unpriced {
    /// The name as the source wrote it.
    pub model: String,
    /// Calls to it.
    pub calls: u64,
    /// Tokens by kind.
    pub tokens: Tokens,
}

/// Calls that broke a rule.
#[derive(Debug, Clone, Serialize)]
pub struct IllegalCalls {
    /// Department.
    pub department: String,
    /// Caller, masked.
    pub caller: String,
    /// Model.
    pub model: String,
    /// Number of calls.
    pub calls: u64,
    /// `model_not_allowed` or `revoked_key`.
    pub kind: String,
}

/// The whole attribution of a month.
#[derive(Debug, Clone, Serialize)]
pub struct Attribution {
    /// Organization name.
    pub organization: String,
    /// Time zone.
    pub time_zone: String,
    /// The period.
    pub period: PeriodInfo,
    /// Currency of all amounts.
    pub currency: String,
    /// The invoice total, or Σ list cost plus shared lines.
    pub amount_to_settle: Decimal,
    /// Whether the amount comes from an invoice.
    pub from_invoice: bool,
    /// Σ list cost.
    pub list_cost: Decimal,
    /// Σ converted amount.
    pub converted: Decimal,
    /// Σ settled; always equals the amount to settle.
    pub settled: Decimal,
    /// Invoice usage minus list cost, split as a shared line.
    pub gap: Decimal,
    /// The conservation line over all sources.
    pub conservation: Conservation,
    /// The conservation line per source.
    pub conservation_by_source: Vec<Conservation>,
    /// Departments, configured order, `UNATTRIBUTED` last.
    pub departments: Vec<DepartmentSummary>,
    /// Line items by department then model.
    pub lines: Vec<LineItem>,
    /// Shared lines and the gap, as split.
    pub shared: Vec<SharedAllocation>,
    /// Every mismatch.
    pub mismatches: Vec<Mismatch>,
    /// Models without a price.
    pub unpriced: Vec<Unpriced>,
    /// Illegal calls.
    pub illegal: Vec<IllegalCalls>,
    /// Rejected rows.
    pub rejected_rows: u64,
    /// Exchange rates applied to amounts in other currencies.
    pub exchange_rates: Vec<crate::load::RateUsed>,
    /// What the sources bill for usage (cost reports, FOCUS), when any does.
    pub billed_usage: Option<Decimal>,
    /// The disclaimer.
    pub disclaimer: &'static str,
}

impl Attribution {
    /// The most severe status over all departments.
    pub fn worst_status(&self) -> Status {
        self.departments
            .iter()
            .map(|d| d.status)
            .max()
            .unwrap_or(Status::Normal)
    }

    /// A department's summary.
    pub fn department(&self, name: &str) -> Option<&DepartmentSummary> {
        self.departments.iter().find(|d| d.name == name)
    }
}
