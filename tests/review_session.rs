//! The review session driven through its actions on the bundled sample month, as a front end
//! would, with the session saved in a temporary data directory.

use std::path::Path;
use std::sync::Arc;

use apportion::config::UNATTRIBUTED;
use apportion::review::breakdown::breakdown;
use apportion::review::{Change, Decision, LineKey, Review, Sources};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, minute, 0).unwrap()
}

fn open(dir: &Path) -> Review {
    let loaded = Review::load(Sources::default(), Arc::default()).unwrap();
    Review::open(Sources::default(), loaded, dir, "ana", at(0)).unwrap()
}

fn first_key(review: &Review) -> LineKey {
    LineKey::of(&review.attribution.lines[0])
}

#[test]
fn decisions_are_saved_and_resumed_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let lines = &review.attribution.lines;
    let (a, b, c) = (
        LineKey::of(&lines[0]),
        LineKey::of(&lines[1]),
        LineKey::of(&lines[2]),
    );
    review.approve(&a, at(1)).unwrap();
    review
        .adjust(&b, Decimal::new(-500, 2), "credit for an outage", at(2))
        .unwrap();
    review.dispute(&c, "this key is not ours", at(3)).unwrap();
    drop(review);

    let review = open(dir.path());
    assert_eq!(review.session.decision(&a), Decision::Approved);
    assert_eq!(review.session.line(&a).unwrap().by.as_deref(), Some("ana"));
    assert_eq!(review.session.decision(&b), Decision::Adjusted);
    assert_eq!(review.session.adjustments[0].amount, Decimal::new(-500, 2));
    assert_eq!(review.session.decision(&c), Decision::Disputed);
    assert_eq!(
        review.session.line(&c).unwrap().notes[0].text,
        "this key is not ours"
    );
    assert!(review.session_path().starts_with(dir.path()));
}

#[test]
fn undo_is_saved_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let key = first_key(&review);
    review.approve(&key, at(1)).unwrap();
    assert!(review.undo(at(2)).unwrap().is_some());
    drop(review);
    assert_eq!(open(dir.path()).session.decision(&key), Decision::Pending);
}

#[test]
fn empty_reasons_and_unknown_lines_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let key = first_key(&review);
    assert!(review.dispute(&key, "  ", at(1)).is_err());
    assert!(review.adjust(&key, Decimal::ONE, "", at(1)).is_err());
    assert!(
        review
            .approve(&LineKey::new("Nobody", "gpt-4o"), at(1))
            .is_err()
    );
    assert_eq!(review.session.decision(&key), Decision::Pending);
}

#[test]
fn a_complexity_change_moves_lines_resets_them_and_is_reapplied_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let model = review.attribution.lines[0].model.clone();
    for line in review.attribution.lines.clone() {
        review.approve(&LineKey::of(&line), at(1)).unwrap();
    }
    let settled_before = review.attribution.settled;
    let change = Change::Complexity {
        model: model.clone(),
        complexity: Decimal::from(7),
    };
    let recalculation = review.recalculate(change, at(2)).unwrap();

    assert!(recalculation.cause.contains(&model));
    assert!(!recalculation.moved.is_empty());
    assert_eq!(
        review.attribution.settled, settled_before,
        "the amount to settle does not move"
    );
    for moved in &recalculation.moved {
        let line = review.session.line(&moved.key).unwrap();
        assert_eq!(line.decision, Decision::Pending);
        assert!(line.reset.as_deref().unwrap().contains("complexity"));
        assert!(
            line.notes
                .iter()
                .any(|n| n.text.starts_with("was approved"))
        );
    }
    let amounts = review.session.amounts.clone();
    drop(review);

    let review = open(dir.path());
    assert_eq!(
        review.session.amounts, amounts,
        "the change was applied again"
    );
    assert_eq!(
        review.session.recalculations.len(),
        1,
        "and nothing moved on reopening"
    );
}

#[test]
fn assigning_an_unattributed_caller_maps_its_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let line = review
        .attribution
        .lines
        .iter()
        .find(|l| l.department == UNATTRIBUTED)
        .cloned()
        .unwrap();
    let parts = breakdown(&review.settings, &review.dataset, &LineKey::of(&line));
    let caller = review.dataset.buckets.callers[parts.callers[0].caller as usize].clone();
    let department = review.settings.config.departments[0].name.clone();
    let before = review.attribution.conservation.unattributed;

    let change = Change::assign(&caller, &department).unwrap();
    let recalculation = review.recalculate(change, at(1)).unwrap();
    assert!(review.attribution.conservation.unattributed < before);
    assert!(
        recalculation
            .moved
            .iter()
            .any(|m| m.key.department == department)
    );
    assert!(
        !recalculation
            .cause
            .contains(caller.api_key.as_deref().unwrap()),
        "key masked"
    );
}

#[test]
fn a_change_naming_nothing_known_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let change = Change::Complexity {
        model: "no-such-model".into(),
        complexity: Decimal::ONE,
    };
    assert!(review.recalculate(change, at(1)).is_err());
    assert!(review.session.changes.is_empty());
}

#[test]
fn reloading_unchanged_sources_recalculates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    assert!(review.reload(at(1)).unwrap().is_none());
}

#[test]
fn rows_behind_a_caller_and_day_are_read_back_from_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let review = open(dir.path());
    let key = first_key(&review);
    let parts = breakdown(&review.settings, &review.dataset, &key);
    let top = &parts.callers[0];
    let (day, part) = &top.days[0];
    let caller = &review.dataset.buckets.callers[top.caller as usize];
    let rows = review.rows_behind(&key, caller, *day).run().unwrap();
    assert_eq!(rows.len() as u64, part.calls);
    assert!(
        rows.iter()
            .all(|r| r.source == "gateway-2026-11.csv" && r.line > 1)
    );
}

#[test]
fn acknowledged_rejects_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    review.acknowledge(0, at(1)).unwrap();
    let reject = review.reject_ref(0).unwrap();
    drop(review);
    assert!(open(dir.path()).session.is_acknowledged(&reject));
}

#[test]
fn reloading_changed_sources_recalculates_and_resets_what_moved() {
    let month = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    apportion::sample::generate::write_month(month.path(), 2_000, 7).unwrap();
    let logs = month.path().join(apportion::sample::LOGS_NAME);
    let sources = Sources {
        config: Some(month.path().join(apportion::sample::CONFIG_NAME)),
        ledger: None,
        files: vec![logs.clone()],
        today: Some(apportion::sample::TODAY),
        ..Sources::default()
    };
    let loaded = Review::load(sources.clone(), Arc::default()).unwrap();
    let mut review = Review::open(sources.clone(), loaded, data.path(), "ana", at(0)).unwrap();
    for line in review.attribution.lines.clone() {
        review.approve(&LineKey::of(&line), at(1)).unwrap();
    }

    // Drop the last fifth of the log, as if the export had been redone.
    let text = std::fs::read_to_string(&logs).unwrap();
    let kept: Vec<&str> = text.lines().take(1_600).collect();
    std::fs::write(&logs, kept.join("\n") + "\n").unwrap();

    let recalculation = review.reload(at(2)).unwrap().expect("the sources changed");
    assert!(recalculation.cause.contains("gateway-2026-11.csv"));
    assert!(!recalculation.moved.is_empty());
    let moved = &recalculation.moved[0].key;
    assert_eq!(review.session.decision(moved), Decision::Pending);
    drop(review);

    // Reopened on the same changed file: nothing more moves.
    let loaded = Review::load(sources.clone(), Arc::default()).unwrap();
    let review = Review::open(sources, loaded, data.path(), "ana", at(3)).unwrap();
    assert_eq!(review.session.recalculations.len(), 1);
}
