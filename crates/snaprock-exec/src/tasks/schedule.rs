//! When a scheduled task runs: its period, its first time, and the next time after a moment.
//!
//! Times are epoch milliseconds; `START(...)` is read in the server's time zone, as StarRocks
//! reads it. A task runs at `start + k * period`; the next run after a moment is the first such
//! time strictly after it, so runs missed while the server was down collapse into one.

use chrono::{Local, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{IntervalUnit, TaskSchedule};

use crate::{ExecError, Result};

/// A task's schedule as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub start_ms: i64,
    pub amount: u64,
    pub unit: IntervalUnit,
}

impl Schedule {
    /// The statement's schedule, starting now when it names no START.
    pub fn from_statement(schedule: &TaskSchedule, now_ms: i64) -> Result<Self> {
        if schedule.amount == 0 {
            return Err(ExecError::Analysis(
                "schedule interval must be at least 1 SECOND".to_string(),
            ));
        }
        if schedule
            .amount
            .checked_mul(schedule.unit.seconds())
            .is_none_or(|s| s > 100 * 365 * 86400)
        {
            return Err(ExecError::Analysis(format!(
                "schedule interval {} {} is too large",
                schedule.amount,
                schedule.unit.plural()
            )));
        }
        let start_ms = match &schedule.start {
            Some(text) => parse_local_time(text)?,
            None => now_ms,
        };
        Ok(Schedule {
            start_ms,
            amount: schedule.amount,
            unit: schedule.unit,
        })
    }

    pub fn period_ms(&self) -> i64 {
        (self.amount * self.unit.seconds() * 1000) as i64
    }

    /// The first run at or after `now_ms`: START when it is still ahead, else the next time
    /// on the schedule (or now, when START is now).
    pub fn first_run(&self, now_ms: i64) -> i64 {
        if self.start_ms >= now_ms {
            self.start_ms
        } else {
            self.next_after(now_ms - 1)
        }
    }

    /// The first time on the schedule strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> i64 {
        if after_ms < self.start_ms {
            return self.start_ms;
        }
        let period = self.period_ms();
        let elapsed_periods = (after_ms - self.start_ms) / period + 1;
        self.start_ms + elapsed_periods * period
    }

    /// StarRocks' SCHEDULE text: `PERIODICAL (START 2026-12-01T00:00 EVERY(1 DAYS))`, the
    /// start as Java prints a `LocalDateTime`.
    pub fn display(&self) -> String {
        let start = Local
            .timestamp_millis_opt(self.start_ms)
            .single()
            .map(|t| {
                let text = t.format("%Y-%m-%dT%H:%M:%S").to_string();
                text.strip_suffix(":00").map(str::to_string).unwrap_or(text)
            })
            .unwrap_or_default();
        format!(
            "PERIODICAL (START {start} EVERY({} {}))",
            self.amount,
            self.unit.plural()
        )
    }
}

/// `yyyy-MM-dd HH:mm:ss` (or `yyyy-MM-dd`) in the server's time zone.
fn parse_local_time(text: &str) -> Result<i64> {
    let trimmed = text.trim();
    let naive = NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| {
            ExecError::Analysis(format!(
                "Incorrect START time '{text}': expected yyyy-MM-dd HH:mm:ss"
            ))
        })?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| ExecError::Analysis(format!("START time '{text}' does not exist here")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(amount: u64, unit: IntervalUnit, start_ms: i64) -> Schedule {
        Schedule {
            start_ms,
            amount,
            unit,
        }
    }

    #[test]
    fn next_run_is_on_the_grid_and_strictly_later() {
        let s = every(10, IntervalUnit::Second, 1_000_000);
        assert_eq!(s.next_after(0), 1_000_000);
        assert_eq!(s.next_after(1_000_000), 1_010_000);
        assert_eq!(s.next_after(1_009_999), 1_010_000);
        // Missed periods collapse: one next time, not one per missed period.
        assert_eq!(s.next_after(1_055_000), 1_060_000);
    }

    #[test]
    fn first_run_is_start_when_ahead_else_the_next_grid_time() {
        let s = every(1, IntervalUnit::Minute, 600_000);
        assert_eq!(s.first_run(0), 600_000);
        assert_eq!(s.first_run(600_000), 600_000);
        assert_eq!(s.first_run(600_001), 660_000);
    }

    #[test]
    fn bad_schedules_are_refused() {
        let zero = TaskSchedule {
            start: None,
            amount: 0,
            unit: IntervalUnit::Day,
        };
        assert!(Schedule::from_statement(&zero, 0).is_err());
        let bad_start = TaskSchedule {
            start: Some("tomorrow".into()),
            amount: 1,
            unit: IntervalUnit::Day,
        };
        let e = Schedule::from_statement(&bad_start, 0).unwrap_err();
        assert!(
            e.to_string().contains("Incorrect START time 'tomorrow'"),
            "{e}"
        );
    }

    #[test]
    fn display_as_starrocks() {
        let start = parse_local_time("2026-12-01 00:00:00").unwrap();
        let s = every(1, IntervalUnit::Day, start);
        assert_eq!(
            s.display(),
            "PERIODICAL (START 2026-12-01T00:00 EVERY(1 DAYS))"
        );
        let s = every(30, IntervalUnit::Second, start + 5000);
        assert_eq!(
            s.display(),
            "PERIODICAL (START 2026-12-01T00:00:05 EVERY(30 SECONDS))"
        );
    }
}
