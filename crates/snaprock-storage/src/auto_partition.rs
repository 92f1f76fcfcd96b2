//! StarRocks' expression partitioning: the partitions a batch of rows needs and the table does
//! not have yet, named and bounded as StarRocks makes them.
//!
//! `date_trunc('day', dt)` / `time_slice(dt, INTERVAL n unit)` tables get one range partition
//! per period (`p20240101` for a day, `p202401` for a month, ...); `PARTITION BY (c1, c2)`
//! tables one list partition per value tuple (`p` and the values, `_`-joined, as StarRocks
//! formats them; a NULL value is a value of its own, `NULL` in the name). A NULL time goes to
//! the period of 0000-01-01 (`p00000101` for a day), the partition NULL keys route to.
//! Partition keys may be generated from expressions (`from_unixtime(ts), city`): the caller
//! evaluates them and passes every key's values. A load adds the partitions it needs in one
//! commit before its rows are routed; as in StarRocks, partitions a failed load added stay
//! (empty).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, TimestampMicrosecondType};
use datafusion::common::ScalarValue;

use crate::meta::{AutoPartition, CatalogState, PartitionBounds, PartitionMeta, TableMeta};
use crate::partition::{PartitionRouter, scalar_text};
use crate::{Result, StorageError};

/// At most this many partitions are made by one statement (StarRocks'
/// `auto_partition_max_creation_number_per_load`).
pub const MAX_PARTITIONS_PER_LOAD: usize = 4096;

/// A partition a load makes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPartition {
    pub name: String,
    pub bounds: PartitionBounds,
}

/// The partitions `table` must gain so that every row fits one, given the rows' partition
/// keys `columns` (see [`TableMeta::partition_keys`]); empty when the table is not
/// expression-partitioned or every row fits.
pub fn partitions_for(table: &TableMeta, columns: &[ArrayRef]) -> Result<Vec<NewPartition>> {
    let Some(auto) = table.partitioning.auto() else {
        return Ok(Vec::new());
    };
    let num_rows = columns.first().map_or(0, |c| c.len());
    if num_rows == 0 {
        return Ok(Vec::new());
    }
    let uncovered = PartitionRouter::new(table)?.uncovered(columns, num_rows)?;
    if uncovered.true_count() == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<usize> = (0..num_rows).filter(|r| uncovered.value(*r)).collect();
    let mut made: BTreeMap<String, NewPartition> = BTreeMap::new();
    for row in rows {
        let new = match auto {
            AutoPartition::Time { unit, step, .. } => {
                time_partition(&columns[0], row, unit, *step)?
            }
            AutoPartition::Values => value_partition(table, columns, row, &made)?,
        };
        if !made.contains_key(&new.name) {
            made.insert(new.name.clone(), new);
            if made.len() > MAX_PARTITIONS_PER_LOAD {
                return Err(StorageError::InvalidDefinition(format!(
                    "Automatically created partitions exceeded the maximum limit: \
                     {MAX_PARTITIONS_PER_LOAD}. You can modify this restriction on by setting \
                     max_partition_number_per_table larger."
                )));
            }
        }
    }
    Ok(made.into_values().collect())
}

/// Adds `partitions` to table `table_id` of database `db` in `state` (skipping any another
/// load added meanwhile).
pub fn add_partitions(
    state: &mut CatalogState,
    db: &str,
    table_id: u64,
    partitions: &[NewPartition],
    now: &str,
) -> Result<()> {
    let ids: Vec<u64> = partitions.iter().map(|_| state.allocate_id()).collect();
    let database = Arc::make_mut(state.databases.get_mut(db).ok_or(StorageError::Conflict)?);
    let table = database
        .tables
        .values_mut()
        .find(|t| t.id == table_id)
        .ok_or(StorageError::Conflict)?;
    let table = Arc::make_mut(table);
    for (new, id) in partitions.iter().zip(ids) {
        if table.partition(&new.name).is_some() {
            continue;
        }
        table.check_no_overlap(&new.bounds, &new.name)?;
        table.partitions.push(PartitionMeta {
            id,
            name: new.name.clone(),
            bounds: new.bounds.clone(),
            version: 1,
            version_time: now.to_string(),
            files: Vec::new(),
        });
    }
    table.sort_partitions();
    table.updated_at = now.to_string();
    Ok(())
}

/// The period of `date_trunc(unit, v)` / `time_slice(v, INTERVAL step unit)` holding row `row`.
fn time_partition(
    column: &Arc<dyn Array>,
    row: usize,
    unit: &str,
    step: u32,
) -> Result<NewPartition> {
    // NULL sorts first: it goes to the period of 0000-01-01, StarRocks' least date.
    let null_day = || {
        NaiveDate::from_ymd_opt(0, 1, 1)
            .unwrap_or_default()
            .and_time(chrono::NaiveTime::MIN)
    };
    let (value, is_date) = match column.data_type() {
        DataType::Date32 if column.is_null(row) => (null_day(), true),
        DataType::Timestamp(_, _) if column.is_null(row) => (null_day(), false),
        DataType::Date32 => {
            let days = column
                .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
                .value(row);
            let date = NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .ok_or_else(|| StorageError::NoPartitionForValue(days.to_string()))?;
            (date.and_time(chrono::NaiveTime::MIN), true)
        }
        DataType::Timestamp(_, _) => {
            let micros = column.as_primitive::<TimestampMicrosecondType>().value(row);
            let time = chrono::DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| StorageError::NoPartitionForValue(micros.to_string()))?;
            (time.naive_utc(), false)
        }
        other => {
            return Err(StorageError::InvalidDefinition(format!(
                "time partitioning of a {other} column"
            )));
        }
    };
    let (mut start, end, name_format) = period(value, unit, step.max(1))?;
    // A time_slice period may begin before 0000-01-01; the one NULL goes to begins there.
    start = start.max(null_day());
    let text = |t: NaiveDateTime| {
        if is_date {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        }
    };
    Ok(NewPartition {
        name: format!("p{}", start.format(name_format)),
        bounds: PartitionBounds::Range {
            lower: vec![text(start)],
            upper: Some(vec![text(end)]),
        },
    })
}

/// The period `[start, end)` holding `value`, counted in `step` units from 0001-01-01 (the
/// origin of StarRocks' time_slice), and the partition name's format.
fn period(
    value: NaiveDateTime,
    unit: &str,
    step: u32,
) -> Result<(NaiveDateTime, NaiveDateTime, &'static str)> {
    let step = i64::from(step);
    let origin = NaiveDate::from_ymd_opt(1, 1, 1)
        .unwrap_or_default()
        .and_time(chrono::NaiveTime::MIN);
    let floor = |n: i64| n.div_euclid(step) * step;
    let out = match unit {
        "minute" | "hour" | "day" => {
            let (size, format) = match unit {
                "minute" => (Duration::minutes(1), "%Y%m%d%H%M"),
                "hour" => (Duration::hours(1), "%Y%m%d%H"),
                _ => (Duration::days(1), "%Y%m%d"),
            };
            let units = (value - origin).num_seconds() / size.num_seconds();
            let start = origin + size * (floor(units) as i32);
            (start, start + size * (step as i32), format)
        }
        "month" | "year" => {
            let months_per = if unit == "year" { 12 } else { 1 };
            let months = i64::from(value.year() - 1) * 12 + i64::from(value.month0());
            let start_units = floor(months / months_per);
            let month_of = |units: i64| {
                let m = units * months_per;
                NaiveDate::from_ymd_opt(
                    (m.div_euclid(12) + 1) as i32,
                    (m.rem_euclid(12) + 1) as u32,
                    1,
                )
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
            };
            let start = month_of(start_units);
            let end = month_of(start_units + step);
            match (start, end) {
                (Some(s), Some(e)) => (s, e, if unit == "year" { "%Y" } else { "%Y%m" }),
                _ => return Err(StorageError::NoPartitionForValue(value.to_string())),
            }
        }
        other => {
            return Err(StorageError::InvalidDefinition(format!(
                "unsupported automatic partition granularity:{other}"
            )));
        }
    };
    Ok(out)
}

/// The list partition of row `row`'s value tuple.
fn value_partition(
    table: &TableMeta,
    columns: &[Arc<dyn Array>],
    row: usize,
    made: &BTreeMap<String, NewPartition>,
) -> Result<NewPartition> {
    // NULL is a value of its own (StarRocks: "The partition column allows NULL values").
    let mut values = Vec::with_capacity(columns.len());
    for column in columns {
        values.push(if column.is_null(row) {
            None
        } else {
            Some(scalar_text(&ScalarValue::try_from_array(column, row)?))
        });
    }
    let bounds = PartitionBounds::List {
        values: vec![values.clone()],
    };
    if let Some(same) = made.values().find(|p| p.bounds == bounds) {
        return Ok(same.clone());
    }
    let formatted: Vec<String> = values
        .iter()
        .map(|v| v.as_deref().map_or_else(|| "NULL".into(), format_value))
        .collect();
    let mut name = format!("p{}", formatted.join("_"));
    if name.chars().count() > 50 {
        let hash = java_hash(&name);
        name = format!("{}_{hash:x}", name.chars().take(50).collect::<String>());
    }
    // Names are unique case-insensitively: `pA` and `pa` get StarRocks' hash suffix.
    let taken =
        |n: &str| table.partition(n).is_some() || made.keys().any(|m| m.eq_ignore_ascii_case(n));
    if taken(&name) {
        let mut diff = java_hash(&name);
        let base = name.clone();
        loop {
            name = format!("{base}_{diff:x}");
            if !taken(&name) {
                break;
            }
            diff = diff.wrapping_add(1);
        }
    }
    Ok(NewPartition { name, bounds })
}

/// A value as StarRocks writes it in a partition name: letters and digits kept, `-`, `:` and
/// spaces dropped, a leading minus as `_`, anything else as its code point in hex.
fn format_value(value: &str) -> String {
    let mut out = String::new();
    if value.starts_with('-') {
        out.push('_');
    }
    for ch in value.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !matches!(ch, '-' | ':' | ' ') {
            out.push_str(&format!("{:x}", ch as u32));
        }
    }
    out
}

/// Java's `String.hashCode` (StarRocks suffixes names with it), as an unsigned 32-bit value.
fn java_hash(s: &str) -> u32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    }) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_starrocks_writes_them() {
        assert_eq!(format_value("-11"), "_11");
        assert_eq!(format_value("2020-01-01"), "20200101");
        assert_eq!(format_value("杭州"), "676d5dde");
        assert_eq!(format_value("Los Angeles"), "LosAngeles");
    }

    #[test]
    fn periods_start_where_starrocks_starts_them() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let (start, end, _) = period(t("2024-03-15 10:20:00"), "month", 1).unwrap();
        assert_eq!(
            (start, end),
            (t("2024-03-01 00:00:00"), t("2024-04-01 00:00:00"))
        );
        let (start, end, _) = period(t("2024-03-15 10:20:00"), "hour", 1).unwrap();
        assert_eq!(
            (start, end),
            (t("2024-03-15 10:00:00"), t("2024-03-15 11:00:00"))
        );
        let (start, end, _) = period(t("2024-03-15 10:20:00"), "year", 1).unwrap();
        assert_eq!(
            (start, end),
            (t("2024-01-01 00:00:00"), t("2025-01-01 00:00:00"))
        );
        // time_slice counts from 0001-01-01: 7-day periods do not start on the 1st.
        let (start, end, _) = period(t("2024-03-15 10:20:00"), "day", 7).unwrap();
        assert_eq!((end - start).num_days(), 7);
        assert!(start <= t("2024-03-15 10:20:00") && t("2024-03-15 10:20:00") < end);
        assert_eq!((start - t("0001-01-01 00:00:00")).num_days() % 7, 0);
    }

    #[test]
    fn null_times_go_to_the_first_period() {
        let column: ArrayRef = Arc::new(datafusion::arrow::array::Date32Array::from(vec![None]));
        let new = time_partition(&column, 0, "day", 1).unwrap();
        assert_eq!(new.name, "p00000101");
        assert_eq!(
            new.bounds,
            PartitionBounds::Range {
                lower: vec!["0000-01-01".into()],
                upper: Some(vec!["0000-01-02".into()]),
            }
        );
        let new = time_partition(&column, 0, "day", 7).unwrap();
        let PartitionBounds::Range { lower, .. } = new.bounds else {
            panic!("a range")
        };
        assert_eq!(lower, vec!["0000-01-01".to_string()]);
    }

    #[test]
    fn java_hash_matches_java() {
        // "hello".hashCode() == 99162322
        assert_eq!(java_hash("hello"), 99_162_322);
        // A negative Java hash is shown unsigned, as Integer.toHexString shows it:
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(format!("{:x}", java_hash("polygenelubricants")), "80000000");
    }
}
