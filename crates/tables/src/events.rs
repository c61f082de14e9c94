//! A replay's events as an Arrow record batch: `line` (the 1-based journal line that caused
//! the event), `event` (its kind, the JSON tag, e.g. `deposited`) and `json` (the whole event
//! as JSON; ledger integers are exact JSON numbers, which Python's `json` reads exactly).

use crate::error::TableError;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use ballast_engine::event::Event;
use std::sync::Arc;

/// Just the tag of a serialized event.
#[derive(serde::Deserialize)]
struct Tag {
    event: String,
}

/// The record batch of `(line, event)` pairs, in order.
pub fn from_events(events: &[(usize, Event)]) -> Result<RecordBatch, TableError> {
    let mut line = Vec::with_capacity(events.len());
    let mut kind = Vec::with_capacity(events.len());
    let mut json = Vec::with_capacity(events.len());
    for (l, e) in events {
        let text = serde_json::to_string(e).expect("events serialize");
        let tag: Tag = serde_json::from_str(&text).expect("events carry their tag");
        line.push(*l as i64);
        kind.push(tag.event);
        json.push(text);
    }
    let schema = Schema::new(vec![
        Field::new("line", DataType::Int64, false),
        Field::new("event", DataType::Utf8, false),
        Field::new("json", DataType::Utf8, false),
    ]);
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(line)),
        Arc::new(StringArray::from(kind)),
        Arc::new(StringArray::from(json)),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), arrays)?)
}
