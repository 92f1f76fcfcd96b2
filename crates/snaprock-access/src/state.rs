//! The accounts as one value: users, roles and their grants. Changes copy it (see `control`);
//! a statement's privileges are computed from the current value (`Effective`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{Privilege, UserIdentity};

use crate::grants::{Grant, Target, covers, touches_database};
use crate::{AccessDenied, AccessError};

/// One account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub identity: UserIdentity,
    /// `*` + hex SHA1(SHA1(password)); empty: no password.
    pub password: String,
    /// Roles granted to the user (`public` is implied).
    pub roles: BTreeSet<String>,
    /// Roles active when the user logs in.
    pub default_roles: BTreeSet<String>,
    /// Privileges granted to the user directly.
    pub grants: BTreeSet<Grant>,
}

/// One role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleRecord {
    pub name: String,
    pub builtin: bool,
    pub grants: BTreeSet<Grant>,
    /// Roles granted to this role: it holds their privileges too.
    #[serde(default)]
    pub roles: BTreeSet<String>,
}

/// How deep roles may be granted to roles (StarRocks' `privilege_max_role_depth`).
pub const MAX_ROLE_DEPTH: usize = 16;

/// Every account and role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccessState {
    pub users: BTreeMap<UserIdentity, UserRecord>,
    pub roles: BTreeMap<String, RoleRecord>,
}

/// MySQL host patterns: `%` any run, `_` one character; `localhost` is the loopback address.
fn host_matches(pattern: &str, ip: IpAddr) -> bool {
    if pattern == "%" {
        return true;
    }
    if pattern.eq_ignore_ascii_case("localhost") {
        return ip.is_loopback();
    }
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((b'_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => {
                t.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(rest, &t[1..])
            }
        }
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    go(pattern.as_bytes(), ip.to_string().as_bytes())
}

impl AccessState {
    /// The account `user` logs in as from `ip`: the most specific matching host (no wildcard
    /// before wildcards, longer before shorter), as MySQL picks.
    pub fn login_account(&self, user: &str, ip: IpAddr) -> Option<&UserRecord> {
        self.users
            .values()
            .filter(|u| u.identity.user == user && host_matches(&u.identity.host, ip))
            .min_by_key(|u| {
                let host = &u.identity.host;
                (host.contains(['%', '_']), std::cmp::Reverse(host.len()))
            })
    }

    /// The roles a session starts with.
    pub fn login_roles(&self, user: &UserIdentity, activate_all: bool) -> BTreeSet<String> {
        self.users
            .get(user)
            .map(|u| {
                if activate_all {
                    u.roles.clone()
                } else {
                    u.default_roles.intersection(&u.roles).cloned().collect()
                }
            })
            .unwrap_or_default()
    }

    /// What a session of `user` with `active` roles may do right now. A role revoked since
    /// it was activated, or a dropped user, no longer counts. Nothing is copied: the grants are
    /// read from this state.
    pub fn effective(
        self: &Arc<Self>,
        user: &UserIdentity,
        active: &BTreeSet<String>,
    ) -> Effective {
        let granted: BTreeSet<String> = self
            .users
            .get(user)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        Effective {
            user: user.clone(),
            state: self.clone(),
            current_roles: active.intersection(&granted).cloned().collect(),
            inactive_roles: granted.difference(active).cloned().collect(),
        }
    }

    /// A grant on a user (IMPERSONATE) needs the user to exist.
    pub(crate) fn check_grant_object(
        &mut self,
        object: &snaprock_sql::ast::GrantObject,
    ) -> crate::Result<()> {
        if let snaprock_sql::ast::GrantObject::User(user) = object {
            self.user_mut(user)?;
        }
        Ok(())
    }

    pub(crate) fn user_mut(&mut self, user: &UserIdentity) -> crate::Result<&mut UserRecord> {
        self.users
            .get_mut(user)
            .ok_or_else(|| AccessError::Semantic(format!("cannot find user {user}")))
    }

    /// `roles` and every role granted to them, through any depth.
    pub fn with_inherited(&self, roles: &[String]) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = BTreeSet::new();
        let mut next: Vec<String> = roles.to_vec();
        for _ in 0..=MAX_ROLE_DEPTH {
            let mut found = Vec::new();
            for role in next {
                if all.insert(role.clone())
                    && let Some(record) = self.roles.get(&role)
                {
                    found.extend(record.roles.iter().cloned());
                }
            }
            if found.is_empty() {
                break;
            }
            next = found;
        }
        all
    }

    /// `GRANT r, ... TO ROLE target` (`grant`) or `REVOKE r, ... FROM ROLE target`: refused
    /// when it would make a role hold itself.
    pub(crate) fn change_role_roles(
        &mut self,
        grant: bool,
        roles: &[String],
        target: &str,
    ) -> crate::Result<()> {
        self.check_role_exists(target)?;
        for role in roles {
            self.check_role_exists(role)?;
            if grant
                && self
                    .with_inherited(std::slice::from_ref(role))
                    .contains(target)
            {
                return Err(AccessError::Semantic(format!(
                    "role inheritance loop: role {target} is already granted to role {role}"
                )));
            }
        }
        let record = self
            .roles
            .get_mut(target)
            .ok_or(AccessError::Semantic(format!("cannot find role {target}")))?;
        for role in roles {
            if grant {
                record.roles.insert(role.clone());
            } else {
                record.roles.remove(role);
            }
        }
        Ok(())
    }

    pub(crate) fn check_role_exists(&self, role: &str) -> crate::Result<()> {
        if self.roles.contains_key(role) {
            Ok(())
        } else {
            Err(AccessError::Semantic(format!("cannot find role {role}")))
        }
    }
}

/// The privileges of one session for one statement.
#[derive(Debug, Clone)]
pub struct Effective {
    pub user: UserIdentity,
    state: Arc<AccessState>,
    pub current_roles: Vec<String>,
    pub inactive_roles: Vec<String>,
}

impl Effective {
    /// The user's own grants, then those of its active roles (and the roles granted to them)
    /// and of `public`.
    fn grants(&self) -> impl Iterator<Item = &Grant> {
        let own = self.state.users.get(&self.user).into_iter();
        let mut active = self.current_roles.clone();
        active.push("public".to_string());
        let roles: Vec<&RoleRecord> = self
            .state
            .with_inherited(&active)
            .into_iter()
            .filter_map(|r| self.state.roles.get(&r))
            .collect();
        own.flat_map(|u| u.grants.iter())
            .chain(roles.into_iter().flat_map(|r| r.grants.iter()))
    }

    /// The active roles and every role granted to them (IS_ROLE_IN_SESSION).
    pub fn roles_in_session(&self) -> BTreeSet<String> {
        self.state.with_inherited(&self.current_roles)
    }

    /// The grants the session holds (its own, its active roles', `public`'s), for
    /// information_schema's privilege tables.
    pub fn held_grants(&self) -> Vec<Grant> {
        let mut grants: Vec<Grant> = self.grants().cloned().collect();
        grants.sort();
        grants.dedup();
        grants
    }

    /// The roles granted to the user, each with whether it is one of its default roles.
    pub fn granted_roles(&self) -> Vec<(String, bool)> {
        self.state
            .users
            .get(&self.user)
            .map(|u| {
                u.roles
                    .iter()
                    .map(|r| (r.clone(), u.default_roles.contains(r)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn allows(&self, privilege: Privilege, target: &Target) -> bool {
        self.grants()
            .any(|g| g.privilege == privilege && covers(&g.object, target))
    }

    /// Ok if the session holds `privilege` on `target`; otherwise StarRocks' denial.
    pub fn check(&self, privilege: Privilege, target: &Target) -> crate::Result<()> {
        self.check_any(&[privilege], target)
    }

    /// Ok if the session holds at least one of `privileges` on `target`.
    pub fn check_any(&self, privileges: &[Privilege], target: &Target) -> crate::Result<()> {
        if privileges.iter().any(|&p| self.allows(p, target)) {
            return Ok(());
        }
        Err(AccessError::Denied(Box::new(AccessDenied {
            privileges: privileges.to_vec(),
            target: target.clone(),
            current_roles: self.current_roles.clone(),
            inactive_roles: self.inactive_roles.clone(),
        })))
    }

    /// Whether the session holds any privilege on the database or on something in it.
    pub fn sees_database(&self, db: &str) -> bool {
        self.grants().any(|g| touches_database(&g.object, db))
    }

    /// Whether every database and table is visible (some privilege on all tables of all
    /// databases).
    pub fn sees_everything(&self) -> bool {
        self.grants()
            .any(|g| g.object == snaprock_sql::ast::GrantObject::AllTablesInAllDatabases)
    }

    /// Whether the session holds any privilege on the table (or view).
    pub fn sees_table(&self, db: &str, table: &str) -> bool {
        let target = Target::table(db, table);
        self.grants().any(|g| covers(&g.object, &target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let lan: IpAddr = "10.1.2.3".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert!(host_matches("%", lan));
        assert!(host_matches("10.%", lan));
        assert!(host_matches("10.%", mapped));
        assert!(host_matches("10.1.2._", lan));
        assert!(!host_matches("10.1.2._", "10.1.2.33".parse().unwrap()));
        assert!(!host_matches("192.168.%", lan));
        assert!(host_matches("localhost", local));
        assert!(host_matches("localhost", "::1".parse().unwrap()));
        assert!(!host_matches("localhost", lan));
    }

    #[test]
    fn the_most_specific_account_is_chosen() {
        let mut state = AccessState::default();
        for host in ["%", "10.%", "10.1.2.3"] {
            let identity = UserIdentity {
                user: "u".into(),
                host: host.into(),
            };
            state.users.insert(
                identity.clone(),
                UserRecord {
                    identity,
                    password: String::new(),
                    roles: BTreeSet::new(),
                    default_roles: BTreeSet::new(),
                    grants: BTreeSet::new(),
                },
            );
        }
        let pick = |ip: &str| {
            state
                .login_account("u", ip.parse().unwrap())
                .map(|u| u.identity.host.clone())
        };
        assert_eq!(pick("10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(pick("10.9.9.9").as_deref(), Some("10.%"));
        assert_eq!(pick("192.168.0.1").as_deref(), Some("%"));
        assert_eq!(
            state
                .login_account("v", "10.1.2.3".parse().unwrap())
                .map(|u| u.identity.user.clone()),
            None
        );
    }
}
