//! Repositories: CREATE / DROP / SHOW REPOSITORY and SHOW SNAPSHOT (read from storage only).

use super::*;
use crate::continuous::read::RestorableRange;

impl BackupService {
    /// CREATE REPOSITORY: checks the name, the location and the properties, then reaches the
    /// storage (bounded in time), adopting a repository already there.
    pub async fn create_repository(&self, stmt: &CreateRepository) -> Result<()> {
        if !valid_repository_name(&stmt.name) {
            return Err(BackupError::analysis(format!(
                "Incorrect repository name '{}'",
                stmt.name
            )));
        }
        if stmt.location.trim().is_empty() {
            return Err(BackupError::analysis(
                "You must specify a location on the repository",
            ));
        }
        if let Some(broker) = &stmt.broker {
            return Err(BackupError::ddl(format!(
                "broker does not exist: {broker} (snaprock reaches storage directly: write WITH \
                 BROKER without a name)"
            )));
        }
        if self.repository(&stmt.name).is_some() {
            return Err(BackupError::ddl(format!(
                "Failed to create repository: repository with same name already exist: {}",
                stmt.name
            )));
        }
        let location = Location::parse(&stmt.location, &stmt.properties)
            .map_err(|e| BackupError::ddl(format!("Failed to create repository: {e}")))?;
        let store = open_store(&location, &self.store_context()).await;
        let now = show_time(now_ms());
        let create_time = match tokio::time::timeout(
            CREATE_REPOSITORY_TIMEOUT,
            init_remote(store.as_ref(), &stmt.name, stmt.read_only, &now),
        )
        .await
        {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: {e}"
                )));
            }
            Err(_) => {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: no answer from the storage of {} within {} \
                     seconds",
                    stmt.location,
                    CREATE_REPOSITORY_TIMEOUT.as_secs()
                )));
            }
        };
        {
            let mut s = self.lock();
            if s.repositories.contains_key(&stmt.name) {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: repository with same name already exist: {}",
                    stmt.name
                )));
            }
            s.next_id += 1;
            let record = RepositoryRecord {
                id: s.next_id,
                name: stmt.name.clone(),
                read_only: stmt.read_only,
                location: stmt.location.clone(),
                broker: None,
                create_time: create_time.clone(),
                properties: stmt.properties.clone(),
            };
            let repo = Repository {
                id: record.id,
                name: record.name.clone(),
                read_only: record.read_only,
                location: record.location.clone(),
                broker: None,
                create_time,
                store,
            };
            self.mount(&repo);
            s.repositories
                .insert(stmt.name.clone(), (Arc::new(repo), record));
        }
        self.save()?;
        info!(repository = %stmt.name, "repository created");
        Ok(())
    }

    /// DROP REPOSITORY: forgets the repository; never deletes remote data.
    pub fn drop_repository(&self, name: &str) -> Result<()> {
        {
            let mut s = self.lock();
            if !s.repositories.contains_key(name) {
                return Err(BackupError::analysis("Repository does not exist"));
            }
            if s.all_jobs().any(|j| !j.is_done() && j.repository() == name) {
                return Err(BackupError::ddl(
                    "Backup or restore job is running on this repository. Can not drop it",
                ));
            }
            let attached = self.attached_databases(name);
            if !attached.is_empty() {
                return Err(BackupError::ddl(format!(
                    "Repository {name} is read by database {} (attached from a snapshot): drop \
                     that database first",
                    attached.join(", ")
                )));
            }
            s.repositories.remove(name);
            self.catalog.files().unmount_repository(name);
        }
        self.save()?;
        info!(repository = %name, "repository dropped");
        Ok(())
    }

    /// SHOW REPOSITORIES: the 7 columns of §2.1.
    pub fn show_repositories(&self) -> Rows {
        let s = self.lock();
        let rows = s
            .repositories
            .values()
            .map(|(r, _)| {
                vec![
                    Some(r.id.to_string()),
                    Some(r.name.clone()),
                    Some(r.create_time.clone()),
                    Some(r.read_only.to_string()),
                    Some(r.location.clone()),
                    r.broker.clone(),
                    None,
                ]
            })
            .collect();
        Rows {
            columns: vec![
                "RepoId",
                "RepoName",
                "CreateTime",
                "IsReadOnly",
                "Location",
                "Broker",
                "ErrMsg",
            ],
            rows,
        }
    }

    /// SHOW SNAPSHOT ON repo [WHERE ...], read from storage only.
    pub async fn show_snapshot(&self, repository: &str, filter: &SnapshotFilter) -> Result<Rows> {
        let Some(repo) = self.repository(repository) else {
            return Err(BackupError::analysis(format!(
                "Repository [{repository}] does not exist"
            )));
        };
        let list_columns = vec![
            "Snapshot",
            "Timestamp",
            "Status",
            "ClusterId",
            "FinishTime",
            "TTL",
            "ExpireTime",
        ];
        match filter {
            SnapshotFilter::Invalid(message) => Err(BackupError::semantic(message)),
            SnapshotFilter::All | SnapshotFilter::In(_) => {
                let names = repo.snapshot_names().await.map_err(|e| {
                    BackupError::ddl(format!(
                        "Failed to list snapshot in repo: {repository}, err: {e}"
                    ))
                })?;
                let mut rows = Vec::new();
                for name in names {
                    if let SnapshotFilter::In(wanted) = filter
                        && !wanted.contains(&name)
                    {
                        continue;
                    }
                    rows.push(listing_row(&repo, &name).await);
                }
                Ok(Rows {
                    columns: list_columns,
                    rows,
                })
            }
            SnapshotFilter::Name(name) => Ok(Rows {
                columns: list_columns,
                rows: vec![listing_row(&repo, name).await],
            }),
            SnapshotFilter::NameAndTimestamp { name, timestamp } => {
                let row = match repo.read_info(name, timestamp).await {
                    Ok(info) => vec![
                        Some(name.clone()),
                        Some(timestamp.clone()),
                        Some(info.database.clone()),
                        Some(info.brief(continuous_range(&repo, name, &info).await)),
                        Some("OK".to_string()),
                    ],
                    Err(e) => vec![
                        Some(name.clone()),
                        Some(timestamp.clone()),
                        None,
                        None,
                        Some(format!("Failed to get info: {e}")),
                    ],
                };
                Ok(Rows {
                    columns: vec!["Snapshot", "Timestamp", "Database", "Details", "Status"],
                    rows: vec![row],
                })
            }
        }
    }
}

/// One row of the SHOW SNAPSHOT list: the snapshot, its timestamps, and StarRocks 4.2's
/// ClusterId, FinishTime, TTL and ExpireTime read from each timestamp's info file (one line
/// per timestamp, as the Timestamp column).
async fn listing_row(repo: &Repository, name: &str) -> Vec<Option<String>> {
    let listing = match repo.snapshot_listing(name).await {
        Ok(listing) => listing,
        Err(e) => {
            let mut row = vec![
                Some(name.to_string()),
                None,
                Some(format!("ERROR: Failed to get info: {e}")),
            ];
            row.extend([None, None, None, None]);
            return row;
        }
    };
    let mut extra: [Vec<String>; 4] = Default::default();
    for timestamp in listing
        .timestamps
        .iter()
        .filter(|t| !t.starts_with("Invalid"))
    {
        let info = repo.read_info_file(name, timestamp).await.ok();
        // A continuous snapshot's FinishTime is where its range ends (so far, while it runs).
        let range = match &info {
            Some(i) => continuous_range(repo, name, i).await,
            None => None,
        };
        let info = info.as_ref();
        let time = |t: Option<i64>| t.map(show_time).unwrap_or_default();
        extra[0].push(info.and_then(|i| i.cluster_id.clone()).unwrap_or_default());
        let finish = range
            .map(|r| r.until_ms)
            .or(info.and_then(|i| i.finish_time));
        extra[1].push(time(finish));
        extra[2].push(info.and_then(|i| i.ttl.clone()).unwrap_or_default());
        extra[3].push(time(info.and_then(|i| i.expire_time)));
    }
    let status = if listing.valid {
        "OK"
    } else {
        "ERROR: no snapshot"
    };
    let mut row = vec![
        Some(name.to_string()),
        Some(listing.timestamps.join("\n")),
        Some(status.to_string()),
    ];
    row.extend(extra.into_iter().map(|lines| Some(lines.join("\n"))));
    row
}

/// The restorable range of a continuous snapshot (`None` for any other).
async fn continuous_range(
    repo: &Repository,
    name: &str,
    info: &crate::format::SnapshotInfo,
) -> Option<RestorableRange> {
    if !info.snaprock.as_ref().is_some_and(|e| e.continuous) {
        return None;
    }
    let base = repo.continuous_info(name).await.ok()??;
    repo.restorable_range(name, &base).await.ok()
}

/// StarRocks' common-name rule for repositories.
fn valid_repository_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    match bytes {
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            rest.len() <= 63 && rest.iter().all(word)
        }
        [b'_', second, rest @ ..] => {
            second.is_ascii_alphanumeric() && rest.len() <= 62 && rest.iter().all(word)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in ["test_repo", "r", "_a1", "Repo_2"] {
            assert!(valid_repository_name(ok), "{ok}");
        }
        for bad in ["", "1repo", "a:repo", "_", "__x", "a-b"] {
            assert!(!valid_repository_name(bad), "{bad}");
        }
    }
}
