//! How fast the review stays on a large month: one frame of the queue, and a recalculation
//! after a weight change, on a generated month of one million rows (or as many as
//! `APPORTION_BENCH_ROWS` says: generating ten million takes a few minutes).

use std::path::Path;
use std::sync::Arc;

use apportion::calc::calculate;
use apportion::review::{Change, Review, Sources};
use apportion::tui::{Action, App, Theme};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use rust_decimal::Decimal;

/// Rows of the generated month.
fn rows() -> u64 {
    std::env::var("APPORTION_BENCH_ROWS")
        .ok()
        .and_then(|rows| rows.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

/// Generates the month into `dir` and opens its review with the session in `dir` too.
fn open_month(dir: &Path) -> Review {
    apportion::sample::generate::write_month(dir, rows(), apportion::sample::DEFAULT_SEED).unwrap();
    let sources = Sources {
        config: Some(dir.join(apportion::sample::CONFIG_NAME)),
        ledger: Some(dir.join(apportion::sample::LEDGER_NAME)),
        files: vec![dir.join(apportion::sample::LOGS_NAME)],
        today: Some(apportion::sample::TODAY),
        ..Sources::default()
    };
    let loaded = Review::load(sources.clone(), Arc::default()).unwrap();
    Review::open(sources, loaded, dir, "bench", chrono::Utc::now()).unwrap()
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let review = open_month(dir.path());
    let model = review.attribution.lines[0].model.clone();

    let mut app = App::new(Arc::default(), Theme::FULL, Rect::new(0, 0, 160, 48));
    app.loaded(Ok(review));
    app.update(Action::ShowQueue);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let month = format!("{}-row month", rows());
    c.bench_function(
        &format!("render one frame of the queue (160x48, {month})"),
        |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| apportion::tui::ui::render(&app, frame))
                    .map(|_| ())
                    .unwrap()
            })
        },
    );

    let mut review = app.review.take().unwrap();
    let mut group = c.benchmark_group(format!("recalculation ({month})"));
    group.sample_size(20);
    group.bench_function("calculate from buckets", |b| {
        b.iter(|| {
            calculate(
                &review.settings,
                &review.dataset,
                review.ledger.as_ref(),
                review.today,
            )
        })
    });
    let mut step = 0u32;
    group.bench_function(
        "weight change: recalculate, diff, reset and save the session",
        |b| {
            b.iter(|| {
                step += 1;
                let complexity = Decimal::new(i64::from(10 + step % 7), 1);
                let change = Change::Complexity {
                    model: model.clone(),
                    complexity,
                };
                review.recalculate(change, chrono::Utc::now()).unwrap()
            })
        },
    );
    group.finish();
}

criterion_group!(tui, benches);
criterion_main!(tui);
