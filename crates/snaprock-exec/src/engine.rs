//! The shared server state: catalog, global variables, and the registry of connections.

use datafusion::execution::runtime_env::RuntimeEnv;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snaprock_access::AccessControl;
use snaprock_backup::BackupService;
use snaprock_backup::store::TransferTuning;
use snaprock_storage::{Catalog, CompactionPolicy};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::df::info_schema::ServerSetting;
use crate::metrics::ServerMetrics;
use crate::variables::GlobalVariables;
use crate::{ExecError, Result};

/// What a KILL asked of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillRequest {
    None,
    Query,
    Connection,
}

/// A connection as SHOW PROCESSLIST shows it.
pub struct ConnectionInfo {
    pub id: u32,
    pub user: String,
    pub host: String,
    pub(crate) state: Mutex<ConnectionState>,
    pub(crate) kill: watch::Sender<KillRequest>,
}

pub(crate) struct ConnectionState {
    pub database: Option<String>,
    pub command: &'static str,
    pub since: Instant,
    pub info: Option<String>,
}

impl ConnectionInfo {
    pub(crate) fn set_command(&self, command: &'static str, info: Option<String>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.command = command;
        s.info = info;
        s.since = Instant::now();
    }

    pub(crate) fn set_database(&self, db: Option<String>) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .database = db;
    }

    /// A receiver that sees KILL requests for this connection.
    pub fn kill_receiver(&self) -> watch::Receiver<KillRequest> {
        self.kill.subscribe()
    }
}

/// How long a start waits for another server to let the data directory go.
const DATA_DIR_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Server-wide state shared by every session.
pub struct Engine {
    pub catalog: Arc<Catalog>,
    /// Repositories and backup/restore jobs.
    pub backup: Arc<BackupService>,
    /// Accounts, roles and grants.
    pub access: Arc<AccessControl>,
    /// Scheduled tasks (SUBMIT TASK) and their runs.
    pub(crate) tasks: Arc<crate::tasks::TaskScheduler>,
    /// Finished schema changes (SHOW ALTER TABLE COLUMN).
    pub(crate) alter_jobs: crate::alter_jobs::AlterJobs,
    /// ANALYZE's collections and the tables' statistics.
    pub(crate) statistics: crate::statistics::Statistics,
    pub globals: GlobalVariables,
    pub started: Instant,
    /// What `/metrics` shows.
    pub metrics: ServerMetrics,
    connections: Mutex<BTreeMap<u32, Arc<ConnectionInfo>>>,
    next_connection_id: AtomicU32,
    pub(crate) queries: AtomicU64,
    /// Prepared statements held by all connections.
    prepared_statements: AtomicU64,
    /// DataFusion's runtime, shared by every session: its object stores (the catalog's file
    /// router) and its caches (Parquet footers) serve all of them.
    pub(crate) runtime: Arc<RuntimeEnv>,
    /// The start-up options, as information_schema.be_configs shows them.
    server_settings: std::sync::OnceLock<Vec<ServerSetting>>,
}

impl Engine {
    /// Opens the data directory (creating it if needed). `root_password`, when given, becomes
    /// the password of `root` (see `AccessControl::open`); `transfers` tunes repository
    /// transfers.
    pub async fn open(
        data_dir: &Path,
        root_password: Option<&str>,
        transfers: TransferTuning,
    ) -> Result<Arc<Self>> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            ExecError::Execution(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        // Everything below sees the absolute directory the catalog resolved a relative one to.
        let catalog = open_catalog(data_dir).await?;
        catalog.start_cache_filler();
        let data_dir = catalog.root().to_path_buf();
        let backup = BackupService::open(&data_dir, catalog.clone(), transfers).await?;
        let access = AccessControl::open(&data_dir, root_password)?;
        let runtime = crate::df::new_runtime(&catalog)?;
        let tasks = crate::tasks::TaskScheduler::open(&data_dir)?;
        let metrics = ServerMetrics::new(&backup.metrics);
        let engine = Arc::new(Engine {
            tasks,
            alter_jobs: crate::alter_jobs::AlterJobs::new(),
            statistics: crate::statistics::Statistics::default(),
            runtime,
            catalog,
            backup,
            access,
            globals: GlobalVariables::default(),
            started: Instant::now(),
            connections: Mutex::new(BTreeMap::new()),
            next_connection_id: AtomicU32::new(1),
            queries: AtomicU64::new(0),
            prepared_statements: AtomicU64::new(0),
            metrics,
            server_settings: std::sync::OnceLock::new(),
        });
        engine.metrics.register_state(&engine);
        Ok(engine)
    }

    /// Starts background work (compaction of small files, the backup service's sweeper); it
    /// ends at [`Engine::stop`].
    pub fn start_background_tasks(self: &Arc<Self>, every: Duration) {
        // Expired snapshots and repository garbage collections waiting for jobs to end.
        self.backup.start_sweeper();
        // Backup and restore jobs the server's stop interrupted continue where they were.
        self.backup.resume_jobs();
        // Scheduled tasks: runs due, and runs that were waiting on a resumed backup job.
        self.tasks.start(self);
        // The catalogs of storage volumes: published where this server writes, followed where
        // another server does.
        self.catalog
            .start_volume_sync(self.backup.cluster_id().to_string());
        // The recycle bin forgets drops older than `catalog_trash_expire_second`; files no
        // state lists any more are deleted once the last query reading them let go.
        let weak = Arc::downgrade(self);
        self.catalog.background().spawn(async move {
            use crate::statements::ddl::recycle;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(engine) = weak.upgrade() else { break };
                let keep = engine
                    .globals
                    .number(recycle::TRASH_EXPIRE_SETTING)
                    .unwrap_or(86_400);
                recycle::expire_recycled(&engine.catalog, keep);
                engine.catalog.sweep_retired_files();
            }
        });
        let weak = Arc::downgrade(self);
        self.catalog.background().spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(engine) = weak.upgrade() else { break };
                match engine
                    .catalog
                    .compact_once(CompactionPolicy::default())
                    .await
                {
                    Ok(n) => {
                        engine.metrics.compaction(Ok(n));
                        if n > 0 {
                            info!(partitions = n, "compaction finished");
                        }
                    }
                    Err(e) => {
                        engine.metrics.compaction(Err(()));
                        warn!(error = %e, "compaction pass failed");
                    }
                }
            }
        });
    }

    /// Records the options the server started with (once; later calls change nothing).
    pub fn set_server_settings(&self, settings: Vec<ServerSetting>) {
        let _ = self.server_settings.set(settings);
    }

    pub(crate) fn server_settings(&self) -> &[ServerSetting] {
        self.server_settings.get().map_or(&[], Vec::as_slice)
    }

    /// Stops the background work (jobs, sweepers, scheduled tasks) and waits for it, then
    /// unlocks the data directory. Jobs cut short continue at the next start.
    pub async fn stop(&self) {
        let running = self.backup.running_jobs();
        if running > 0 {
            info!(
                running,
                "stopping: running backup and restore jobs resume at the next start"
            );
        }
        self.catalog.background().stop().await;
    }

    /// Registers a new connection and returns its info (id allocated here).
    pub fn register_connection(&self, user: &str, host: &str) -> Arc<ConnectionInfo> {
        let id = self.next_connection_id.fetch_add(1, Ordering::Relaxed);
        self.register_connection_with_id(id, user, host)
    }

    /// Registers a connection whose id was already announced in the handshake.
    pub fn register_connection_with_id(
        &self,
        id: u32,
        user: &str,
        host: &str,
    ) -> Arc<ConnectionInfo> {
        let info = new_connection_info(id, user, host);
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, info.clone());
        info
    }

    /// A session of the server's own (a scheduled task's run) as account `identity`: its
    /// privileges are the account's, its connection is not listed or counted.
    pub(crate) fn internal_session(
        self: &Arc<Self>,
        identity: snaprock_sql::ast::UserIdentity,
    ) -> crate::session::Session {
        let id = self.allocate_connection_id();
        let conn = new_connection_info(id, &identity.user, "internal");
        crate::session::Session::new(self.clone(), conn, identity)
    }

    /// A session for the console as account `identity`: its SHOW statements show what the
    /// account may see; it is not listed, and its statements are not counted in `/metrics`.
    pub fn console_session(
        self: &Arc<Self>,
        identity: snaprock_sql::ast::UserIdentity,
    ) -> crate::session::Session {
        let mut session = self.internal_session(identity);
        session.counted = false;
        session
    }

    /// Allocates a connection id (announced in the handshake before the user is known).
    /// Counts one more prepared statement server-wide unless `max` are held already (MySQL's
    /// `max_prepared_stmt_count`); `false`: refused.
    pub fn reserve_prepared_statement(&self, max: u64) -> bool {
        self.prepared_statements
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Releases `count` prepared statements (closed, or their connection ended).
    pub fn release_prepared_statements(&self, count: u64) {
        let _ = self
            .prepared_statements
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(count))
            });
    }

    pub fn allocate_connection_id(&self) -> u32 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn unregister_connection(&self, id: u32) {
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    pub(crate) fn connections(&self) -> Vec<Arc<ConnectionInfo>> {
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Connections registered now.
    pub fn connection_count(&self) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    pub(crate) fn kill(&self, id: u64, request: KillRequest) -> Result<()> {
        let conns = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let conn = u32::try_from(id)
            .ok()
            .and_then(|id| conns.get(&id))
            .ok_or(ExecError::UnknownThread(id))?;
        conn.kill.send_replace(request);
        Ok(())
    }

    /// Number of statements run since start.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// A connection's info in its starting state: idle, no database, no KILL asked.
fn new_connection_info(id: u32, user: &str, host: &str) -> Arc<ConnectionInfo> {
    let (kill, _) = watch::channel(KillRequest::None);
    Arc::new(ConnectionInfo {
        id,
        user: user.to_string(),
        host: host.to_string(),
        state: Mutex::new(ConnectionState {
            database: None,
            command: "Sleep",
            since: Instant::now(),
            info: None,
        }),
        kill,
    })
}

/// Opens the catalog, waiting up to [`DATA_DIR_LOCK_WAIT`] for a server that is stopping to
/// let the data directory go.
async fn open_catalog(data_dir: &Path) -> Result<Arc<Catalog>> {
    let deadline = Instant::now() + DATA_DIR_LOCK_WAIT;
    loop {
        match Catalog::open(data_dir) {
            Err(snaprock_storage::StorageError::DataDirInUse { .. })
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return Ok(other?),
        }
    }
}
