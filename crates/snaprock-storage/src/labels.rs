//! Load labels: `INSERT INTO t WITH LABEL l ...` commits at most once per database. The label
//! is claimed inside the load's own catalog commit, so a load that committed has its label
//! and one that did not has not, whatever crashes or retries come between; a retry of a
//! committed load is refused with StarRocks' "Label [l] has already been used." Labels are
//! kept as StarRocks keeps them (`label_keep_max_second`, 3 days), and at most the newest
//! [`MAX_LABELS_PER_DATABASE`] of a database.

use crate::{CatalogState, Result, StorageError};

/// How long a committed label stays used (StarRocks' `label_keep_max_second`: 259200).
pub const LABEL_KEEP_MS: i64 = 259_200_000;
/// The most labels one database keeps (the oldest are forgotten first).
pub const MAX_LABELS_PER_DATABASE: usize = 10_000;

/// Records `label` as committed by `database` at `now_ms`, in the commit that changes
/// `state`; fails if the database committed it within [`LABEL_KEEP_MS`].
pub fn claim_label(
    state: &mut CatalogState,
    database: &str,
    label: &str,
    now_ms: i64,
) -> Result<()> {
    let labels = state.labels.entry(database.to_string()).or_default();
    labels.retain(|_, committed| now_ms - *committed < LABEL_KEEP_MS);
    if labels.contains_key(label) {
        return Err(StorageError::LabelAlreadyUsed(label.to_string()));
    }
    labels.insert(label.to_string(), now_ms);
    while labels.len() > MAX_LABELS_PER_DATABASE {
        let Some(oldest) = labels
            .iter()
            .min_by_key(|(_, committed)| **committed)
            .map(|(l, _)| l.clone())
        else {
            break;
        };
        labels.remove(&oldest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_used_once_per_database_until_it_expires() {
        let mut state = CatalogState::default();
        claim_label(&mut state, "d", "l1", 1_000).unwrap();
        assert!(matches!(
            claim_label(&mut state, "d", "l1", 2_000),
            Err(StorageError::LabelAlreadyUsed(l)) if l == "l1"
        ));
        // Another database has labels of its own.
        claim_label(&mut state, "e", "l1", 2_000).unwrap();
        // Three days later the label is free again.
        claim_label(&mut state, "d", "l1", 1_000 + LABEL_KEEP_MS).unwrap();
        assert_eq!(state.labels["d"].len(), 1);
    }
}
