//! What a privilege applies to: the objects a grant names, the object a statement touches
//! (`Target`), which privileges each kind of object has, and the built-in roles.

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{GrantObject, Privilege};

use crate::AccessError;

/// The one catalog of this server, as StarRocks names its internal catalog.
pub const DEFAULT_CATALOG: &str = "default_catalog";

/// The roles every server has; only `public`'s grants may be changed.
pub const BUILTIN_ROLES: &[&str] = &["root", "db_admin", "user_admin", "public"];

/// One privilege on one object. `GRANT SELECT, INSERT ON ...` stores two.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub object: GrantObject,
    pub privilege: Privilege,
}

/// The object a statement touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    System,
    Catalog,
    Database(String),
    Table {
        database: String,
        table: String,
    },
    /// A user account (IMPERSONATE).
    User(snaprock_sql::ast::UserIdentity),
}

impl Target {
    /// `TABLE database.table` (views too).
    pub fn table(database: &str, table: &str) -> Target {
        Target::Table {
            database: database.to_string(),
            table: table.to_string(),
        }
    }
}

impl std::fmt::Display for Target {
    /// As StarRocks' denial text names it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::System => f.write_str("SYSTEM"),
            Target::Catalog => write!(f, "CATALOG {DEFAULT_CATALOG}"),
            Target::Database(d) => write!(f, "DATABASE {d}"),
            Target::Table { table, .. } => write!(f, "TABLE {table}"),
            Target::User(user) => write!(f, "USER {user}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    System,
    Catalog,
    Database,
    Table,
    User,
}

fn kind_of(object: &GrantObject) -> ObjectKind {
    match object {
        GrantObject::System => ObjectKind::System,
        GrantObject::Catalog(_) => ObjectKind::Catalog,
        GrantObject::Database(_) | GrantObject::AllDatabases => ObjectKind::Database,
        GrantObject::Table { .. }
        | GrantObject::AllTablesIn(_)
        | GrantObject::AllTablesInAllDatabases => ObjectKind::Table,
        GrantObject::User(_) | GrantObject::AllUsers => ObjectKind::User,
    }
}

/// The privileges an object kind has (what `ALL` stands for), in StarRocks' order.
fn privileges_of(kind: ObjectKind) -> &'static [Privilege] {
    use Privilege::*;
    match kind {
        ObjectKind::System => &[Node, Operate, Repository, CreateStorageVolume, Grant, File],
        ObjectKind::Catalog => &[Usage, CreateDatabase, Drop, Alter],
        ObjectKind::Database => &[CreateTable, CreateView, CreateMaterializedView, Drop, Alter],
        ObjectKind::Table => &[Select, Insert, Delete, Update, Drop, Alter, Export, Refresh],
        ObjectKind::User => &[Impersonate],
    }
}

/// The grants `GRANT privileges ON object` stands for: `ALL` expanded, every other privilege
/// checked to apply to the object's kind. `object` must name its database (see the caller).
pub(crate) fn expand(privileges: &[Privilege], object: &GrantObject) -> crate::Result<Vec<Grant>> {
    if let GrantObject::Catalog(name) = object
        && name != DEFAULT_CATALOG
    {
        return Err(AccessError::Semantic(format!("Unknown catalog '{name}'")));
    }
    let valid = privileges_of(kind_of(object));
    let mut grants = Vec::new();
    for &privilege in privileges {
        if privilege == Privilege::All {
            grants.extend(valid.iter().map(|&p| Grant {
                object: object.clone(),
                privilege: p,
            }));
        } else if valid.contains(&privilege) {
            grants.push(Grant {
                object: object.clone(),
                privilege,
            });
        } else {
            return Err(AccessError::Semantic(format!(
                "{} is not a privilege of {}",
                privilege.name(),
                object_kind_name(object)
            )));
        }
    }
    Ok(grants)
}

fn object_kind_name(object: &GrantObject) -> &'static str {
    match kind_of(object) {
        ObjectKind::System => "SYSTEM",
        ObjectKind::Catalog => "CATALOG",
        ObjectKind::Database => "DATABASE",
        ObjectKind::Table => "TABLE",
        ObjectKind::User => "USER",
    }
}

/// Whether a grant on `object` applies to `target`.
pub(crate) fn covers(object: &GrantObject, target: &Target) -> bool {
    match (object, target) {
        (GrantObject::System, Target::System) => true,
        (GrantObject::Catalog(_), Target::Catalog) => true,
        (GrantObject::Database(d), Target::Database(db)) => d == db,
        (GrantObject::AllDatabases, Target::Database(_)) => true,
        (
            GrantObject::Table {
                database: Some(d),
                table: t,
            },
            Target::Table { database, table },
        ) => d == database && t == table,
        (GrantObject::AllTablesIn(d), Target::Table { database, .. }) => d == database,
        (GrantObject::AllTablesInAllDatabases, Target::Table { .. }) => true,
        (GrantObject::User(u), Target::User(user)) => u == user,
        (GrantObject::AllUsers, Target::User(_)) => true,
        _ => false,
    }
}

/// Whether a grant on `object` lets its holder see database `db` (SHOW DATABASES, USE).
pub(crate) fn touches_database(object: &GrantObject, db: &str) -> bool {
    match object {
        GrantObject::Database(d) | GrantObject::AllTablesIn(d) => d == db,
        GrantObject::Table {
            database: Some(d), ..
        } => d == db,
        GrantObject::AllDatabases | GrantObject::AllTablesInAllDatabases => true,
        GrantObject::System
        | GrantObject::Catalog(_)
        | GrantObject::User(_)
        | GrantObject::AllUsers
        | GrantObject::Table { database: None, .. } => false,
    }
}

/// The fixed grants of a built-in role (`public` starts empty and may be granted to).
pub(crate) fn builtin_role_grants(role: &str) -> Vec<Grant> {
    let all = |object: GrantObject| {
        privileges_of(kind_of(&object))
            .iter()
            .map(move |&privilege| Grant {
                object: object.clone(),
                privilege,
            })
            .collect::<Vec<_>>()
    };
    let data_objects = || {
        let mut grants = all(GrantObject::Catalog(DEFAULT_CATALOG.into()));
        grants.extend(all(GrantObject::AllDatabases));
        grants.extend(all(GrantObject::AllTablesInAllDatabases));
        grants
    };
    let system = |privileges: &[Privilege]| {
        privileges
            .iter()
            .map(|&privilege| Grant {
                object: GrantObject::System,
                privilege,
            })
            .collect::<Vec<_>>()
    };
    match role {
        "root" => {
            let mut grants = all(GrantObject::System);
            grants.extend(data_objects());
            grants.extend(all(GrantObject::AllUsers));
            grants
        }
        "db_admin" => {
            let mut grants = system(&[Privilege::Repository, Privilege::File]);
            grants.extend(data_objects());
            grants
        }
        "user_admin" => system(&[Privilege::Grant]),
        _ => Vec::new(),
    }
}

/// `GRANT <privileges> ON <object> TO <grantee>` lines for SHOW GRANTS: one line per object,
/// privileges in StarRocks' order.
pub fn grant_text<'a>(grants: impl IntoIterator<Item = &'a Grant>, grantee: &str) -> Vec<String> {
    let mut by_object: std::collections::BTreeMap<&GrantObject, Vec<Privilege>> =
        Default::default();
    for g in grants {
        by_object.entry(&g.object).or_default().push(g.privilege);
    }
    by_object
        .into_iter()
        .map(|(object, mut privileges)| {
            let order = privileges_of(kind_of(object));
            privileges.sort_by_key(|p| order.iter().position(|o| o == p));
            let names: Vec<&str> = privileges.iter().map(|p| p.name()).collect();
            format!(
                "GRANT {} ON {} TO {grantee}",
                names.join(", "),
                object_text(object)
            )
        })
        .collect()
}

fn object_text(object: &GrantObject) -> String {
    match object {
        GrantObject::System => "SYSTEM".into(),
        GrantObject::Catalog(c) => format!("CATALOG {c}"),
        GrantObject::Database(d) => format!("DATABASE {d}"),
        GrantObject::AllDatabases => "ALL DATABASES".into(),
        GrantObject::Table {
            database: Some(d),
            table,
        } => format!("TABLE {d}.{table}"),
        GrantObject::Table {
            database: None,
            table,
        } => format!("TABLE {table}"),
        GrantObject::AllTablesIn(d) => format!("ALL TABLES IN DATABASE {d}"),
        GrantObject::AllTablesInAllDatabases => "ALL TABLES IN ALL DATABASES".into(),
        GrantObject::User(u) => format!("USER {u}"),
        GrantObject::AllUsers => "ALL USERS".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_objects_cover_what_they_name() {
        let t = GrantObject::Table {
            database: Some("db".into()),
            table: "t".into(),
        };
        assert!(covers(&t, &Target::table("db", "t")));
        assert!(!covers(&t, &Target::table("db", "u")));
        assert!(!covers(&t, &Target::table("db2", "t")));
        assert!(covers(
            &GrantObject::AllTablesIn("db".into()),
            &Target::table("db", "u")
        ));
        assert!(!covers(
            &GrantObject::AllTablesIn("db".into()),
            &Target::table("x", "u")
        ));
        assert!(covers(
            &GrantObject::AllTablesInAllDatabases,
            &Target::table("x", "u")
        ));
        assert!(!covers(
            &GrantObject::AllTablesInAllDatabases,
            &Target::Database("x".into())
        ));
        assert!(covers(
            &GrantObject::AllDatabases,
            &Target::Database("x".into())
        ));
        assert!(!covers(
            &GrantObject::Database("db".into()),
            &Target::table("db", "t")
        ));
        assert!(!covers(&GrantObject::System, &Target::Catalog));
    }

    #[test]
    fn all_expands_and_wrong_privileges_are_refused() {
        let grants = expand(&[Privilege::All], &GrantObject::System).unwrap();
        assert_eq!(grants.len(), 6);
        assert!(expand(&[Privilege::Select], &GrantObject::System).is_err());
        assert!(
            expand(
                &[Privilege::Repository],
                &GrantObject::AllTablesIn("d".into())
            )
            .is_err()
        );
        assert!(
            expand(
                &[Privilege::CreateDatabase],
                &GrantObject::Catalog("other".into())
            )
            .is_err()
        );
    }

    #[test]
    fn show_grants_lines_group_by_object() {
        let object = GrantObject::AllTablesIn("sales".into());
        let grants = expand(&[Privilege::Export, Privilege::Select], &object).unwrap();
        assert_eq!(
            grant_text(&grants, "ROLE 'r'"),
            vec!["GRANT SELECT, EXPORT ON ALL TABLES IN DATABASE sales TO ROLE 'r'".to_string()]
        );
    }
}
