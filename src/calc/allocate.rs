//! Exact allocation of an amount to the currency's minor unit (largest-remainder method).
//!
//! Each recipient first gets the whole minor units of its exact share; the units left over
//! go one at a time to the largest remainders, ties broken by the larger share and then by
//! name, so the result is deterministic and does not depend on the order of the recipients.
//! The allocated amounts always sum to the (rounded) amount, to the unit.

use std::cmp::Ordering;

use rust_decimal::{Decimal, RoundingStrategy};

/// Digits after the decimal point of a currency's minor unit (ISO 4217).
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Rounds an amount to the minor unit, halves away from zero.
pub fn round_money(amount: Decimal, digits: u32) -> Decimal {
    amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero)
}

/// One recipient of an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Share<'a> {
    /// Unique name, the last tie-breaker.
    pub name: &'a str,
    /// Relative weight; negative weights count as zero.
    pub weight: Decimal,
}

/// Splits `amount` (rounded to `digits` first) across `shares` in proportion to their
/// weights. When every weight is zero the amount is split evenly. Returns one amount per
/// share, in the order given; an empty list of shares receives nothing.
pub fn allocate(amount: Decimal, shares: &[Share<'_>], digits: u32) -> Vec<Decimal> {
    if shares.is_empty() {
        return Vec::new();
    }
    let scale = Decimal::from(10u64.pow(digits));
    let units = round_money(amount, digits) * scale;
    let negative = units.is_sign_negative();
    let units = units.abs();

    let weights = effective_weights(shares);
    let total: Decimal = weights.iter().sum();
    let exact: Vec<Decimal> = weights.iter().map(|w| units * (*w / total)).collect();
    let mut whole: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();

    let order = remainder_order(shares, &weights, &exact, &whole);
    let mut left = units - whole.iter().sum::<Decimal>();
    let mut next = order.iter().cycle();
    while left > Decimal::ZERO {
        let &i = next.next().unwrap_or(&0);
        whole[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    let mut next = order.iter().rev().cycle();
    while left < Decimal::ZERO {
        let &i = next.next().unwrap_or(&0);
        if whole[i] > Decimal::ZERO {
            whole[i] -= Decimal::ONE;
            left += Decimal::ONE;
        }
    }

    whole
        .into_iter()
        .map(|w| {
            let value = w / scale;
            if negative { -value } else { value }
        })
        .map(|mut v| {
            // Amounts keep the currency's scale (10.00, not 10), as a ledger writes them.
            v.rescale(digits);
            v
        })
        .collect()
}

/// Weights with negatives clamped to zero, or all ones when they sum to zero.
fn effective_weights(shares: &[Share<'_>]) -> Vec<Decimal> {
    let weights: Vec<Decimal> = shares.iter().map(|s| s.weight.max(Decimal::ZERO)).collect();
    if weights.iter().all(|w| w.is_zero()) {
        vec![Decimal::ONE; shares.len()]
    } else {
        weights
    }
}

/// Indices by largest remainder, then larger weight, then name.
fn remainder_order(
    shares: &[Share<'_>],
    weights: &[Decimal],
    exact: &[Decimal],
    whole: &[Decimal],
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let rem_a = exact[a] - whole[a];
        let rem_b = exact[b] - whole[b];
        rem_b
            .cmp(&rem_a)
            .then_with(|| weights[b].cmp(&weights[a]))
            .then_with(|| shares[a].name.cmp(shares[b].name))
            .then(Ordering::Equal)
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn shares<'a>(list: &[(&'a str, &str)]) -> Vec<Share<'a>> {
        list.iter()
            .map(|(name, w)| Share { name, weight: d(w) })
            .collect()
    }

    #[test]
    fn thirds_go_to_the_largest_remainder_then_by_name() {
        let result = allocate(
            d("100.00"),
            &shares(&[("b", "1"), ("a", "1"), ("c", "1")]),
            2,
        );
        // 33.333… each; the one cent left goes to the first by name.
        assert_eq!(result, vec![d("33.33"), d("33.34"), d("33.33")]);
    }

    #[test]
    fn larger_share_wins_a_tie_of_remainders() {
        // 0.05 split 1:3 → 0.0125 and 0.0375 → 1 and 3 units, remainders .25 and .75.
        let result = allocate(d("0.05"), &shares(&[("small", "1"), ("big", "3")]), 2);
        assert_eq!(result, vec![d("0.01"), d("0.04")]);
    }

    #[test]
    fn negative_amounts_and_zero_weights() {
        let result = allocate(
            d("-10.00"),
            &shares(&[("a", "0"), ("b", "0"), ("c", "0")]),
            2,
        );
        assert_eq!(result, vec![d("-3.34"), d("-3.33"), d("-3.33")]);
        assert!(allocate(d("5"), &[], 2).is_empty());
    }

    #[test]
    fn yen_has_no_minor_unit() {
        assert_eq!(minor_unit_digits("JPY"), 0);
        let result = allocate(d("1000"), &shares(&[("a", "2"), ("b", "1")]), 0);
        assert_eq!(result, vec![d("667"), d("333")]);
    }

    fn arb_shares() -> impl Strategy<Value = Vec<(String, u64, u32)>> {
        prop::collection::vec((0u64..10_000_000, 0u32..6), 1..12).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (m, s))| (format!("d{i:02}"), m, s))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn allocations_sum_exactly_to_the_amount(cents in -100_000_000_000i64..100_000_000_000, list in arb_shares()) {
            let amount = Decimal::new(cents, 2);
            let shares: Vec<Share> = list.iter().map(|(n, m, s)| Share { name: n, weight: Decimal::new(*m as i64, *s) }).collect();
            let result = allocate(amount, &shares, 2);
            prop_assert_eq!(result.iter().sum::<Decimal>(), amount);
            for value in &result {
                prop_assert_eq!(value.round_dp(2), *value);
            }
        }

        #[test]
        fn allocation_does_not_depend_on_order(cents in 0i64..10_000_000_000, list in arb_shares(), seed in any::<u64>()) {
            let amount = Decimal::new(cents, 2);
            let shares: Vec<Share> = list.iter().map(|(n, m, s)| Share { name: n, weight: Decimal::new(*m as i64, *s) }).collect();
            let mut shuffled = shares.clone();
            let len = shuffled.len();
            for i in 0..len {
                let j = ((seed >> (i % 60)) as usize + i * 7) % len;
                shuffled.swap(i, j);
            }
            let by_name = |shares: &[Share], result: Vec<Decimal>| {
                let mut pairs: Vec<(String, Decimal)> = shares.iter().map(|s| s.name.to_string()).zip(result).collect();
                pairs.sort();
                pairs
            };
            let first = by_name(&shares, allocate(amount, &shares, 2));
            let second = by_name(&shuffled, allocate(amount, &shuffled, 2));
            prop_assert_eq!(first, second);
        }

        #[test]
        fn each_share_is_within_one_unit_of_its_exact_value(cents in 0i64..1_000_000_000, list in arb_shares()) {
            let amount = Decimal::new(cents, 2);
            let shares: Vec<Share> = list.iter().map(|(n, m, s)| Share { name: n, weight: Decimal::new(*m as i64, *s) }).collect();
            let weights = effective_weights(&shares);
            let total: Decimal = weights.iter().sum();
            for (value, weight) in allocate(amount, &shares, 2).iter().zip(&weights) {
                let exact = amount * (*weight / total);
                prop_assert!((*value - exact).abs() < d("0.01"), "{} vs {}", value, exact);
            }
        }
    }
}
