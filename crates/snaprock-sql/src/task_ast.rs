//! SUBMIT TASK as the parser hands it over (`task.rs` parses it).

use crate::ast::{ObjectName, Statement};

/// `SUBMIT TASK [name] [SCHEDULE ...] [PROPERTIES (...)] AS <statement>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitTask {
    /// `None`: the server names the task.
    pub name: Option<ObjectName>,
    /// `None`: the statement runs once, now.
    pub schedule: Option<TaskSchedule>,
    pub properties: Vec<(String, String)>,
    /// The statement as written after `AS`: stored, shown, and parsed again at every run.
    pub definition: String,
    /// `definition` parsed: BACKUP, INSERT, INSERT OVERWRITE or CREATE TABLE AS SELECT.
    pub statement: Box<Statement>,
}

/// `SCHEDULE [START('...')] EVERY(INTERVAL amount unit)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSchedule {
    /// The first run's time as written (`yyyy-MM-dd HH:mm:ss`, server time zone).
    pub start: Option<String>,
    pub amount: u64,
    pub unit: IntervalUnit,
}

/// The units a task's period may be counted in (those StarRocks' scheduler takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IntervalUnit {
    Second,
    Minute,
    Hour,
    Day,
}

impl IntervalUnit {
    /// `SECOND` / `SECONDS` ... `DAY` / `DAYS`, any case.
    pub fn from_word(word: &str) -> Option<Self> {
        let upper = word.to_ascii_uppercase();
        Some(match upper.trim_end_matches('S') {
            "SECOND" => IntervalUnit::Second,
            "MINUTE" => IntervalUnit::Minute,
            "HOUR" => IntervalUnit::Hour,
            "DAY" => IntervalUnit::Day,
            _ => return None,
        })
    }

    pub fn seconds(self) -> u64 {
        match self {
            IntervalUnit::Second => 1,
            IntervalUnit::Minute => 60,
            IntervalUnit::Hour => 3600,
            IntervalUnit::Day => 86400,
        }
    }

    /// The name StarRocks shows in a schedule (Java's `TimeUnit`): `SECONDS` ... `DAYS`.
    pub fn plural(self) -> &'static str {
        match self {
            IntervalUnit::Second => "SECONDS",
            IntervalUnit::Minute => "MINUTES",
            IntervalUnit::Hour => "HOURS",
            IntervalUnit::Day => "DAYS",
        }
    }
}
