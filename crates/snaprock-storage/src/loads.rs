//! Loads: every INSERT commits a record of itself (its label, table, rows, times) in the same
//! catalog commit as its rows, so a load that committed has its record and one that did not
//! has not, whatever crashes or retries come between. SHOW LOAD and information_schema.loads
//! read these records. A load that fails is recorded CANCELLED with its error, in a commit of
//! its own; its label stays free for a retry.
//!
//! A label (`INSERT ... WITH LABEL l`, or the generated `insert_<uuid>`) commits at most once
//! per database: a retry of a committed load is refused with StarRocks' "Label [l] has already
//! been used." Records are kept as StarRocks keeps them: for `label_keep_max_second` (3 days)
//! and at most the newest `label_keep_max_num` (1000) of a database.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{CatalogState, Result, StorageError};

/// How long a committed label stays used (StarRocks' `label_keep_max_second`: 259200).
pub const LABEL_KEEP_MS: i64 = 259_200_000;
/// The most loads one database keeps (StarRocks' `label_keep_max_num`); the oldest go first.
pub const MAX_LOADS_PER_DATABASE: usize = 1000;

/// One database's committed loads, by label.
pub type LoadHistory = BTreeMap<String, LoadRecord>;

/// A committed load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRecord {
    /// The catalog version the load committed as: its job id and transaction id.
    pub job_id: u64,
    pub table: String,
    /// The account that ran it (`'user'@'host'`).
    pub user: String,
    /// Rows written.
    pub rows: u64,
    /// Bytes of the data files written.
    pub bytes: u64,
    /// When the statement started and when the load committed (ms since the epoch).
    pub created_ms: i64,
    pub committed_ms: i64,
    /// Why the load failed (StarRocks' CANCELLED state): it wrote nothing, and its label can
    /// be used again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LoadRecord {
    /// StarRocks' state of the load.
    pub fn state(&self) -> &'static str {
        if self.error.is_some() {
            "CANCELLED"
        } else {
            "FINISHED"
        }
    }
}

/// What a load tells about itself before it commits.
#[derive(Debug, Clone)]
pub struct NewLoad {
    pub label: String,
    pub table: String,
    pub user: String,
    pub rows: u64,
    pub bytes: u64,
    pub created_ms: i64,
}

/// Records `load` as committed by `database` at `now_ms` in the commit that changes `state`,
/// and answers its job id; fails if the database committed the label within
/// [`LABEL_KEEP_MS`].
pub fn record_load(
    state: &mut CatalogState,
    database: &str,
    load: NewLoad,
    now_ms: i64,
) -> Result<u64> {
    insert_record(state, database, load, now_ms, None)
}

/// Records that `load` failed with `error` (CANCELLED), in a commit of its own; its label stays
/// free. Does nothing if the label belongs to a load that committed.
pub fn record_failed_load(
    state: &mut CatalogState,
    database: &str,
    load: NewLoad,
    error: String,
    now_ms: i64,
) -> Result<u64> {
    insert_record(state, database, load, now_ms, Some(error))
}

fn insert_record(
    state: &mut CatalogState,
    database: &str,
    load: NewLoad,
    now_ms: i64,
    error: Option<String>,
) -> Result<u64> {
    let job_id = state.version + 1;
    let history = Arc::make_mut(state.loads.entry(database.to_string()).or_default());
    history.retain(|_, load| now_ms - load.committed_ms < LABEL_KEEP_MS);
    if history.get(&load.label).is_some_and(|l| l.error.is_none()) {
        return Err(StorageError::LabelAlreadyUsed(load.label));
    }
    history.insert(
        load.label,
        LoadRecord {
            job_id,
            table: load.table,
            user: load.user,
            rows: load.rows,
            bytes: load.bytes,
            created_ms: load.created_ms,
            committed_ms: now_ms,
            error,
        },
    );
    while history.len() > MAX_LOADS_PER_DATABASE {
        let Some(oldest) = history
            .iter()
            .min_by_key(|(_, load)| load.job_id)
            .map(|(label, _)| label.clone())
        else {
            break;
        };
        history.remove(&oldest);
    }
    Ok(job_id)
}

/// Catalogs written before loads had records kept only their labels' commit times.
pub(crate) fn upgrade_labels(state: &mut CatalogState) {
    for (database, labels) in std::mem::take(&mut state.legacy_labels) {
        let history = Arc::make_mut(state.loads.entry(database).or_default());
        for (label, committed_ms) in labels {
            history.entry(label).or_insert(LoadRecord {
                job_id: 0,
                table: String::new(),
                user: String::new(),
                rows: 0,
                bytes: 0,
                created_ms: committed_ms,
                committed_ms,
                error: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(label: &str) -> NewLoad {
        NewLoad {
            label: label.into(),
            table: "t".into(),
            user: "'root'@'%'".into(),
            rows: 3,
            bytes: 100,
            created_ms: 0,
        }
    }

    #[test]
    fn a_label_is_used_once_per_database_until_it_expires() {
        let mut state = CatalogState::default();
        assert_eq!(record_load(&mut state, "d", load("l1"), 1_000).unwrap(), 1);
        assert!(matches!(
            record_load(&mut state, "d", load("l1"), 2_000),
            Err(StorageError::LabelAlreadyUsed(l)) if l == "l1"
        ));
        // Another database has labels of its own.
        record_load(&mut state, "e", load("l1"), 2_000).unwrap();
        // Three days later the label is free again.
        record_load(&mut state, "d", load("l1"), 1_000 + LABEL_KEEP_MS).unwrap();
        assert_eq!(state.loads["d"].len(), 1);
        assert_eq!(state.loads["d"]["l1"].committed_ms, 1_000 + LABEL_KEEP_MS);
    }

    #[test]
    fn a_failed_load_leaves_its_label_free() {
        let mut state = CatalogState::default();
        record_failed_load(&mut state, "d", load("l1"), "too long".into(), 1_000).unwrap();
        assert_eq!(state.loads["d"]["l1"].state(), "CANCELLED");
        record_load(&mut state, "d", load("l1"), 2_000).unwrap();
        assert_eq!(state.loads["d"]["l1"].state(), "FINISHED");
        assert!(record_failed_load(&mut state, "d", load("l1"), "x".into(), 3_000).is_err());
        assert_eq!(state.loads["d"]["l1"].state(), "FINISHED");
    }

    #[test]
    fn the_oldest_loads_go_first() {
        let mut state = CatalogState::default();
        for i in 0..=MAX_LOADS_PER_DATABASE {
            state.version = i as u64;
            record_load(&mut state, "d", load(&format!("l{i}")), 1_000).unwrap();
        }
        assert_eq!(state.loads["d"].len(), MAX_LOADS_PER_DATABASE);
        assert!(!state.loads["d"].contains_key("l0"));
        assert!(state.loads["d"].contains_key("l1"));
    }

    #[test]
    fn labels_of_older_catalogs_stay_used() {
        let mut state: CatalogState = serde_json::from_str(
            r#"{"version":3,"next_id":1,"databases":{},"labels":{"d":{"l":5}}}"#,
        )
        .unwrap();
        upgrade_labels(&mut state);
        assert_eq!(state.loads["d"]["l"].committed_ms, 5);
        assert!(record_load(&mut state, "d", load("l"), 6).is_err());
        let saved = serde_json::to_string(&state).unwrap();
        assert!(!saved.contains("\"labels\""), "{saved}");
    }
}
