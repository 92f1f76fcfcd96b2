//! Why an account statement failed, and the denial a statement without the privilege gets.
//! `snaprock-mysql`'s `error_codes` maps each to its MySQL/StarRocks error code.

use snaprock_sql::ast::Privilege;

use crate::Target;

/// A refused statement: the privilege(s) it needed, on what, and the session's roles (StarRocks'
/// text tells the user which roles they could still activate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    pub privileges: Vec<Privilege>,
    pub target: Target,
    pub current_roles: Vec<String>,
    pub inactive_roles: Vec<String>,
}

fn role_list(roles: &[String]) -> String {
    if roles.is_empty() {
        "NONE".into()
    } else {
        roles.join(", ")
    }
}

impl std::fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let privileges: Vec<&str> = self.privileges.iter().map(|p| p.name()).collect();
        write!(
            f,
            "Access denied; you need (at least one of) the {} privilege(s) on {} for this \
             operation. Please ask the admin to grant permission(s) or try activating existing \
             roles using <set [default] role>. Current role(s): {}. Inactivated role(s): {}.",
            privileges.join(", "),
            self.target,
            role_list(&self.current_roles),
            role_list(&self.inactive_roles),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Denied(Box<AccessDenied>),
    /// MySQL's ER_CANNOT_USER: CREATE USER of an existing user, DROP USER of a missing one, ...
    #[error("Operation {operation} failed for {name}")]
    OperationFailed {
        operation: &'static str,
        name: String,
    },
    /// A statement that names something wrongly (StarRocks' analyzer errors).
    #[error("Getting analyzing error. Detail message: {0}.")]
    Semantic(String),
    #[error("Password hash should be a 41-digit hexadecimal number")]
    PasswordHash,
    #[error("cannot write the accounts file: {0}")]
    Storage(String),
}
