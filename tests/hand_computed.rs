//! A month small enough to settle by hand, checked against the calculator.
//!
//! Configuration `tests/data/hand.toml`: zone UTC; departments A (budget 100) and B (budget
//! 10); model `big` at 10 in / 30 out per million tokens, complexity 2; model `small` at 1 in /
//! 2 out, complexity 1; time weight 1.5 on weekdays 09:00–17:59, else 1; invoice total 42.50
//! with a shared fee of 20.00 split evenly.
//!
//! The log `tests/data/hand.csv`, row by row (C = list cost, w = weight, A = C × w):
//!
//! | row | when (UTC)        | caller | model | tokens in / out      | C     | w         | A    |
//! |-----|-------------------|--------|-------|----------------------|-------|-----------|------|
//! | r1  | Mon 02 10:00 peak | A      | big   | 1,000,000 / 100,000  | 13.00 | 2×1.5 = 3 | 39.0 |
//! | r2  | Sat 07 10:00      | B      | big   | 500,000 / 0          |  5.00 | 2×1 = 2   | 10.0 |
//! | r3  | Tue 03 20:00      | B      | small | 2,000,000 / 500,000  |  3.00 | 1×1 = 1   |  3.0 |
//! | r4  | Wed 04 12:00 peak | key-x  | small | 1,000,000 / 0        |  1.00 | 1×1.5     |  1.5 |
//! | r5  | failed call       | A      | big   | counted, not charged |  0    |           |  0   |
//! | r6  | tokens 'abc'      |        |       | rejected             |       |           |      |
//!
//! Σ C = 22.00 and Σ A = 53.5, so A has 39/53.5, B 13/53.5, UNATTRIBUTED 1.5/53.5.
//!
//! Invoice usage = 42.50 − 20.00 = 22.50, so the gap to Σ C is 0.50 (a total mismatch: more
//! than 0.01 and more than 0.5 % of 22.50).
//!
//! Usage 22.00 = 2200 cents: A 2200×39/53.5 = 1603.738, B 534.579, U 61.682; floors sum to
//! 2198, the 2 cents left go to the largest remainders A (.738) and U (.682):
//! A 16.04, B 5.34, U 0.62.
//!
//! Gap 50 cents: A 36.449, B 12.150, U 1.402; floors 49, one cent to A (.449):
//! A 0.37, B 0.12, U 0.01.
//!
//! Fee 2000 cents evenly among the three with usage: 666.67 each; the two cents left go by
//! name on the tie: A 6.67, B 6.67, U 6.66.
//!
//! Settled: A = 16.04 + 0.37 + 6.67 = 23.08; B = 5.34 + 0.12 + 6.67 = 12.13;
//! U = 0.62 + 0.01 + 6.66 = 7.29; Σ = 42.50.
//!
//! B's usage 5.34 across its lines by A: big 534×10/13 = 410.77, small 123.23, one cent to
//! big: big 4.11, small 1.23.
//!
//! Budget usage: A 23.08 % (normal); B 121.3 % (fuse: above 110 %).
//! Conservation: rows read 6 = attributed 4 (r1, r2, r3, r5) + unattributed 1 + rejected 1.

use std::path::Path;
use std::str::FromStr;

use apportion::calc::{MismatchKind, Status, calculate};
use apportion::config::Settings;
use apportion::load::load_files;
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn settle() -> apportion::calc::Attribution {
    let settings = Settings::from_file(Path::new("tests/data/hand.toml")).unwrap();
    let dataset = load_files(&settings, &["tests/data/hand.csv".into()]).unwrap();
    calculate(
        &settings,
        &dataset,
        None,
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    )
}

#[test]
fn list_cost_and_converted_amounts() {
    let a = settle();
    assert_eq!(a.list_cost, d("22"));
    assert_eq!(a.converted, d("53.5"));
    let dept = |name: &str| a.department(name).unwrap().clone();
    assert_eq!(dept("A").list_cost, d("13"));
    assert_eq!(dept("A").converted, d("39"));
    assert_eq!(dept("B").converted, d("13"));
    assert_eq!(dept("UNATTRIBUTED").converted, d("1.5"));
    assert_eq!(dept("A").failed_calls, 1);
}

#[test]
fn settlement_to_the_cent() {
    let a = settle();
    assert_eq!(a.amount_to_settle, d("42.50"));
    assert_eq!(a.gap, d("0.50"));
    let settled = |name: &str| a.department(name).unwrap().settled;
    assert_eq!(settled("A"), d("23.08"));
    assert_eq!(settled("B"), d("12.13"));
    assert_eq!(settled("UNATTRIBUTED"), d("7.29"));
    assert_eq!(a.settled, d("42.50"));
    assert_eq!(a.department("A").unwrap().usage_settled, d("16.04"));
    assert_eq!(
        a.department("UNATTRIBUTED").unwrap().shared_settled,
        d("6.67")
    );
}

#[test]
fn lines_split_the_department_usage() {
    let a = settle();
    let line = |model: &str| {
        a.lines
            .iter()
            .find(|l| l.department == "B" && l.model == model)
            .unwrap()
            .settled
    };
    assert_eq!(line("big"), d("4.11"));
    assert_eq!(line("small"), d("1.23"));
}

#[test]
fn statuses_and_mismatches() {
    let a = settle();
    assert_eq!(a.department("A").unwrap().status, Status::Normal);
    let b = a.department("B").unwrap();
    assert_eq!(b.status, Status::Fuse);
    assert!(b.reasons[0].text.contains("121.3 %"), "{:?}", b.reasons);
    assert!(
        a.mismatches
            .iter()
            .any(|m| m.kind == MismatchKind::Total && m.expected == Some(d("22.50")))
    );
}

#[test]
fn conservation_line() {
    let a = settle();
    let c = &a.conservation;
    assert_eq!(
        (c.rows_read, c.attributed, c.unattributed, c.rejected),
        (6, 4, 1, 1)
    );
    assert!(c.holds());
}

#[test]
fn the_csv_report_ends_with_the_totals_its_rows_add_up_to() {
    let a = settle();
    let csv = apportion::report::csv::render(&a);
    let rows: Vec<&str> = csv.lines().collect();
    let [.., settled, conservation, disclaimer] = rows[..] else {
        panic!("{csv}");
    };
    assert_eq!(settled, "# settled 42.50 USD of 42.50 to settle");
    assert_eq!(
        conservation,
        "# rows read 6 = attributed 4 + unattributed 1 + rejected 1"
    );
    assert_eq!(disclaimer, format!("# {}", a.disclaimer));

    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_bytes());
    let sum: Decimal = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[0].starts_with('#'))
        .map(|r| d(&r[12]))
        .sum();
    assert_eq!(sum, a.settled, "line and shared rows add up to the total");
}
