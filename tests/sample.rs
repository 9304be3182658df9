//! The bundled sample month is exactly what its generator makes, so it can be regenerated
//! (and grown for benchmarks) at will.

use apportion::sample::{self, CONFIG_NAME, DEFAULT_ROWS, DEFAULT_SEED, LEDGER_NAME, LOGS_NAME};

#[test]
fn the_committed_sample_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    sample::generate::write_month(dir.path(), DEFAULT_ROWS, DEFAULT_SEED).unwrap();
    for name in [CONFIG_NAME, LOGS_NAME, LEDGER_NAME] {
        let made = std::fs::read(dir.path().join(name)).unwrap();
        let committed = std::fs::read(format!("sample-data/{name}")).unwrap();
        assert!(
            made == committed,
            "sample-data/{name} differs from the generator's output; regenerate it with `apportion sample --out sample-data --replace`"
        );
    }
}

#[test]
fn another_seed_gives_another_month_of_the_same_size() {
    let dir = tempfile::tempdir().unwrap();
    sample::generate::write_month(dir.path(), 2_000, 7).unwrap();
    let logs = std::fs::read_to_string(dir.path().join(LOGS_NAME)).unwrap();
    assert_eq!(
        logs.lines().count(),
        1 + 2_000 + 3,
        "header, rows, and the three bad rows"
    );
    assert_ne!(logs.as_bytes(), sample::LOGS);
}
