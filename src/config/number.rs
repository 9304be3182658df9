//! Reading exact decimals from TOML.
//!
//! TOML has no decimal type: `2.50` arrives as a float. Money must never pass through `f64`
//! arithmetic, so a float is converted from its shortest text form (which round-trips the
//! literal the user typed, for any literal of up to 15 significant digits), and strings are
//! accepted too for values that need more digits.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, de};

/// A decimal written in TOML as a string, an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Dec(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DecVisitor).map(Dec)
    }
}

struct DecVisitor;

impl de::Visitor<'_> for DecVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a decimal number (for example 2.50 or \"2.50\")")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("'{v}' is not a finite number")));
        }
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(E::custom)
    }
}

/// Parses a decimal from text, accepting scientific notation (`1.5e-6`) as price maps use it.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    };
    parsed
        .map(|d| d.normalize())
        .map_err(|_| format!("'{text}' is not a decimal number"))
}

impl From<Decimal> for Dec {
    fn from(value: Decimal) -> Self {
        Dec(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        value: Dec,
    }

    fn read(text: &str) -> Decimal {
        toml::from_str::<Holder>(text).unwrap().value.0
    }

    #[test]
    fn floats_keep_the_literal_that_was_typed() {
        assert_eq!(read("value = 0.1"), Decimal::from_str("0.1").unwrap());
        assert_eq!(read("value = 2.50"), Decimal::from_str("2.5").unwrap());
        assert_eq!(read("value = 1e-6"), Decimal::from_str("0.000001").unwrap());
    }

    #[test]
    fn strings_and_integers_are_accepted() {
        assert_eq!(
            read("value = \"12.345678901234567890\""),
            Decimal::from_str("12.345678901234567890").unwrap()
        );
        assert_eq!(read("value = 7"), Decimal::from(7));
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        assert!(toml::from_str::<Holder>("value = \"abc\"").is_err());
        assert!(parse_decimal("1.2.3").is_err());
    }
}
