//! Checking an archive: its body against its hash, each section against its own hash to
//! say which part changed, and the sources at hand against the inputs it records.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ArchiveError, canonical, read};
use crate::load::hashing::sha256_hex;

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Whether the body still matches its hash and every source checked matches.
    pub intact: bool,
    /// One line per check, for people.
    pub findings: Vec<String>,
}

/// Verifies an archive; `sources` are files to compare with the inputs it records.
pub fn verify(path: &Path, sources: &[PathBuf]) -> Result<Verification, ArchiveError> {
    let document = read(path)?;
    let mut result = Verification {
        intact: true,
        findings: Vec::new(),
    };
    check_body(&document, &mut result);
    check_lines_csv(path, &document["body"], &mut result);
    for source in sources {
        check_source(&document["body"]["inputs"], source, &mut result)?;
    }
    Ok(result)
}

fn check_body(document: &Value, result: &mut Verification) {
    let recorded = document["sha256"].as_str().unwrap_or_default();
    let computed = canonical::hash(&document["body"]);
    if computed == recorded {
        result
            .findings
            .push(format!("body intact: sha256 {computed}"));
    } else {
        result.intact = false;
        result.findings.push(format!(
            "body CHANGED: recorded sha256 {recorded}, computed {computed}"
        ));
    }

    let body = document["body"].as_object().cloned().unwrap_or_default();
    let sections = document["sections"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // The section hashes say where a change is; one that no longer matches is a change
    // too, even when it is the hash that was edited rather than the section.
    for (name, value) in &body {
        match sections.get(name).and_then(Value::as_str) {
            Some(hash) if hash == canonical::hash(value) => {}
            Some(_) => result.changed(format!("section '{name}' changed")),
            None => result.changed(format!("section '{name}' was added")),
        }
    }
    for name in sections.keys().filter(|name| !body.contains_key(*name)) {
        result.changed(format!("section '{name}' was removed"));
    }
}

impl Verification {
    /// Records a finding that makes the archive not intact.
    fn changed(&mut self, finding: String) {
        self.intact = false;
        self.findings.push(finding);
    }
}

/// The CSV of the lines beside the archive, when it is there, against the hash in the body.
fn check_lines_csv(path: &Path, body: &Value, result: &mut Verification) {
    let Some(recorded) = body["lines_csv_sha256"].as_str() else {
        return;
    };
    let csv = path.with_extension("csv");
    match std::fs::read(&csv) {
        Ok(bytes) if sha256_hex(&bytes) == recorded => {
            result
                .findings
                .push(format!("lines CSV {} matches", csv.display()));
        }
        Ok(_) => {
            result.intact = false;
            result.findings.push(format!(
                "lines CSV {} CHANGED since it was archived",
                csv.display()
            ));
        }
        Err(_) => result.changed(format!(
            "lines CSV {} MISSING: the archive is the JSON document and this CSV",
            csv.display()
        )),
    }
}

fn check_source(
    inputs: &Value,
    source: &Path,
    result: &mut Verification,
) -> Result<(), ArchiveError> {
    let bytes = std::fs::read(source).map_err(|e| ArchiveError::Io {
        path: source.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let file_name = source
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let recorded = inputs.as_array().into_iter().flatten().find(|input| {
        let name = input["name"].as_str().unwrap_or_default();
        Path::new(name).file_name().and_then(|n| n.to_str()) == Some(file_name)
    });
    let Some(recorded) = recorded else {
        result.intact = false;
        result.findings.push(format!(
            "source {}: not an input of this archive",
            source.display()
        ));
        return Ok(());
    };
    let hash = sha256_hex(&bytes);
    if recorded["sha256"].as_str() == Some(hash.as_str()) {
        result.findings.push(format!(
            "source {}: matches the archived input",
            source.display()
        ));
    } else {
        result.intact = false;
        result.findings.push(format!(
            "source {}: CHANGED since it was archived (sha256 {hash}, archived {})",
            source.display(),
            recorded["sha256"].as_str().unwrap_or("?")
        ));
    }
    Ok(())
}
