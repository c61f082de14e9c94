//! Parquet files (Snappy-compressed, one row group per batch) of the tables in this crate, and
//! the pair a stress run's `--out` folder receives: `paths.parquet` (from its `paths.csv`)
//! and `series.parquet` (from its aggregate).

use crate::error::TableError;
use arrow_array::RecordBatch;
use ballast_lab::stats::Aggregate;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::Path;

/// Writes `batch` to `path` as Parquet: to a temporary sibling first, renamed into place, so a
/// reader never sees half a file.
pub fn write(path: &Path, batch: &RecordBatch) -> Result<(), TableError> {
    let shown = path.display().to_string();
    let tmp = path.with_extension("parquet.tmp");
    let io = |what: &'static str| {
        let shown = shown.clone();
        move |source| TableError::Io {
            what,
            path: shown,
            source,
        }
    };
    let pq = |source| TableError::Parquet {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::create(&tmp).map_err(io("creating"))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(pq)?;
    w.write(batch).map_err(pq)?;
    w.close().map_err(pq)?;
    std::fs::rename(&tmp, path).map_err(io("renaming into"))?;
    Ok(())
}

/// Writes `dir/paths.parquet` (from `dir/paths.csv`) and `dir/series.parquet` for a run folder
/// the lab has written; returns the two paths.
pub fn write_run(
    dir: &Path,
    agg: &Aggregate,
    step_hours: f64,
) -> Result<[std::path::PathBuf; 2], TableError> {
    let csv = dir.join("paths.csv");
    let text = std::fs::read_to_string(&csv).map_err(|source| TableError::Io {
        what: "reading",
        path: csv.display().to_string(),
        source,
    })?;
    let paths = dir.join("paths.parquet");
    write(&paths, &crate::paths::from_csv(&text)?)?;
    let series = dir.join("series.parquet");
    write(&series, &crate::series::long(agg, step_hours)?)?;
    Ok([paths, series])
}
