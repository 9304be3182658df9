//! The month the archive round-trip tests settle: two departments, Growth and Core, mapped
//! by the prefix of their API keys.

/// The month's configuration, with model `m` at `price` per million input tokens (10 per
/// million output); `more` is added at the end (further models).
pub fn config(month: &str, price: u32, more: &str) -> String {
    format!(
        r#"
[organization]
name = "Round Trip"
time_zone = "UTC"
currency = "USD"

[period]
month = "{month}"

[[departments]]
name = "Growth"
budget = 1000

[[departments]]
name = "Core"
budget = 1000

[[mapping]]
api_key = "g-*"
department = "Growth"

[[mapping]]
api_key = "c-*"
department = "Core"

[[models]]
name = "m"
input = {price}
output = 10
{more}"#
    )
}
