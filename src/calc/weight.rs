//! Time-of-day weights: the first configured window that covers a local weekday and hour
//! gives the weight, otherwise the default weight applies.

use chrono::Weekday;
use rust_decimal::Decimal;

use crate::config::TimeWeights;

/// The weight of a local weekday and hour.
pub fn time_weight(weights: &TimeWeights, weekday: Weekday, hour: u32) -> Decimal {
    let day = weekday_name(weekday);
    weights
        .windows
        .iter()
        .find(|w| {
            hour >= w.start_hour
                && hour < w.end_hour
                && w.days.iter().any(|d| d.eq_ignore_ascii_case(day))
        })
        .map_or(weights.default.0, |w| w.weight.0)
}

/// The weekday as configuration writes it.
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dec, TimeWindow};

    #[test]
    fn first_covering_window_wins() {
        let weights = TimeWeights {
            default: Dec(Decimal::new(8, 1)),
            windows: vec![
                TimeWindow {
                    name: "peak".into(),
                    days: vec!["mon".into(), "tue".into()],
                    start_hour: 9,
                    end_hour: 18,
                    weight: Dec(Decimal::new(12, 1)),
                },
                TimeWindow {
                    name: "all".into(),
                    days: vec!["mon".into()],
                    start_hour: 0,
                    end_hour: 24,
                    weight: Dec(Decimal::ONE),
                },
            ],
        };
        assert_eq!(time_weight(&weights, Weekday::Mon, 9), Decimal::new(12, 1));
        assert_eq!(time_weight(&weights, Weekday::Mon, 18), Decimal::ONE);
        assert_eq!(time_weight(&weights, Weekday::Tue, 8), Decimal::new(8, 1));
        assert_eq!(time_weight(&weights, Weekday::Sun, 12), Decimal::new(8, 1));
    }
}
