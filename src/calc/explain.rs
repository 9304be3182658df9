//! Explaining a department's change against the prior month.
//!
//! The change of a department's settled amount, S₁ − S₀, is split into effects by changing
//! one factor at a time (a chained substitution), so that the effects add up to the change
//! exactly. Per model *m* of the department, with tokens *t*, unit list cost *u* = cost / t
//! and weight *w* = converted / cost, and *k* = settled / converted for the department:
//!
//! - **volume**: last month's mix, prices and weights at this month's total tokens;
//! - **mix**: this month's tokens per model, at last month's unit costs and weights (a model
//!   new this month counts at its own);
//! - **price**: this month's unit costs;
//! - **weight**: this month's weights (complexity and time of day);
//! - **shared lines and invoice**: this month's settled-to-converted ratio (its share of the
//!   shared lines, the invoice gap and the rounding of the allocation);
//! - **mapping**: what the changes of mapping rules since last month moved in or out: this
//!   month's data settled under last month's rules, against the rules in force.
//!
//! The intermediate amounts are rounded to six decimals and the two ends are the exact
//! settled amounts, so every effect is an exact difference and their sum is the change to
//! the cent and beyond.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::attribution::Attribution;

/// One line of a month, as the explanation needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineFigures {
    /// Tokens of every kind.
    pub tokens: u64,
    /// Σ list cost.
    pub list_cost: Decimal,
    /// Σ converted amount.
    pub converted: Decimal,
}

/// A month's figures per department: its lines by model, settled and converted amounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthFigures {
    /// Lines by (department, model).
    pub lines: BTreeMap<(String, String), LineFigures>,
    /// Settled amount per department.
    pub settled: BTreeMap<String, Decimal>,
    /// Converted amount per department.
    pub converted: BTreeMap<String, Decimal>,
}

impl MonthFigures {
    /// The figures of a calculated month.
    pub fn of(attribution: &Attribution) -> MonthFigures {
        let mut figures = MonthFigures::default();
        for line in &attribution.lines {
            figures.lines.insert(
                (line.department.clone(), line.model.clone()),
                LineFigures {
                    tokens: line.tokens.total(),
                    list_cost: line.list_cost,
                    converted: line.converted,
                },
            );
        }
        for department in &attribution.departments {
            figures
                .settled
                .insert(department.name.clone(), department.settled);
            figures
                .converted
                .insert(department.name.clone(), department.converted);
        }
        figures
    }

    /// The figures of an archived month (the body of an archive document).
    pub fn from_archive(body: &Value) -> Option<MonthFigures> {
        let amount = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
        let mut figures = MonthFigures::default();
        for line in body["lines"].as_array()? {
            let tokens = line["tokens"]
                .as_object()?
                .values()
                .filter_map(Value::as_u64)
                .sum();
            figures.lines.insert(
                (
                    line["department"].as_str()?.to_string(),
                    line["model"].as_str()?.to_string(),
                ),
                LineFigures {
                    tokens,
                    list_cost: amount(&line["list_cost"])?,
                    converted: amount(&line["converted"])?,
                },
            );
        }
        for department in body["departments"].as_array()? {
            let name = department["name"].as_str()?.to_string();
            figures
                .settled
                .insert(name.clone(), amount(&department["settled"])?);
            figures
                .converted
                .insert(name, amount(&department["converted"])?);
        }
        Some(figures)
    }

    fn models_of(&self, department: &str) -> BTreeMap<&str, &LineFigures> {
        self.lines
            .iter()
            .filter(|((d, _), _)| d == department)
            .map(|((_, m), f)| (m.as_str(), f))
            .collect()
    }
}

/// One effect of an explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// `volume`, `mix`, `price`, `weight`, `shared` or `mapping`.
    pub name: &'static str,
    /// Its part of the change.
    pub amount: Decimal,
}

/// A department's change and its effects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The department.
    pub department: String,
    /// Last month's settled amount.
    pub prior: Decimal,
    /// This month's.
    pub current: Decimal,
    /// The effects, in the order they are applied; they sum to `current − prior`.
    pub effects: Vec<Effect>,
}

impl Explanation {
    /// The change explained.
    pub fn change(&self) -> Decimal {
        self.current - self.prior
    }
}

/// Explains every department's change from `prior` to `current`; `under_prior_rules` is
/// this month's data settled under last month's mapping rules (equal to `current` when the
/// rules did not change).
pub fn explain(
    prior: &MonthFigures,
    under_prior_rules: &MonthFigures,
    current: &MonthFigures,
) -> Vec<Explanation> {
    let names: BTreeSet<&String> = prior.settled.keys().chain(current.settled.keys()).collect();
    names
        .into_iter()
        .map(|name| explain_department(name, prior, under_prior_rules, current))
        .collect()
}

fn explain_department(
    name: &str,
    prior: &MonthFigures,
    q: &MonthFigures,
    current: &MonthFigures,
) -> Explanation {
    let s0 = prior.settled.get(name).copied().unwrap_or_default();
    let s_q = q.settled.get(name).copied().unwrap_or_default();
    let s1 = current.settled.get(name).copied().unwrap_or_default();
    let chain = usage_chain(name, prior, q, s0, s_q);

    let steps = [s0, chain[0], chain[1], chain[2], chain[3], s_q, s1];
    let names = ["volume", "mix", "price", "weight", "shared", "mapping"];
    let effects = names
        .iter()
        .enumerate()
        .map(|(i, effect)| Effect {
            name: effect,
            amount: steps[i + 1] - steps[i],
        })
        .collect();
    Explanation {
        department: name.to_string(),
        prior: s0,
        current: s1,
        effects,
    }
}

/// The four intermediate amounts after volume, mix, price and weight have changed.
fn usage_chain(
    name: &str,
    prior: &MonthFigures,
    q: &MonthFigures,
    s0: Decimal,
    s_q: Decimal,
) -> [Decimal; 4] {
    let before = prior.models_of(name);
    let after = q.models_of(name);
    let v0: u64 = before.values().map(|f| f.tokens).sum();
    let v1: u64 = after.values().map(|f| f.tokens).sum();
    let a0 = prior.converted.get(name).copied().unwrap_or_default();
    if v0 == 0 || a0.is_zero() {
        // Nothing to compare with: the whole usage change is volume.
        return [s_q; 4];
    }
    let k0 = s0 / a0;

    let unit = |f: &LineFigures| {
        if f.tokens == 0 {
            Decimal::ZERO
        } else {
            f.list_cost / Decimal::from(f.tokens)
        }
    };
    let weight = |f: &LineFigures| {
        if f.list_cost.is_zero() {
            Decimal::ZERO
        } else {
            f.converted / f.list_cost
        }
    };
    let at = |price_now: bool, weight_now: bool| -> Decimal {
        let sum: Decimal = after
            .iter()
            .map(|(model, now)| {
                // A model without usage last month has no unit cost or weight of its own then.
                let then = before
                    .get(model)
                    .copied()
                    .filter(|f| f.tokens > 0 && !f.list_cost.is_zero())
                    .unwrap_or(now);
                let u = if price_now { unit(now) } else { unit(then) };
                let w = if weight_now {
                    weight(now)
                } else {
                    weight(then)
                };
                Decimal::from(now.tokens) * u * w
            })
            .sum();
        k0 * sum
    };

    let volume = s0 * Decimal::from(v1) / Decimal::from(v0);
    let steps = [volume, at(false, false), at(true, false), at(true, true)];
    steps.map(|x| x.round_dp(6))
}

/// Explains this month against last month's archive (its body): the mapping effect comes
/// from settling this month's data under the archived mapping rules. `None` when the body
/// does not hold the figures (not an archive of this program).
pub fn explain_against_archive(
    settings: &crate::config::Settings,
    dataset: &crate::load::Dataset,
    current: &Attribution,
    archive_body: &Value,
) -> Option<Vec<Explanation>> {
    let prior = MonthFigures::from_archive(archive_body)?;
    let rules: Vec<crate::config::MappingRule> =
        serde_json::from_value(archive_body["configuration"]["mapping"].clone()).ok()?;
    let mut under_prior_rules = settings.clone();
    under_prior_rules.config.mapping = rules;
    let q = super::calculate(&under_prior_rules, dataset, None, current.period.today);
    Some(explain(
        &prior,
        &MonthFigures::of(&q),
        &MonthFigures::of(current),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn month(lines: &[(&str, &str, u64, &str, &str)], settled: &[(&str, &str)]) -> MonthFigures {
        let mut figures = MonthFigures::default();
        for (dept, model, tokens, cost, converted) in lines {
            figures.lines.insert(
                (dept.to_string(), model.to_string()),
                LineFigures {
                    tokens: *tokens,
                    list_cost: d(cost),
                    converted: d(converted),
                },
            );
            *figures.converted.entry(dept.to_string()).or_default() += d(converted);
        }
        for (dept, amount) in settled {
            figures.settled.insert(dept.to_string(), d(amount));
        }
        figures
    }

    #[test]
    fn doubling_the_volume_is_all_volume() {
        let prior = month(&[("A", "m", 1000, "10", "15")], &[("A", "20")]);
        let current = month(&[("A", "m", 2000, "20", "30")], &[("A", "40")]);
        let explained = &explain(&prior, &current, &current)[0];
        let amounts: Vec<Decimal> = explained.effects.iter().map(|e| e.amount).collect();
        assert_eq!(
            amounts,
            vec![d("20"), d("0"), d("0"), d("0"), d("0"), d("0")]
        );
    }

    #[test]
    fn a_price_rise_is_price() {
        // Same tokens, the unit cost doubles; weights and the settled ratio stay.
        let prior = month(&[("A", "m", 1000, "10", "15")], &[("A", "20")]);
        let current = month(&[("A", "m", 1000, "20", "30")], &[("A", "40")]);
        let explained = &explain(&prior, &current, &current)[0];
        assert_eq!(
            explained.effects[2],
            Effect {
                name: "price",
                amount: d("20")
            }
        );
        assert_eq!(
            explained.effects.iter().map(|e| e.amount).sum::<Decimal>(),
            d("20")
        );
    }

    #[test]
    fn a_shift_to_a_dearer_model_is_mix() {
        let prior = month(
            &[("A", "cheap", 1000, "1", "1"), ("A", "dear", 0, "0", "0")],
            &[("A", "1")],
        );
        let current = month(
            &[("A", "cheap", 0, "0", "0"), ("A", "dear", 1000, "10", "10")],
            &[("A", "10")],
        );
        let explained = &explain(&prior, &current, &current)[0];
        assert_eq!(explained.effects[1].name, "mix");
        assert_eq!(explained.effects[1].amount, d("9"));
    }

    #[test]
    fn a_mapping_change_is_mapping() {
        let prior = month(&[("A", "m", 1000, "10", "10")], &[("A", "10")]);
        let same = month(&[("A", "m", 1000, "10", "10")], &[("A", "10")]);
        let moved = month(&[("A", "m", 500, "5", "5")], &[("A", "5")]);
        let explained = &explain(&prior, &same, &moved)[0];
        assert_eq!(
            explained.effects[5],
            Effect {
                name: "mapping",
                amount: d("-5")
            }
        );
    }

    proptest! {
        #[test]
        fn effects_always_sum_to_the_change(
            prior in prop::collection::vec((0u64..5_000_000, 0i64..1_000_000, 1i64..30), 1..6),
            current in prop::collection::vec((0u64..5_000_000, 0i64..1_000_000, 1i64..30), 1..6),
            s0 in 0i64..10_000_000, s1 in 0i64..10_000_000, sq in 0i64..10_000_000,
        ) {
            let build = |lines: &[(u64, i64, i64)], settled: i64| {
                let mut figures = MonthFigures::default();
                for (i, (tokens, cost, weight)) in lines.iter().enumerate() {
                    let cost = Decimal::new(*cost, 4);
                    let converted = cost * Decimal::new(*weight, 1);
                    figures.lines.insert(("A".into(), format!("m{i}")), LineFigures { tokens: *tokens, list_cost: cost, converted });
                    *figures.converted.entry("A".into()).or_default() += converted;
                }
                figures.settled.insert("A".into(), Decimal::new(settled, 2));
                figures
            };
            let p = build(&prior, s0);
            let c = build(&current, s1);
            let mut q = c.clone();
            q.settled.insert("A".into(), Decimal::new(sq, 2));
            let explained = &explain(&p, &q, &c)[0];
            let sum: Decimal = explained.effects.iter().map(|e| e.amount).sum();
            prop_assert_eq!(sum, explained.change());
        }
    }
}
