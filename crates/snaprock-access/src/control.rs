//! The shared accounts of a server: loaded from and written to `<data-dir>/accounts.json`, changed
//! by the account statements, read by logins and by every statement's privilege check.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{GrantObject, Grantee, Password, Privilege, RoleSelection, UserIdentity};
use tracing::info;

use crate::grants::{BUILTIN_ROLES, builtin_role_grants, expand};
use crate::password::{native_hash, normalize_hash, verify_native_proof};
use crate::state::{AccessState, RoleRecord, UserRecord};
use crate::{AccessError, Result};

/// The administrator account every server has (`'root'@'%'`, role `root`).
pub const ROOT_USER: &str = "root";

const FILE_NAME: &str = "accounts.json";

/// What `accounts.json` holds.
#[derive(Serialize, Deserialize)]
struct AccountsFile {
    users: Vec<UserRecord>,
    roles: Vec<RoleRecord>,
}

/// Accounts, roles and grants of one server.
pub struct AccessControl {
    path: PathBuf,
    state: RwLock<Arc<AccessState>>,
    /// Serializes changes: each is written to disk before it is published.
    writer: Mutex<()>,
}

fn root_identity() -> UserIdentity {
    UserIdentity {
        user: ROOT_USER.into(),
        host: "%".into(),
    }
}

fn stored_password(password: &Password) -> Result<String> {
    match password {
        Password::Plain(p) => Ok(native_hash(p)),
        Password::Hash(h) => normalize_hash(h).ok_or(AccessError::PasswordHash),
    }
}

fn storage_error(e: impl std::fmt::Display) -> AccessError {
    AccessError::Storage(e.to_string())
}

impl AccessControl {
    /// Loads the accounts of `data_dir` (a new server has only `root`). `root_password`, when
    /// given, becomes root's password: set on first start, and a way back in if it was lost.
    pub fn open(data_dir: &Path, root_password: Option<&str>) -> Result<Arc<Self>> {
        let path = data_dir.join(FILE_NAME);
        let mut state = match std::fs::read(&path) {
            Ok(bytes) => {
                let file: AccountsFile = serde_json::from_slice(&bytes)
                    .map_err(|e| storage_error(format!("{}: {e}", path.display())))?;
                AccessState {
                    users: file
                        .users
                        .into_iter()
                        .map(|u| (u.identity.clone(), u))
                        .collect(),
                    roles: file
                        .roles
                        .into_iter()
                        .map(|r| (r.name.clone(), r))
                        .collect(),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AccessState::default(),
            Err(e) => return Err(storage_error(format!("{}: {e}", path.display()))),
        };
        for &name in BUILTIN_ROLES {
            let role = state
                .roles
                .entry(name.to_string())
                .or_insert_with(|| RoleRecord {
                    name: name.to_string(),
                    builtin: true,
                    grants: BTreeSet::new(),
                    roles: BTreeSet::new(),
                });
            role.builtin = true;
            if name != "public" {
                role.grants = builtin_role_grants(name).into_iter().collect();
            }
        }
        let root = state
            .users
            .entry(root_identity())
            .or_insert_with(|| UserRecord {
                identity: root_identity(),
                password: native_hash(root_password.unwrap_or("")),
                roles: BTreeSet::new(),
                default_roles: BTreeSet::new(),
                grants: BTreeSet::new(),
            });
        if let Some(pw) = root_password.filter(|p| !p.is_empty()) {
            root.password = native_hash(pw);
        }
        root.roles.insert("root".into());
        root.default_roles.insert("root".into());
        let control = AccessControl {
            path,
            state: RwLock::new(Arc::new(state.clone())),
            writer: Mutex::new(()),
        };
        control.persist(&state)?;
        info!(
            users = state.users.len(),
            roles = state.roles.len(),
            "accounts loaded"
        );
        Ok(Arc::new(control))
    }

    /// The accounts as of now.
    pub fn snapshot(&self) -> Arc<AccessState> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The account `user` logs in as from `ip` if `proof` answers `salt` with its password.
    pub fn authenticate(
        &self,
        user: &str,
        ip: IpAddr,
        salt: &[u8],
        proof: &[u8],
    ) -> Option<UserIdentity> {
        let state = self.snapshot();
        let account = state.login_account(user, ip)?;
        verify_native_proof(&account.password, salt, proof).then(|| account.identity.clone())
    }

    /// The account `user` logs in as from `ip` if `password` (in clear, as HTTP Basic sends
    /// it) is its password.
    pub fn authenticate_password(
        &self,
        user: &str,
        ip: IpAddr,
        password: &str,
    ) -> Option<UserIdentity> {
        let state = self.snapshot();
        let account = state.login_account(user, ip)?;
        crate::password::verify_password(&account.password, password)
            .then(|| account.identity.clone())
    }

    fn persist(&self, state: &AccessState) -> Result<()> {
        let file = AccountsFile {
            users: state.users.values().cloned().collect(),
            roles: state.roles.values().cloned().collect(),
        };
        let body = serde_json::to_vec_pretty(&file).map_err(storage_error)?;
        snaprock_storage::write_private_file_atomic(&self.path, &body).map_err(storage_error)
    }

    /// Applies `change` to a copy of the accounts, writes it, then publishes it. On any error
    /// nothing changes.
    fn change<T>(&self, change: impl FnOnce(&mut AccessState) -> Result<T>) -> Result<T> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = (*self.snapshot()).clone();
        let out = change(&mut state)?;
        self.persist(&state)?;
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(state);
        Ok(out)
    }

    pub fn create_user(
        &self,
        user: &UserIdentity,
        if_not_exists: bool,
        password: Option<&Password>,
        default_roles: &[String],
    ) -> Result<()> {
        let password = password.map(stored_password).transpose()?;
        self.change(|state| {
            if state.users.contains_key(user) {
                return if if_not_exists {
                    Ok(())
                } else {
                    Err(AccessError::OperationFailed {
                        operation: "CREATE USER",
                        name: user.to_string(),
                    })
                };
            }
            for role in default_roles {
                state.check_role_exists(role)?;
            }
            // DEFAULT ROLE grants the roles too, as StarRocks does.
            let roles: BTreeSet<String> = default_roles.iter().cloned().collect();
            state.users.insert(
                user.clone(),
                UserRecord {
                    identity: user.clone(),
                    password: password.unwrap_or_default(),
                    default_roles: roles.clone(),
                    roles,
                    grants: BTreeSet::new(),
                },
            );
            Ok(())
        })
    }

    pub fn alter_user(
        &self,
        user: &UserIdentity,
        password: Option<&Password>,
        default_roles: Option<&RoleSelection>,
    ) -> Result<()> {
        let password = password.map(stored_password).transpose()?;
        self.change(|state| {
            if !state.users.contains_key(user) {
                return Err(AccessError::OperationFailed {
                    operation: "ALTER USER",
                    name: user.to_string(),
                });
            }
            if let Some(selection) = default_roles {
                set_default_roles(state, user, selection)?;
            }
            let record = state.user_mut(user)?;
            if let Some(password) = password {
                record.password = password;
            }
            Ok(())
        })
    }

    pub fn drop_user(&self, user: &UserIdentity, if_exists: bool) -> Result<()> {
        self.change(|state| {
            if *user == root_identity() || state.users.remove(user).is_none() && !if_exists {
                return Err(AccessError::OperationFailed {
                    operation: "DROP USER",
                    name: user.to_string(),
                });
            }
            Ok(())
        })
    }

    pub fn set_password(&self, user: &UserIdentity, password: &Password) -> Result<()> {
        let password = stored_password(password)?;
        self.change(|state| {
            state.user_mut(user)?.password = password;
            Ok(())
        })
    }

    pub fn create_role(&self, name: &str, if_not_exists: bool) -> Result<()> {
        self.change(|state| {
            if state.roles.contains_key(name) {
                return if if_not_exists {
                    Ok(())
                } else {
                    Err(AccessError::OperationFailed {
                        operation: "CREATE ROLE",
                        name: name.to_string(),
                    })
                };
            }
            state.roles.insert(
                name.to_string(),
                RoleRecord {
                    name: name.to_string(),
                    builtin: false,
                    grants: BTreeSet::new(),
                    roles: BTreeSet::new(),
                },
            );
            Ok(())
        })
    }

    pub fn drop_role(&self, name: &str, if_exists: bool) -> Result<()> {
        self.change(|state| {
            match state.roles.get(name) {
                None if if_exists => return Ok(()),
                None => {
                    return Err(AccessError::OperationFailed {
                        operation: "DROP ROLE",
                        name: name.to_string(),
                    });
                }
                Some(r) if r.builtin => {
                    return Err(AccessError::Semantic(format!(
                        "{name} is a built-in role and cannot be dropped"
                    )));
                }
                Some(_) => {}
            }
            state.roles.remove(name);
            for role in state.roles.values_mut() {
                role.roles.remove(name);
            }
            for user in state.users.values_mut() {
                user.roles.remove(name);
                user.default_roles.remove(name);
            }
            Ok(())
        })
    }

    /// GRANT (`grant`) or REVOKE privileges. `object` names its database already.
    pub fn change_privileges(
        &self,
        grant: bool,
        privileges: &[Privilege],
        object: &GrantObject,
        grantee: &Grantee,
    ) -> Result<()> {
        let grants = expand(privileges, object)?;
        self.change(|state| {
            state.check_grant_object(object)?;
            let target = match grantee {
                Grantee::User(user) => &mut state.user_mut(user)?.grants,
                Grantee::Role(role) => {
                    state.check_role_exists(role)?;
                    let record = state
                        .roles
                        .get_mut(role)
                        .ok_or_else(|| AccessError::Semantic(format!("cannot find role {role}")))?;
                    if record.builtin && role != "public" {
                        return Err(AccessError::Semantic(format!(
                            "the privileges of built-in role {role} cannot be changed"
                        )));
                    }
                    &mut record.grants
                }
            };
            for g in grants {
                if grant {
                    target.insert(g);
                } else {
                    target.remove(&g);
                }
            }
            Ok(())
        })
    }

    /// `GRANT r, ... TO USER u | ROLE r2` (`grant`) or `REVOKE r, ... FROM USER u | ROLE r2`.
    pub fn change_roles(&self, grant: bool, roles: &[String], grantee: &Grantee) -> Result<()> {
        self.change(|state| {
            let user = match grantee {
                Grantee::User(user) => user,
                Grantee::Role(target) => {
                    if roles.iter().any(|r| r == "public") {
                        return Err(AccessError::Semantic(
                            "every user has role public; it cannot be granted or revoked".into(),
                        ));
                    }
                    return state.change_role_roles(grant, roles, target);
                }
            };
            for role in roles {
                state.check_role_exists(role)?;
                if role == "public" {
                    return Err(AccessError::Semantic(
                        "every user has role public; it cannot be granted or revoked".into(),
                    ));
                }
                if !grant && role == "root" && *user == root_identity() {
                    return Err(AccessError::Semantic(
                        "role root cannot be revoked from user 'root'@'%'".into(),
                    ));
                }
            }
            let record = state.user_mut(user)?;
            for role in roles {
                if grant {
                    record.roles.insert(role.clone());
                } else {
                    record.roles.remove(role);
                    record.default_roles.remove(role);
                }
            }
            Ok(())
        })
    }

    /// `SET DEFAULT ROLE ... TO user`.
    pub fn set_default_roles(&self, user: &UserIdentity, selection: &RoleSelection) -> Result<()> {
        self.change(|state| set_default_roles(state, user, selection))
    }

    /// The roles `SET ROLE selection` activates for `user`.
    pub fn roles_to_activate(
        &self,
        user: &UserIdentity,
        selection: &RoleSelection,
    ) -> Result<BTreeSet<String>> {
        let state = self.snapshot();
        let Some(record) = state.users.get(user) else {
            return Err(AccessError::Semantic(format!("cannot find user {user}")));
        };
        Ok(match selection {
            RoleSelection::Default => state.login_roles(user, false),
            RoleSelection::None => BTreeSet::new(),
            RoleSelection::All => record.roles.clone(),
            RoleSelection::Roles(roles) => granted_roles(&state, record, roles)?,
        })
    }
}

fn granted_roles(
    state: &AccessState,
    record: &UserRecord,
    roles: &[String],
) -> Result<BTreeSet<String>> {
    roles
        .iter()
        .map(|role| {
            state.check_role_exists(role)?;
            if record.roles.contains(role) {
                Ok(role.clone())
            } else {
                Err(AccessError::Semantic(format!(
                    "Role {role} is not granted to {}",
                    record.identity
                )))
            }
        })
        .collect()
}

fn set_default_roles(
    state: &mut AccessState,
    user: &UserIdentity,
    selection: &RoleSelection,
) -> Result<()> {
    let record = state
        .users
        .get(user)
        .ok_or_else(|| AccessError::Semantic(format!("cannot find user {user}")))?;
    let roles = match selection {
        RoleSelection::None => BTreeSet::new(),
        RoleSelection::All | RoleSelection::Default => record.roles.clone(),
        RoleSelection::Roles(roles) => granted_roles(state, record, roles)?,
    };
    state.user_mut(user)?.default_roles = roles;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;

    fn user(name: &str) -> UserIdentity {
        UserIdentity {
            user: name.into(),
            host: "%".into(),
        }
    }

    #[test]
    fn accounts_and_grants_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let control = AccessControl::open(dir.path(), Some("rootpw")).unwrap();
        let u = user("alice");
        control
            .create_user(&u, false, Some(&Password::Plain("pw".into())), &[])
            .unwrap();
        control.create_role("reader", false).unwrap();
        control
            .change_privileges(
                true,
                &[Privilege::Select],
                &GrantObject::AllTablesIn("sales".into()),
                &Grantee::Role("reader".into()),
            )
            .unwrap();
        control
            .change_roles(true, &["reader".into()], &Grantee::User(u.clone()))
            .unwrap();
        control
            .set_default_roles(&u, &RoleSelection::Roles(vec!["reader".into()]))
            .unwrap();
        drop(control);

        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(!text.contains("rootpw") && !text.contains("\"pw\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let control = AccessControl::open(dir.path(), None).unwrap();
        let state = control.snapshot();
        let roles = state.login_roles(&u, false);
        let effective = state.effective(&u, &roles);
        assert!(effective.allows(Privilege::Select, &Target::table("sales", "orders")));
        assert!(!effective.allows(Privilege::Insert, &Target::table("sales", "orders")));
        assert!(!effective.allows(Privilege::Select, &Target::table("hr", "pay")));
        // Without the role active, nothing.
        let none = state.effective(&u, &BTreeSet::new());
        let denied = none
            .check(Privilege::Select, &Target::table("sales", "orders"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            denied,
            "Access denied; you need (at least one of) the SELECT privilege(s) on TABLE orders \
             for this operation. Please ask the admin to grant permission(s) or try activating \
             existing roles using <set [default] role>. Current role(s): NONE. Inactivated \
             role(s): reader."
        );
    }

    #[test]
    fn root_is_protected_and_all_powerful() {
        let dir = tempfile::tempdir().unwrap();
        let control = AccessControl::open(dir.path(), None).unwrap();
        let root = root_identity();
        assert!(control.drop_user(&root, true).is_err());
        assert!(
            control
                .change_roles(false, &["root".into()], &Grantee::User(root.clone()))
                .is_err()
        );
        assert!(control.drop_role("db_admin", false).is_err());
        assert!(
            control
                .change_privileges(
                    false,
                    &[Privilege::Grant],
                    &GrantObject::System,
                    &Grantee::Role("root".into())
                )
                .is_err()
        );
        let state = control.snapshot();
        let effective = state.effective(&root, &state.login_roles(&root, false));
        for (p, t) in [
            (Privilege::Repository, Target::System),
            (Privilege::Grant, Target::System),
            (Privilege::CreateDatabase, Target::Catalog),
            (Privilege::Drop, Target::Database("x".into())),
            (Privilege::Export, Target::table("x", "y")),
        ] {
            assert!(effective.allows(p, &t), "{p:?} on {t}");
        }
    }

    #[test]
    fn failed_changes_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let control = AccessControl::open(dir.path(), None).unwrap();
        let u = user("bob");
        control.create_user(&u, false, None, &[]).unwrap();
        assert!(matches!(
            control.create_user(&u, false, None, &[]),
            Err(AccessError::OperationFailed { .. })
        ));
        assert!(control.create_user(&u, true, None, &[]).is_ok());
        assert!(matches!(
            control.create_user(
                &user("carol"),
                false,
                Some(&Password::Hash("*12".into())),
                &[]
            ),
            Err(AccessError::PasswordHash)
        ));
        assert!(!control.snapshot().users.contains_key(&user("carol")));
        // An unknown role in a list fails the whole statement.
        control.create_role("r1", false).unwrap();
        assert!(
            control
                .change_roles(
                    true,
                    &["r1".into(), "nope".into()],
                    &Grantee::User(u.clone())
                )
                .is_err()
        );
        assert!(control.snapshot().users[&u].roles.is_empty());
        assert!(
            control
                .roles_to_activate(&u, &RoleSelection::Roles(vec!["r1".into()]))
                .is_err()
        );
    }
}
