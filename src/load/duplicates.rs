//! Settling the rows held as suspects of repeating a request id, once every source was read
//! (see [`super::requests`] for why they are held).
//!
//! The sources are read a second time looking for the suspects' ids alone. Marks were made in
//! reading order, so for each id either its first row was marked without a collision, and
//! every suspect of the id repeats it, or the first row itself collided with other ids' bits
//! and is the id's first suspect, the only one to keep. The first row found for the id tells
//! which: found before the first suspect, every suspect is a repeat; found at the first
//! suspect's place, that suspect is kept (unless more rows of the id share its place, as
//! records of one JSON line can). An id is settled as soon as that is known, and the second
//! reading stops once every id is: a repeat of an early call costs only the reading up to it.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::requests::{Suspect, Wanted, request_key};
use super::{Dataset, Format, Hashing, Input, LoadError, Reject, UsageRecord, detect};
use crate::calc::bucket::SourceId;
use crate::config::{Settings, SourceSpec};

/// Opens an input again from its start.
pub type Reopen<'a> = Box<dyn Fn() -> std::io::Result<Box<dyn std::io::Read + 'a>> + 'a>;

/// What a second reading collects for each wanted request id, and which ids are settled.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// The keys looked for.
    pub wanted: Arc<Wanted>,
    watches: FxHashMap<u128, Watch>,
    /// Keys by the place of their first suspect, to settle them as the reading passes it.
    by_first_suspect: Vec<((SourceId, u64), u128)>,
    passed: usize,
    unsettled: usize,
}

/// What is known of one wanted id.
#[derive(Debug, Clone)]
struct Watch {
    first_suspect: (SourceId, u64),
    suspects_there: usize,
    first_row: Option<(SourceId, u64)>,
    rows_there: usize,
    settled: bool,
}

impl Probe {
    /// A probe for the ids of `suspects` (in reading order).
    fn new(suspects: &[Suspect]) -> Probe {
        let mut watches: FxHashMap<u128, Watch> = FxHashMap::default();
        for suspect in suspects {
            let place = (suspect.source, suspect.record.line);
            let watch = watches.entry(suspect.key).or_insert(Watch {
                first_suspect: place,
                suspects_there: 0,
                first_row: None,
                rows_there: 0,
                settled: false,
            });
            if watch.first_suspect == place {
                watch.suspects_there += 1;
            }
        }
        let mut by_first_suspect: Vec<_> = watches
            .iter()
            .map(|(&key, watch)| (watch.first_suspect, key))
            .collect();
        by_first_suspect.sort_unstable();
        Probe {
            wanted: Arc::new(watches.keys().copied().collect()),
            unsettled: watches.len(),
            watches,
            by_first_suspect,
            passed: 0,
        }
    }

    /// Notes an accepted record if its request id is wanted.
    pub fn note(&mut self, source: SourceId, record: &UsageRecord) {
        if let Some(key) = record.request_id.as_deref().map(request_key) {
            self.note_key(source, key, record.line);
        }
    }

    /// Notes an accepted row by the key of its request id, if that is wanted.
    pub fn note_key(&mut self, source: SourceId, key: u128, line: u64) {
        let Some(watch) = self.watches.get_mut(&key) else {
            return;
        };
        let place = (source, line);
        match watch.first_row {
            None => {
                watch.first_row = Some(place);
                watch.rows_there = 1;
                if place != watch.first_suspect && !watch.settled {
                    watch.settled = true;
                    self.unsettled -= 1;
                }
            }
            Some(first) if first == place => watch.rows_there += 1,
            Some(_) => {}
        }
    }

    /// Says that every row before `place` was read: the ids whose first suspect lies before
    /// it are settled.
    pub fn passed(&mut self, place: (SourceId, u64)) {
        while let Some(&(first_suspect, key)) = self.by_first_suspect.get(self.passed) {
            if first_suspect >= place {
                break;
            }
            self.passed += 1;
            if let Some(watch) = self.watches.get_mut(&key) {
                if !watch.settled {
                    watch.settled = true;
                    self.unsettled -= 1;
                }
            }
        }
    }

    /// Whether every id is settled, so that the reading can stop.
    pub fn settled(&self) -> bool {
        self.unsettled == 0
    }
}

/// An input as it is read the second time: how to open it again and how it was read.
pub struct Reading<'a> {
    /// The name shown in messages.
    pub name: String,
    /// The source specification it was read with.
    pub spec: SourceSpec,
    /// The format it was read as, when one was forced.
    pub format: Option<Format>,
    /// How to open it again; `None` for an input that can be read only once.
    pub reopen: Option<Reopen<'a>>,
}

impl Dataset {
    /// Takes a row that a chunk's part folded in back out, because its id may have been met
    /// before, and holds it. Its cost is converted as the part converted it, without counting
    /// the rate a second time.
    pub(super) fn hold_folded(&mut self, source: SourceId, key: u128, mut record: UsageRecord) {
        // The part converted this cost already, so the conversion cannot fail here.
        let _ = self.window.convert_record(&mut record);
        self.buckets.remove(source, &record, self.window.zone);
        self.sources[source as usize].accepted -= 1;
        self.suspects.push(Suspect {
            source,
            key,
            record,
        });
    }

    /// Settles the suspects once every source was read: each is folded in when it is the
    /// first row of its request id, else rejected, naming where the id was first seen.
    pub(super) fn settle_duplicates(
        &mut self,
        settings: &Settings,
        readings: Vec<Reading<'_>>,
    ) -> Result<(), LoadError> {
        self.requests.clear();
        if self.suspects.is_empty() {
            return Ok(());
        }
        let watches = self.read_again(settings, readings)?;
        let suspects = std::mem::take(&mut self.suspects);
        let mut settled: FxHashMap<u128, usize> = FxHashMap::default();
        for suspect in suspects {
            let changed = || {
                LoadError::new(
                    self.source_name(suspect.source),
                    Some(suspect.record.line),
                    "changed while it was read: its rows differ between two readings",
                )
            };
            let watch = watches.get(&suspect.key).ok_or_else(changed)?;
            let first = watch.first_row.ok_or_else(changed)?;
            let first_is_a_suspect = match first == watch.first_suspect {
                false => false,
                true if watch.rows_there == watch.suspects_there => true,
                true if watch.rows_there == watch.suspects_there + 1 => false,
                true => return Err(changed()),
            };
            let earlier = settled.entry(suspect.key).or_default();
            let keep = first_is_a_suspect && *earlier == 0;
            *earlier += 1;
            match keep {
                true => self.fold(suspect.source, suspect.record),
                false => self.reject_repeat(suspect, first),
            }
        }

        self.rejects.sort_by_key(|r| (r.source, r.line));
        if let Some(capture) = &mut self.capture {
            capture.records.sort_by_key(|(source, r)| (*source, r.line));
        }
        Ok(())
    }

    /// Reads the inputs again, looking for the suspects' ids, until every id is settled.
    fn read_again(
        &self,
        settings: &Settings,
        readings: Vec<Reading<'_>>,
    ) -> Result<FxHashMap<u128, Watch>, LoadError> {
        let mut probe = Dataset::new(settings);
        probe.window = self.window.clone();
        probe.hashing = Hashing::SizeOnly;
        probe.chunk_bytes = self.chunk_bytes;
        probe.probe = Some(Probe::new(&self.suspects));
        for reading in readings {
            if probe.probe.as_ref().is_none_or(Probe::settled) {
                break;
            }
            if let Ok(mut current) = self.progress.current.lock() {
                *current = format!("{} (looking for repeated request ids)", reading.name);
            }
            let cannot = |why: String| LoadError::new(&reading.name, None, why);
            let reopen = reading.reopen.ok_or_else(|| {
                cannot("cannot be read a second time to settle repeated request ids".into())
            })?;
            let reader = reopen().map_err(|error| cannot(format!("cannot open again: {error}")))?;
            let input = Input {
                name: reading.name.clone(),
                reader,
                reopen: None,
            };
            detect::read(&mut probe, &reading.spec, input, reading.format)?;
            let next_source = probe.sources.len() as SourceId;
            if let Some(probe) = &mut probe.probe {
                probe.passed((next_source, 0));
            }
        }
        Ok(probe.probe.map(|p| p.watches).unwrap_or_default())
    }

    /// Rejects a suspect that repeats the row first seen at `first`.
    fn reject_repeat(&mut self, suspect: Suspect, first: (SourceId, u64)) {
        let id = suspect.record.request_id.unwrap_or_default();
        let reason = format!(
            "duplicate of request '{id}' first seen at {}:{}",
            self.source_name(first.0),
            first.1
        );
        self.sources[suspect.source as usize].rejected += 1;
        self.rejects.push(Reject {
            source: suspect.source,
            line: suspect.record.line,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::read_into;
    use crate::load::requests::RequestFilter;

    const HEADER: &str = "request_id,timestamp,api_key,user,team,project,tags,model,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,cost,currency,status\n";

    /// A row of the sample's gateway format; day 0 falls outside the period.
    fn row(id: Option<u8>, day: u8, caller: u8, tokens: u16) -> String {
        let id = id.map(|i| format!("req_{i}")).unwrap_or_default();
        let date = match day {
            0 => "2026-12-02".to_string(),
            day => format!("2026-11-{day:02}"),
        };
        format!(
            "{id},{date}T10:00:00Z,sk-mkt-00000000000{caller},ana,growth,p,,gpt-4o-mini,{tokens},0,0,1,0.01,USD,success\n"
        )
    }

    /// Reads the files with the usual filter, or one where nearly every id collides and in
    /// chunks of a few rows, so that second readings stop within a file.
    fn read(files: &[String], colliding: bool) -> Result<Dataset, LoadError> {
        let settings = crate::sample::settings().unwrap();
        let mut dataset = Dataset::new(&settings);
        if colliding {
            dataset.requests = RequestFilter::colliding();
            dataset.chunk_bytes = 300;
        }
        let inputs = files
            .iter()
            .enumerate()
            .map(|(i, text)| Input::from_bytes(&format!("gateway-{i}.csv"), text.as_bytes()))
            .collect();
        read_into(dataset, &settings, inputs)
    }

    /// What a reading produced, in a form that compares as a whole.
    fn outcome(dataset: &Dataset) -> String {
        let sorted = |map: Vec<String>| {
            let mut map = map;
            map.sort();
            map
        };
        let b = &dataset.buckets;
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            dataset.sources,
            dataset.rejects,
            b.callers,
            b.models,
            sorted(b.sums.iter().map(|s| format!("{s:?}")).collect()),
            sorted(b.rows_by_source.iter().map(|s| format!("{s:?}")).collect()),
            sorted(b.pairs.iter().map(|s| format!("{s:?}")).collect()),
            dataset.last_timestamp,
        )
    }

    #[test]
    fn the_first_row_of_an_id_is_kept_and_later_ones_name_it() {
        let first = format!(
            "{HEADER}{}{}",
            row(Some(1), 3, 1, 10),
            row(Some(2), 3, 1, 10)
        );
        let second = format!(
            "{HEADER}{}{}",
            row(Some(1), 4, 2, 99),
            row(Some(1), 5, 1, 7)
        );
        let dataset = read(&[first, second], false).unwrap();
        let reasons: Vec<_> = dataset
            .rejects
            .iter()
            .map(|r| (r.source, r.line, r.reason.as_str()))
            .collect();
        let reason = "duplicate of request 'req_1' first seen at gateway-0.csv:2";
        assert_eq!(reasons, vec![(1, 2, reason), (1, 3, reason)]);
        assert_eq!(dataset.buckets.rows(), 2);
        assert_eq!(dataset.sources[1].accepted, 0);
        assert_eq!(dataset.sources[1].rejected, 2);
    }

    #[test]
    fn a_row_outside_the_period_does_not_count_as_the_first() {
        let text = format!(
            "{HEADER}{}{}",
            row(Some(1), 0, 1, 10),
            row(Some(1), 3, 1, 10)
        );
        let dataset = read(&[text], false).unwrap();
        assert_eq!(dataset.buckets.rows(), 1);
        assert_eq!(dataset.rejects.len(), 1);
        assert!(dataset.rejects[0].reason.contains("outside"));
    }

    #[test]
    fn a_source_that_changes_between_readings_is_an_error() {
        let settings = crate::sample::settings().unwrap();
        let before = format!(
            "{HEADER}{}{}",
            row(Some(1), 3, 1, 10),
            row(Some(1), 4, 1, 10)
        );
        let after = format!("{HEADER}{}", row(Some(2), 3, 1, 10));
        let after: &'static str = Box::leak(after.into_boxed_str());
        let input = Input {
            name: "gateway.csv".into(),
            reader: Box::new(std::io::Cursor::new(before.into_bytes())),
            reopen: Some(Box::new(move || {
                Ok(Box::new(after.as_bytes()) as Box<dyn std::io::Read>)
            })),
        };
        let error = read_into(Dataset::new(&settings), &settings, vec![input]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("gateway.csv"), "{message}");
        assert!(message.contains("changed while it was read"), "{message}");
    }

    proptest::proptest! {
        /// With a filter where nearly every id collides with others, most rows are suspects
        /// and first rows are settled from the second reading; the outcome must be the one
        /// the usual filter gives.
        #[test]
        fn collisions_change_nothing(
            rows in proptest::collection::vec(
                (proptest::option::of(0u8..12), 0u8..6, 0u8..4, 0u16..500, 0usize..2),
                0..80,
            ),
        ) {
            let mut files = vec![HEADER.to_string(), HEADER.to_string()];
            for &(id, day, caller, tokens, file) in &rows {
                files[file].push_str(&row(id, day, caller, tokens));
            }
            let exact = read(&files, false).unwrap();
            let colliding = read(&files, true).unwrap();
            proptest::prop_assert_eq!(outcome(&exact), outcome(&colliding));

            // The repeats, counted the plain way: rows in the period whose id came before.
            let mut seen = std::collections::HashSet::new();
            let mut in_file_order: Vec<_> = rows.iter().filter(|r| r.1 != 0).collect();
            in_file_order.sort_by_key(|r| r.4);
            let repeats = in_file_order
                .iter()
                .filter(|r| r.0.is_some_and(|id| !seen.insert(id)))
                .count();
            let rejected = exact
                .rejects
                .iter()
                .filter(|r| r.reason.starts_with("duplicate of request"))
                .count();
            proptest::prop_assert_eq!(rejected, repeats);
        }
    }
}
