//! Signing a fused department off from the departments screen: the dialog asks the role, then
//! the name, then an optional note. The core refuses the same person in both roles; the
//! dialog says so at the name, before the note is asked.

use std::str::FromStr;

use super::app::{App, Screen};
use super::modal::{Modal, Purpose};
use crate::calc::Status;
use crate::report::policy::Action;
use crate::review::{Role, signoff};

impl App {
    /// The department selected on the departments screen.
    fn selected_department(&self) -> Option<String> {
        if self.screen() != Screen::Departments {
            return None;
        }
        let review = self.review.as_ref()?;
        let summary = review
            .attribution
            .departments
            .get(self.departments.selected)?;
        Some(summary.name.clone())
    }

    /// The roles a department is signed off in so far.
    fn signed_roles(&self, department: &str) -> Vec<Role> {
        self.review.as_ref().map_or_else(Vec::new, |r| {
            r.session
                .signoffs
                .iter()
                .filter(|s| s.department == department)
                .map(|s| s.role)
                .collect()
        })
    }

    /// Opens the sign-off dialog on the selected department, when it is fused.
    pub(super) fn open_sign_off(&mut self) {
        let Some(department) = self.selected_department() else {
            return self.complain("select a department on the departments screen");
        };
        let fused = self.review.as_ref().is_some_and(|r| {
            r.attribution
                .department(&department)
                .is_some_and(|d| d.status == Status::Fuse)
        });
        if !fused {
            return self.complain(format!(
                "'{department}' is not fused; sign-offs lift a fuse"
            ));
        }
        let signed = self.signed_roles(&department);
        let role = Role::ALL
            .into_iter()
            .find(|r| !signed.contains(r))
            .unwrap_or(Role::Finance);
        self.modal = Some(Modal::new(
            Purpose::SignOffRole(department.clone()),
            format!("Sign {department} off: role"),
            "finance or technical-director; two different people sign the two roles",
            role.name().to_string(),
        ));
    }

    /// Opens the dialog that takes a sign-off back, on the selected department.
    pub(super) fn open_withdraw(&mut self) {
        let Some(department) = self.selected_department() else {
            return self.complain("select a department on the departments screen");
        };
        let signed = self.signed_roles(&department);
        if signed.is_empty() {
            return self.complain(format!("{department} has no sign-off to withdraw"));
        }
        let text = match signed[..] {
            [only] => only.name().to_string(),
            _ => String::new(),
        };
        self.modal = Some(Modal::new(
            Purpose::Withdraw(department.clone()),
            format!("Withdraw a sign-off of {department}"),
            "the role: finance or technical-director",
            text,
        ));
    }

    /// One step of the sign-off dialog: the role, the name, then the note that signs.
    pub(super) fn carry_out_sign_off(
        &mut self,
        purpose: &Purpose,
        text: &str,
    ) -> Result<(), String> {
        match purpose {
            Purpose::SignOffRole(department) => {
                let role = Role::from_str(text)?;
                self.modal = Some(Modal::new(
                    Purpose::SignOffName(department.clone(), role),
                    format!("Sign {department} off as {role}"),
                    "the name of the person who signs",
                    String::new(),
                ));
                Ok(())
            }
            Purpose::SignOffName(department, role) => {
                let signoffs = self
                    .review
                    .as_ref()
                    .map_or(&[][..], |r| &r.session.signoffs);
                if let Some(refusal) = signoff::refusal(signoffs, department, *role, text) {
                    return Err(refusal);
                }
                self.modal = Some(Modal::new(
                    Purpose::SignOffNote(department.clone(), *role, text.to_string()),
                    format!("{text} signs {department} off as {role}"),
                    "a note (optional): Enter signs",
                    String::new(),
                ));
                Ok(())
            }
            Purpose::SignOffNote(department, role, name) => {
                self.sign(department, *role, name, text)
            }
            Purpose::Withdraw(department) => self.withdraw(department, text),
            _ => Err("not a sign-off".into()),
        }
    }

    /// Signs off; when that lifts the fuse, writes the policy that restores the department.
    fn sign(&mut self, department: &str, role: Role, name: &str, note: &str) -> Result<(), String> {
        let now = self.now();
        let review = self.review.as_mut().ok_or("the month is not loaded")?;
        let note = Some(note).filter(|n| !n.is_empty());
        let lifted = review
            .sign_off(department, role, name, note, now)
            .map_err(|e| e.to_string())?;
        let signed = format!("{name} signed {department} off as {role}");
        if !lifted {
            self.report(Ok(signed));
            return Ok(());
        }
        match review.write_restoring_policy(department) {
            Ok(Some(path)) => self.report(Ok(format!(
                "fuse of {department} lifted; restoring policy written to {}",
                path.display()
            ))),
            Ok(None) => self.report(Ok(format!("{signed}; fuse lifted"))),
            Err(error) => {
                self.report(Ok(signed));
                self.complain(format!(
                    "fuse of {department} lifted, but the restoring policy was not written: {error}"
                ));
            }
        }
        Ok(())
    }

    fn withdraw(&mut self, department: &str, text: &str) -> Result<(), String> {
        let role = Role::from_str(text)?;
        let now = self.now();
        let review = self.review.as_mut().ok_or("the month is not loaded")?;
        let result = review.withdraw_sign_off(department, role, now);
        let downgrade = review.policy_path(department, Action::Downgrade);
        let said = result.map(|()| match downgrade.exists() {
            true => format!(
                "withdrew the {role} sign-off of {department}; the fuse holds: downgrade policy {}",
                downgrade.display()
            ),
            false => format!("withdrew the {role} sign-off of {department}"),
        });
        self.report(Ok(said.map_err(|e| e.to_string())?));
        Ok(())
    }
}
