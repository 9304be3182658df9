//! Rows of the invoice side: amounts a source bills that are not tokens of a call.
//!
//! Cost reports (OpenAI's costs API and dashboard CSV, Anthropic's cost report) say what the
//! provider charges for usage; a bill in FOCUS also carries taxes, credits, purchases,
//! adjustments and corrections of earlier periods. Such a row is not a call, so it is not
//! folded into a bucket. It is kept as an [`InvoiceLine`]: usage costs make up the invoice's
//! usage, every other kind becomes a shared line of the settlement (or goes to one department
//! when its caller fields map to one).
//!
//! For the conservation line an invoice row counts as *attributed* when its caller maps to a
//! department and as *unattributed* otherwise, exactly like a call, so that rows read =
//! attributed + unattributed + rejected still holds per source.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::Caller;
use crate::calc::bucket::SourceId;

/// What an invoice row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// The provider's cost of usage (a cost report's amount).
    Usage,
    /// A tax.
    Tax,
    /// A credit or refund, usually negative.
    Credit,
    /// A purchase such as a commitment or a support plan.
    Purchase,
    /// An adjustment by the provider.
    Adjustment,
    /// A correction of an earlier billed period.
    Correction,
}

impl InvoiceKind {
    /// The label used in shared-line names.
    pub fn label(self) -> &'static str {
        match self {
            InvoiceKind::Usage => "Usage",
            InvoiceKind::Tax => "Tax",
            InvoiceKind::Credit => "Credit",
            InvoiceKind::Purchase => "Purchase",
            InvoiceKind::Adjustment => "Adjustment",
            InvoiceKind::Correction => "Correction",
        }
    }
}

/// One row of the invoice side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceLine {
    /// The source it was read from (set when the dataset takes it).
    pub source: SourceId,
    /// Its line in the source.
    pub line: u64,
    /// What it is.
    pub kind: InvoiceKind,
    /// The source's description (`ChargeDescription`, `line_item`).
    pub description: String,
    /// The billed amount, negative for a credit; in the settlement currency once taken.
    pub amount: Decimal,
    /// The amount after discounts (FOCUS `EffectiveCost`), when the source gives it.
    pub effective: Option<Decimal>,
    /// The currency the source wrote the amounts in.
    pub currency: String,
    /// When the charge applies (start of its period); `None` when the source does not say.
    pub date: Option<DateTime<Utc>>,
    /// For a correction, the earlier period it corrects (`2025-04`).
    pub corrects: Option<String>,
    /// Who the row belongs to, as far as the source tells (sub-account, tags, principal).
    #[serde(skip)]
    pub caller: Caller,
}

impl InvoiceLine {
    /// The name of the shared line this row becomes.
    pub fn name(&self) -> String {
        let kind = self.kind.label();
        match (&self.corrects, self.description.is_empty()) {
            (Some(period), _) => format!("{kind} of {period}: {}", self.description),
            (None, true) => kind.to_string(),
            (None, false) => format!("{kind}: {}", self.description),
        }
    }
}

/// An exchange rate that was applied while reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateUsed {
    /// The other currency.
    pub currency: String,
    /// Units of the settlement currency per unit of it.
    pub rate: Decimal,
    /// Rows converted at it.
    pub rows: u64,
}
