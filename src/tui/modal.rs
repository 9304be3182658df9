//! The small dialog that asks for text: an adjustment's amount and reason, a dispute's or a
//! note's text, a search, a department, a weight or a price, the reviewer's name.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::action::Action;
use super::app::{App, Screen};
use crate::calc::bucket::CallerId;
use crate::config::UNATTRIBUTED;
use crate::review::{Change, LineKey, Role};

/// What the typed text is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The amount of an adjustment.
    AdjustAmount(LineKey),
    /// The reason of an adjustment of this amount.
    AdjustReason(LineKey, Decimal),
    /// Why a line is disputed.
    Dispute(LineKey),
    /// A note on a line.
    Note(LineKey),
    /// The queue's search.
    Search,
    /// The department an unattributed caller is assigned to.
    Assign(CallerId),
    /// A model's new complexity.
    Complexity(String),
    /// A model's new input and output prices.
    Price(String),
    /// The reviewer's name.
    Reviewer,
    /// The role a department is signed off in.
    SignOffRole(String),
    /// Who signs a department off in a role.
    SignOffName(String, Role),
    /// The optional note of a department's sign-off in a role by a person.
    SignOffNote(String, Role, String),
    /// The role whose sign-off of a department is taken back.
    Withdraw(String),
    /// How unattributed usage is shared.
    Share,
    /// The folder the export menu writes into.
    ExportFolder,
    /// The note the archive records for a check that allows one.
    ExportNote,
}

/// An open dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modal {
    /// What it is for.
    pub purpose: Purpose,
    /// Its title.
    pub title: String,
    /// What to type.
    pub hint: String,
    /// What was typed.
    pub text: String,
    /// Why the last submission was refused.
    pub error: Option<String>,
}

impl Modal {
    /// A dialog with `text` typed in already.
    pub(super) fn new(purpose: Purpose, title: String, hint: &str, text: String) -> Modal {
        Modal {
            purpose,
            title,
            hint: hint.to_string(),
            text,
            error: None,
        }
    }
}

impl App {
    /// Opens the dialog an action asks for, when it applies here.
    pub fn open_modal(&mut self, action: Action) {
        let modal = match action {
            Action::Search => Some(Modal::new(
                Purpose::Search,
                "Search lines".into(),
                "department or model; Enter keeps it, Esc clears it",
                self.queue.search.clone(),
            )),
            Action::SetReviewer => self.review.as_ref().map(|r| {
                Modal::new(
                    Purpose::Reviewer,
                    "Reviewer".into(),
                    "the name decisions are recorded under",
                    r.session.reviewer.clone(),
                )
            }),
            Action::AssignCaller => self.assign_modal(),
            Action::ShareUnattributed => self.share_modal(),
            Action::ChangeFolder => self.folder_modal(),
            Action::ChangeComplexity | Action::ChangePrice => self.model_modal(action),
            _ => self.line_modal(action),
        };
        match modal {
            Some(modal) => self.modal = Some(modal),
            None => self.complain("that does not apply here"),
        }
    }

    fn line_modal(&self, action: Action) -> Option<Modal> {
        let key = self.current_line()?;
        let title = key.to_string();
        Some(match action {
            Action::Adjust => Modal::new(
                Purpose::AdjustAmount(key),
                format!("Adjust {title}"),
                "amount to add (negative to reduce), e.g. -12.50",
                String::new(),
            ),
            Action::Dispute => Modal::new(
                Purpose::Dispute(key),
                format!("Dispute {title}"),
                "why is this line disputed?",
                String::new(),
            ),
            _ => Modal::new(
                Purpose::Note(key),
                format!("Note on {title}"),
                "the note",
                String::new(),
            ),
        })
    }

    fn assign_modal(&self) -> Option<Modal> {
        let detail = self
            .detail
            .as_ref()
            .filter(|_| self.screen() == Screen::Detail)?;
        if detail.key.department != UNATTRIBUTED {
            return None;
        }
        let part = detail.breakdown.callers.get(detail.caller.selected)?;
        let names: Vec<&str> = self
            .review
            .as_ref()?
            .settings
            .config
            .departments
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        Some(Modal::new(
            Purpose::Assign(part.caller),
            format!("Assign {} to", part.label),
            &names.join(", "),
            String::new(),
        ))
    }

    fn model_modal(&self, action: Action) -> Option<Modal> {
        let detail = self
            .detail
            .as_ref()
            .filter(|_| self.screen() == Screen::Detail)?;
        let config = &self.review.as_ref()?.settings.config;
        let model = config.models.iter().find(|m| m.name == detail.key.model)?;
        Some(if action == Action::ChangePrice {
            Modal::new(
                Purpose::Price(model.name.clone()),
                format!("Price of {}", model.name),
                "input and output per million tokens, e.g. 2.50 10",
                format!("{} {}", model.input.0, model.output.0),
            )
        } else {
            Modal::new(
                Purpose::Complexity(model.name.clone()),
                format!("Complexity of {}", model.name),
                "the model's complexity weight, e.g. 1.5",
                model.complexity.0.to_string(),
            )
        })
    }

    /// Typing, erasing, confirming or leaving the open dialog.
    pub fn modal_action(&mut self, action: Action) {
        let Some(modal) = &mut self.modal else {
            return;
        };
        match action {
            Action::Type(c) => modal.text.push(c),
            Action::Erase => {
                modal.text.pop();
            }
            Action::EraseAll => modal.text.clear(),
            Action::Submit => return self.submit(),
            Action::Back => {
                if modal.purpose == Purpose::Search {
                    self.queue.search.clear();
                    self.refresh_queue();
                }
                self.modal = None;
                return;
            }
            _ => return,
        }
        if modal.purpose == Purpose::Search {
            self.queue.search = modal.text.clone();
            self.refresh_queue();
        }
    }

    /// Carries out the dialog; on a refusal it stays open and says why.
    fn submit(&mut self) {
        let Some(modal) = self.modal.take() else {
            return;
        };
        let text = modal.text.trim().to_string();
        if let Err(error) = self.carry_out(&modal.purpose, &text) {
            self.modal = Some(Modal {
                error: Some(error),
                ..modal
            });
        }
    }

    fn carry_out(&mut self, purpose: &Purpose, text: &str) -> Result<(), String> {
        let now = self.now();
        let review = self.review.as_mut().ok_or("the month is not loaded")?;
        let outcome = match purpose {
            Purpose::Search => Ok(format!("{} lines match '{text}'", self.queue.rows.len())),
            Purpose::AdjustAmount(key) => {
                let amount =
                    Decimal::from_str(text).map_err(|_| format!("'{text}' is not an amount"))?;
                review.check_adjustment(amount).map_err(|e| e.to_string())?;
                self.modal = Some(Modal::new(
                    Purpose::AdjustReason(key.clone(), amount),
                    format!("Adjust {key} by {amount}"),
                    "the reason for the adjustment",
                    String::new(),
                ));
                return Ok(());
            }
            Purpose::AdjustReason(key, amount) => {
                review.adjust(key, *amount, text, now).map(|()| {
                    let said = format!("adjusted {key} by {amount}");
                    match review.adjusted_line(key) {
                        Some(total) if total < Decimal::ZERO => {
                            format!("{said}; warning: the line now settles below zero, at {total}")
                        }
                        _ => said,
                    }
                })
            }
            Purpose::Dispute(key) => review
                .dispute(key, text, now)
                .map(|()| format!("disputed {key}")),
            Purpose::Note(key) => review
                .note(key, text, now)
                .map(|()| format!("noted on {key}")),
            Purpose::Reviewer => review
                .set_reviewer(text, now)
                .map(|()| format!("decisions are now recorded as {text}")),
            Purpose::SignOffRole(_)
            | Purpose::SignOffName(..)
            | Purpose::SignOffNote(..)
            | Purpose::Withdraw(_) => return self.carry_out_sign_off(purpose, text),
            Purpose::Share => return self.share(text),
            Purpose::ExportFolder | Purpose::ExportNote => {
                return self.carry_out_export(purpose, text);
            }
            Purpose::Assign(_) | Purpose::Complexity(_) | Purpose::Price(_) => {
                let change = change_for(review, purpose, text)?;
                let recalculation = review.recalculate(change, now).map_err(|e| e.to_string())?;
                self.after_recalculation(format!(
                    "{}: {} lines moved",
                    recalculation.cause,
                    recalculation.moved.len()
                ));
                return Ok(());
            }
        };
        let text = outcome.map_err(|e| e.to_string())?;
        self.report(Ok(text));
        Ok(())
    }
}

/// The configuration change a dialog's text asks for.
fn change_for(
    review: &crate::review::Review,
    purpose: &Purpose,
    text: &str,
) -> Result<Change, String> {
    let number = |t: &str| Decimal::from_str(t).map_err(|_| format!("'{t}' is not a number"));
    match purpose {
        Purpose::Assign(caller) => {
            let department = review
                .settings
                .config
                .departments
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(text))
                .ok_or_else(|| format!("'{text}' is not a department"))?;
            let caller = &review.dataset.buckets.callers[*caller as usize];
            Change::assign(caller, &department.name)
                .ok_or_else(|| "this caller has nothing to map it by".to_string())
        }
        Purpose::Complexity(model) => {
            let complexity = number(text)?;
            if complexity <= Decimal::ZERO {
                return Err("the complexity must be above zero".into());
            }
            Ok(Change::Complexity {
                model: model.clone(),
                complexity,
            })
        }
        Purpose::Price(model) => {
            let parts: Vec<&str> = text.split_whitespace().collect();
            let [input, output] = parts[..] else {
                return Err("type two prices: input and output".into());
            };
            let (input, output) = (number(input)?, number(output)?);
            if input < Decimal::ZERO || output < Decimal::ZERO {
                return Err("prices cannot be negative".into());
            }
            Ok(Change::Price {
                model: model.clone(),
                input,
                output,
            })
        }
        _ => Err("not a recalculation".into()),
    }
}
