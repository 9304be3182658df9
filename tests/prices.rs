//! The bundled price table is exactly what LiteLLM's price map in the test fixtures gives.
//!
//! Set `APPORTION_WRITE_PRICES=1` to rewrite `assets/prices.toml` from the map after the
//! map was updated; the test then checks the new table.

use std::path::Path;

use apportion::config::prices::{BUNDLED, bundled_table_from_litellm};

const MAP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/fixtures/litellm/model_prices_and_context_window.json"
);
const VERSION: &str = "1.110.2";

fn read_map() -> String {
    std::fs::read_to_string(MAP).unwrap_or_else(|error| panic!("{MAP}: {error}"))
}

#[test]
fn bundled_table_matches_the_litellm_map() {
    let map = read_map();
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
