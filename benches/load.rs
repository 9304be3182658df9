//! Benchmarks of reading a log, step by step, on a generated month of 200,000 rows held in
//! memory: splitting rows (the fast path against the CSV parser), folding records into
//! buckets, and a whole read on one thread and on every core; and marking a month's request
//! ids in the filter that finds repeated ones.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta};
use chrono_tz::Tz;

use apportion::calc::bucket::{Buckets, LocalClock};
use apportion::config::{Settings, SourceSpec};
use apportion::load::chunks::{Chunk, Fields, Splitter, each_record, each_row};
use apportion::load::requests::{RequestFilter, request_key};
use apportion::load::timestamp::{TimestampReader, parse_timestamp};
use apportion::load::{Capture, Dataset, Input, UsageRecord, generic, spec_for};
use apportion::sample;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROWS: u64 = 200_000;

/// The generated month's configuration and log.
fn month() -> (Settings, Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    sample::generate::write_month(dir.path(), ROWS, sample::DEFAULT_SEED).expect("the month");
    let settings =
        Settings::from_file(&dir.path().join(sample::CONFIG_NAME)).expect("its configuration");
    let logs = std::fs::read(dir.path().join(sample::LOGS_NAME)).expect("its log");
    (settings, logs)
}

/// The log's records after the header, as one chunk.
fn records_chunk(logs: &[u8]) -> Chunk {
    let (_, _, mut first) = Splitter::start(logs, logs.len() + 1).expect("the log splits");
    first.bytes.shrink_to_fit();
    first
}

fn splitting(c: &mut Criterion, logs: &[u8]) {
    let chunk = records_chunk(logs);
    let mut group = c.benchmark_group("split rows");
    group.throughput(Throughput::Bytes(chunk.bytes.len() as u64));
    group.bench_function("fast path", |b| {
        b.iter(|| {
            let mut fields = 0;
            each_row(black_box(&chunk), |row, _| {
                fields += row.map_or(0, |r| r.field_count())
            });
            fields
        })
    });
    // As a reader of the log does, which asks every row for its fields' text.
    group.bench_function("fast path, every field's text", |b| {
        b.iter(|| {
            let mut text_bytes = 0;
            each_row(black_box(&chunk), |row, _| {
                let Ok(row) = row else { return };
                for index in 0..row.field_count() {
                    text_bytes += row.text(index).map_or(0, str::len);
                }
            });
            text_bytes
        })
    });
    group.bench_function("csv parser", |b| {
        b.iter(|| {
            let mut fields = 0;
            each_record(black_box(&chunk), |row, _| {
                fields += row.map_or(0, |r| r.len())
            });
            fields
        })
    });
    group.finish();
}

/// Every record of the log, read in order.
fn records(settings: &Settings, spec: &SourceSpec, logs: &[u8]) -> Vec<UsageRecord> {
    let mut dataset = Dataset::new(settings);
    dataset.capture = Some(Capture {
        limit: usize::MAX,
        ..Capture::default()
    });
    generic::read_in_order(
        &mut dataset,
        spec,
        Input::from_bytes(sample::LOGS_NAME, logs),
    )
    .expect("the log reads");
    let capture = dataset.capture.expect("the capture");
    capture
        .records
        .into_iter()
        .map(|(_, record)| record)
        .collect()
}

fn bucketing(c: &mut Criterion, settings: &Settings, spec: &SourceSpec, logs: &[u8]) {
    let records = records(settings, spec, logs);
    let mut group = c.benchmark_group("fold into buckets");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function(format!("{} records", records.len()), |b| {
        b.iter(|| {
            let mut buckets = Buckets::default();
            for record in black_box(&records) {
                buckets.add(0, record, settings.zone);
            }
            buckets.sums.len()
        })
    });
    group.finish();
}

fn reading(c: &mut Criterion, settings: &Settings, spec: &SourceSpec, logs: &[u8]) {
    let mut group = c.benchmark_group("read a log into buckets");
    group.throughput(Throughput::Bytes(logs.len() as u64));
    group.sample_size(20);
    group.bench_function("one thread, row by row", |b| {
        b.iter(|| {
            let mut dataset = Dataset::new(settings);
            let input = Input::from_bytes(sample::LOGS_NAME, black_box(logs));
            generic::read_in_order(&mut dataset, spec, input).expect("the log reads");
            dataset.buckets.sums.len()
        })
    });
    group.bench_function("chunks on every core", |b| {
        b.iter(|| {
            let mut dataset = Dataset::new(settings);
            let input = Input::from_bytes(sample::LOGS_NAME, black_box(logs));
            generic::read_in_chunks(&mut dataset, spec, input, 4 << 20).expect("the log reads");
            dataset.buckets.sums.len()
        })
    });
    group.finish();
}

/// Marking request ids in the filter that finds repeated ones: all of a chunk's ids at once
/// (as a read does) against one by one, on a month's worth of ids.
fn marking(c: &mut Criterion) {
    const IDS: usize = 2_000_000;
    const PER_CHUNK: usize = 28_000;
    let keys: Vec<u128> = (0..IDS)
        .map(|i| request_key(&format!("req_{i:09}")))
        .collect();
    let fresh = || {
        let mut filter = RequestFilter::default();
        filter.mark(0);
        filter
    };
    let mut group = c.benchmark_group("mark request ids");
    group.throughput(Throughput::Elements(IDS as u64));
    group.sample_size(10);
    group.bench_function("a chunk at once", |b| {
        b.iter_batched_ref(
            fresh,
            |filter| {
                keys.chunks(PER_CHUNK)
                    .map(|chunk| filter.mark_all(chunk).len())
                    .sum::<usize>()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("one by one", |b| {
        b.iter_batched_ref(
            fresh,
            |filter| keys.iter().filter(|&&key| filter.mark(key)).count(),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// A million timestamps as a generated month writes them: in time order, from the first local
/// hour of November in Berlin, a few seconds apart, with milliseconds.
fn month_of_timestamps() -> Vec<String> {
    const TIMESTAMPS: i64 = 1_000_000;
    let start = DateTime::parse_from_rfc3339("2026-10-31T23:00:00.002Z").expect("the start");
    let step = 30 * 86_400_000 / TIMESTAMPS;
    (0..TIMESTAMPS)
        .map(|i| {
            let at = start + TimeDelta::milliseconds(i * step + i % 7);
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        })
        .collect()
}

/// Reading each row's timestamp and finding its local hour and day, as a worker does.
fn timestamps(c: &mut Criterion) {
    let texts = month_of_timestamps();
    let zone = Tz::Europe__Berlin;
    let mut group = c.benchmark_group("read timestamps");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("parse and local clock", |b| {
        b.iter(|| {
            let mut clock = LocalClock::new(zone);
            let mut hours = 0;
            for text in black_box(&texts) {
                let instant = parse_timestamp(text, Tz::UTC).expect("a timestamp");
                hours += clock.local(instant).0.0;
            }
            hours
        })
    });
    group.bench_function("reader and local clock", |b| {
        b.iter(|| {
            let mut reader = TimestampReader::new();
            let mut clock = LocalClock::new(zone);
            let mut hours = 0;
            for text in black_box(&texts) {
                let instant = reader.parse(text, Tz::UTC).expect("a timestamp");
                hours += clock.local(instant).0.0;
            }
            hours
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let (settings, logs) = month();
    let spec = spec_for(&settings, sample::LOGS_NAME);
    splitting(c, &logs);
    bucketing(c, &settings, &spec, &logs);
    reading(c, &settings, &spec, &logs);
    marking(c);
    timestamps(c);
}

criterion_group!(load, benches);
criterion_main!(load);
