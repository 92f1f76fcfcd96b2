//! Batch range partitions (`START (..) END (..) EVERY (..)`), in CREATE TABLE and in
//! `ALTER TABLE ... ADD PARTITIONS`: expanded into ordinary `[lower, upper)` partitions once the
//! first partition column's type is known, named and cut exactly as StarRocks'
//! `MultiRangePartitionDesc` does: `p20240101` by day, `p2024_01` by week (weeks start on
//! Monday), `p202401` by month, `p2024` by year, `p2024010112` by hour, `p<start>` for numbers;
//! a period that runs past END is cut at END except by day; at most 4096 partitions at once.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use snaprock_sql::ast::{BatchRange, PartitionDef, PartitionValue, PartitionValues};
use snaprock_storage::ColumnType;

use crate::{ExecError, Result};

/// StarRocks' `max_partitions_in_one_batch`.
const MAX_PARTITIONS_IN_ONE_BATCH: usize = 4096;

/// `defs` with every batch replaced by the partitions it stands for.
pub(super) fn expand(
    defs: &[PartitionDef],
    first_column: Option<ColumnType>,
) -> Result<Vec<PartitionDef>> {
    let mut out = Vec::with_capacity(defs.len());
    for def in defs {
        match &def.values {
            PartitionValues::Batch(batch) => out.extend(expand_one(batch, first_column.clone())?),
            _ => out.push(def.clone()),
        }
    }
    Ok(out)
}

fn analysis(message: &str) -> ExecError {
    ExecError::Analysis(message.trim_end_matches('.').to_string())
}

fn expand_one(batch: &BatchRange, column: Option<ColumnType>) -> Result<Vec<PartitionDef>> {
    match column {
        Some(ColumnType::Date | ColumnType::DateTime) => {
            date_partitions(batch, column == Some(ColumnType::DateTime))
        }
        Some(
            ColumnType::TinyInt
            | ColumnType::SmallInt
            | ColumnType::Int
            | ColumnType::BigInt
            | ColumnType::LargeInt,
        ) => number_partitions(batch),
        Some(other) => Err(analysis(&format!(
            "Unsupported batch partition build type:{}.",
            other.sql()
        ))),
        None => Err(analysis(
            "Batch creation of partitions only support range partition tables.",
        )),
    }
}

fn fixed(name: String, lower: String, upper: String) -> PartitionDef {
    PartitionDef {
        name,
        values: PartitionValues::Fixed {
            lower: vec![PartitionValue::Literal(lower)],
            upper: vec![PartitionValue::Literal(upper)],
        },
        properties: Vec::new(),
    }
}

fn check_count(partitions: &[PartitionDef]) -> Result<()> {
    if partitions.len() > MAX_PARTITIONS_IN_ONE_BATCH {
        return Err(analysis(&format!(
            "The number of batch partitions should not exceed:{MAX_PARTITIONS_IN_ONE_BATCH}"
        )));
    }
    Ok(())
}

fn number_partitions(batch: &BatchRange) -> Result<Vec<PartitionDef>> {
    if batch.unit.is_some() {
        return Err(analysis(
            "Batch build partition EVERY is date type but START or END does not type match.",
        ));
    }
    let mismatch = || {
        analysis("Batch build partition EVERY is number type but START or END does not type match.")
    };
    let mut begin: i64 = batch.start.trim().parse().map_err(|_| mismatch())?;
    let end: i64 = batch.end.trim().parse().map_err(|_| mismatch())?;
    if begin >= end {
        return Err(analysis(
            "Batch build partition start value should less then end value.",
        ));
    }
    let step = i64::try_from(batch.every.max(1)).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    while begin < end {
        let next = begin.saturating_add(step);
        out.push(fixed(
            format!("p{begin}"),
            begin.to_string(),
            next.to_string(),
        ));
        check_count(&out)?;
        begin = next;
    }
    Ok(out)
}

/// `2024-01-01`, `2024-01-01 10:00:00` or `20240101`.
fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .or_else(|| NaiveDate::parse_from_str(text, "%Y%m%d").ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn date_partitions(batch: &BatchRange, datetime: bool) -> Result<Vec<PartitionDef>> {
    let (Some(mut begin), Some(end)) = (parse_time(&batch.start), parse_time(&batch.end)) else {
        return Err(analysis(
            "Batch build partition EVERY is date type but START or END does not type match.",
        ));
    };
    if begin >= end {
        return Err(analysis(
            "Batch build partition start date should less than end date.",
        ));
    }
    let Some(unit) = batch.unit.as_deref() else {
        return Err(analysis("Unknown timeunit for batch build partition."));
    };
    let n = i64::try_from(batch.every.max(1)).unwrap_or(i64::MAX);
    let show = |t: &NaiveDateTime| {
        if datetime {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            t.format("%Y-%m-%d").to_string()
        }
    };
    let mut out = Vec::new();
    while begin < end {
        let lower = show(&begin);
        let (name, next) = match unit {
            "HOUR" => (
                format!("p{}", begin.format("%Y%m%d%H")),
                truncate_to_hour(begin) + Duration::hours(n),
            ),
            "DAY" => (
                format!("p{}", begin.format("%Y%m%d")),
                begin.date().and_time(chrono::NaiveTime::MIN) + Duration::days(n),
            ),
            "WEEK" => {
                let monday =
                    begin.date() - Duration::days(begin.weekday().num_days_from_monday().into());
                let start = monday.and_time(chrono::NaiveTime::MIN);
                (week_name(monday), start + Duration::weeks(n))
            }
            "MONTH" => {
                let first = begin.date().with_day(1).unwrap_or(begin.date());
                (
                    format!("p{}", begin.format("%Y%m")),
                    add_months(first, n).and_time(chrono::NaiveTime::MIN),
                )
            }
            "YEAR" => {
                let first = NaiveDate::from_ymd_opt(begin.year(), 1, 1).unwrap_or(begin.date());
                (
                    format!("p{}", begin.format("%Y")),
                    add_months(first, n.saturating_mul(12)).and_time(chrono::NaiveTime::MIN),
                )
            }
            other => {
                return Err(analysis(&format!(
                    "Batch build partition does not support time interval type: {other}"
                )));
            }
        };
        // StarRocks cuts a period that runs past END, except a day.
        let next = if unit != "DAY" && next > end {
            end
        } else {
            next
        };
        out.push(fixed(name, lower, show(&next)));
        check_count(&out)?;
        begin = next;
    }
    Ok(out)
}

fn truncate_to_hour(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t)
}

fn add_months(date: NaiveDate, months: i64) -> NaiveDate {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + months;
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u32::try_from(total.rem_euclid(12)).unwrap_or(0) + 1;
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(date)
}

/// `p<year>_<week>` as StarRocks computes it: Java's default (US) week of year, Sunday-first
/// weeks with week 1 holding January 1st, and a last week of December counted as week 53 of
/// its own year rather than week 1 of the next.
fn week_name(monday: NaiveDate) -> String {
    let jan1 = NaiveDate::from_ymd_opt(monday.year(), 1, 1).unwrap_or(monday);
    let offset = i64::from(jan1.weekday().num_days_from_sunday());
    let day_of_year = i64::from(monday.ordinal0());
    let mut week = (day_of_year + offset) / 7 + 1;
    // The week holding the next January 1st is week 1 of the next year in Java's count.
    let next_jan1 = NaiveDate::from_ymd_opt(monday.year() + 1, 1, 1).unwrap_or(monday);
    let sunday = monday - Duration::days(1);
    if next_jan1 - sunday < Duration::days(7) && monday.month() == 12 {
        week = 1 + 52;
    }
    format!("p{}_{:02}", monday.year(), week)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(start: &str, end: &str, every: u64, unit: Option<&str>) -> BatchRange {
        BatchRange {
            start: start.into(),
            end: end.into(),
            every,
            unit: unit.map(str::to_string),
        }
    }

    fn names_and_bounds(defs: &[PartitionDef]) -> Vec<(String, String, String)> {
        defs.iter()
            .map(|d| match &d.values {
                PartitionValues::Fixed { lower, upper } => {
                    let text = |v: &[PartitionValue]| match &v[0] {
                        PartitionValue::Literal(t) => t.clone(),
                        PartitionValue::MaxValue => "MAX".into(),
                    };
                    (d.name.clone(), text(lower), text(upper))
                }
                _ => panic!("not fixed"),
            })
            .collect()
    }

    #[test]
    fn days_months_and_numbers_as_starrocks_names_them() {
        let days =
            date_partitions(&batch("2021-01-01", "2021-01-04", 1, Some("DAY")), false).unwrap();
        assert_eq!(
            names_and_bounds(&days),
            vec![
                ("p20210101".into(), "2021-01-01".into(), "2021-01-02".into()),
                ("p20210102".into(), "2021-01-02".into(), "2021-01-03".into()),
                ("p20210103".into(), "2021-01-03".into(), "2021-01-04".into()),
            ]
        );
        // A month cut at END; the first month starts at START.
        let months =
            date_partitions(&batch("2021-01-15", "2021-03-10", 1, Some("MONTH")), false).unwrap();
        assert_eq!(
            names_and_bounds(&months),
            vec![
                ("p202101".into(), "2021-01-15".into(), "2021-02-01".into()),
                ("p202102".into(), "2021-02-01".into(), "2021-03-01".into()),
                ("p202103".into(), "2021-03-01".into(), "2021-03-10".into()),
            ]
        );
        let numbers = number_partitions(&batch("1", "25", 10, None)).unwrap();
        assert_eq!(
            names_and_bounds(&numbers),
            vec![
                ("p1".into(), "1".into(), "11".into()),
                ("p11".into(), "11".into(), "21".into()),
                ("p21".into(), "21".into(), "31".into()),
            ]
        );
        let hours = date_partitions(
            &batch(
                "2021-01-01 00:00:00",
                "2021-01-01 02:00:00",
                1,
                Some("HOUR"),
            ),
            true,
        )
        .unwrap();
        assert_eq!(hours[1].name, "p2021010101");
    }

    #[test]
    fn weeks_follow_java_week_of_year() {
        // 2019-12-30 is a Monday that Java counts in week 1 of 2020: StarRocks names it 2019_53.
        let weeks =
            date_partitions(&batch("2019-12-30", "2020-01-13", 1, Some("WEEK")), false).unwrap();
        let names: Vec<&str> = weeks.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["p2019_53", "p2020_02"]);
    }

    #[test]
    fn mismatches_are_starrocks_errors() {
        let text = |r: Result<Vec<PartitionDef>>| r.unwrap_err().to_string();
        assert_eq!(
            text(date_partitions(
                &batch("2021-01-05", "2021-01-01", 1, Some("DAY")),
                false
            )),
            "Getting analyzing error. Detail message: Batch build partition start date should less than end date."
        );
        assert_eq!(
            text(number_partitions(&batch("a", "5", 1, None))),
            "Getting analyzing error. Detail message: Batch build partition EVERY is number type but START or END does not type match."
        );
        assert_eq!(
            text(number_partitions(&batch("0", "5000", 1, None))),
            "Getting analyzing error. Detail message: The number of batch partitions should not exceed:4096."
        );
    }
}
