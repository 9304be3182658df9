//! Benchmarks of the core: reading the sample month's log into buckets, and calculating the
//! attribution from buckets (what every recalculation costs).

use std::hint::black_box;

use apportion::calc::calculate;
use apportion::load::{Input, load_inputs};
use apportion::sample;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn load(c: &mut Criterion) {
    let settings = sample::settings().expect("the sample configuration is valid");
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(sample::LOGS.len() as u64));
    group.bench_function("sample month (24k rows) into buckets", |b| {
        b.iter(|| {
            let inputs = vec![Input::from_bytes(
                sample::LOGS_NAME,
                black_box(sample::LOGS),
            )];
            load_inputs(&settings, inputs).expect("the sample loads")
        })
    });
    group.finish();
}

fn calculation(c: &mut Criterion) {
    let settings = sample::settings().expect("the sample configuration is valid");
    let dataset = load_inputs(
        &settings,
        vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)],
    )
    .expect("the sample loads");
    let buckets = dataset.buckets.sums.len();
    c.bench_function(&format!("calculate from {buckets} buckets"), |b| {
        b.iter(|| {
            calculate(
                black_box(&settings),
                black_box(&dataset),
                None,
                sample::TODAY,
            )
        })
    });
}

criterion_group!(benches, load, calculation);
criterion_main!(benches);
