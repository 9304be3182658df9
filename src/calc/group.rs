//! Adding the buckets of a month into groups of (department, model, local day, time weight).
//!
//! This is the one step of a recalculation whose cost grows with the month: ten million calls
//! make about a million buckets, while they fall into a few thousand groups. So each bucket
//! costs only integer work here: its department and weight are looked up by index in tables
//! made once per caller and per weekday and hour, its day is found by arithmetic rather than
//! the calendar, and its sums are added into its group's.
//!
//! The buckets are split into one run of the map per core; each run is grouped on its own
//! thread and the partial groups are merged. The sums are exact (integers, and the provider's
//! costs as decimals far from the 96 bits beyond which a decimal sum would round), so the
//! groups do not depend on how the buckets were split, nor on the order of the map. One
//! detail does, as it did on one thread: a decimal sum that is exactly zero takes the scale
//! of the next term added to it, so a group whose provider's costs cancel out or are all zero
//! may show its cost with another number of decimal places.

use std::thread;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::bucket::{BucketKey, BucketSums, LocalHour, ModelId, weekday_of_day};
use super::bucket_table::BucketTable;
use super::weight::WeightTable;

/// The fewest buckets worth a thread of their own: a thread takes tens of microseconds to
/// start and a bucket tens of nanoseconds to group, so a small month stays on one thread.
const BUCKETS_PER_THREAD: usize = 1 << 16;

/// A group of buckets that share department, model, local day and time weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// The department, as an index into the resolved department names.
    pub department: u32,
    /// The model, as the sources name it.
    pub model: ModelId,
    /// The local day, counted from 1970-01-01, so that groups sort by day.
    pub day: i64,
    /// The time weight, as an index into the weight table.
    pub weight: u8,
}

impl GroupKey {
    /// The group's local date.
    pub fn date(&self) -> NaiveDate {
        LocalHour::first_of_day(self.day).date()
    }
}

/// The groups of a month's buckets, in key order.
///
/// `departments` holds the department index of every caller id. The buckets are split over
/// up to `threads` threads.
pub fn group_buckets(
    buckets: &BucketTable,
    departments: &[u32],
    weights: &WeightTable,
    threads: usize,
) -> Vec<(GroupKey, BucketSums)> {
    let threads = threads.clamp(1, buckets.len().div_ceil(BUCKETS_PER_THREAD).max(1));
    group_in_runs(buckets, departments, weights, threads)
}

/// Groups the buckets in `runs` runs of the map, each on its own thread when there are
/// several.
fn group_in_runs(
    buckets: &BucketTable,
    departments: &[u32],
    weights: &WeightTable,
    runs: usize,
) -> Vec<(GroupKey, BucketSums)> {
    if runs <= 1 {
        return merge(vec![group_run(buckets.iter(), departments, weights)]);
    }
    let length = buckets.len().div_ceil(runs);
    let partials: Vec<FxHashMap<GroupKey, BucketSums>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..runs)
            .map(|part| {
                // Skipping to a run walks only the tables' control bytes, not the buckets.
                let run = buckets.iter().skip(part * length).take(length);
                scope.spawn(move || group_run(run, departments, weights))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    merge(partials)
}

/// The threads worth using on this machine.
pub fn available_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Adds each bucket of a run into its group.
fn group_run<'a>(
    run: impl Iterator<Item = (BucketKey, &'a BucketSums)>,
    departments: &[u32],
    weights: &WeightTable,
) -> FxHashMap<GroupKey, BucketSums> {
    let mut groups: FxHashMap<GroupKey, BucketSums> = FxHashMap::default();
    for (key, sums) in run {
        groups
            .entry(group_of(&key, departments, weights))
            .or_default()
            .merge(sums);
    }
    groups
}

/// The group a bucket belongs to.
fn group_of(key: &BucketKey, departments: &[u32], weights: &WeightTable) -> GroupKey {
    let (day, hour) = key.hour.day_and_hour();
    GroupKey {
        department: departments[key.caller as usize],
        model: key.model,
        day,
        weight: weights.index_of(weekday_of_day(day), hour),
    }
}

/// Merges the partial groups of every run and sorts them by key.
fn merge(partials: Vec<FxHashMap<GroupKey, BucketSums>>) -> Vec<(GroupKey, BucketSums)> {
    let mut partials = partials.into_iter();
    let mut groups = partials.next().unwrap_or_default();
    for partial in partials {
        for (key, sums) in partial {
            groups.entry(key).or_default().merge(&sums);
        }
    }
    let mut ordered: Vec<_> = groups.into_iter().collect();
    ordered.sort_unstable_by_key(|(key, _)| *key);
    ordered
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::config::{Dec, TimeWeights, TimeWindow};
    use crate::load::Tokens;

    /// Peak hours on weekdays, a cheaper weekend night, the default elsewhere.
    fn weights() -> WeightTable {
        let window = |name: &str, days: &[&str], start_hour, end_hour, weight| TimeWindow {
            name: name.into(),
            days: days.iter().map(|d| d.to_string()).collect(),
            start_hour,
            end_hour,
            weight: Dec(Decimal::new(weight, 1)),
        };
        WeightTable::new(&TimeWeights {
            default: Dec(Decimal::ONE),
            windows: vec![
                window("peak", &["mon", "tue", "wed", "thu", "fri"], 9, 18, 12),
                window("night", &["sat", "sun"], 0, 6, 7),
            ],
        })
    }

    fn bucket() -> impl Strategy<Value = (BucketKey, BucketSums)> {
        let key = (0u32..12, 0u32..4, -2_000i64..2_000).prop_map(|(caller, model, hour)| {
            BucketKey {
                caller,
                model,
                // Around November 2026, and around 1970 for days before the epoch.
                hour: LocalHour(if hour < 0 { hour } else { 497_000 + hour }),
            }
        });
        // Costs are positive: the scale of a decimal sum that passes through zero depends on
        // the order of its terms (see the module's notes).
        let sums = (0u64..50, 0u64..1_000_000, 1i64..1_000_000, 0u32..8).prop_map(
            |(calls, tokens, cost, scale)| BucketSums {
                rows: calls + 1,
                calls,
                failed_calls: 1,
                tokens: Tokens {
                    input: tokens,
                    output: tokens / 3,
                    ..Tokens::default()
                },
                provider_cost: Decimal::new(cost, scale),
                provider_cost_calls: calls / 2,
            },
        );
        (key, sums)
    }

    /// The groups as the calendar names days, hours and weights, one bucket after the other
    /// in key order.
    fn by_calendar(
        buckets: &BucketTable,
        departments: &[u32],
        weights: &WeightTable,
    ) -> Vec<(GroupKey, BucketSums)> {
        let mut sorted: Vec<_> = buckets.iter().collect();
        sorted.sort_by_key(|(key, _)| *key);
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut groups: BTreeMap<GroupKey, BucketSums> = BTreeMap::new();
        for (key, sums) in sorted {
            let weekday = key.hour.weekday().num_days_from_monday() as usize;
            let group = GroupKey {
                department: departments[key.caller as usize],
                model: key.model,
                day: (key.hour.date() - epoch).num_days(),
                weight: weights.index_of(weekday, key.hour.hour()),
            };
            assert_eq!(group.date(), key.hour.date());
            groups.entry(group).or_default().merge(sums);
        }
        groups.into_iter().collect()
    }

    /// The groups with the scale of every decimal, so that equal means the same digits.
    fn exactly(groups: &[(GroupKey, BucketSums)]) -> Vec<(GroupKey, BucketSums, u32)> {
        groups
            .iter()
            .map(|(key, sums)| (*key, sums.clone(), sums.provider_cost.scale()))
            .collect()
    }

    proptest! {
        #[test]
        fn any_split_groups_as_one_thread_and_the_calendar_do(
            buckets in proptest::collection::vec(bucket(), 0..400),
            departments in proptest::collection::vec(0u32..4, 12),
            runs in 2usize..9,
        ) {
            let mut map = BucketTable::default();
            for (key, sums) in buckets {
                map.entry(key).merge(&sums);
            }
            let weights = weights();
            let expected = exactly(&by_calendar(&map, &departments, &weights));
            let one = exactly(&group_in_runs(&map, &departments, &weights, 1));
            let split = exactly(&group_in_runs(&map, &departments, &weights, runs));
            prop_assert_eq!(&one, &expected);
            prop_assert_eq!(&split, &expected);
        }
    }

    #[test]
    fn an_empty_month_has_no_groups_however_many_threads_are_asked_for() {
        let map = BucketTable::default();
        assert!(group_buckets(&map, &[], &weights(), 8).is_empty());
        assert!(group_in_runs(&map, &[], &weights(), 3).is_empty());
    }
}
