//! Sign-offs that lift a fuse: one by finance and one by the technical director, given by
//! two different people.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The role a sign-off is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Finance: accepts the cost.
    Finance,
    /// The technical director: accepts the use.
    TechnicalDirector,
}

impl Role {
    /// Both roles, in the order they are shown.
    pub const ALL: [Role; 2] = [Role::Finance, Role::TechnicalDirector];

    /// The role's name as written on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Role::Finance => "finance",
            Role::TechnicalDirector => "technical-director",
        }
    }

    /// The other role.
    pub fn other(self) -> Role {
        match self {
            Role::Finance => Role::TechnicalDirector,
            Role::TechnicalDirector => Role::Finance,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "finance" => Ok(Role::Finance),
            "technical-director" | "tech-director" | "cto" => Ok(Role::TechnicalDirector),
            other => Err(format!(
                "'{other}' is not a role (expected finance or technical-director)"
            )),
        }
    }
}

/// One sign-off of a fused department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    /// The department.
    pub department: String,
    /// The role it is given in.
    pub role: Role,
    /// Who gave it.
    pub name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What they said, if anything.
    pub note: Option<String>,
}

/// Why a sign-off was refused.
pub fn refusal(existing: &[SignOff], department: &str, role: Role, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return Some("a sign-off needs the name of the person giving it".into());
    }
    let other = existing
        .iter()
        .find(|s| s.department == department && s.role == role.other())?;
    same_person(&other.name, name).then(|| {
        format!(
            "{name} already signed {department} off as {}; the {role} sign-off must come from \
             someone else",
            other.role
        )
    })
}

/// Names are the same person when they match ignoring case and surrounding space.
fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether a department's fuse is lifted: both roles signed, by two different people.
pub fn lifted(signoffs: &[SignOff], department: &str) -> bool {
    let of = |role: Role| {
        signoffs
            .iter()
            .find(|s| s.department == department && s.role == role)
    };
    match (of(Role::Finance), of(Role::TechnicalDirector)) {
        (Some(finance), Some(technical)) => !same_person(&finance.name, &technical.name),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(department: &str, role: Role, name: &str) -> SignOff {
        SignOff {
            department: department.into(),
            role,
            name: name.into(),
            at: DateTime::default(),
            note: None,
        }
    }

    #[test]
    fn two_roles_by_two_people_lift_a_fuse() {
        let one = vec![sign("Legal", Role::Finance, "Henrik Lund")];
        assert!(!lifted(&one, "Legal"));
        let both = vec![
            sign("Legal", Role::Finance, "Henrik Lund"),
            sign("Legal", Role::TechnicalDirector, "Lena Fischer"),
        ];
        assert!(lifted(&both, "Legal"));
        assert!(!lifted(&both, "Sales"));
    }

    #[test]
    fn the_same_person_cannot_sign_both_roles() {
        let one = vec![sign("Legal", Role::Finance, "Henrik Lund")];
        let refused = refusal(&one, "Legal", Role::TechnicalDirector, "  henrik lund ").unwrap();
        assert!(refused.contains("must come from someone else"), "{refused}");
        assert_eq!(
            refusal(&one, "Legal", Role::TechnicalDirector, "Lena Fischer"),
            None
        );
        assert_eq!(
            refusal(&one, "Sales", Role::TechnicalDirector, "Henrik Lund"),
            None
        );
        assert!(refusal(&one, "Legal", Role::Finance, " ").is_some());
    }

    #[test]
    fn roles_read_from_text() {
        assert_eq!(
            "technical_director".parse::<Role>(),
            Ok(Role::TechnicalDirector)
        );
        assert_eq!("Finance".parse::<Role>(), Ok(Role::Finance));
        assert!("boss".parse::<Role>().is_err());
    }
}
