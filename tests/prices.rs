//! The bundled price table is exactly what LiteLLM's price map in the shared fixtures gives.
//!
//! Set `APPORTION_WRITE_PRICES=1` to rewrite `assets/prices.toml` from the map after the
//! map was updated; the test then checks the new table.

use std::path::Path;

use apportion::config::prices::{BUNDLED, bundled_table_from_litellm};

const MAP: &str = "../shared/fixtures/litellm/model_prices_and_context_window.json";
const VERSION: &str = "1.110.2";

/// The map, when the shared fixtures sit beside this checkout. CI always has them; a
/// checkout elsewhere says the test was skipped rather than failing on a missing file.
fn read_map() -> Option<String> {
    match std::fs::read_to_string(MAP) {
        Ok(map) => Some(map),
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: {MAP} is not beside this checkout");
            None
        }
        Err(error) => panic!("{MAP}: {error}; CI must have the shared fixtures beside the crate"),
    }
}

#[test]
fn bundled_table_matches_the_litellm_map() {
    let Some(map) = read_map() else { return };
    let table = bundled_table_from_litellm(&map, VERSION).unwrap();
    if std::env::var_os("APPORTION_WRITE_PRICES").is_some() {
        std::fs::write(Path::new("assets/prices.toml"), &table).unwrap();
        return;
    }
    assert_eq!(
        BUNDLED, table,
        "assets/prices.toml differs from the map; rerun with APPORTION_WRITE_PRICES=1"
    );
}
