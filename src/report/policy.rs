//! Fuse policies for the gateway team: what to apply to a fused department, and what lifts
//! it again.
//!
//! A fused department is downgraded to its baseline model and its premium models are
//! paused. The policy is written as our own JSON document, and as the body of a LiteLLM
//! `/team/update` request (its `models` list is the list of models the team may call), so
//! that the gateway team can apply it as it is. Two sign-offs, one by finance and one by the
//! technical director, given by two different people, lift a fuse; the restoring policy then
//! gives the department back its allowed models.

use serde::Serialize;
use serde_json::{Value, json};

use crate::calc::{Attribution, DISCLAIMER, Status};
use crate::config::{Department, Settings, Tier};

/// The rule every fuse policy states.
pub const LIFT_RULE: &str = "two sign-offs lift this policy: one with the finance role and one \
     with the technical-director role, given by two different people";

/// What a policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Downgrade to the baseline model and pause premium models.
    Downgrade,
    /// Give the department back its allowed models.
    Restore,
}

/// A policy for one department.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// What it does.
    pub action: Action,
    /// The department.
    pub department: String,
    /// The period whose settlement raised it.
    pub period: String,
    /// Callers of the department seen this period, masked.
    pub callers: Vec<String>,
    /// The model the department keeps.
    pub baseline_model: Option<String>,
    /// Premium models paused (empty when restoring).
    pub paused_models: Vec<String>,
    /// The models the department may call under this policy.
    pub allowed_models: Vec<String>,
    /// Why.
    pub reasons: Vec<String>,
    /// What lifts it.
    pub lift_rule: &'static str,
    /// The disclaimer.
    pub disclaimer: &'static str,
}

impl Policy {
    /// The body of a LiteLLM `/team/update` request applying this policy; the team id is
    /// the department's name unless the gateway knows it under another id.
    pub fn litellm_team_update(&self) -> Value {
        json!({
            "team_id": self.department,
            "models": self.allowed_models,
            "metadata": {
                "apportion_action": self.action,
                "apportion_period": self.period,
                "apportion_reasons": self.reasons,
                "apportion_lift_rule": self.lift_rule,
            }
        })
    }
}

/// A downgrade policy for every fused department.
pub fn fuse_policies(
    settings: &Settings,
    attribution: &Attribution,
    callers: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Policy> {
    attribution
        .departments
        .iter()
        .filter(|d| d.status == Status::Fuse)
        .filter_map(|summary| {
            let department = settings.department(&summary.name)?;
            let reasons = summary
                .reasons
                .iter()
                .filter(|r| r.status == Status::Fuse)
                .map(|r| r.text.clone())
                .collect();
            Some(downgrade(
                settings,
                department,
                &attribution.period.month,
                callers(&summary.name),
                reasons,
            ))
        })
        .collect()
}

fn premium_models(settings: &Settings) -> Vec<String> {
    settings
        .config
        .models
        .iter()
        .filter(|m| m.tier == Tier::Premium)
        .map(|m| m.name.clone())
        .collect()
}

fn downgrade(
    settings: &Settings,
    department: &Department,
    period: &str,
    callers: Vec<String>,
    reasons: Vec<String>,
) -> Policy {
    let baseline = department.baseline_model.clone();
    Policy {
        action: Action::Downgrade,
        department: department.name.clone(),
        period: period.to_string(),
        callers,
        allowed_models: baseline.iter().cloned().collect(),
        baseline_model: baseline,
        paused_models: premium_models(settings),
        reasons,
        lift_rule: LIFT_RULE,
        disclaimer: DISCLAIMER,
    }
}

/// The policy that restores a department once its fuse was lifted by the two sign-offs
/// (`signed_by` names them, for the record).
pub fn restore(
    settings: &Settings,
    department: &Department,
    period: &str,
    signed_by: &[String],
) -> Policy {
    let allowed = if department.allowed_models.is_empty() {
        settings
            .config
            .models
            .iter()
            .map(|m| m.name.clone())
            .collect()
    } else {
        department.allowed_models.clone()
    };
    Policy {
        action: Action::Restore,
        department: department.name.clone(),
        period: period.to_string(),
        callers: Vec::new(),
        baseline_model: department.baseline_model.clone(),
        paused_models: Vec::new(),
        allowed_models: allowed,
        reasons: vec![format!(
            "fuse lifted after sign-offs by {}",
            signed_by.join(" and ")
        )],
        lift_rule: LIFT_RULE,
        disclaimer: DISCLAIMER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::calculate;
    use crate::load::{Input, load_inputs};
    use crate::sample;

    #[test]
    fn the_sample_fuse_downgrades_legal_to_its_baseline() {
        let settings = sample::settings().unwrap();
        let dataset = load_inputs(
            &settings,
            vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)],
        )
        .unwrap();
        let attribution = calculate(&settings, &dataset, None, sample::TODAY);
        let policies = fuse_policies(&settings, &attribution, &|_| vec!["sk-leg-…1234".into()]);

        assert_eq!(policies.len(), 1);
        let legal = &policies[0];
        assert_eq!(legal.department, "Legal");
        assert_eq!(legal.allowed_models, vec!["claude-3-5-haiku"]);
        assert!(legal.paused_models.contains(&"claude-opus-4-1".to_string()));
        assert!(legal.reasons[0].contains("illegal call"));
        let body = legal.litellm_team_update();
        assert_eq!(body["team_id"], "Legal");
        assert_eq!(body["models"], json!(["claude-3-5-haiku"]));
    }

    #[test]
    fn restoring_gives_back_the_allowed_models() {
        let settings = sample::settings().unwrap();
        let legal = settings.department("Legal").unwrap();
        let policy = restore(
            &settings,
            legal,
            "2026-11",
            &["Henrik Lund".into(), "Lena Fischer".into()],
        );
        assert_eq!(policy.action, Action::Restore);
        assert_eq!(policy.allowed_models, legal.allowed_models);
        assert!(policy.paused_models.is_empty());
        assert!(policy.reasons[0].contains("Henrik Lund and Lena Fischer"));
    }
}
