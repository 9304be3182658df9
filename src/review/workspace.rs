//! A month under review: its inputs, its attribution and the session, kept in step.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::adjusted::with_adjustments;
use super::change::Change;
use super::decision::LineKey;
use super::diff::{self, Recalculation};
use super::inputs::Sources;
use super::session::{Fingerprint, RejectRef, Session};
use super::signoff::{self, Role, SignOff};
use super::store::Store;
use super::{Error, Result};
use crate::calc::pricing::PriceTable;
use crate::calc::{Attribution, Status, calculate};
use crate::config::Settings;
use crate::load::ledger::Ledger;
use crate::load::{Caller, Capture, Dataset, Hashing, Progress, Tokens};

/// A month under review.
#[derive(Debug)]
pub struct Review {
    /// Where the inputs come from.
    pub sources: Sources,
    /// The configuration, with the session's changes applied.
    pub settings: Settings,
    /// What the sources held.
    pub dataset: Dataset,
    /// The prior ledger.
    pub ledger: Option<Ledger>,
    /// The day the month is judged from.
    pub today: NaiveDate,
    /// The current settlement: the attribution with the adjustments counted in the
    /// departments' settled amounts (see [`super::adjusted`]); its lines are as computed.
    pub attribution: Attribution,
    /// The attribution as computed, without the adjustments.
    computed: Attribution,
    /// The prior ledger and the price list as read, with their kind (`ledger`, `prices`).
    others: Vec<(&'static str, Fingerprint)>,
    /// The reviewer's work.
    pub session: Session,
    store: Store,
    changed_since_saved: Vec<String>,
}

/// One row read back from a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    /// The source's name.
    pub source: String,
    /// The line in it.
    pub line: u64,
    /// When the call happened.
    pub timestamp: DateTime<Utc>,
    /// The model as the source names it.
    pub model: String,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// The provider's own cost.
    pub provider_cost: Option<Decimal>,
    /// Whether the call succeeded.
    pub success: bool,
}

/// A request for the rows behind one caller and day of a line: everything needed to read
/// them, so that it can run on another thread while the screen stays responsive.
#[derive(Debug, Clone)]
pub struct RowQuery {
    sources: Sources,
    settings: Settings,
    caller: Caller,
    day: NaiveDate,
    model: String,
}

/// How many rows the detail view reads back at most.
pub const ROW_LIMIT: usize = 500;

impl RowQuery {
    /// Reads the sources again and keeps the matching rows, in file order.
    pub fn run(self) -> Result<Vec<SourceRow>> {
        let mut dataset = Dataset::new(&self.settings);
        dataset.capture = Some(Capture {
            caller: Some(self.caller.clone()),
            day: Some(self.day),
            limit: usize::MAX,
            ..Capture::default()
        });
        let dataset = self.sources.read(dataset, &self.settings)?;
        let prices = PriceTable::for_settings(&self.settings);
        let records = dataset.capture.map(|c| c.records).unwrap_or_default();
        Ok(records
            .into_iter()
            .filter(|(_, r)| prices.lookup(&r.model).map_or(&r.model, |m| &m.name) == &self.model)
            .take(ROW_LIMIT)
            .map(|(source, r)| SourceRow {
                source: dataset.sources[source as usize].name.clone(),
                line: r.line,
                timestamp: r.timestamp,
                model: r.model,
                tokens: r.tokens,
                provider_cost: r.provider_cost,
                success: r.success,
            })
            .collect())
    }
}

impl Review {
    /// Reads the inputs, sharing the load's progress with whoever shows it.
    pub fn load(
        sources: Sources,
        progress: Arc<Progress>,
    ) -> Result<(Settings, Dataset, Option<Ledger>)> {
        Review::load_hashing(sources, progress, |_| Hashing::Sha256)
    }

    /// Reads the inputs as [`Review::load`] does; `hashing` decides, from the settings,
    /// whether the sources are hashed: a command that shows no fingerprint and has no saved
    /// session to compare with need not spend the time.
    pub fn load_hashing(
        sources: Sources,
        progress: Arc<Progress>,
        hashing: impl FnOnce(&Settings) -> Hashing,
    ) -> Result<(Settings, Dataset, Option<Ledger>)> {
        let settings = sources.settings()?;
        let mut dataset = Dataset::new(&settings);
        dataset.progress = progress;
        dataset.hashing = hashing(&settings);
        let dataset = sources.read(dataset, &settings)?;
        let ledger = sources.ledger(&settings.config.organization.currency)?;
        Ok((settings, dataset, ledger))
    }

    /// Opens the review of a loaded month: resumes the saved session if there is one
    /// (reapplying its changes, and sending back to pending the lines that moved if the
    /// sources changed since), else starts one for `reviewer`.
    pub fn open(
        sources: Sources,
        loaded: (Settings, Dataset, Option<Ledger>),
        data_dir: &Path,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> Result<Review> {
        let mut review = Review::resume(sources, loaded, data_dir, reviewer, now)?;
        review.persist()?;
        Ok(review)
    }

    /// Saves the session and writes the policies in force, as opening the review does.
    pub fn persist(&mut self) -> Result<()> {
        self.save()?;
        self.write_policies()?;
        Ok(())
    }

    /// The sources that differ from those the saved session was calculated from, as found
    /// when the review was opened (none for a new session). The review recalculated from
    /// them and sent the lines that moved back to pending; a headless command that approves
    /// or archives refuses until someone has looked at that recalculation.
    pub fn sources_changed_since_saved(&self) -> &[String] {
        &self.changed_since_saved
    }

    /// Opens the review as [`Review::open`] does, but writes nothing: for a command that only
    /// reads the session (a headless export), which must leave it as it found it even when
    /// it was run on other files.
    pub fn resume(
        sources: Sources,
        loaded: (Settings, Dataset, Option<Ledger>),
        data_dir: &Path,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> Result<Review> {
        let (mut settings, dataset, ledger) = loaded;
        if dataset.hashing != Hashing::Sha256 {
            return Err(Error::Invalid(
                "the sources were read without their fingerprints, which a review records".into(),
            ));
        }
        let organization = settings.config.organization.name.clone();
        let month = settings.config.period.month.clone();
        let mut store = Store::new(data_dir, &organization, &month);
        let session = store
            .load()?
            .unwrap_or_else(|| Session::new(&organization, &month, reviewer));
        for change in &session.changes {
            change.apply(&mut settings.config);
        }
        let today = sources.today(&settings);
        let others = sources.fingerprint_others()?;
        let computed = calculate(&settings, &dataset, ledger.as_ref(), today);
        let attribution = with_adjustments(&computed, &session.adjustments);
        let mut review = Review {
            sources,
            settings,
            dataset,
            ledger,
            today,
            attribution,
            computed,
            others,
            session,
            store,
            changed_since_saved: Vec::new(),
        };
        review.note_changed_sources(now);
        review.session.sync(&review.attribution);
        Ok(review)
    }

    /// The attribution as computed from the sources, before the adjustments.
    pub fn computed(&self) -> &Attribution {
        &self.computed
    }

    /// The prior ledger and the price list as read, with their kind (`ledger`, `prices`).
    pub fn other_inputs(&self) -> &[(&'static str, Fingerprint)] {
        &self.others
    }

    /// Every input the figures were calculated from: the usage exports, then the prior
    /// ledger and the price list.
    pub fn prints(&self) -> Vec<Fingerprint> {
        prints(&self.dataset, &self.others)
    }

    /// Counts the session's adjustments in the settlement again.
    fn settle(&mut self) {
        self.attribution = with_adjustments(&self.computed, &self.session.adjustments);
    }

    /// Where the session is saved.
    pub fn session_path(&self) -> &Path {
        self.store.path()
    }

    /// The data directory the session is saved in.
    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    /// Approves a line.
    pub fn approve(&mut self, key: &LineKey, now: DateTime<Utc>) -> Result<()> {
        self.require_line(key)?;
        self.session.approve(key, now);
        self.save()
    }

    /// Adjusts a line by an amount, with a reason.
    pub fn adjust(
        &mut self,
        key: &LineKey,
        amount: Decimal,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.require_line(key)?;
        require_text(reason, "an adjustment needs a reason")?;
        self.check_adjustment(amount)?;
        self.session.adjust(key, amount, reason.trim(), now);
        self.settle();
        self.save()
    }

    /// Whether an amount can adjust a line: plausible in size and in whole units of the
    /// currency, as the settlement is paid. A front end asks before it asks for the reason.
    pub fn check_adjustment(&self, amount: Decimal) -> Result<()> {
        if amount.abs() > crate::config::validate::LARGEST {
            return Err(Error::Invalid(format!(
                "an adjustment of {amount} is not plausible (at most {} in size)",
                crate::config::validate::LARGEST
            )));
        }
        let currency = &self.attribution.currency;
        let digits = crate::calc::allocate::minor_unit_digits(currency);
        if amount.normalize().scale() > digits {
            return Err(Error::Invalid(format!(
                "an adjustment of {amount} is finer than the smallest unit of {currency} \
                 ({digits} decimal places): the settlement is paid to that unit"
            )));
        }
        Ok(())
    }

    /// What a line settles at with its adjustments: the computed amount plus every
    /// adjustment of it. None when there is no such line.
    pub fn adjusted_line(&self, key: &LineKey) -> Option<Decimal> {
        let line = self
            .computed
            .lines
            .iter()
            .find(|l| l.department == key.department && l.model == key.model)?;
        self.session
            .adjustments_of(key)
            .try_fold(line.settled, |sum, a| sum.checked_add(a.amount))
    }

    /// Disputes a line with a note.
    pub fn dispute(&mut self, key: &LineKey, note: &str, now: DateTime<Utc>) -> Result<()> {
        self.require_line(key)?;
        require_text(note, "a dispute needs a note saying why")?;
        self.session.dispute(key, note.trim(), now);
        self.save()
    }

    /// Adds a note to a line.
    pub fn note(&mut self, key: &LineKey, text: &str, now: DateTime<Utc>) -> Result<()> {
        self.require_line(key)?;
        require_text(text, "the note is empty")?;
        self.session.note(key, text.trim(), now);
        self.save()
    }

    /// Undoes the last decision, note, adjustment or acknowledgement.
    pub fn undo(&mut self, now: DateTime<Utc>) -> Result<Option<String>> {
        let undone = self.session.undo(now);
        self.settle();
        self.save()?;
        Ok(undone)
    }

    /// Acknowledges the rejected row at this index of the dataset's rejects.
    pub fn acknowledge(&mut self, index: usize, now: DateTime<Utc>) -> Result<()> {
        let reject = self
            .reject_ref(index)
            .ok_or_else(|| Error::Invalid("no such rejected row".into()))?;
        self.session.acknowledge(reject, now);
        self.save()
    }

    /// The session's name for the rejected row at this index.
    pub fn reject_ref(&self, index: usize) -> Option<RejectRef> {
        let reject = self.dataset.rejects.get(index)?;
        Some(RejectRef {
            source: self.dataset.source_name(reject.source).to_string(),
            line: reject.line,
        })
    }

    /// Sets the name decisions are recorded under from now on.
    pub fn set_reviewer(&mut self, name: &str, now: DateTime<Utc>) -> Result<()> {
        require_text(name, "the reviewer needs a name")?;
        self.session.reviewer = name.trim().to_string();
        self.session.updated_at = Some(now);
        self.save()
    }

    /// Applies a change, recalculates from the buckets and records what moved.
    pub fn recalculate(&mut self, change: Change, now: DateTime<Utc>) -> Result<Recalculation> {
        self.check_change(&change)?;
        let cause = change.describe(&self.settings.config);
        change.apply(&mut self.settings.config);
        self.session.changes.push(change);
        self.refresh(&cause, now)
    }

    /// Reads the sources, the prior ledger and the price list again; when any changed (by
    /// content hash), recalculates and records what moved. `None` when nothing changed.
    pub fn reload(&mut self, now: DateTime<Utc>) -> Result<Option<Recalculation>> {
        let reloaded = self.reload_request().run(Arc::default())?;
        self.apply_reload(reloaded, now)
    }

    /// The request that reads the inputs again, so that it can run on another thread with a
    /// progress gauge while the screen stays responsive; [`Review::apply_reload`] then takes
    /// its result.
    pub fn reload_request(&self) -> ReloadRequest {
        ReloadRequest {
            sources: self.sources.clone(),
        }
    }

    /// Takes the inputs read again by a [`ReloadRequest`]: when any changed (by content
    /// hash), recalculates and records what moved. `None` when nothing changed. The
    /// configuration stays as it is (with the session's changes); only the price list named
    /// is taken again.
    pub fn apply_reload(
        &mut self,
        reloaded: Reloaded,
        now: DateTime<Utc>,
    ) -> Result<Option<Recalculation>> {
        let Reloaded {
            settings,
            dataset,
            ledger,
            others,
        } = reloaded;
        let changed = changed_sources(&self.prints(), &prints(&dataset, &others));
        if changed.is_empty() {
            return Ok(None);
        }
        self.dataset = dataset;
        self.ledger = ledger;
        self.others = others;
        self.settings.price_lists = settings.price_lists;
        self.refresh(
            &format!("sources reloaded, changed: {}", changed.join(", ")),
            now,
        )
        .map(Some)
    }

    /// The request that reads back the rows behind a caller's use of a line's model on a day.
    pub fn rows_behind(&self, key: &LineKey, caller: &Caller, day: NaiveDate) -> RowQuery {
        RowQuery {
            sources: self.sources.clone(),
            settings: self.settings.clone(),
            caller: caller.clone(),
            day,
            model: key.model.clone(),
        }
    }

    fn refresh(&mut self, cause: &str, now: DateTime<Utc>) -> Result<Recalculation> {
        let before = diff::amounts(&self.attribution);
        self.computed = calculate(
            &self.settings,
            &self.dataset,
            self.ledger.as_ref(),
            self.today,
        );
        self.settle();
        let moved = diff::moved(&before, &diff::amounts(&self.attribution));
        self.session.record(cause, moved, now);
        self.session.sources = self.prints();
        self.session.sync(&self.attribution);
        self.save()?;
        self.write_policies()?;
        self.session
            .recalculations
            .last()
            .cloned()
            .ok_or_else(|| Error::Invalid("the recalculation was not recorded".into()))
    }

    /// On reopening: when the sources are not the ones the session last saw, the lines that
    /// moved since go back to pending.
    fn note_changed_sources(&mut self, now: DateTime<Utc>) {
        let fresh = self.prints();
        let changed = changed_sources(&self.session.sources, &fresh);
        if !self.session.sources.is_empty() {
            self.changed_since_saved = changed.clone();
        }
        if !self.session.sources.is_empty() && !changed.is_empty() {
            let moved = diff::moved(&self.session.amounts, &diff::amounts(&self.attribution));
            let cause = format!(
                "sources changed since the session was saved: {}",
                changed.join(", ")
            );
            self.session.record(&cause, moved, now);
        }
        self.session.sources = fresh;
    }

    fn check_change(&self, change: &Change) -> Result<()> {
        let known_model = |m: &str| self.settings.config.models.iter().any(|x| x.name == m);
        match change {
            Change::AssignCaller { department, .. }
                if self.settings.department(department).is_none() =>
            {
                Err(Error::Invalid(format!(
                    "'{department}' is not a configured department"
                )))
            }
            Change::Complexity { model, .. } | Change::Price { model, .. }
                if !known_model(model) =>
            {
                Err(Error::Invalid(format!(
                    "'{model}' is not a configured model"
                )))
            }
            _ => Ok(()),
        }
    }

    fn require_line(&self, key: &LineKey) -> Result<()> {
        let exists = self
            .attribution
            .lines
            .iter()
            .any(|l| l.department == key.department && l.model == key.model);
        if exists {
            Ok(())
        } else {
            Err(Error::Invalid(format!("there is no line {key}")))
        }
    }

    fn save(&mut self) -> Result<()> {
        self.store.save(&self.session)
    }

    /// Signs a fused department off in a role; returns whether its fuse is now lifted (both
    /// roles signed by two different people).
    pub fn sign_off(
        &mut self,
        department: &str,
        role: Role,
        name: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.known_department(department)?;
        let fused = self
            .attribution
            .department(department)
            .is_some_and(|d| d.status == Status::Fuse);
        if !fused {
            return Err(Error::Invalid(format!(
                "'{department}' is not fused; sign-offs lift a fuse"
            )));
        }
        let signoff = SignOff {
            department: department.to_string(),
            role,
            name: name.trim().to_string(),
            at: now,
            note: note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        };
        self.session.sign(signoff).map_err(Error::Invalid)?;
        self.save()?;
        self.write_policies()?;
        Ok(signoff::lifted(&self.session.signoffs, department))
    }

    /// Refuses a name that is not a department of the configuration, suggesting the one it
    /// differs from only in case or else listing them: "not fused" would send whoever
    /// mistyped the name looking for a fuse.
    fn known_department(&self, name: &str) -> Result<()> {
        let departments = &self.settings.config.departments;
        let names: Vec<&str> = departments.iter().map(|d| d.name.as_str()).collect();
        if names.contains(&name) {
            return Ok(());
        }
        let hint = match names
            .iter()
            .find(|n| n.to_lowercase() == name.to_lowercase())
        {
            Some(similar) => format!("did you mean '{similar}'?"),
            None => format!("the departments are {}", names.join(", ")),
        };
        Err(Error::Invalid(format!(
            "'{name}' is not a department of the configuration; {hint}"
        )))
    }

    /// Takes back a department's sign-off in a role. A fuse lifted by it holds again: the
    /// restoring policy is removed and the downgrade is back in force.
    pub fn withdraw_sign_off(
        &mut self,
        department: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.known_department(department)?;
        if !self.session.withdraw(department, role, now) {
            return Err(Error::Invalid(format!(
                "{department} has no {role} sign-off to withdraw"
            )));
        }
        self.save()?;
        self.write_policies().map(drop)
    }
}

/// A request to read a review's inputs again (see [`Review::reload_request`]).
#[derive(Debug, Clone)]
pub struct ReloadRequest {
    sources: Sources,
}

/// The inputs read again, for [`Review::apply_reload`].
#[derive(Debug)]
pub struct Reloaded {
    settings: Settings,
    dataset: Dataset,
    ledger: Option<Ledger>,
    others: Vec<(&'static str, Fingerprint)>,
}

impl ReloadRequest {
    /// Reads the sources, the prior ledger and the price list, sharing the load's progress
    /// with whoever shows it.
    pub fn run(self, progress: Arc<Progress>) -> Result<Reloaded> {
        let (settings, dataset, ledger) = Review::load(self.sources.clone(), progress)?;
        let others = self.sources.fingerprint_others()?;
        Ok(Reloaded {
            settings,
            dataset,
            ledger,
            others,
        })
    }
}

fn require_text(text: &str, message: &str) -> Result<()> {
    if text.trim().is_empty() {
        Err(Error::Invalid(message.into()))
    } else {
        Ok(())
    }
}

pub(super) fn fingerprints(dataset: &Dataset) -> Vec<Fingerprint> {
    dataset
        .sources
        .iter()
        .map(|s| Fingerprint {
            name: s.name.clone(),
            size: s.size,
            sha256: s.sha256.clone(),
        })
        .collect()
}

/// The usage exports' fingerprints, then those of the other inputs.
pub(super) fn prints(
    dataset: &Dataset,
    others: &[(&'static str, Fingerprint)],
) -> Vec<Fingerprint> {
    let mut prints = fingerprints(dataset);
    prints.extend(others.iter().map(|(_, f)| f.clone()));
    prints
}

/// Names of the sources that differ: new, gone or with another content. A source is known by
/// its content (size and hash), so that the same file named another way (`./x.csv` and
/// `x.csv`, a relative path and an absolute one, a copy moved elsewhere) is not a change.
pub(super) fn changed_sources(before: &[Fingerprint], after: &[Fingerprint]) -> Vec<String> {
    let held_in = |prints: &[Fingerprint], print: &Fingerprint| {
        prints.iter().any(|other| same_content(other, print))
    };
    let mut names: Vec<String> = after
        .iter()
        .filter(|f| !held_in(before, f))
        .chain(
            before
                .iter()
                .filter(|f| !held_in(after, f) && !after.iter().any(|a| a.name == f.name)),
        )
        .map(|f| f.name.clone())
        .collect();
    names.dedup();
    names
}

/// Whether two fingerprints are of the same content; without a hash, of the same file.
fn same_content(a: &Fingerprint, b: &Fingerprint) -> bool {
    match a.sha256.is_empty() || b.sha256.is_empty() {
        true => a == b,
        false => a.size == b.size && a.sha256 == b.sha256,
    }
}
