//! Time-of-day weights: the first configured window that covers a local weekday and hour
//! gives the weight, otherwise the default weight applies.

use chrono::Weekday;
use rust_decimal::Decimal;

use super::bucket::LocalHour;
use crate::config::TimeWeights;

/// The time weight of every local weekday and hour, as an index into the distinct weights,
/// so that buckets can be grouped by weight without decimal arithmetic.
pub struct WeightTable {
    weights: Vec<Decimal>,
    index: [[u8; 24]; 7],
}

impl WeightTable {
    /// Tabulates the configured weights.
    pub fn new(config: &TimeWeights) -> WeightTable {
        let mut weights: Vec<Decimal> = Vec::new();
        let mut index = [[0u8; 24]; 7];
        for (day, row) in index.iter_mut().enumerate() {
            let weekday = Weekday::try_from(day as u8).unwrap_or(Weekday::Mon);
            for (hour, slot) in row.iter_mut().enumerate() {
                let weight = time_weight(config, weekday, hour as u32);
                let position = weights
                    .iter()
                    .position(|w| *w == weight)
                    .unwrap_or_else(|| {
                        weights.push(weight);
                        weights.len() - 1
                    });
                *slot = position as u8;
            }
        }
        WeightTable { weights, index }
    }

    /// The weight of a local hour.
    pub fn of(&self, hour: LocalHour) -> Decimal {
        let weekday = hour.weekday().num_days_from_monday() as usize;
        self.weight(self.index_of(weekday, hour.hour()))
    }

    /// The index of the weight of a weekday (counted from Monday, 0 to 6) and an hour of the
    /// day (0 to 23).
    pub fn index_of(&self, weekday: usize, hour: u32) -> u8 {
        self.index[weekday][hour as usize]
    }

    /// The weight an index stands for.
    pub fn weight(&self, index: u8) -> Decimal {
        self.weights[index as usize]
    }
}

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
