//! The checks an attribution can answer by itself, before any review: the totals agree,
//! every row is accounted for, every model is priced.
//!
//! The review's checklist adds the checks that need a session (decisions, disputes,
//! sign-offs, source hashes, the review window). Outputs take a list of [`Check`]s rather than
//! computing them, so that they show that fuller checklist once it exists and these checks
//! until then.

use rust_decimal::Decimal;

use crate::calc::{Attribution, MismatchKind};

/// One item of a checklist with its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it passed or failed, with the figures.
    pub detail: String,
}

impl Check {
    /// `pass` or `fail`.
    pub fn result(&self) -> &'static str {
        if self.passed { "pass" } else { "fail" }
    }
}

/// The checks that need only the attribution.
pub fn attribution_checks(a: &Attribution) -> Vec<Check> {
    vec![
        settled_equals_amount(a),
        conservation_holds(a),
        every_model_priced(a),
        no_conservation_mismatch(a),
    ]
}

fn settled_equals_amount(a: &Attribution) -> Check {
    let sum: Decimal = a.departments.iter().map(|d| d.settled).sum();
    Check {
        name: "Σ settled equals the amount to settle".into(),
        passed: sum == a.amount_to_settle,
        detail: format!(
            "Σ settled {sum} {c}, amount to settle {} {c}",
            a.amount_to_settle,
            c = a.currency
        ),
    }
}

fn conservation_holds(a: &Attribution) -> Check {
    let broken: Vec<&str> = std::iter::once(&a.conservation)
        .chain(&a.conservation_by_source)
        .filter(|c| !c.holds())
        .map(|c| c.source.as_str())
        .collect();
    Check {
        name: "every row read is attributed, unattributed or rejected".into(),
        passed: broken.is_empty(),
        detail: if broken.is_empty() {
            a.conservation.line()
        } else {
            format!(
                "{}; does not add up for {}",
                a.conservation.line(),
                broken.join(", ")
            )
        },
    }
}

fn every_model_priced(a: &Attribution) -> Check {
    Check {
        name: "no unpriced model".into(),
        passed: a.unpriced.is_empty(),
        detail: if a.unpriced.is_empty() {
            "every model called has a price".into()
        } else {
            let names: Vec<String> = a
                .unpriced
                .iter()
                .map(|u| format!("{} ({} calls)", u.model, u.calls))
                .collect();
            format!("no price for {}", names.join(", "))
        },
    }
}

fn no_conservation_mismatch(a: &Attribution) -> Check {
    let count = a
        .mismatches
        .iter()
        .filter(|m| m.kind == MismatchKind::Conservation)
        .count();
    Check {
        name: "no conservation mismatch".into(),
        passed: count == 0,
        detail: format!("{count} conservation mismatch(es)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Attribution {
        crate::sample::month().unwrap().2
    }

    #[test]
    fn the_sample_passes_and_a_broken_total_fails() {
        let mut a = sample();
        let checks = attribution_checks(&a);
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");

        a.departments[0].settled += Decimal::new(1, 2);
        a.conservation.rejected += 1;
        let checks = attribution_checks(&a);
        assert!(!checks[0].passed);
        assert!(!checks[1].passed);
        assert!(
            checks[1].detail.contains("DOES NOT ADD UP"),
            "{}",
            checks[1].detail
        );
    }
}
