//! One row per path: the lab's `paths.csv` as an Arrow record batch.
//!
//! The lab streams `paths.csv` while it runs (memory bounded by a chunk of paths); this module
//! reads that text back instead of re-deriving the rows, so the Arrow table, the Parquet file
//! and the CSV carry the same columns in the same order by construction. A column whose every
//! value is an integer becomes `Int64`; any other numeric column (USD amounts written as exact
//! six-decimal strings, fractions) becomes `Float64`; an empty cell (e.g. `first_bad_step` of
//! a path that never had bad debt) is a null.

use crate::error::TableError;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// The record batch of a `paths.csv` text (header line, then one line per path).
pub fn from_csv(text: &str) -> Result<RecordBatch, TableError> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').collect(),
        None => {
            return Err(TableError::Csv {
                line: 1,
                message: "empty file (no header)".into(),
            })
        }
    };
    let mut cells: Vec<Vec<&str>> = vec![Vec::new(); header.len()];
    for (i, line) in lines {
        if line.is_empty() {
            continue;
        }
        let row: Vec<&str> = line.split(',').collect();
        if row.len() != header.len() {
            return Err(TableError::Csv {
                line: i + 1,
                message: format!("{} fields, the header has {}", row.len(), header.len()),
            });
        }
        for (col, v) in cells.iter_mut().zip(row) {
            col.push(v);
        }
    }
    let mut fields = Vec::with_capacity(header.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(header.len());
    for (name, col) in header.iter().zip(&cells) {
        let (dt, arr) = column(name, col)?;
        fields.push(Field::new(*name, dt, true));
        arrays.push(arr);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// One typed column: `Int64` when every non-empty cell is an integer, else `Float64`.
fn column(name: &str, col: &[&str]) -> Result<(DataType, ArrayRef), TableError> {
    let ints: Option<Vec<Option<i64>>> = col
        .iter()
        .map(|v| {
            if v.is_empty() {
                Some(None)
            } else {
                v.parse::<i64>().ok().map(Some)
            }
        })
        .collect();
    if let Some(ints) = ints {
        return Ok((DataType::Int64, Arc::new(Int64Array::from(ints))));
    }
    let mut floats = Vec::with_capacity(col.len());
    for (row, v) in col.iter().enumerate() {
        if v.is_empty() {
            floats.push(None);
            continue;
        }
        let x = v.parse::<f64>().map_err(|_| TableError::Csv {
            line: row + 2,
            message: format!("column `{name}`: `{v}` is not a number"),
        })?;
        floats.push(Some(x));
    }
    Ok((DataType::Float64, Arc::new(Float64Array::from(floats))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn integers_floats_and_nulls_are_typed() {
        let b = from_csv("path,bad_debt_usd,first_bad_step\n0,1.500000,\n1,0.000000,7\n").unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema().field(0).data_type(), &DataType::Int64);
        assert_eq!(b.schema().field(1).data_type(), &DataType::Float64);
        let first = b.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
        assert!(first.is_null(0));
        assert_eq!(first.value(1), 7);
    }

    #[test]
    fn a_short_row_names_its_line() {
        let e = from_csv("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        let e = from_csv("a,b\n1,x\n").unwrap_err().to_string();
        assert!(e.contains("`b`") && e.contains("line 2"), "{e}");
    }
}
