//! The end of a review: the checklist as of now, and the approved archive with the fuse
//! policies beside it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::checklist::{self, Checklist, Facts};
use super::session::{Fingerprint, RejectRef};
use super::signoff;
use super::workspace::changed_sources;
use super::{Error, Result, Review};
use crate::archive::{self, Contents, InputRecord};
use crate::calc::{Status, callers_of};
use crate::load::hashing::HashingReader;
use crate::report::policy::{self, Policy};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The archive (JSON); its CSV of lines is beside it.
    pub archive: PathBuf,
    /// The fuse policies, when a department was fused.
    pub policies: Option<PathBuf>,
}

impl Review {
    /// The rejected rows, as the session names them.
    pub fn reject_refs(&self) -> Vec<RejectRef> {
        (0..self.dataset.rejects.len())
            .filter_map(|i| self.reject_ref(i))
            .collect()
    }

    /// The checklist as of now; the sources are read again to see whether they changed.
    pub fn checklist(&self) -> Result<Checklist> {
        let changed = self.source_check().run()?;
        Ok(self.checklist_given(&changed))
    }

    /// The checklist given the sources known to have changed since the calculation. It reads
    /// no file, so that a front end can run it after every action and hash the sources only
    /// now and then (with [`Review::source_check`]).
    pub fn checklist_given(&self, changed_sources: &[String]) -> Checklist {
        let rejects = self.reject_refs();
        let facts = Facts {
            rejects: &rejects,
            changed_sources,
        };
        checklist::evaluate(&self.attribution, &self.session, &facts)
    }

    /// The request that hashes the sources again and names those that changed since the
    /// calculation.
    pub fn source_check(&self) -> SourceCheck {
        SourceCheck {
            sources: self.sources.clone(),
            calculated: self.prints(),
        }
    }

    /// Where the policy in force for a department is kept: the data directory's
    /// `policies/<organization>/` folder, `fuse-<department>-<month>.json` while its fuse
    /// holds (the downgrade) and `restore-<department>-<month>.json` once two sign-offs lifted
    /// it. The organization's folder keeps two organizations sharing a data directory apart,
    /// as their sessions are.
    pub fn policy_path(&self, department: &str, action: policy::Action) -> PathBuf {
        let prefix = match action {
            policy::Action::Downgrade => "fuse",
            policy::Action::Restore => "restore",
        };
        self.policies_dir().join(format!(
            "{prefix}-{}-{}.json",
            super::store::slug(department),
            self.attribution.period.month
        ))
    }

    /// The folder of the organization's policies in the data directory.
    pub fn policies_dir(&self) -> PathBuf {
        let organization = super::store::slug(&self.settings.config.organization.name);
        self.data_dir().join("policies").join(organization)
    }

    /// Writes the policy in force for every fused department into the data directory's
    /// `policies/` folder, so that the gateway team can apply a downgrade as soon as the fuse
    /// is found, not only once the month is archived: the downgrade while the fuse holds, the
    /// restoring policy once it is lifted. A policy no longer in force is removed (a
    /// withdrawn sign-off takes the restoring policy back and puts the downgrade back in
    /// force; a department no longer fused has no policy). Returns the files in force.
    pub fn write_policies(&self) -> Result<Vec<PathBuf>> {
        let policies = self.policies();
        let mut written = Vec::new();
        for department in &self.attribution.departments {
            let in_force = policies.iter().find(|p| p.department == department.name);
            for action in [policy::Action::Downgrade, policy::Action::Restore] {
                let path = self.policy_path(&department.name, action);
                match in_force.filter(|p| p.action == action) {
                    Some(policy) => {
                        write_policy(&path, policy)?;
                        written.push(path);
                    }
                    None => match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(unwritable(&path, e));
                        }
                        _ => {}
                    },
                }
            }
        }
        Ok(written)
    }

    /// Writes the policies in force and returns the one that restores `department`; `None`
    /// when its fuse is not lifted.
    pub fn write_restoring_policy(&self, department: &str) -> Result<Option<PathBuf>> {
        let written = self.write_policies()?;
        let path = self.policy_path(department, policy::Action::Restore);
        Ok(written.into_iter().find(|p| p == &path))
    }

    /// The fuse policies as of now: a downgrade for every fused department whose fuse is not
    /// lifted, and a restoring policy for every one whose fuse the two sign-offs lifted.
    pub fn policies(&self) -> Vec<Policy> {
        let month = &self.attribution.period.month;
        let fused = self
            .attribution
            .departments
            .iter()
            .filter(|d| d.status == Status::Fuse);
        fused
            .filter_map(|summary| {
                let department = self.settings.department(&summary.name)?;
                if signoff::lifted(&self.session.signoffs, &summary.name) {
                    let names: Vec<String> = self
                        .session
                        .signoffs
                        .iter()
                        .filter(|s| s.department == summary.name)
                        .map(|s| format!("{} ({})", s.name, s.role))
                        .collect();
                    return Some(policy::restore(&self.settings, department, month, &names));
                }
                let callers = |name: &str| callers_of(&self.settings, &self.dataset, name);
                policy::fuse_policies(&self.settings, &self.attribution, &callers)
                    .into_iter()
                    .find(|p| p.department == summary.name)
            })
            .collect()
    }

    /// Writes the approved archive into `dir` when the checklist allows it, with `note`
    /// recorded for the checks that allow one (today outside the review window).
    pub fn export(&self, dir: &Path, note: Option<&str>) -> Result<Exported> {
        let checklist = self.checklist()?;
        checklist.ready(note).map_err(|blocking| {
            Error::Invalid(format!(
                "the checklist does not allow the archive yet:\n  {}",
                blocking.join("\n  ")
            ))
        })?;
        let policies = self.policies();
        let contents = Contents {
            settings: &self.settings,
            inputs: self.input_records(),
            attribution: &self.attribution,
            review: self.review_record(note, &policies),
            checklist: json!({ "passed": checklist.passed(), "checks": checklist.checks }),
        };
        let archive = archive::write(dir, &contents).map_err(|e| match e {
            archive::ArchiveError::Io { path, message } => Error::Unwritable {
                path: path.display().to_string(),
                message,
            },
            other => Error::Invalid(other.to_string()),
        })?;
        let policies = write_policies(&archive, &policies)?;
        Ok(Exported { archive, policies })
    }

    /// The files an export into `dir` would create: the archive, its CSV of lines and, when
    /// a department is fused, the policies. None of them may exist, since an archive is never
    /// overwritten; a front end checks them before writing anything.
    pub fn archive_files(&self, dir: &Path) -> Vec<PathBuf> {
        let (json, csv) = archive::paths(dir, &self.attribution);
        let policies = (!self.policies().is_empty()).then(|| policies_path(&json));
        [Some(json), Some(csv), policies]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Every input as the archive records it: the usage exports, then the prior ledger and
    /// the price list (so that `verify` can check them too).
    fn input_records(&self) -> Vec<InputRecord> {
        let mut records: Vec<InputRecord> =
            self.dataset.sources.iter().map(InputRecord::from).collect();
        for (kind, print) in self.other_inputs() {
            let rows_read = match *kind {
                "ledger" => self.ledger.as_ref().map_or(0, |l| l.entries.len() as u64),
                _ => 0,
            };
            records.push(InputRecord {
                name: print.name.clone(),
                size: print.size,
                sha256: print.sha256.clone(),
                format: kind.to_string(),
                rows_read,
            });
        }
        records
    }

    /// The review as the archive keeps it: decisions with who and when, adjustments,
    /// sign-offs, acknowledged rows, changes and recalculations (not the undo steps).
    fn review_record(&self, note: Option<&str>, policies: &[Policy]) -> Value {
        let s = &self.session;
        json!({
            "reviewer": s.reviewer,
            "lines": s.lines,
            "adjustments": s.adjustments,
            "signoffs": s.signoffs,
            "withdrawn_signoffs": s.withdrawn,
            "acknowledged_rejects": s.acknowledged,
            "changes": s.changes,
            "recalculations": s.recalculations,
            "export_note": note.map(str::trim).filter(|n| !n.is_empty()),
            "fuse_policies": policies,
        })
    }
}

/// A request to hash the sources again: it owns what it needs, so that it can run on another
/// thread while the screen stays responsive.
#[derive(Debug, Clone)]
pub struct SourceCheck {
    sources: super::Sources,
    calculated: Vec<Fingerprint>,
}

impl SourceCheck {
    /// Reads every source, the prior ledger and the price list through SHA-256 and names
    /// those that differ from the ones the attribution was calculated from.
    pub fn run(self) -> Result<Vec<String>> {
        let mut prints = Vec::new();
        for input in self.sources.open()? {
            let (size, sha256) = HashingReader::new(input.reader)
                .finish()
                .map_err(|e| Error::Invalid(format!("{}: cannot read: {e}", input.name)))?;
            prints.push(Fingerprint {
                name: input.name,
                size,
                sha256,
            });
        }
        prints.extend(
            self.sources
                .fingerprint_others()?
                .into_iter()
                .map(|(_, print)| print),
        );
        Ok(changed_sources(&self.calculated, &prints))
    }
}

/// Writes one policy, as our document and as the body of a LiteLLM team update request.
fn write_policy(path: &Path, policy: &Policy) -> Result<()> {
    let document = json!({ "policy": policy, "litellm_team_update": policy.litellm_team_update() });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .and_then(|()| crate::write::atomic(path, text.as_bytes()))
        .map_err(|e| unwritable(path, e))
}

/// A file of the review that cannot be written, named.
fn unwritable(path: &Path, error: std::io::Error) -> Error {
    Error::Unwritable {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// Where the policies of an archive go: beside it, as `…-policies.json`.
fn policies_path(archive: &Path) -> PathBuf {
    archive.with_file_name(format!(
        "{}-policies.json",
        archive
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("apportion")
    ))
}

/// Writes the policies beside the archive (`…-policies.json`): each as our document and as
/// the body of a LiteLLM team update request.
fn write_policies(archive: &Path, policies: &[Policy]) -> Result<Option<PathBuf>> {
    if policies.is_empty() {
        return Ok(None);
    }
    let path = policies_path(archive);
    let documents: Vec<Value> = policies
        .iter()
        .map(|p| json!({ "policy": p, "litellm_team_update": p.litellm_team_update() }))
        .collect();
    let mut text = serde_json::to_string_pretty(&documents).unwrap_or_default();
    text.push('\n');
    crate::write::create_new(&path, text.as_bytes()).map_err(|e| unwritable(&path, e))?;
    Ok(Some(path))
}

/// A read-only look at a month's review, for reports: the saved session (or an empty one)
/// with its changes applied, the attribution it gives and the checklist. Writes nothing.
pub struct Peek {
    /// The configuration with the session's changes applied.
    pub settings: crate::config::Settings,
    /// The attribution with the session's changes applied and its adjustments counted in.
    pub attribution: crate::calc::Attribution,
    /// The checklist against the session.
    pub checklist: Checklist,
    /// Where the session is (or would be) saved.
    pub session_path: PathBuf,
    /// Whether a session was found there.
    pub found: bool,
    /// The session found, or a new one when there is none.
    pub session: super::Session,
}

/// Looks at the review of a loaded month without opening (and so without saving) it;
/// `others` are the prior ledger and the price list as read
/// ([`super::Sources::fingerprint_others`]).
pub fn peek(
    settings: &crate::config::Settings,
    dataset: &crate::load::Dataset,
    ledger: Option<&crate::load::ledger::Ledger>,
    others: &[(&'static str, Fingerprint)],
    today: chrono::NaiveDate,
    data_dir: &Path,
) -> Result<Peek> {
    let organization = &settings.config.organization.name;
    let month = &settings.config.period.month;
    let mut store = super::Store::new(data_dir, organization, month);
    let saved = store.load()?;
    let found = saved.is_some();
    let session = saved.unwrap_or_else(|| super::Session::new(organization, month, ""));

    let mut settings = settings.clone();
    for change in &session.changes {
        change.apply(&mut settings.config);
    }
    let computed = crate::calc::calculate(&settings, dataset, ledger, today);
    let attribution = super::adjusted::with_adjustments(&computed, &session.adjustments);
    let rejects: Vec<RejectRef> = dataset
        .rejects
        .iter()
        .map(|r| RejectRef {
            source: dataset.source_name(r.source).to_string(),
            line: r.line,
        })
        .collect();
    let changed = match session.sources.is_empty() {
        true => Vec::new(),
        false if dataset.hashing != crate::load::Hashing::Sha256 => {
            return Err(Error::Invalid(format!(
                "a review session was saved at {} while the sources were read without their \
                 fingerprints: run the command again",
                store.path().display()
            )));
        }
        false => changed_sources(&session.sources, &super::workspace::prints(dataset, others)),
    };
    let facts = Facts {
        rejects: &rejects,
        changed_sources: &changed,
    };
    let checklist = checklist::evaluate(&attribution, &session, &facts);
    Ok(Peek {
        settings,
        attribution,
        checklist,
        session_path: store.path().to_path_buf(),
        found,
        session,
    })
}
