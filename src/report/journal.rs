//! The settlement as a plain-text accounting journal that hledger and ledger read.
//!
//! One transaction per department moves its settled amount from the provider's payable
//! account to the department's expense account, split into its usage and its share of every
//! shared invoice line, so that an accountant sees the same breakdown as the report. A last
//! transaction asserts that the payable account holds the whole amount to settle: a journal
//! whose departments do not add up to the invoice fails to load instead of being posted.

use std::fmt::Write;

use rust_decimal::Decimal;

use crate::calc::allocate::{minor_unit_digits, round_money};
use crate::calc::{Attribution, DepartmentSummary};
use crate::config::Settings;

/// The account the provider's invoice is owed from.
pub const PAYABLE_ACCOUNT: &str = "Liabilities:Accounts payable:AI provider";

/// The root of the departments' expense accounts.
pub const EXPENSE_ROOT: &str = "Expenses:AI";

/// The sub-account of a department's usage share.
pub const USAGE_ACCOUNT: &str = "Usage";

/// The sub-account under which a department's shares of shared lines are booked.
pub const SHARED_ACCOUNT: &str = "Shared";

/// The sub-account of the reviewer's adjustments of a department's lines; each posting
/// names the line and the reason in its comment.
pub const ADJUSTMENT_ACCOUNT: &str = "Adjustments";

/// A department's expense account: the cost center first, so that accounts sort and roll up
/// by cost center, then the department's name for people.
pub fn expense_account(department: &str, cost_center: &str) -> String {
    let name = match cost_center.trim() {
        "" => account_part(department),
        center => format!("{} {}", account_part(center), account_part(department)),
    };
    format!("{EXPENSE_ROOT}:{name}")
}

/// Makes a name safe as one component of an account name: the journal format reserves `:`
/// (hierarchy), `;` (comments), two spaces or a tab (end of the name), and leading brackets
/// (virtual postings).
fn account_part(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| match c {
            ':' | ';' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let collapsed = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let part = collapsed.trim_start_matches(['(', '[']);
    if part.is_empty() {
        // An empty component would merge two levels of the hierarchy.
        "unnamed".to_string()
    } else {
        part.to_string()
    }
}

/// A tag value stops at a comma or at the end of the line.
fn tag_value(text: &str) -> String {
    text.replace([',', '\n', '\r'], " ").trim().to_string()
}

/// A comment with no tags in it: hledger reads a word followed by a colon as a tag name, so
/// colons become dashes, and the comment stays on its line.
fn plain_comment(text: &str) -> String {
    let text = tag_value(text).replace(':', " -");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the journal.
pub fn render(settings: &Settings, a: &Attribution) -> String {
    render_with(settings, a, None)
}

/// Renders the journal of a settlement not yet approved, `why` saying what is still open: a
/// comment at the top says it is a draft, and every transaction is marked pending (`!`), so
/// that `hledger balance --cleared` leaves it out and `--pending` shows it.
pub fn render_draft(settings: &Settings, a: &Attribution, why: &str) -> String {
    render_with(settings, a, Some(why))
}

fn render_with(settings: &Settings, a: &Attribution, draft: Option<&str>) -> String {
    let digits = minor_unit_digits(&a.currency);
    let mut out = String::new();
    if let Some(why) = draft {
        let _ = writeln!(out, "; {}", super::draft_note(why));
        let _ = writeln!(
            out,
            "; every transaction below is marked pending (!) until the settlement is approved"
        );
    }
    header(&mut out, a, digits);
    let mark = if draft.is_some() { "! " } else { "" };
    for d in &a.departments {
        department_transaction(&mut out, settings, a, d, digits, mark);
    }
    invoice_assertion(&mut out, a, digits, mark);
    out
}

fn header(out: &mut String, a: &Attribution, digits: u32) {
    let _ = writeln!(
        out,
        "; {}: AI usage settlement of {} ({})",
        a.organization, a.period.month, a.currency
    );
    let _ = writeln!(
        out,
        "; amount to settle {} ({}), settled {}",
        amount(a.amount_to_settle, digits),
        if a.from_invoice {
            "invoice total"
        } else {
            "computed cost"
        },
        amount(a.settled, digits)
    );
    let _ = writeln!(
        out,
        "; each department's transaction books its usage, its share of the shared lines and its adjustments"
    );
    let _ = writeln!(
        out,
        "; from {PAYABLE_ACCOUNT} to its expense account under {EXPENSE_ROOT}"
    );
    for shared in a.shared.iter().filter(|s| !s.is_adjustment()) {
        let _ = writeln!(
            out,
            "; shared line: {} {} split {}",
            shared.name,
            amount(shared.amount, digits),
            format!("{:?}", shared.strategy).to_lowercase()
        );
    }
    let _ = writeln!(out, "; note: {}", a.disclaimer);
    let zero = if digits == 0 {
        String::new()
    } else {
        format!(".{}", "0".repeat(digits as usize))
    };
    let _ = writeln!(out, "\ncommodity 1000{zero} {}\n", a.currency);
}

fn department_transaction(
    out: &mut String,
    settings: &Settings,
    a: &Attribution,
    d: &DepartmentSummary,
    digits: u32,
    mark: &str,
) {
    let cost_center = settings
        .department(&d.name)
        .map(|c| c.cost_center.as_str())
        .unwrap_or("");
    let account = expense_account(&d.name, cost_center);
    let mut tags = vec![
        format!("department:{}", tag_value(&d.name)),
        format!("status:{}", d.status.label()),
    ];
    if !cost_center.trim().is_empty() {
        tags.insert(1, format!("cost_center:{}", tag_value(cost_center)));
    }
    let _ = writeln!(
        out,
        "{} {mark}AI usage settlement {} | {}  ; {}",
        a.period.close_date,
        a.period.month,
        d.name,
        tags.join(", ")
    );
    for p in expense_postings(a, d) {
        let account = format!("{account}:{}", p.sub_account);
        posting(out, &account, p.value, &a.currency, digits);
        if let Some(comment) = p.comment {
            let _ = writeln!(out, "        ; {}", plain_comment(&comment));
        }
    }
    posting(out, PAYABLE_ACCOUNT, -d.settled, &a.currency, digits);
    out.push('\n');
}

/// The department's usage share, its share of each shared line (leaving out lines it has no
/// share of) and each of its adjustments, with the line and reason as the posting's comment.
fn expense_postings(a: &Attribution, d: &DepartmentSummary) -> Vec<Posting> {
    let mut postings = vec![Posting::new(USAGE_ACCOUNT.to_string(), d.usage_settled)];
    for shared in &a.shared {
        let Some(value) = shared.by_department.get(&d.name) else {
            continue;
        };
        let posting = match shared.is_adjustment() {
            true => Posting {
                comment: Some(shared.name.clone()),
                ..Posting::new(ADJUSTMENT_ACCOUNT.to_string(), *value)
            },
            false => Posting::new(
                format!("{SHARED_ACCOUNT}:{}", account_part(&shared.name)),
                *value,
            ),
        };
        postings.push(posting);
    }
    postings
}

/// One posting of a department's expense: the sub-account, the amount and a comment.
struct Posting {
    sub_account: String,
    value: Decimal,
    comment: Option<String>,
}

impl Posting {
    fn new(sub_account: String, value: Decimal) -> Posting {
        Posting {
            sub_account,
            value,
            comment: None,
        }
    }
}

fn invoice_assertion(out: &mut String, a: &Attribution, digits: u32, mark: &str) {
    let _ = writeln!(
        out,
        "{} {mark}AI usage settlement {} | the payable equals the amount to settle",
        a.period.close_date, a.period.month
    );
    let _ = writeln!(
        out,
        "    {PAYABLE_ACCOUNT}  0 {} = {} {}",
        a.currency,
        amount(-a.amount_to_settle, digits),
        a.currency
    );
}

fn posting(out: &mut String, account: &str, value: Decimal, currency: &str, digits: u32) {
    let _ = writeln!(
        out,
        "    {account:<60}  {:>12} {currency}",
        amount(value, digits)
    );
}

/// An amount to the currency's minor unit, with a dot and no grouping, which every
/// plain-text accounting tool reads the same way.
fn amount(value: Decimal, digits: u32) -> String {
    format!("{:.*}", digits as usize, round_money(value, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_keep_clear_of_the_journal_syntax() {
        assert_eq!(
            expense_account("Legal", "CC-6200"),
            "Expenses:AI:CC-6200 Legal"
        );
        assert_eq!(
            expense_account("UNATTRIBUTED", ""),
            "Expenses:AI:UNATTRIBUTED"
        );
        assert_eq!(
            expense_account("R&D:  Labs; west", " CC 1 "),
            "Expenses:AI:CC 1 R&D- Labs- west"
        );
        assert_eq!(account_part("(virtual)"), "virtual)");
        assert_eq!(account_part("Tax (19 %)"), "Tax (19 %)");
        assert_eq!(account_part("  "), "unnamed");
    }

    #[test]
    fn amounts_follow_the_currency_minor_unit() {
        assert_eq!(amount(Decimal::new(-136219, 2), 2), "-1362.19");
        assert_eq!(amount(Decimal::new(5, 0), 2), "5.00");
        assert_eq!(amount(Decimal::new(1234, 0), 0), "1234");
    }
}
