//! From a caller to a department: the configured rules in order, the first match wins; then
//! the source's default department; otherwise the call is unattributed.

use globset::{GlobBuilder, GlobMatcher};

use crate::config::{CallerField, MappingRule, UNATTRIBUTED};
use crate::load::Caller;

/// A compiled pattern: exact text is compared directly, anything with glob characters is
/// matched as a glob.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Compared as is.
    Exact(String),
    /// Matched as a glob (`sk-research-*`).
    Glob(GlobMatcher),
}

impl Pattern {
    /// Compiles a pattern; an invalid glob falls back to an exact comparison (validation
    /// has already refused invalid globs in configuration files).
    pub fn new(text: &str) -> Pattern {
        let is_glob = text.contains(['*', '?', '[', '{']);
        if is_glob {
            if let Ok(glob) = GlobBuilder::new(text).literal_separator(false).build() {
                return Pattern::Glob(glob.compile_matcher());
            }
        }
        Pattern::Exact(text.to_string())
    }

    /// Whether a value matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(text) => text == value,
            Pattern::Glob(glob) => glob.is_match(value),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    department: String,
    conditions: Vec<(CallerField, Pattern)>,
}

/// The compiled mapping rules.
#[derive(Debug, Clone)]
pub struct Mapper {
    rules: Vec<Rule>,
}

impl Mapper {
    /// Compiles the rules of a configuration.
    pub fn new(rules: &[MappingRule]) -> Mapper {
        let rules = rules
            .iter()
            .map(|rule| Rule {
                department: rule.department.clone(),
                conditions: rule
                    .patterns()
                    .into_iter()
                    .map(|(f, p)| (f, Pattern::new(p)))
                    .collect(),
            })
            .collect();
        Mapper { rules }
    }

    /// The department of a caller, and which rule decided (its index), if any.
    pub fn department_of(&self, caller: &Caller) -> (String, Option<usize>) {
        for (index, rule) in self.rules.iter().enumerate() {
            if rule
                .conditions
                .iter()
                .all(|(field, pattern)| field_matches(caller, *field, pattern))
            {
                return (rule.department.clone(), Some(index));
            }
        }
        match &caller.fallback_department {
            Some(department) => (department.clone(), None),
            None => (UNATTRIBUTED.to_string(), None),
        }
    }
}

fn field_matches(caller: &Caller, field: CallerField, pattern: &Pattern) -> bool {
    let value = match field {
        CallerField::ApiKey => &caller.api_key,
        CallerField::User => &caller.user,
        CallerField::Project => &caller.project,
        CallerField::Team => &caller.team,
        CallerField::Tag => return caller.tags.iter().any(|tag| pattern.matches(tag)),
    };
    value.as_deref().is_some_and(|v| pattern.matches(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(department: &str, api_key: Option<&str>, tag: Option<&str>) -> MappingRule {
        MappingRule {
            department: department.into(),
            api_key: api_key.map(Into::into),
            user: None,
            project: None,
            team: None,
            tag: tag.map(Into::into),
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let mapper = Mapper::new(&[
            rule("Research", Some("key-research-special"), None),
            rule("Sales", Some("key-research-*"), None),
            rule("Support", None, Some("team:support")),
        ]);
        let caller = |key: &str| Caller {
            api_key: Some(key.into()),
            ..Caller::default()
        };
        assert_eq!(
            mapper.department_of(&caller("key-research-special")).0,
            "Research"
        );
        assert_eq!(
            mapper.department_of(&caller("key-research-0001")).0,
            "Sales"
        );
        let tagged = Caller {
            tags: vec!["env:prod".into(), "team:support".into()],
            ..Caller::default()
        };
        assert_eq!(mapper.department_of(&tagged), ("Support".into(), Some(2)));
        assert_eq!(mapper.department_of(&caller("other")).0, UNATTRIBUTED);
    }

    #[test]
    fn source_default_applies_when_no_rule_matches() {
        let mapper = Mapper::new(&[]);
        let caller = Caller {
            fallback_department: Some("Platform".into()),
            ..Caller::default()
        };
        assert_eq!(mapper.department_of(&caller), ("Platform".into(), None));
    }
}
