//! A sweep as an Arrow record batch: one row per grid point, one `Utf8` column per axis (the
//! value as given on the grid), then the point's figures (null for a combination the scenario
//! refused, whose reason is in `invalid`) and its `frontier` / `recommended` flags.

use crate::error::TableError;
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use ballast_lab::sweep::{Point, Sweep};
use std::sync::Arc;

/// The record batch of a sweep's points, in grid order.
pub fn from_sweep(s: &Sweep) -> Result<RecordBatch, TableError> {
    let keys: Vec<String> = s
        .points
        .first()
        .map(|p| p.params.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let v: Vec<Option<&str>> = s
            .points
            .iter()
            .map(|p| p.params.get(i).map(|(_, v)| v.as_str()))
            .collect();
        fields.push(Field::new(k, DataType::Utf8, true));
        arrays.push(Arc::new(StringArray::from(v)));
    }
    let figure = |f: fn(&Point) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            s.points.iter().map(f).collect::<Vec<_>>(),
        ))
    };
    let cols: [(&str, ArrayRef); 6] = [
        ("capital_efficiency", figure(|p| p.capital_efficiency)),
        ("p_insolvency", figure(|p| p.p_insolvency)),
        (
            "p_insolvency_lo95",
            figure(|p| p.p_insolvency_ci95.map(|c| c[0])),
        ),
        (
            "p_insolvency_hi95",
            figure(|p| p.p_insolvency_ci95.map(|c| c[1])),
        ),
        ("bad_debt_mean", figure(|p| p.bad_debt_mean)),
        ("bad_debt_var99", figure(|p| p.bad_debt_var99)),
    ];
    for (name, a) in cols {
        fields.push(Field::new(name, DataType::Float64, true));
        arrays.push(a);
    }
    let invalid: Vec<Option<&str>> = s.points.iter().map(|p| p.invalid.as_deref()).collect();
    fields.push(Field::new("invalid", DataType::Utf8, true));
    arrays.push(Arc::new(StringArray::from(invalid)));
    for (name, f) in [
        ("frontier", (|p: &Point| p.frontier) as fn(&Point) -> bool),
        ("recommended", |p: &Point| p.recommended),
    ] {
        fields.push(Field::new(name, DataType::Boolean, false));
        arrays.push(Arc::new(BooleanArray::from(
            s.points.iter().map(f).collect::<Vec<_>>(),
        )));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
