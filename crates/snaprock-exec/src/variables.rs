//! System variables: the values clients read on connect (`SELECT @@x`, `SHOW VARIABLES`) and
//! the ones they set (`SET NAMES`, `SET autocommit=0`, `SET sql_mode=...`).

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::{ExecError, Result};

/// The value of a variable.
#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    Int(i64),
    UInt(u64),
    Str(String),
    Null,
}

impl VarValue {
    /// The value as a non-negative number, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            VarValue::Int(v) => u64::try_from(*v).ok(),
            VarValue::UInt(v) => Some(*v),
            VarValue::Str(s) => s.trim().parse().ok(),
            VarValue::Null => None,
        }
    }

    /// The text SHOW VARIABLES prints.
    pub fn display(&self) -> String {
        match self {
            VarValue::Int(v) => v.to_string(),
            VarValue::UInt(v) => v.to_string(),
            VarValue::Str(s) => s.clone(),
            VarValue::Null => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ON/OFF/1/0/TRUE/FALSE, read back as 1/0.
    Bool,
    Int,
    /// A number in `[min, max]` (a value outside is clamped, as MySQL does), set per server
    /// only: `SET` without GLOBAL is refused.
    GlobalInt {
        min: i64,
        max: i64,
    },
    /// Like `GlobalInt`, and a session reads the global value of when it connected
    /// (`max_allowed_packet`): `SET SESSION` is refused as read-only.
    GlobalIntSessionCopy {
        min: i64,
        max: i64,
    },
    Str,
    /// Cannot be SET.
    ReadOnly,
}

/// The server's version, as announced in the handshake and returned by VERSION().
pub const SERVER_VERSION: &str = "8.0.33-snaprock";
pub const VERSION_COMMENT: &str = "snaprock (StarRocks-compatible backup and restore server)";

fn defaults() -> Vec<(&'static str, Kind, VarValue)> {
    use Kind::*;
    use VarValue::{Int as I, Str as S, UInt as U};
    let s = |v: &str| S(v.to_string());
    vec![
        ("activate_all_roles_on_login", Bool, I(0)),
        ("auto_increment_increment", Int, I(1)),
        ("auto_increment_offset", Int, I(1)),
        ("autocommit", Bool, I(1)),
        ("big_tables", Bool, I(0)),
        (
            "catalog_trash_expire_second",
            GlobalInt {
                min: 0,
                max: 10 * 365 * 86_400,
            },
            I(86_400),
        ),
        ("character_set_client", Str, s("utf8mb4")),
        ("character_set_connection", Str, s("utf8mb4")),
        ("character_set_database", Str, s("utf8mb4")),
        ("character_set_filesystem", Str, s("binary")),
        ("character_set_results", Str, s("utf8mb4")),
        ("character_set_server", Str, s("utf8mb4")),
        ("character_set_system", ReadOnly, s("utf8mb3")),
        (
            "connect_timeout",
            GlobalInt {
                min: 2,
                max: 31_536_000,
            },
            I(10),
        ),
        ("collation_connection", Str, s("utf8mb4_general_ci")),
        ("collation_database", Str, s("utf8mb4_general_ci")),
        ("collation_server", Str, s("utf8mb4_general_ci")),
        (
            "default_authentication_plugin",
            ReadOnly,
            s("mysql_native_password"),
        ),
        ("default_storage_engine", Str, s("OLAP")),
        ("default_tmp_storage_engine", Str, s("OLAP")),
        ("default_week_format", Int, I(0)),
        ("div_precision_increment", Int, I(4)),
        ("enable_profile", Bool, I(0)),
        ("error_count", ReadOnly, I(0)),
        ("event_scheduler", Str, s("OFF")),
        ("exec_mem_limit", Int, I(2_147_483_648)),
        ("explicit_defaults_for_timestamp", Bool, I(1)),
        ("foreign_key_checks", Bool, I(1)),
        ("group_concat_max_len", Int, I(1024)),
        ("have_openssl", ReadOnly, s("DISABLED")),
        ("have_ssl", ReadOnly, s("DISABLED")),
        ("hostname", ReadOnly, s("localhost")),
        ("identity", Int, I(0)),
        ("init_connect", Str, s("")),
        ("insert_timeout", Int, I(14400)),
        ("interactive_timeout", Int, I(28800)),
        ("language", ReadOnly, s("/snaprock/share/english/")),
        ("last_insert_id", Int, I(0)),
        ("license", ReadOnly, s("Apache License 2.0")),
        ("local_infile", Bool, I(0)),
        ("lower_case_table_names", ReadOnly, I(0)),
        (
            "max_allowed_packet",
            GlobalIntSessionCopy {
                min: 1024,
                max: 1 << 30,
            },
            I(67_108_864),
        ),
        (
            "max_connections",
            GlobalInt {
                min: 1,
                max: 100_000,
            },
            I(1024),
        ),
        ("max_execution_time", Int, I(0)),
        (
            "max_prepared_stmt_count",
            GlobalInt {
                min: 0,
                max: 4_194_304,
            },
            I(16_382),
        ),
        ("net_buffer_length", Int, I(16384)),
        ("net_read_timeout", Int, I(60)),
        ("net_write_timeout", Int, I(60)),
        ("parallel_fragment_exec_instance_num", Int, I(1)),
        ("partial_revokes", Bool, I(0)),
        ("performance_schema", ReadOnly, I(0)),
        ("pipeline_dop", Int, I(0)),
        // StarRocks' planner and execution knobs its scripts and tests set: accepted, shown
        // with StarRocks' defaults, without effect on snaprock's single-node planner (except
        // scan_olap_partition_num_limit, which scans check).
        ("broadcast_row_limit", Int, I(15_000_000)),
        ("cbo_enable_low_cardinality_optimize", Bool, I(1)),
        ("cbo_max_reorder_node_use_dp", Int, I(10)),
        ("enable_global_runtime_filter", Bool, I(1)),
        ("enable_insert_strict", Bool, I(1)),
        ("enable_materialized_view_rewrite", Bool, I(1)),
        ("enable_pipeline_engine", Bool, I(1)),
        ("enable_query_cache", Bool, I(0)),
        ("enable_rewrite_groupingsets_to_union_all", Bool, I(0)),
        ("enable_spill", Bool, I(0)),
        ("load_mem_limit", Int, I(0)),
        ("new_planner_optimize_timeout", Int, I(3000)),
        ("partial_update_mode", Str, s("auto")),
        ("query_mem_limit", Int, I(0)),
        ("runtime_filter_type", Int, I(7)),
        ("scan_olap_partition_num_limit", Int, I(0)),
        ("sql_dialect", Str, s("StarRocks")),
        ("streaming_preaggregation_mode", Str, s("auto")),
        ("port", ReadOnly, I(9030)),
        ("profiling", Bool, I(0)),
        ("protocol_version", ReadOnly, I(10)),
        ("query_cache_size", Int, I(0)),
        ("query_cache_type", Str, s("OFF")),
        ("query_timeout", Int, I(300)),
        ("require_secure_transport", ReadOnly, s("OFF")),
        ("resource_group", Str, s("")),
        ("session_track_schema", Bool, I(0)),
        ("session_track_state_change", Bool, I(0)),
        ("session_track_system_variables", Str, s("")),
        // No unix socket: NULL tells clients (mysql_async) not to try one.
        ("socket", ReadOnly, VarValue::Null),
        ("sql_auto_is_null", Bool, I(0)),
        ("sql_big_selects", Bool, I(1)),
        ("sql_log_bin", Bool, I(0)),
        (
            "sql_mode",
            Str,
            s("ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"),
        ),
        ("sql_notes", Bool, I(1)),
        ("sql_quote_show_create", Bool, I(1)),
        ("sql_require_primary_key", Bool, I(0)),
        ("sql_safe_updates", Bool, I(0)),
        ("sql_select_limit", Int, U(18_446_744_073_709_551_615)),
        ("sql_warnings", Bool, I(0)),
        ("storage_engine", Str, s("OLAP")),
        ("system_time_zone", ReadOnly, s("UTC")),
        ("time_zone", Str, s("SYSTEM")),
        ("transaction_isolation", Str, s("REPEATABLE-READ")),
        ("transaction_read_only", Bool, I(0)),
        ("tx_isolation", Str, s("REPEATABLE-READ")),
        ("tx_read_only", Bool, I(0)),
        ("unique_checks", Bool, I(1)),
        ("version", ReadOnly, s(SERVER_VERSION)),
        ("version_comment", ReadOnly, s(VERSION_COMMENT)),
        (
            "version_compile_machine",
            ReadOnly,
            s(std::env::consts::ARCH),
        ),
        ("version_compile_os", ReadOnly, s("Linux")),
        ("wait_timeout", Int, I(28800)),
        ("warning_count", ReadOnly, I(0)),
    ]
}

/// Global values (shared by all sessions; `SET GLOBAL` changes them until restart).
pub struct GlobalVariables {
    kinds: BTreeMap<&'static str, Kind>,
    values: RwLock<BTreeMap<&'static str, VarValue>>,
}

impl Default for GlobalVariables {
    fn default() -> Self {
        let defaults = defaults();
        GlobalVariables {
            kinds: defaults.iter().map(|(n, k, _)| (*n, *k)).collect(),
            values: RwLock::new(defaults.into_iter().map(|(n, _, v)| (n, v)).collect()),
        }
    }
}

impl GlobalVariables {
    fn key(&self, name: &str) -> Result<&'static str> {
        let lower = name.to_ascii_lowercase();
        self.kinds
            .keys()
            .find(|k| **k == lower)
            .copied()
            .ok_or_else(|| ExecError::UnknownVariable(name.to_string()))
    }

    pub fn get(&self, name: &str) -> Result<VarValue> {
        let key = self.key(name)?;
        let values = self.values.read().unwrap_or_else(|p| p.into_inner());
        Ok(values.get(key).cloned().unwrap_or(VarValue::Null))
    }

    pub fn set(&self, name: &str, value: VarValue) -> Result<()> {
        let key = self.key(name)?;
        let value = self.check(key, value)?;
        let value = match (self.kinds.get(key), &value) {
            // MySQL keeps max_allowed_packet a multiple of 1024.
            (Some(Kind::GlobalIntSessionCopy { .. }), VarValue::Int(v)) => {
                VarValue::Int(v - v % 1024)
            }
            _ => value,
        };
        let mut values = self.values.write().unwrap_or_else(|p| p.into_inner());
        values.insert(key, value);
        Ok(())
    }

    /// Sets a read-only variable to what the server is (e.g. `have_ssl` once TLS is on); for
    /// start-up, not for clients.
    pub fn set_server_value(&self, name: &str, value: VarValue) -> Result<()> {
        let key = self.key(name)?;
        let mut values = self.values.write().unwrap_or_else(|p| p.into_inner());
        values.insert(key, value);
        Ok(())
    }

    /// Validates and normalizes a value for variable `key`.
    fn check(&self, key: &'static str, value: VarValue) -> Result<VarValue> {
        let wrong = |v: &VarValue| ExecError::WrongValueForVariable {
            name: key.to_string(),
            value: v.display(),
        };
        match self.kinds.get(key).copied().unwrap_or(Kind::Str) {
            Kind::ReadOnly => Err(ExecError::ReadOnlyVariable(key.to_string())),
            Kind::Bool => match &value {
                VarValue::Int(0) | VarValue::UInt(0) => Ok(VarValue::Int(0)),
                VarValue::Int(1) | VarValue::UInt(1) => Ok(VarValue::Int(1)),
                VarValue::Str(s)
                    if s.eq_ignore_ascii_case("on")
                        || s.eq_ignore_ascii_case("true")
                        || s == "1" =>
                {
                    Ok(VarValue::Int(1))
                }
                VarValue::Str(s)
                    if s.eq_ignore_ascii_case("off")
                        || s.eq_ignore_ascii_case("false")
                        || s == "0" =>
                {
                    Ok(VarValue::Int(0))
                }
                other => Err(wrong(other)),
            },
            Kind::Int => match &value {
                VarValue::Int(_) | VarValue::UInt(_) => Ok(value),
                VarValue::Str(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(VarValue::Int)
                    .or_else(|_| s.trim().parse::<u64>().map(VarValue::UInt))
                    .map_err(|_| wrong(&value)),
                VarValue::Null => Err(wrong(&value)),
            },
            Kind::GlobalInt { min, max } | Kind::GlobalIntSessionCopy { min, max } => {
                let number = match &value {
                    VarValue::Int(v) => *v,
                    VarValue::UInt(v) => i64::try_from(*v).unwrap_or(i64::MAX),
                    VarValue::Str(s) => s.trim().parse::<i64>().map_err(|_| wrong(&value))?,
                    VarValue::Null => return Err(wrong(&value)),
                };
                Ok(VarValue::Int(number.clamp(min, max)))
            }
            Kind::Str => Ok(match value {
                VarValue::Int(v) => VarValue::Str(v.to_string()),
                VarValue::UInt(v) => VarValue::Str(v.to_string()),
                other => other,
            }),
        }
    }

    /// The default value of a variable (for `SET x = DEFAULT`).
    pub fn default_value(&self, name: &str) -> Result<VarValue> {
        let key = self.key(name)?;
        Ok(defaults()
            .into_iter()
            .find(|(n, _, _)| *n == key)
            .map(|(_, _, v)| v)
            .unwrap_or(VarValue::Null))
    }

    /// Validates a session-level value.
    pub fn check_session(&self, name: &str, value: VarValue) -> Result<(&'static str, VarValue)> {
        let key = self.key(name)?;
        match self.kinds.get(key) {
            Some(Kind::GlobalInt { .. }) => Err(ExecError::GlobalOnlyVariable(key.to_string())),
            Some(Kind::GlobalIntSessionCopy { .. }) => {
                Err(ExecError::SessionReadOnlyVariable(key.to_string()))
            }
            _ => Ok((key, self.check(key, value)?)),
        }
    }

    /// A numeric variable's global value (`None` if it is not a number).
    pub fn number(&self, name: &str) -> Option<u64> {
        self.get(name).ok()?.as_u64()
    }

    /// All variables with their global values, sorted by name.
    pub fn all(&self) -> Vec<(&'static str, VarValue)> {
        let values = self.values.read().unwrap_or_else(|p| p.into_inner());
        values.iter().map(|(k, v)| (*k, v.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_variables_accept_mysql_spellings() {
        let g = GlobalVariables::default();
        assert_eq!(
            g.check_session("AUTOCOMMIT", VarValue::Str("OFF".into()))
                .unwrap()
                .1,
            VarValue::Int(0)
        );
        assert!(
            g.check_session("autocommit", VarValue::Str("maybe".into()))
                .is_err()
        );
        assert!(matches!(
            g.get("no_such_var"),
            Err(ExecError::UnknownVariable(_))
        ));
        assert!(matches!(
            g.set("version", VarValue::Str("x".into())),
            Err(ExecError::ReadOnlyVariable(_))
        ));
    }
}
