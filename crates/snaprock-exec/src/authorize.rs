//! The privilege check every statement passes before it runs (StarRocks' `AuthorizerStmtVisitor`;
//! §5 of the backup/restore spec for the backup statements). The matches are exhaustive: a new
//! statement does not compile until it says what it needs.
//!
//! Tables a query reads are checked where the planner resolves them (`catalog_provider`), after
//! CTE names are told apart from tables; this module checks everything else.

use snaprock_access::{Effective, Target};
use snaprock_sql::ast::{
    AccessStatement, BackupStatement, GrantsTarget, MaterializedViewStatement, ObjectKind,
    ObjectName, Privilege, Recover, RestoreStatement, SetItem, Show, Statement,
    StorageVolumeStatement, VariableScope,
};

use crate::session::Session;
use crate::{ExecError, Result};

/// Every privilege a table has: SHOW CREATE TABLE, DESCRIBE, ... need any one of them.
const ANY_TABLE_PRIVILEGE: &[Privilege] = &[
    Privilege::Select,
    Privilege::Insert,
    Privilege::Delete,
    Privilege::Update,
    Privilege::Drop,
    Privilege::Alter,
    Privilege::Export,
];

/// Ok if this session may run `statement`; otherwise the denial, and nothing has run.
pub(crate) fn authorize(session: &Session, statement: &Statement) -> Result<()> {
    let p = session.privileges();
    let system = |privilege| p.check(privilege, &Target::System);
    match statement {
        // Reads and the DML target are checked as the planner resolves the tables.
        Statement::Standard(_)
        | Statement::InsertOverwrite { .. }
        | Statement::InsertByName { .. } => Ok(()),
        // USE / COM_INIT_DB check in `use_database`.
        Statement::Use { .. } | Statement::SetCatalog(_) => Ok(()),
        Statement::Labeled { statement, .. } => authorize(session, statement),
        Statement::Transaction(_) | Statement::Ignored(_) => Ok(()),
        Statement::Set(items) => {
            for item in items {
                if let SetItem::Variable {
                    scope: VariableScope::Global,
                    ..
                } = item
                {
                    system(Privilege::Operate)?;
                }
            }
            Ok(())
        }
        Statement::Kill { connection_id, .. } => {
            let own = session
                .engine
                .connections()
                .iter()
                .any(|c| u64::from(c.id) == *connection_id && c.user == session.conn.user);
            if !own {
                system(Privilege::Operate)?;
            }
            Ok(())
        }
        Statement::Show(show) => authorize_show(session, &p, show),
        Statement::CreateDatabase { .. } => {
            Ok(p.check(Privilege::CreateDatabase, &Target::Catalog)?)
        }
        Statement::DropDatabase { name, .. } => {
            Ok(p.check(Privilege::Drop, &Target::Database(name.clone()))?)
        }
        // As StarRocks: a database comes back with CREATE DATABASE, a table with CREATE TABLE
        // on its database, a partition with INSERT and ALTER on its table.
        // StarRocks: ADMIN statements need OPERATE on the system.
        Statement::AdminSetConfig { .. } | Statement::AdminShowConfig { .. } => {
            Ok(system(Privilege::Operate)?)
        }
        Statement::Recover(Recover::Database(_)) => {
            Ok(p.check(Privilege::CreateDatabase, &Target::Catalog)?)
        }
        Statement::Recover(Recover::Table(name)) => {
            let (db, _) = session.resolve(name)?;
            Ok(p.check(Privilege::CreateTable, &Target::Database(db))?)
        }
        Statement::Recover(Recover::Partition { table, .. }) => {
            check_table(session, &p, Privilege::Insert, table)?;
            check_table(session, &p, Privilege::Alter, table)
        }
        Statement::CreateTable(create) => {
            let (db, _) = session.resolve(&create.name)?;
            // The rows of CREATE TABLE AS SELECT are inserted by a checked INSERT.
            Ok(p.check(Privilege::CreateTable, &Target::Database(db))?)
        }
        Statement::CreateTableLike { name, like, .. } => {
            let (db, _) = session.resolve(name)?;
            p.check(Privilege::CreateTable, &Target::Database(db))?;
            let (like_db, like_table) = session.resolve(like)?;
            Ok(p.check(Privilege::Select, &Target::table(&like_db, &like_table))?)
        }
        Statement::CreateView(view) => {
            let (db, _) = session.resolve(&view.name)?;
            // The view's query is planned with this session's privileges (SELECT on what
            // it reads) before the view is stored.
            Ok(p.check(Privilege::CreateView, &Target::Database(db))?)
        }
        Statement::DropTable { name, .. } | Statement::DropView { name, .. } => {
            check_table(session, &p, Privilege::Drop, name)
        }
        Statement::TruncateTable { name, .. } => check_table(session, &p, Privilege::Delete, name),
        // StarRocks: SELECT and INSERT on the table.
        Statement::Analyze(analyze) => {
            check_table(session, &p, Privilege::Select, &analyze.table)?;
            check_table(session, &p, Privilege::Insert, &analyze.table)
        }
        Statement::DropStats(table) => check_table(session, &p, Privilege::Insert, table),
        Statement::AddPartition { table, .. }
        | Statement::DropPartition { table, .. }
        | Statement::DropPartitions { table, .. }
        | Statement::DropPartitionsWhere { table, .. }
        | Statement::AlterTable { table, .. } => check_table(session, &p, Privilege::Alter, table),
        // Attaching reads a repository; the database is then one like any other.
        Statement::AttachSnapshot(_) | Statement::CheckSnapshot(_) | Statement::DropSnapshot(_) => {
            Ok(system(Privilege::Repository)?)
        }
        Statement::CreateRepository(_) | Statement::DropRepository { .. } => {
            Ok(system(Privilege::Repository)?)
        }
        // StarRocks: SHOW needs nothing; the rest need the volume administrator's privilege
        // (StarRocks grants USAGE/ALTER/DROP per volume; here one system privilege covers them).
        Statement::StorageVolume(stmt) => match stmt.as_ref() {
            StorageVolumeStatement::Show { .. } => Ok(()),
            _ => Ok(system(Privilege::CreateStorageVolume)?),
        },
        Statement::Backup(stmt) => {
            system(Privilege::Repository)?;
            authorize_backup(session, &p, stmt)
        }
        Statement::Restore(stmt) => {
            system(Privilege::Repository)?;
            authorize_restore(session, &p, stmt)
        }
        Statement::CancelBackup { .. } => Ok(system(Privilege::Repository)?),
        Statement::Access(stmt) => authorize_access(session, &p, stmt),
        // What the statement needs, now; each run checks again as the task's creator.
        Statement::SubmitTask(task) => authorize(session, &task.statement),
        // Its creator, or whoever may run its statement.
        Statement::DropTask { name, .. } => match session.engine.tasks.task(name) {
            Some(task) if task.creator != session.identity => {
                authorize(session, &snaprock_sql::parse_statement(&task.definition)?)
            }
            _ => Ok(()),
        },
        Statement::MaterializedView(mv) => authorize_materialized_view(session, &p, mv),
    }
}

/// As StarRocks: CREATE MATERIALIZED VIEW on the database (the query is planned with the
/// session's privileges, so it needs SELECT on what it reads), DROP / ALTER / REFRESH on the
/// view.
fn authorize_materialized_view(
    session: &Session,
    p: &Effective,
    mv: &MaterializedViewStatement,
) -> Result<()> {
    match mv {
        MaterializedViewStatement::Create(create) => {
            let (db, _) = session.resolve(&create.name)?;
            Ok(p.check(Privilege::CreateMaterializedView, &Target::Database(db))?)
        }
        MaterializedViewStatement::Drop { name, .. } => {
            check_table(session, p, Privilege::Drop, name)
        }
        MaterializedViewStatement::Alter { name, .. } => {
            check_table(session, p, Privilege::Alter, name)
        }
        MaterializedViewStatement::Refresh { name, .. }
        | MaterializedViewStatement::CancelRefresh { name } => {
            check_table(session, p, Privilege::Refresh, name)
        }
    }
}

fn check_table(
    session: &Session,
    p: &Effective,
    privilege: Privilege,
    name: &ObjectName,
) -> Result<()> {
    let (db, table) = session.resolve(name)?;
    Ok(p.check(privilege, &Target::table(&db, &table))?)
}

fn check_sees_table(session: &Session, p: &Effective, name: &ObjectName) -> Result<()> {
    let (db, table) = session.resolve(name)?;
    Ok(p.check_any(ANY_TABLE_PRIVILEGE, &Target::table(&db, &table))?)
}

/// MySQL's 1044 for a database the session holds nothing on.
pub(crate) fn check_sees_database(session: &Session, db: &str) -> Result<()> {
    if db.eq_ignore_ascii_case(crate::df::catalog_provider::INFORMATION_SCHEMA)
        || session.privileges().sees_database(db)
    {
        return Ok(());
    }
    Err(ExecError::DatabaseAccessDenied {
        user: session.identity.user.clone(),
        host: session.identity.host.clone(),
        database: db.to_string(),
    })
}

fn authorize_show(session: &Session, p: &Effective, show: &Show) -> Result<()> {
    let system = |privilege| p.check(privilege, &Target::System);
    match show {
        // Filtered to what the session may see where they are answered.
        Show::Databases { .. } | Show::Processlist { .. } => Ok(()),
        // StarRocks: the node lists need OPERATE on the system.
        Show::Backends | Show::Frontends | Show::Proc(_) => Ok(system(Privilege::Operate)?),
        Show::Tables { database, .. } | Show::TableStatus { database, .. } => {
            match database.clone().or_else(|| session.current_db.clone()) {
                Some(db) => check_sees_database(session, &db),
                None => Ok(()),
            }
        }
        Show::Columns { table, .. }
        | Show::DescribeAll { table }
        | Show::CreateTable { table }
        | Show::Index { table }
        | Show::Partitions { table, .. }
        | Show::Tablet { table } => check_sees_table(session, p, table),
        Show::Data { table: Some(table) } => check_sees_table(session, p, table),
        // The tables listed are the ones the session may see.
        Show::Data { table: None } => match session.current_db.clone() {
            Some(db) => check_sees_database(session, &db),
            None => Ok(()),
        },
        Show::AlterJobs { database, .. }
        | Show::MaterializedViews { database, .. }
        | Show::Load { database, .. }
        | Show::RoutineLoad { database }
        | Show::Functions {
            database,
            builtin: false,
            global: false,
            ..
        } => {
            match database.clone().or_else(|| session.current_db.clone()) {
                Some(db) => check_sees_database(session, &db),
                None => Ok(()),
            }
        }
        Show::CreateView { view } => check_sees_table(session, p, view),
        Show::CreateDatabase { database } => check_sees_database(session, database),
        Show::Variables { .. }
        | Show::Status { .. }
        | Show::Warnings
        | Show::Errors
        | Show::Engines
        | Show::Catalogs
        | Show::Charset { .. }
        | Show::Collation { .. }
        | Show::ProcedureStatus { .. }
        | Show::Triggers { .. }
        | Show::Events { .. }
        | Show::Plugins
        | Show::Privileges
        | Show::Profiles
        | Show::OpenTables
        // Built-in and global functions belong to no database.
        | Show::Functions { .. }
        // Statistics of the tables the session may see.
        | Show::AnalyzeStatus { .. }
        | Show::StatsMeta { .. } => Ok(()),
        Show::Grants { target } => match target {
            GrantsTarget::CurrentUser => Ok(()),
            GrantsTarget::User(u) if *u == session.identity => Ok(()),
            GrantsTarget::Role(r) if p.current_roles.contains(r) => Ok(()),
            GrantsTarget::User(_) | GrantsTarget::Role(_) => Ok(system(Privilege::Grant)?),
        },
        Show::Users | Show::Roles => Ok(system(Privilege::Grant)?),
        // SHOW REPOSITORIES has no check in StarRocks; it names buckets, so it needs
        // REPOSITORY here like every other repository statement.
        Show::Repositories | Show::Backup { .. } | Show::Restore { .. } | Show::Snapshot { .. } => {
            Ok(system(Privilege::Repository)?)
        }
    }
}

/// EXPORT on every table and view the backup takes.
fn authorize_backup(session: &Session, p: &Effective, stmt: &BackupStatement) -> Result<()> {
    let Some(db) = stmt
        .database
        .clone()
        .or_else(|| stmt.label_database.clone())
        .or_else(|| session.current_db.clone())
    else {
        return Ok(()); // The analysis answers "No database selected".
    };
    let state = session.engine.catalog.snapshot();
    let (tables, views) = match state.database(&db) {
        Some(d) => (
            d.tables.keys().cloned().collect::<Vec<_>>(),
            d.views.keys().cloned().collect::<Vec<_>>(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let names: Vec<String> = match &stmt.objects {
        None => tables.iter().chain(&views).cloned().collect(),
        Some(objects) => {
            let mut names = Vec::new();
            for object in objects {
                match (object.kind, object.all) {
                    (ObjectKind::Function, _) => {}
                    (ObjectKind::Table | ObjectKind::Any, true) => names.extend(tables.clone()),
                    (ObjectKind::View | ObjectKind::MaterializedView, true) => {
                        names.extend(views.clone())
                    }
                    (_, false) => names.push(object.name.name.clone()),
                }
            }
            names
        }
    };
    for name in names {
        p.check(Privilege::Export, &Target::table(&db, &name))?;
    }
    Ok(())
}

/// Without ON: CREATE DATABASE (the restore may create the database). With ON: CREATE TABLE
/// on the target database if it exists (else CREATE DATABASE), INSERT on each table that
/// already exists and would be replaced.
fn authorize_restore(session: &Session, p: &Effective, stmt: &RestoreStatement) -> Result<()> {
    let target_db = stmt
        .label_database
        .clone()
        .or_else(|| stmt.database_alias.clone())
        .or_else(|| stmt.database.clone());
    let state = session.engine.catalog.snapshot();
    let existing = target_db.as_deref().and_then(|d| state.database(d));
    let (Some(objects), Some(db)) = (&stmt.objects, existing) else {
        return Ok(p.check(Privilege::CreateDatabase, &Target::Catalog)?);
    };
    p.check(Privilege::CreateTable, &Target::Database(db.name.clone()))?;
    for object in objects {
        let names: Vec<String> = if object.all {
            db.tables.keys().chain(db.views.keys()).cloned().collect()
        } else {
            vec![
                object
                    .alias
                    .clone()
                    .unwrap_or_else(|| object.name.name.clone()),
            ]
        };
        for name in names {
            if db.tables.contains_key(&name) || db.views.contains_key(&name) {
                p.check(Privilege::Insert, &Target::table(&db.name, &name))?;
            }
        }
    }
    Ok(())
}

fn authorize_access(session: &Session, p: &Effective, stmt: &AccessStatement) -> Result<()> {
    let grant = || -> Result<()> { Ok(p.check(Privilege::Grant, &Target::System)?) };
    match stmt {
        // Users change their own password without GRANT.
        AccessStatement::SetPassword { user, .. } => match user {
            Some(u) if *u != session.identity => grant(),
            _ => Ok(()),
        },
        AccessStatement::AlterUser {
            user,
            default_roles: None,
            ..
        } if *user == session.identity => Ok(()),
        // Checked against the user's granted roles when it runs.
        AccessStatement::SetRole(_) => Ok(()),
        AccessStatement::ExecuteAs { user, .. } => {
            Ok(p.check(Privilege::Impersonate, &Target::User(user.clone()))?)
        }
        AccessStatement::CreateUser { .. }
        | AccessStatement::AlterUser { .. }
        | AccessStatement::DropUser { .. }
        | AccessStatement::SetDefaultRole { .. }
        | AccessStatement::CreateRole { .. }
        | AccessStatement::DropRole { .. }
        | AccessStatement::Grant { .. }
        | AccessStatement::Revoke { .. }
        | AccessStatement::GrantRole { .. }
        | AccessStatement::RevokeRole { .. } => grant(),
    }
}
