//! MySQL's and StarRocks' CAST target types as DataFusion plans them: `SIGNED` / `UNSIGNED
//! [INTEGER]` are 64-bit integers, `DATETIME` (also in `DATETIME '...'` and `CONVERT(x,
//! DATETIME)`) a timestamp in microseconds without a zone, as DATETIME columns are stored (a
//! nanosecond one, DataFusion's `TIMESTAMP`, could not hold years before 1677).

use snaprock_sql::sqlparser::ast::{DataType, TimezoneInfo};

/// Replaces a MySQL type DataFusion does not know by the one it plans the same way.
pub(crate) fn to_datafusion(data_type: &mut DataType) {
    match data_type {
        DataType::Signed | DataType::SignedInteger => *data_type = DataType::BigInt(None),
        DataType::Unsigned | DataType::UnsignedInteger => {
            *data_type = DataType::BigIntUnsigned(None)
        }
        DataType::Datetime(_) => *data_type = DataType::Timestamp(Some(6), TimezoneInfo::None),
        _ => {}
    }
}
