//! Account statements (CREATE/ALTER/DROP USER, SET PASSWORD, roles, GRANT/REVOKE, SET ROLE) run
//! against the engine's `AccessControl`, and SHOW USERS / ROLES / GRANTS answered from it.

use snaprock_access::{AccessError, DEFAULT_CATALOG, grant_text};
use snaprock_sql::ast::{AccessStatement, GrantObject, GrantsTarget, Show};
use tracing::info;

use crate::result::{Cell, Output, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result};

fn t(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

/// One SHOW GRANTS row per object; the Catalog column is NULL for SYSTEM and USER privileges
/// and for role grants.
fn push_grant_rows(rows: &mut RowsBuilder, who: &str, lines: Vec<String>) {
    for line in lines {
        let catalog = if line.contains(" ON SYSTEM TO ")
            || line.contains(" ON USER ")
            || line.contains(" ON ALL USERS TO ")
            || !line.contains(" ON ")
        {
            Cell::Text(None)
        } else {
            t(DEFAULT_CATALOG)
        };
        rows.push(vec![t(who), catalog, t(&line)]);
    }
}

fn quoted_list(names: &std::collections::BTreeSet<String>) -> String {
    names
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `TABLE t` without a database means the current one.
fn resolve_grant_object(session: &Session, object: GrantObject) -> Result<GrantObject> {
    Ok(match object {
        GrantObject::Table {
            database: None,
            table,
        } => GrantObject::Table {
            database: Some(
                session
                    .current_db
                    .clone()
                    .ok_or(ExecError::NoDatabaseSelected)?,
            ),
            table,
        },
        other => other,
    })
}

pub(crate) fn run_access_statement(session: &mut Session, stmt: AccessStatement) -> Result<Output> {
    let access = session.engine.access.clone();
    let by = session.identity.to_string();
    match stmt {
        AccessStatement::CreateUser {
            user,
            if_not_exists,
            password,
            default_roles,
        } => {
            access.create_user(&user, if_not_exists, password.as_ref(), &default_roles)?;
            info!(by = %by, user = %user, "CREATE USER");
        }
        AccessStatement::AlterUser {
            user,
            password,
            default_roles,
        } => {
            access.alter_user(&user, password.as_ref(), default_roles.as_ref())?;
            info!(by = %by, user = %user, "ALTER USER");
        }
        AccessStatement::DropUser { user, if_exists } => {
            access.drop_user(&user, if_exists)?;
            info!(by = %by, user = %user, "DROP USER");
        }
        AccessStatement::SetPassword { user, password } => {
            let user = user.unwrap_or_else(|| session.identity.clone());
            access.set_password(&user, &password)?;
            info!(by = %by, user = %user, "SET PASSWORD");
        }
        AccessStatement::CreateRole {
            name,
            if_not_exists,
        } => {
            access.create_role(&name, if_not_exists)?;
            info!(by = %by, role = %name, "CREATE ROLE");
        }
        AccessStatement::DropRole { name, if_exists } => {
            access.drop_role(&name, if_exists)?;
            info!(by = %by, role = %name, "DROP ROLE");
        }
        AccessStatement::Grant {
            privileges,
            object,
            grantee,
        } => {
            let object = resolve_grant_object(session, object)?;
            access.change_privileges(true, &privileges, &object, &grantee)?;
            info!(by = %by, ?privileges, ?object, ?grantee, "GRANT");
        }
        AccessStatement::Revoke {
            privileges,
            object,
            grantee,
        } => {
            let object = resolve_grant_object(session, object)?;
            access.change_privileges(false, &privileges, &object, &grantee)?;
            info!(by = %by, ?privileges, ?object, ?grantee, "REVOKE");
        }
        AccessStatement::GrantRole { roles, grantee } => {
            access.change_roles(true, &roles, &grantee)?;
            info!(by = %by, ?roles, ?grantee, "GRANT role");
        }
        AccessStatement::RevokeRole { roles, grantee } => {
            access.change_roles(false, &roles, &grantee)?;
            info!(by = %by, ?roles, ?grantee, "REVOKE role");
        }
        AccessStatement::SetDefaultRole { selection, user } => {
            access.set_default_roles(&user, &selection)?;
            info!(by = %by, user = %user, ?selection, "SET DEFAULT ROLE");
        }
        AccessStatement::SetRole(selection) => {
            session.active_roles = access.roles_to_activate(&session.identity, &selection)?;
        }
        AccessStatement::ExecuteAs { user, no_revert } => {
            if !no_revert {
                return Err(ExecError::Unsupported(
                    "`EXECUTE AS` must use with `WITH NO REVERT` at current version".into(),
                ));
            }
            let state = access.snapshot();
            if !state.users.contains_key(&user) {
                return Err(AccessError::Semantic(format!("cannot find user {user}")).into());
            }
            let activate_all = session
                .engine
                .globals
                .get("activate_all_roles_on_login")
                .is_ok_and(|v| v == crate::variables::VarValue::Int(1));
            session.active_roles = state.login_roles(&user, activate_all);
            info!(by = %by, user = %user, "EXECUTE AS");
            session.identity = user;
        }
    }
    Ok(Output::ok())
}

/// SHOW USERS / ROLES / GRANTS.
pub(crate) fn show_accounts(session: &Session, show: &Show) -> Result<Output> {
    let state = session.engine.access.snapshot();
    match show {
        Show::Users => {
            let mut rows = RowsBuilder::text(&["User"]);
            for user in state.users.keys() {
                rows.push(vec![t(&user.to_string())]);
            }
            Ok(Output::Rows(rows.into_result()?))
        }
        Show::Roles => {
            let mut rows = RowsBuilder::text(&["Name", "Builtin", "Comment"]);
            for role in state.roles.values() {
                let comment = match role.name.as_str() {
                    "root" => "Every privilege on every object",
                    "db_admin" => {
                        "Every privilege on catalogs, databases and tables, and REPOSITORY"
                    }
                    "user_admin" => "Manages users, roles and grants",
                    "public" => "Held by every user",
                    _ => "",
                };
                rows.push(vec![
                    t(&role.name),
                    t(if role.builtin { "true" } else { "false" }),
                    t(comment),
                ]);
            }
            Ok(Output::Rows(rows.into_result()?))
        }
        Show::Grants { target } => {
            let user = match target {
                GrantsTarget::Role(name) => {
                    let role = state
                        .roles
                        .get(name)
                        .ok_or_else(|| AccessError::Semantic(format!("cannot find role {name}")))?;
                    let mut rows = RowsBuilder::text(&["RoleName", "Catalog", "Grants"]);
                    let mut lines = Vec::new();
                    if !role.roles.is_empty() {
                        lines.push(format!(
                            "GRANT {} TO ROLE '{name}'",
                            quoted_list(&role.roles)
                        ));
                    }
                    lines.extend(grant_text(&role.grants, &format!("ROLE '{name}'")));
                    push_grant_rows(&mut rows, name, lines);
                    return Ok(Output::Rows(rows.into_result()?));
                }
                GrantsTarget::CurrentUser => session.identity.clone(),
                GrantsTarget::User(u) => u.clone(),
            };
            let record = state
                .users
                .get(&user)
                .ok_or_else(|| AccessError::Semantic(format!("cannot find user {user}")))?;
            let who = user.to_string();
            let mut rows = RowsBuilder::text(&["UserIdentity", "Catalog", "Grants"]);
            let mut lines = Vec::new();
            if !record.roles.is_empty() {
                lines.push(format!("GRANT {} TO {who}", quoted_list(&record.roles)));
            }
            lines.extend(grant_text(&record.grants, &format!("USER {who}")));
            push_grant_rows(&mut rows, &who, lines);
            Ok(Output::Rows(rows.into_result()?))
        }
        other => Err(ExecError::Unsupported(format!(
            "not an account SHOW: {other:?}"
        ))),
    }
}
