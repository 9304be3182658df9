//! Changes the reviewer makes to the configuration from the review, kept in the session so
//! that they are applied again when the month is reopened.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::{CallerField, Config, MappingRule, Strategy};
use crate::load::Caller;

/// A change that leads to a recalculation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Map a caller that no rule matched to a department (a new mapping rule, appended, so
    /// the existing rules keep deciding every caller they already matched).
    AssignCaller {
        /// Which field of the caller the rule looks at.
        field: CallerField,
        /// The caller's value in that field (matched exactly).
        value: String,
        /// The department.
        department: String,
    },
    /// Set a model's complexity coefficient.
    Complexity {
        /// The model's canonical name.
        model: String,
        /// The new coefficient.
        #[serde(with = "rust_decimal::serde::str")]
        complexity: Decimal,
    },
    /// Set a model's input and output prices per million tokens.
    Price {
        /// The model's canonical name.
        model: String,
        /// The new input price.
        #[serde(with = "rust_decimal::serde::str")]
        input: Decimal,
        /// The new output price.
        #[serde(with = "rust_decimal::serde::str")]
        output: Decimal,
    },
    /// Share unattributed usage among the departments as a line of its own.
    ShareUnattributed {
        /// How it is split: proportional or even.
        strategy: Strategy,
    },
}

impl Change {
    /// The rule that maps this caller exactly, by its most specific field.
    pub fn assign(caller: &Caller, department: &str) -> Option<Change> {
        let (field, value) = identifying_field(caller)?;
        Some(Change::AssignCaller {
            field,
            value,
            department: department.to_string(),
        })
    }

    /// Applies the change to a configuration; the caller validates names beforehand.
    pub fn apply(&self, config: &mut Config) {
        match self {
            Change::AssignCaller {
                field,
                value,
                department,
            } => config.mapping.push(rule(*field, value, department)),
            Change::Complexity { model, complexity } => {
                if let Some(m) = config.models.iter_mut().find(|m| &m.name == model) {
                    m.complexity = (*complexity).into();
                }
            }
            Change::Price {
                model,
                input,
                output,
            } => {
                if let Some(m) = config.models.iter_mut().find(|m| &m.name == model) {
                    m.input = (*input).into();
                    m.output = (*output).into();
                }
            }
            Change::ShareUnattributed { strategy } => config.invoice.unattributed = Some(*strategy),
        }
    }

    /// The cause as recorded with the recalculation, with the value it replaces.
    pub fn describe(&self, config: &Config) -> String {
        let model_of = |name: &str| config.models.iter().find(|m| m.name == name);
        match self {
            Change::AssignCaller {
                field,
                value,
                department,
            } => format!(
                "assigned caller {}:{} to {department}",
                field.name(),
                shown(*field, value)
            ),
            Change::Complexity { model, complexity } => format!(
                "complexity of {model} {} -> {complexity}",
                model_of(model).map_or("?".into(), |m| m.complexity.0.to_string())
            ),
            Change::Price {
                model,
                input,
                output,
            } => format!(
                "price of {model} (input/output per million) {} -> {input}/{output}",
                model_of(model).map_or("?".into(), |m| format!("{}/{}", m.input.0, m.output.0))
            ),
            Change::ShareUnattributed { strategy } => {
                format!("unattributed usage shared among departments ({strategy:?})").to_lowercase()
            }
        }
    }
}

/// The field that identifies a caller best: its key, else its user, project, team or tag.
fn identifying_field(caller: &Caller) -> Option<(CallerField, String)> {
    let fields = [
        (CallerField::ApiKey, &caller.api_key),
        (CallerField::User, &caller.user),
        (CallerField::Project, &caller.project),
        (CallerField::Team, &caller.team),
    ];
    fields
        .into_iter()
        .find_map(|(field, value)| value.clone().map(|v| (field, v)))
        .or_else(|| caller.tags.first().map(|t| (CallerField::Tag, t.clone())))
}

/// API keys appear masked in every message.
fn shown(field: CallerField, value: &str) -> String {
    match field {
        CallerField::ApiKey => crate::load::mask_key(value),
        _ => value.to_string(),
    }
}

fn rule(field: CallerField, value: &str, department: &str) -> MappingRule {
    let value = Some(value.to_string());
    let mut rule = MappingRule {
        department: department.to_string(),
        api_key: None,
        user: None,
        project: None,
        team: None,
        tag: None,
    };
    match field {
        CallerField::ApiKey => rule.api_key = value,
        CallerField::User => rule.user = value,
        CallerField::Project => rule.project = value,
        CallerField::Team => rule.team = value,
        CallerField::Tag => rule.tag = value,
    }
    rule
}
