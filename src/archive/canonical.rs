//! The canonical form of a JSON value, which the archive's hashes are computed over.
//!
//! Canonical means: object keys sorted, no insignificant white space, numbers as serde_json
//! writes them. Amounts are strings in the archive, so no number's text depends on a float
//! formatter. Anyone can recompute the hash with any JSON library that sorts keys.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical bytes of a value.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                out.push(b':');
                write(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// SHA-256 of a value's canonical bytes, in hex.
pub fn hash(value: &Value) -> String {
    crate::load::hashing::hex(&Sha256::digest(canonical_bytes(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_space_is_dropped() {
        let value = json!({"b": [1, {"z": "x", "a": null}], "a": "é\"q"});
        assert_eq!(
            String::from_utf8(canonical_bytes(&value)).unwrap(),
            r#"{"a":"é\"q","b":[1,{"a":null,"z":"x"}]}"#
        );
    }

    #[test]
    fn the_hash_does_not_depend_on_key_order() {
        let first: Value = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
        let second: Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        assert_eq!(hash(&first), hash(&second));
        assert_ne!(hash(&first), hash(&json!({"a": 1, "b": 3})));
    }
}
