//! The sums of every bucket, kept hour by hour.
//!
//! A month of ten million calls has about a million buckets, a table of more than 100 MB.
//! Folding a chunk of rows into one flat table touches it at random: each bucket costs a few
//! cache and TLB misses. Rows come mostly in time order, so a chunk holds a few hours only.
//! Keeping one small table per local hour, the chunk's buckets land in the few tables of its
//! hours, which stay in cache while they are filled.

use std::collections::hash_map;

use rustc_hash::FxHashMap as HashMap;

use super::bucket::{BucketKey, BucketSums, CallerId, LocalHour, ModelId};

/// The buckets of one local hour, by caller and model.
type HourTable = HashMap<(CallerId, ModelId), BucketSums>;

/// The sums of every bucket, by local hour, then caller and model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketTable {
    hours: HashMap<LocalHour, HourTable>,
    len: usize,
}

impl BucketTable {
    /// How many buckets there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no bucket.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sums of a bucket, made empty when it has none yet.
    pub fn entry(&mut self, key: BucketKey) -> &mut BucketSums {
        let table = hour_table(&mut self.hours, key.hour, self.len);
        match table.entry((key.caller, key.model)) {
            hash_map::Entry::Occupied(known) => known.into_mut(),
            hash_map::Entry::Vacant(new) => {
                self.len += 1;
                new.insert(BucketSums::default())
            }
        }
    }

    /// The sums of a bucket, to change them.
    pub fn get_mut(&mut self, key: &BucketKey) -> Option<&mut BucketSums> {
        self.hours
            .get_mut(&key.hour)?
            .get_mut(&(key.caller, key.model))
    }

    /// Drops a bucket (and its hour, once that holds no other).
    pub fn remove(&mut self, key: &BucketKey) -> Option<BucketSums> {
        let hour = self.hours.get_mut(&key.hour)?;
        let removed = hour.remove(&(key.caller, key.model))?;
        if hour.is_empty() {
            self.hours.remove(&key.hour);
        }
        self.len -= 1;
        Some(removed)
    }

    /// Every bucket with its sums, in no particular order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            hours: self.hours.iter(),
            current: None,
        }
    }

    /// Folds another table in, its callers and models renumbered by `callers` and `models`
    /// (new id by old id). Each hour's table is looked up once for all its buckets.
    pub fn merge_renumbered(
        &mut self,
        other: BucketTable,
        callers: &[CallerId],
        models: &[ModelId],
    ) {
        for (hour, buckets) in other.hours {
            let table = hour_table(&mut self.hours, hour, self.len);
            table.reserve(buckets.len());
            let mut added = 0;
            for ((caller, model), sums) in buckets {
                let key = (callers[caller as usize], models[model as usize]);
                match table.get_mut(&key) {
                    Some(known) => known.merge(&sums),
                    None => {
                        table.insert(key, sums);
                        added += 1;
                    }
                }
            }
            self.len += added;
        }
    }
}

/// The table of an hour, in `hours` that hold `len` buckets. A new one is made to hold as many
/// as an hour holds on average: hours hold similar numbers, and growing each table step by
/// step would move its buckets several times.
fn hour_table(
    hours: &mut HashMap<LocalHour, HourTable>,
    hour: LocalHour,
    len: usize,
) -> &mut HourTable {
    let count = hours.len();
    hours.entry(hour).or_insert_with(|| {
        let usual = len / count.max(1);
        HourTable::with_capacity_and_hasher(usual, Default::default())
    })
}

impl<'a> IntoIterator for &'a BucketTable {
    type Item = (BucketKey, &'a BucketSums);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The buckets of one hour's table.
type HourIter<'a> = hash_map::Iter<'a, (CallerId, ModelId), BucketSums>;

/// The buckets of a [`BucketTable`], hour by hour.
#[derive(Clone)]
pub struct Iter<'a> {
    hours: hash_map::Iter<'a, LocalHour, HourTable>,
    current: Option<(LocalHour, HourIter<'a>)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (BucketKey, &'a BucketSums);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((hour, buckets)) = &mut self.current {
                if let Some((&(caller, model), sums)) = buckets.next() {
                    let key = BucketKey {
                        caller,
                        model,
                        hour: *hour,
                    };
                    return Some((key, sums));
                }
            }
            let (&hour, table) = self.hours.next()?;
            self.current = Some((hour, table.iter()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(caller: CallerId, model: ModelId, hour: i64) -> BucketKey {
        BucketKey {
            caller,
            model,
            hour: LocalHour(hour),
        }
    }

    fn rows(table: &BucketTable) -> Vec<(BucketKey, u64)> {
        let mut all: Vec<_> = table.iter().map(|(key, sums)| (key, sums.rows)).collect();
        all.sort();
        all
    }

    #[test]
    fn buckets_are_counted_as_they_come_and_go() {
        let mut table = BucketTable::default();
        table.entry(key(0, 0, 5)).rows += 1;
        table.entry(key(0, 0, 5)).rows += 1;
        table.entry(key(1, 0, 6)).rows += 1;
        assert_eq!(table.len(), 2);
        assert_eq!(rows(&table), vec![(key(0, 0, 5), 2), (key(1, 0, 6), 1)]);

        assert!(table.remove(&key(1, 0, 6)).is_some());
        assert!(table.remove(&key(1, 0, 6)).is_none());
        assert_eq!(table.len(), 1);
        assert_eq!(rows(&table), vec![(key(0, 0, 5), 2)]);
    }

    proptest::proptest! {
        /// Merging renumbered tables gives what adding every row to one table under its new
        /// ids gives.
        #[test]
        fn merging_adds_what_adding_rows_adds(
            first in proptest::collection::vec((0u32..4, 0u32..3, 0i64..5), 0..40),
            second in proptest::collection::vec((0u32..4, 0u32..3, 0i64..5), 0..40),
        ) {
            let callers = [3, 1, 2, 0];
            let models = [2, 0, 1];
            let mut merged = BucketTable::default();
            let mut other = BucketTable::default();
            let mut expected = BucketTable::default();
            for &(caller, model, hour) in &first {
                merged.entry(key(caller, model, hour)).rows += 1;
                expected.entry(key(caller, model, hour)).rows += 1;
            }
            for &(caller, model, hour) in &second {
                other.entry(key(caller, model, hour)).rows += 1;
                let renumbered = key(callers[caller as usize], models[model as usize], hour);
                expected.entry(renumbered).rows += 1;
            }

            merged.merge_renumbered(other, &callers, &models);
            proptest::prop_assert_eq!(merged.len(), expected.len());
            proptest::prop_assert_eq!(rows(&merged), rows(&expected));
        }
    }
}
