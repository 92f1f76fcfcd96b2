//! Partition pruning: which partitions a filter can match, from their bounds alone.
//!
//! Handles the shapes a WHERE on the partition column takes after DataFusion's simplification
//! (`col op literal`, `literal op col`, BETWEEN, IN, AND, OR); anything else keeps the partition.

use std::cmp::Ordering;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use snaprock_storage::{PartitionBounds, bounds_to_scalars};

/// A partition's values of the (first) partition column.
pub(crate) enum ColumnBounds {
    /// Anything may be in it.
    Unknown,
    /// `[lower, upper)`; `None` is unbounded.
    Range {
        lower: Option<ScalarValue>,
        upper: Option<ScalarValue>,
    },
    List(Vec<ScalarValue>),
}

impl ColumnBounds {
    /// Bounds of the first partition column; multi-column partitioning is not pruned.
    pub(crate) fn from_partition(
        bounds: &PartitionBounds,
        columns: usize,
        data_type: &DataType,
    ) -> Self {
        if columns != 1 {
            return ColumnBounds::Unknown;
        }
        let types = [data_type.clone()];
        match bounds {
            PartitionBounds::All => ColumnBounds::Unknown,
            PartitionBounds::Range { lower, upper } => {
                let lower = bounds_to_scalars(lower, &types)
                    .ok()
                    .and_then(|v| v.into_iter().next());
                let upper = match upper {
                    Some(u) => match bounds_to_scalars(u, &types)
                        .ok()
                        .and_then(|v| v.into_iter().next())
                    {
                        Some(v) => Some(v),
                        None => return ColumnBounds::Unknown,
                    },
                    None => None,
                };
                ColumnBounds::Range { lower, upper }
            }
            // A partition holding NULL is kept (NULL matches no comparison, but IS NULL).
            PartitionBounds::List { values } => {
                let vals: Option<Vec<ScalarValue>> = values
                    .iter()
                    .map(|t| {
                        let first = t.first()?.clone()?;
                        bounds_to_scalars(&[first], &types)
                            .ok()
                            .and_then(|v| v.into_iter().next())
                    })
                    .collect();
                vals.map(ColumnBounds::List)
                    .unwrap_or(ColumnBounds::Unknown)
            }
        }
    }
}

/// Whether some row of the partition could satisfy every filter.
pub(crate) fn may_match(filters: &[Expr], column: &str, bounds: &ColumnBounds) -> bool {
    if matches!(bounds, ColumnBounds::Unknown) {
        return true;
    }
    filters.iter().all(|f| expr_may_match(f, column, bounds))
}

fn expr_may_match(expr: &Expr, column: &str, bounds: &ColumnBounds) -> bool {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => expr_may_match(left, column, bounds) && expr_may_match(right, column, bounds),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => expr_may_match(left, column, bounds) || expr_may_match(right, column, bounds),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if let (Some(c), Some(v)) = (column_name(left), literal(right))
                && c == column
            {
                return compare_may_match(*op, v, bounds);
            }
            if let (Some(v), Some(c)) = (literal(left), column_name(right))
                && c == column
                && let Some(op) = op.swap()
            {
                return compare_may_match(op, v, bounds);
            }
            true
        }
        Expr::Between(b) if !b.negated => {
            match (column_name(&b.expr), literal(&b.low), literal(&b.high)) {
                (Some(c), Some(lo), Some(hi)) if c == column => {
                    compare_may_match(Operator::GtEq, lo, bounds)
                        && compare_may_match(Operator::LtEq, hi, bounds)
                }
                _ => true,
            }
        }
        Expr::InList(list) if !list.negated => match column_name(&list.expr) {
            Some(c) if c == column => list.list.iter().any(|item| match literal(item) {
                Some(v) => compare_may_match(Operator::Eq, v, bounds),
                None => true,
            }),
            _ => true,
        },
        _ => true,
    }
}

fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(c) => Some(c.name.as_str()),
        Expr::Cast(c) => column_name(&c.expr),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(v, _) if !v.is_null() => Some(v),
        _ => None,
    }
}

/// Whether some value `x` of the partition satisfies `x op v`.
fn compare_may_match(op: Operator, v: &ScalarValue, bounds: &ColumnBounds) -> bool {
    match bounds {
        ColumnBounds::Unknown => true,
        ColumnBounds::List(values) => values.iter().any(|x| match x.partial_cmp(v) {
            None => true,
            Some(ord) => satisfies(op, ord).unwrap_or(true),
        }),
        ColumnBounds::Range { lower, upper } => {
            // x in [lower, upper)
            let cmp = |a: &ScalarValue, b: &ScalarValue| a.partial_cmp(b);
            match op {
                Operator::Eq => {
                    let above_lower = lower
                        .as_ref()
                        .is_none_or(|l| cmp(v, l).is_none_or(|o| o != Ordering::Less));
                    let below_upper = upper
                        .as_ref()
                        .is_none_or(|u| cmp(v, u).is_none_or(|o| o == Ordering::Less));
                    above_lower && below_upper
                }
                // x < v possible iff lower < v
                Operator::Lt => lower
                    .as_ref()
                    .is_none_or(|l| cmp(l, v).is_none_or(|o| o == Ordering::Less)),
                // x <= v possible iff lower <= v
                Operator::LtEq => lower
                    .as_ref()
                    .is_none_or(|l| cmp(l, v).is_none_or(|o| o != Ordering::Greater)),
                // x > v or x >= v possible iff v < upper
                Operator::Gt | Operator::GtEq => upper
                    .as_ref()
                    .is_none_or(|u| cmp(v, u).is_none_or(|o| o == Ordering::Less)),
                _ => true,
            }
        }
    }
}

fn satisfies(op: Operator, ord: Ordering) -> Option<bool> {
    Some(match op {
        Operator::Eq => ord == Ordering::Equal,
        Operator::NotEq => ord != Ordering::Equal,
        Operator::Lt => ord == Ordering::Less,
        Operator::LtEq => ord != Ordering::Greater,
        Operator::Gt => ord == Ordering::Greater,
        Operator::GtEq => ord != Ordering::Less,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn range(lo: i32, hi: i32) -> ColumnBounds {
        ColumnBounds::Range {
            lower: Some(ScalarValue::Int32(Some(lo))),
            upper: Some(ScalarValue::Int32(Some(hi))),
        }
    }

    #[test]
    fn range_pruning() {
        let p = range(10, 20);
        assert!(may_match(&[col("k").eq(lit(15i32))], "k", &p));
        assert!(!may_match(&[col("k").eq(lit(20i32))], "k", &p));
        assert!(!may_match(&[col("k").lt(lit(10i32))], "k", &p));
        assert!(may_match(&[col("k").lt_eq(lit(10i32))], "k", &p));
        assert!(!may_match(&[col("k").gt_eq(lit(20i32))], "k", &p));
        assert!(may_match(&[col("k").gt(lit(19i32))], "k", &p));
        assert!(!may_match(&[lit(25i32).lt(col("k"))], "k", &p));
        assert!(may_match(&[col("other").eq(lit(99i32))], "k", &p));
        assert!(!may_match(
            &[col("k").between(lit(30i32), lit(40i32))],
            "k",
            &p
        ));
        assert!(may_match(
            &[col("k").in_list(vec![lit(1i32), lit(12i32)], false)],
            "k",
            &p
        ));
        assert!(!may_match(
            &[col("k").eq(lit(1i32)).or(col("k").eq(lit(30i32)))],
            "k",
            &p
        ));
    }

    #[test]
    fn list_pruning() {
        let p = ColumnBounds::List(vec![
            ScalarValue::Utf8(Some("a".into())),
            ScalarValue::Utf8(Some("b".into())),
        ]);
        assert!(may_match(&[col("c").eq(lit("b"))], "c", &p));
        assert!(!may_match(&[col("c").eq(lit("z"))], "c", &p));
    }
}
