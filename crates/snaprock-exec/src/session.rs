//! A client session: current database, variables, warnings; runs the statements of a query.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use snaprock_access::Effective;
use snaprock_sql::ast::UserIdentity;
use snaprock_sql::ast::{ObjectName, Statement};
use snaprock_sql::{parse_statement, redact_secrets, split_statements};
use tokio::sync::watch;
use tracing::{Instrument, debug, info_span};

use crate::authorize::{authorize, check_sees_database};
use crate::df::rewrite::SessionValues;
use crate::engine::{ConnectionInfo, Engine, KillRequest};
use crate::result::{Output, OutputColumn};
use crate::variables::VarValue;
use crate::{ExecError, Result};

/// A warning for SHOW WARNINGS.
#[derive(Debug, Clone)]
pub struct Warning {
    pub level: &'static str,
    pub code: u16,
    pub message: String,
}

/// One client's session.
pub struct Session {
    pub(crate) engine: Arc<Engine>,
    pub(crate) conn: Arc<ConnectionInfo>,
    pub(crate) current_db: Option<String>,
    pub(crate) session_vars: BTreeMap<&'static str, VarValue>,
    pub(crate) user_vars: HashMap<String, VarValue>,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) df: SessionContext,
    kill: watch::Receiver<KillRequest>,
    /// The account this session logged in as.
    pub(crate) identity: UserIdentity,
    /// Roles activated (at login: the default roles; then SET ROLE).
    pub(crate) active_roles: BTreeSet<String>,
    /// Whether its statements count in `/metrics` (not the console's own SHOW statements).
    pub(crate) counted: bool,
    /// The label of the INSERT running now (`INSERT ... WITH LABEL l`), for its write.
    pub(crate) load_label: Option<String>,
}

impl Session {
    /// A session of account `identity` for connection `conn` (registered with the engine by the
    /// caller), with the account's default roles active (all its roles when the global
    /// `activate_all_roles_on_login` is on).
    pub fn new(engine: Arc<Engine>, conn: Arc<ConnectionInfo>, identity: UserIdentity) -> Self {
        let kill = conn.kill_receiver();
        let activate_all = engine
            .globals
            .get("activate_all_roles_on_login")
            .is_ok_and(|v| v == VarValue::Int(1));
        let active_roles = engine
            .access
            .snapshot()
            .login_roles(&identity, activate_all);
        // What a session takes from the globals when it connects and keeps, as in MySQL.
        let session_vars = ["max_allowed_packet", "wait_timeout"]
            .into_iter()
            .filter_map(|name| Some((name, engine.globals.get(name).ok()?)))
            .collect();
        Session {
            identity,
            active_roles,
            df: crate::df::new_datafusion_context(&engine.runtime),
            engine,
            conn,
            current_db: None,
            session_vars,
            user_vars: HashMap::new(),
            warnings: Vec::new(),
            kill,
            counted: true,
            load_label: None,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn connection_id(&self) -> u32 {
        self.conn.id
    }

    pub fn user(&self) -> &str {
        &self.conn.user
    }

    /// The account, as `'user'@'host'` (CURRENT_USER()).
    pub fn identity_text(&self) -> String {
        self.identity.to_string()
    }

    /// What this session may do now (grants are looked up again for every statement).
    pub(crate) fn privileges(&self) -> Effective {
        self.engine
            .access
            .snapshot()
            .effective(&self.identity, &self.active_roles)
    }

    /// `[db.]name` → (database, name), using the current database.
    pub(crate) fn resolve(&self, name: &ObjectName) -> Result<(String, String)> {
        let db = match &name.database {
            Some(db) => db.clone(),
            None => self
                .current_db
                .clone()
                .ok_or(ExecError::NoDatabaseSelected)?,
        };
        Ok((db, name.name.clone()))
    }

    pub fn current_database(&self) -> Option<&str> {
        self.current_db.as_deref()
    }

    /// Whether a KILL CONNECTION asked this session to end.
    pub fn is_killed(&self) -> bool {
        *self.kill.borrow() == KillRequest::Connection
    }

    /// USE db / COM_INIT_DB / a database in the handshake; `default_catalog.db` too (clients
    /// send USE's text as COM_INIT_DB, and StarRocks' JDBC URLs name the catalog).
    pub fn use_database(&mut self, db: &str) -> Result<()> {
        let state = self.engine.catalog.snapshot();
        let db = match db.split_once('.') {
            Some((catalog, name)) if state.database(db).is_none() => {
                crate::df::catalog_provider::check_catalog(catalog)?;
                name
            }
            _ => db,
        };
        check_sees_database(self, db)?;
        if !db.eq_ignore_ascii_case(crate::df::catalog_provider::INFORMATION_SCHEMA)
            && state.database(db).is_none()
        {
            return Err(ExecError::UnknownDatabase(db.to_string()));
        }
        let db = if db.eq_ignore_ascii_case(crate::df::catalog_provider::INFORMATION_SCHEMA) {
            crate::df::catalog_provider::INFORMATION_SCHEMA.to_string()
        } else {
            db.to_string()
        };
        self.conn.set_database(Some(db.clone()));
        self.current_db = Some(db);
        Ok(())
    }

    /// Runs every statement of `sql` in order, stopping at the first error (as MySQL does).
    pub async fn execute(&mut self, sql: &str) -> Vec<Result<Output>> {
        let statements = match split_statements(sql) {
            Ok(s) => s,
            Err(e) => return vec![Err(e.into())],
        };
        if statements.is_empty() {
            return vec![Err(ExecError::EmptyQuery)];
        }
        let mut outputs = Vec::with_capacity(statements.len());
        for text in statements {
            let result = self.execute_one(text).await;
            let failed = result.is_err();
            outputs.push(result);
            if failed {
                break;
            }
        }
        outputs
    }

    /// Runs one statement.
    pub async fn execute_one(&mut self, sql: &str) -> Result<Output> {
        self.run_tracked(sql, parse_statement(sql).map_err(ExecError::from), None)
            .await
    }

    /// Runs a parsed statement as a query of this session: counted, shown in the process list,
    /// traced, authorized, killable. `params` are the values of a prepared statement's
    /// placeholders.
    pub(crate) async fn run_tracked(
        &mut self,
        sql: &str,
        statement: Result<Statement>,
        params: Option<Vec<ScalarValue>>,
    ) -> Result<Output> {
        let query_id = self
            .engine
            .queries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.conn.set_command(
            "Query",
            Some(redact_secrets(sql).chars().take(200).collect()),
        );
        // One span per statement: its query id and kind, never its text (it can hold secrets).
        let span = info_span!(
            "statement",
            conn = self.conn.id,
            query_id,
            kind = tracing::field::Empty
        );
        let started = std::time::Instant::now();
        let mut kind = "unparsed";
        let result = async {
            let statement = statement?;
            kind = statement.kind();
            tracing::Span::current().record("kind", kind);
            debug!("statement started");
            if !matches!(
                statement,
                Statement::Show(
                    snaprock_sql::ast::Show::Warnings | snaprock_sql::ast::Show::Errors
                )
            ) {
                self.warnings.clear();
            }
            authorize(self, &statement)?;
            self.kill.mark_unchanged();
            let mut kill = self.kill.clone();
            tokio::select! {
                r = crate::statements::dispatch(self, statement, sql, params) => r,
                _ = wait_for_kill(&mut kill) => Err(ExecError::Interrupted),
            }
        }
        .instrument(span)
        .await;
        crate::statements::release_statement_context(self);
        if self.counted {
            self.engine
                .metrics
                .statement(kind, started.elapsed(), result.is_err());
        }
        self.conn.set_command("Sleep", None);
        if *self.kill.borrow() == KillRequest::Query {
            self.conn.kill.send_replace(KillRequest::None);
        }
        result
    }

    /// An interactive client (the `mysql` CLI) idles up to `interactive_timeout`, as in MySQL:
    /// its session's `wait_timeout` starts from that.
    pub fn use_interactive_timeout(&mut self) {
        if let Ok(value) = self.engine.globals.get("interactive_timeout") {
            self.session_vars.insert("wait_timeout", value);
        }
    }

    /// A numeric system variable as this session sees it (`None` if it is not a number).
    pub fn number_variable(&self, name: &str) -> Option<u64> {
        self.variable(name).ok()?.as_u64()
    }

    /// A system variable's value as this session sees it.
    pub fn variable(&self, name: &str) -> Result<VarValue> {
        let lower = name.to_ascii_lowercase();
        if let Some(v) = self.session_vars.get(lower.as_str()) {
            return Ok(v.clone());
        }
        self.engine.globals.get(&lower)
    }

    /// Column definitions of a table for COM_FIELD_LIST.
    pub fn field_list(&self, table: &str) -> Result<Vec<OutputColumn>> {
        let db = self
            .current_db
            .clone()
            .ok_or(ExecError::NoDatabaseSelected)?;
        if !self.privileges().sees_table(&db, table) {
            // As for a table that does not exist: nothing about it is revealed.
            return Err(ExecError::UnknownTable(format!("{db}.{table}")));
        }
        let state = self.engine.catalog.snapshot();
        let t = state
            .table(&db, table)
            .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table}")))?;
        let schema = t.arrow_schema();
        Ok(t.columns
            .iter()
            .zip(schema.fields().iter())
            .map(|(c, f)| OutputColumn {
                name: c.name.clone(),
                table: t.name.clone(),
                field: f.as_ref().clone(),
            })
            .collect())
    }

    /// COM_STATISTICS text.
    pub fn statistics(&self) -> String {
        let uptime = self.engine.started.elapsed().as_secs();
        let threads = self.engine.connections().len();
        let queries = self.engine.queries();
        let tables: usize = self
            .engine
            .catalog
            .snapshot()
            .databases
            .values()
            .map(|d| d.tables.len())
            .sum();
        format!(
            "Uptime: {uptime}  Threads: {threads}  Questions: {queries}  Slow queries: 0  Opens: 0  \
             Flush tables: 0  Open tables: {tables}  Queries per second avg: {:.3}",
            queries as f64 / uptime.max(1) as f64
        )
    }

    /// Number of warnings of the last statement (for the OK packet).
    pub fn warning_count(&self) -> u16 {
        self.warnings.len().min(u16::MAX as usize) as u16
    }

    /// Forgets session state (COM_RESET_CONNECTION).
    pub fn reset(&mut self) {
        self.session_vars.clear();
        self.user_vars.clear();
        self.warnings.clear();
    }
}

async fn wait_for_kill(kill: &mut watch::Receiver<KillRequest>) {
    loop {
        if kill.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        if *kill.borrow() != KillRequest::None {
            return;
        }
    }
}

impl SessionValues for Session {
    fn system_variable(&self, name: &str, global: bool) -> Result<VarValue> {
        if global {
            self.engine.globals.get(name)
        } else {
            self.variable(name)
        }
    }

    fn user_variable(&self, name: &str) -> VarValue {
        self.user_vars
            .get(&name.to_lowercase())
            .cloned()
            .unwrap_or(VarValue::Null)
    }

    fn current_database(&self) -> Option<String> {
        self.current_db.clone()
    }

    fn user_at_host(&self) -> String {
        format!("{}@{}", self.conn.user, self.conn.host)
    }

    fn current_user(&self) -> String {
        self.identity.to_string()
    }

    fn check_view_read(&self, db: &str, view: &str) -> Result<()> {
        let target = snaprock_access::Target::table(db, view);
        Ok(self
            .privileges()
            .check(snaprock_sql::ast::Privilege::Select, &target)?)
    }

    fn current_role(&self) -> String {
        let roles = self.privileges().current_roles;
        if roles.is_empty() {
            "NONE".into()
        } else {
            roles.join(", ")
        }
    }

    fn role_in_session(&self, role: &str) -> bool {
        self.privileges().roles_in_session().contains(role)
    }

    fn connection_id(&self) -> u32 {
        self.conn.id
    }
}
