//! SHOW CREATE TABLE / VIEW / MATERIALIZED VIEW text in StarRocks' form: running it creates the
//! same table again. SHOW and information_schema (a view's definition) both show it.

use snaprock_storage::{
    AutoPartition, DistributionMeta, KeysModel, MaterializedViewMeta, MvRefresh, PartitionBounds,
    Partitioning, TableMeta, ViewMeta,
};

use crate::df::provider::CURRENT_TIMESTAMP;

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A single-quoted SQL string (column defaults and comments, as SQLAlchemy's reflection expects).
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn backquote(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

fn values(v: &[String]) -> String {
    format!(
        "({})",
        v.iter().map(|x| quote(x)).collect::<Vec<_>>().join(", ")
    )
}

/// A list partition's value: quoted, or NULL.
fn list_value(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "NULL".into(), quote)
}

pub(crate) fn table_ddl(table: &TableMeta) -> String {
    let mut out = format!("CREATE TABLE {} (\n", backquote(&table.name));
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            // MySQL's spelling of the type (`int(11)`, `decimal(10,2)`): drivers parse these lines.
            let mut line = format!(
                "  {} {}",
                backquote(&c.name),
                c.column_type.mysql_column_type()
            );
            if let Some(agg) = &c.aggregation {
                line.push(' ');
                line.push_str(agg);
            }
            line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            if c.auto_increment {
                line.push_str(" AUTO_INCREMENT");
            }
            if let Some(d) = &c.default {
                if d == CURRENT_TIMESTAMP {
                    line.push_str(" DEFAULT CURRENT_TIMESTAMP");
                } else {
                    line.push_str(&format!(" DEFAULT {}", single_quote(d)));
                }
            }
            line.push_str(&format!(
                " COMMENT {}",
                quote(c.comment.as_deref().unwrap_or(""))
            ));
            line
        })
        .collect();
    let indexes = table
        .indexes
        .iter()
        .map(|i| format!("  {}", crate::statements::ddl::indexes::index_sql(i)));
    let lines: Vec<String> = cols.into_iter().chain(indexes).collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n) ENGINE=OLAP\n");
    out.push_str(&format!(
        "{}({})\n",
        table.keys_model.sql(),
        table
            .key_columns
            .iter()
            .map(|k| backquote(k))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str(&format!(
        "COMMENT {}\n",
        quote(table.comment.as_deref().unwrap_or("OLAP"))
    ));
    out.push_str(&partitioning_clause(table));
    out.push_str(&distribution_clause(table));
    out.push('\n');
    out.push_str(&properties_clause(table));
    out.push(';');
    out
}

/// `PARTITION BY ...` with its partitions (or the rule of expression partitioning); empty
/// when unpartitioned.
fn partitioning_clause(table: &TableMeta) -> String {
    let mut out = String::new();
    // A generated key is shown as its expression, a column by its name.
    let keys = |columns: &[String]| -> Vec<String> {
        columns
            .iter()
            .map(|c| {
                table
                    .partitioning
                    .generated()
                    .iter()
                    .find(|g| &g.name == c)
                    .map_or_else(|| backquote(c), |g| g.expression.clone())
            })
            .collect()
    };
    let partition_lines = |kind: &str, columns: &[String]| -> String {
        let defs: Vec<String> = table
            .partitions
            .iter()
            .map(|p| match &p.bounds {
                PartitionBounds::Range { lower, upper } if lower.is_empty() => match upper {
                    Some(u) => format!(
                        "PARTITION {} VALUES LESS THAN {}",
                        backquote(&p.name),
                        values(u)
                    ),
                    None => format!(
                        "PARTITION {} VALUES LESS THAN (MAXVALUE)",
                        backquote(&p.name)
                    ),
                },
                PartitionBounds::Range { lower, upper } => format!(
                    "PARTITION {} VALUES [{}, {})",
                    backquote(&p.name),
                    values(lower),
                    upper
                        .as_ref()
                        .map(|u| values(u))
                        .unwrap_or_else(|| "(MAXVALUE)".into())
                ),
                PartitionBounds::List { values: v } => format!(
                    "PARTITION {} VALUES IN ({})",
                    backquote(&p.name),
                    v.iter()
                        .map(|t| {
                            let texts: Vec<String> = t.iter().map(list_value).collect();
                            if texts.len() == 1 {
                                texts[0].clone()
                            } else {
                                format!("({})", texts.join(", "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                PartitionBounds::All => String::new(),
            })
            .collect();
        format!(
            "PARTITION BY {kind}({})\n({})\n",
            keys(columns).join(", "),
            defs.join(",\n")
        )
    };
    match &table.partitioning {
        Partitioning::Unpartitioned => {}
        // Expression partitioning: the rule, not the partitions it made.
        Partitioning::Range {
            columns,
            auto:
                Some(AutoPartition::Time {
                    function,
                    unit,
                    step,
                }),
            ..
        } => {
            let column = backquote(columns.first().map_or("", |c| c.as_str()));
            out.push_str(&if function == "time_slice" {
                format!("PARTITION BY time_slice({column}, INTERVAL {step} {unit})\n")
            } else {
                format!("PARTITION BY date_trunc('{unit}', {column})\n")
            });
        }
        Partitioning::List {
            columns,
            auto: Some(_),
            generated,
        }
        | Partitioning::Range {
            columns,
            auto: Some(_),
            generated,
        } => {
            let keys = keys(columns).join(", ");
            // StarRocks writes expression keys without parentheses: `from_unixtime(ts), `city``.
            out.push_str(&if generated.is_empty() {
                format!("PARTITION BY ({keys})\n")
            } else {
                format!("PARTITION BY {keys}\n")
            });
        }
        Partitioning::Range { columns, .. } => out.push_str(&partition_lines("RANGE", columns)),
        Partitioning::List { columns, .. } => out.push_str(&partition_lines("LIST", columns)),
    }
    out
}

/// `DISTRIBUTED BY HASH(..) | RANDOM [BUCKETS n]`.
fn distribution_clause(table: &TableMeta) -> String {
    let mut out = String::new();
    match &table.distribution {
        DistributionMeta::Hash { columns, buckets } => {
            out.push_str(&format!(
                "DISTRIBUTED BY HASH({})",
                columns
                    .iter()
                    .map(|c| backquote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if let Some(b) = buckets {
                out.push_str(&format!(" BUCKETS {b}"));
            }
        }
        DistributionMeta::Random { buckets } => {
            out.push_str("DISTRIBUTED BY RANDOM");
            if let Some(b) = buckets {
                out.push_str(&format!(" BUCKETS {b}"));
            }
        }
    }
    out
}

/// `PROPERTIES (...)` (replication_num first, as StarRocks shows it), without the `;`.
/// `PROPERTIES (...)`: the table's own, and StarRocks' defaults for those it did not set
/// (ordered by name, as StarRocks lists them). The defaults say what snaprock does:
/// `compression` is the codec of its files (ZSTD), and its schema changes rewrite files
/// (`fast_schema_evolution` false).
fn properties_clause(table: &TableMeta) -> String {
    let mut out = String::new();
    let mut props = table.properties.clone();
    let mut defaults = vec![
        ("compression", "ZSTD"),
        ("fast_schema_evolution", "false"),
        ("replicated_storage", "true"),
        ("replication_num", "1"),
    ];
    if table.keys_model == KeysModel::Primary {
        defaults.push(("enable_persistent_index", "true"));
    }
    for (key, value) in defaults {
        if !props.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            props.push((key.into(), value.into()));
        }
    }
    props.sort_by(|a, b| a.0.cmp(&b.0));
    out.push_str("PROPERTIES (\n");
    out.push_str(
        &props
            .iter()
            .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
            .collect::<Vec<_>>()
            .join(",\n"),
    );
    out.push_str("\n)");
    out
}

pub(crate) fn view_ddl(view: &ViewMeta) -> String {
    let columns = if view.columns.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            view.columns
                .iter()
                .map(|c| backquote(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let comment = view
        .comment
        .as_ref()
        .map(|c| format!(" COMMENT {}", quote(c)))
        .unwrap_or_default();
    format!(
        "CREATE VIEW {}{columns}{comment} AS {};",
        backquote(&view.name),
        view.query_sql
    )
}

/// SHOW CREATE MATERIALIZED VIEW: the statement that creates the view again.
pub(crate) fn materialized_view_ddl(table: &TableMeta, view: &MaterializedViewMeta) -> String {
    if view.rollup_of().is_some() {
        return format!(
            "CREATE MATERIALIZED VIEW {} AS {};",
            backquote(&table.name),
            view.query_sql
        );
    }
    let columns: Vec<String> = table.columns.iter().map(|c| backquote(&c.name)).collect();
    let mut out = format!(
        "CREATE MATERIALIZED VIEW {} ({})\n",
        backquote(&table.name),
        columns.join(", ")
    );
    if let Some(comment) = &table.comment {
        out.push_str(&format!("COMMENT {}\n", quote(comment)));
    }
    out.push_str(&partitioning_clause(table));
    out.push_str(&distribution_clause(table));
    out.push('\n');
    out.push_str(&format!("REFRESH {}\n", refresh_clause(&view.refresh)));
    out.push_str(&properties_clause(table));
    out.push_str(&format!("\nAS {};", view.query_sql));
    out
}

/// `ASYNC [START("..")] [EVERY(INTERVAL n unit)]` or `MANUAL`, as SHOW CREATE writes it.
pub(crate) fn refresh_clause(refresh: &MvRefresh) -> String {
    match refresh {
        MvRefresh::Manual => "MANUAL".into(),
        MvRefresh::Sync => "SYNC".into(),
        MvRefresh::Async { schedule: None } => "ASYNC".into(),
        MvRefresh::Async { schedule: Some(s) } => {
            let start = s
                .start_text
                .as_ref()
                .map(|t| format!("START({}) ", quote(t)))
                .unwrap_or_default();
            format!("ASYNC {start}EVERY(INTERVAL {} {})", s.amount, s.unit)
        }
    }
}
