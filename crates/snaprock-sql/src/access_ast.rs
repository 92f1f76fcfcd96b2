//! The account, role and privilege statements as the parser hands them over (`access.rs`
//! parses them), and the privilege names StarRocks uses.

use serde::{Deserialize, Serialize};

/// `'user'@'host'`; the host defaults to `%`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserIdentity {
    pub user: String,
    pub host: String,
}

impl std::fmt::Display for UserIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}'@'{}'", self.user, self.host)
    }
}

/// A password as given: plain text (`IDENTIFIED BY 'pw'`, `PASSWORD('pw')`) or the
/// mysql_native_password hash (`IDENTIFIED BY PASSWORD '*HEX'`, `SET PASSWORD = '*HEX'`).
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    Plain(String),
    Hash(String),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Password::Plain(_) => "Plain(<hidden>)",
            Password::Hash(_) => "Hash(<hidden>)",
        })
    }
}

/// The privileges of StarRocks' GRANT that this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Privilege {
    Select,
    Insert,
    Delete,
    Update,
    Drop,
    Alter,
    CreateTable,
    CreateView,
    CreateMaterializedView,
    /// REFRESH of a materialized view (a table privilege here, as views are tables).
    Refresh,
    CreateDatabase,
    Export,
    Repository,
    /// Creating (and here also altering and dropping) storage volumes: a system privilege.
    CreateStorageVolume,
    Grant,
    Node,
    Operate,
    Usage,
    /// Reading server files and object storage with FILES().
    File,
    /// `EXECUTE AS` another user (a privilege on users).
    Impersonate,
    /// `ALL [PRIVILEGES]`: every privilege the object type has.
    All,
}

impl Privilege {
    /// The name as StarRocks writes it (SHOW GRANTS, denial texts).
    pub fn name(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Delete => "DELETE",
            Privilege::Update => "UPDATE",
            Privilege::Drop => "DROP",
            Privilege::Alter => "ALTER",
            Privilege::CreateTable => "CREATE TABLE",
            Privilege::CreateView => "CREATE VIEW",
            Privilege::CreateMaterializedView => "CREATE MATERIALIZED VIEW",
            Privilege::Refresh => "REFRESH",
            Privilege::CreateDatabase => "CREATE DATABASE",
            Privilege::Export => "EXPORT",
            Privilege::Repository => "REPOSITORY",
            Privilege::CreateStorageVolume => "CREATE STORAGE VOLUME",
            Privilege::Grant => "GRANT",
            Privilege::Node => "NODE",
            Privilege::Operate => "OPERATE",
            Privilege::Usage => "USAGE",
            Privilege::File => "FILE",
            Privilege::Impersonate => "IMPERSONATE",
            Privilege::All => "ALL",
        }
    }
}

/// What a GRANT names. Views are tables here (`ON VIEW v` is `ON TABLE v`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GrantObject {
    System,
    /// `CATALOG c` (only `default_catalog` exists).
    Catalog(String),
    /// `DATABASE d`.
    Database(String),
    /// `ALL DATABASES`.
    AllDatabases,
    /// `TABLE [d.]t` (the database is resolved against the current one when absent).
    Table {
        database: Option<String>,
        table: String,
    },
    /// `ALL TABLES IN DATABASE d`.
    AllTablesIn(String),
    /// `ALL TABLES IN ALL DATABASES`.
    AllTablesInAllDatabases,
    /// `USER 'u'@'h'` (IMPERSONATE).
    User(UserIdentity),
    /// `ALL USERS`.
    AllUsers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    User(UserIdentity),
    Role(String),
}

/// `SET ROLE ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSelection {
    Default,
    None,
    All,
    Roles(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessStatement {
    CreateUser {
        user: UserIdentity,
        if_not_exists: bool,
        password: Option<Password>,
        default_roles: Vec<String>,
    },
    AlterUser {
        user: UserIdentity,
        password: Option<Password>,
        default_roles: Option<RoleSelection>,
    },
    /// `SET DEFAULT ROLE {NONE | ALL | r, ...} TO user`.
    SetDefaultRole {
        selection: RoleSelection,
        user: UserIdentity,
    },
    DropUser {
        user: UserIdentity,
        if_exists: bool,
    },
    SetPassword {
        user: Option<UserIdentity>,
        password: Password,
    },
    CreateRole {
        name: String,
        if_not_exists: bool,
    },
    DropRole {
        name: String,
        if_exists: bool,
    },
    Grant {
        privileges: Vec<Privilege>,
        object: GrantObject,
        grantee: Grantee,
    },
    Revoke {
        privileges: Vec<Privilege>,
        object: GrantObject,
        grantee: Grantee,
    },
    GrantRole {
        roles: Vec<String>,
        grantee: Grantee,
    },
    RevokeRole {
        roles: Vec<String>,
        grantee: Grantee,
    },
    SetRole(RoleSelection),
    /// `EXECUTE AS user WITH NO REVERT`: the session goes on as `user`.
    ExecuteAs {
        user: UserIdentity,
        no_revert: bool,
    },
}
