//! Opening an export: file checks, column mapping, type checks and casts.
//!
//! The result is a polars lazy scan whose columns carry contract names and
//! contract types, so validation and analyses never see export names.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use polars::prelude::*;

use crate::config::InputSpec;
use crate::contract::{ColType, ColumnSpec};
use crate::error::DataError;

/// How the loader reads values: the parts of the config that shape loading.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Funnel stages after `lead`.
    pub stages: Vec<String>,
    /// IANA timezone for day boundaries; `None` = UTC.
    pub timezone: Option<String>,
}

/// An export opened against its contract.
pub struct Opened {
    /// Lazy scan with canonical names and types.
    pub frame: LazyFrame,
    /// The contract columns.
    pub columns: Vec<ColumnSpec>,
    /// Whether the export has a `currency` column (checked against the config).
    pub has_currency: bool,
    /// Export columns outside the contract, ignored.
    pub ignored_columns: Vec<String>,
    /// Nullable contract columns the export leaves out, read as all null.
    pub absent_columns: Vec<String>,
}

const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Checks that the file exists, is not empty, and is framed as Parquet, so
/// that a CSV renamed to `.parquet` or a truncated download gets a plain
/// message instead of a decoder error.
fn check_parquet_framing(input: &InputSpec) -> Result<(), DataError> {
    let file_name = input.display_path.clone();
    let io_error = |source| DataError::Io { file: file_name.clone(), source };
    let mut file = File::open(&input.path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    let not_parquet = |detail: String| DataError::NotParquet { file: input.display_path.clone(), detail };
    if len == 0 {
        return Err(not_parquet("the file is empty (0 bytes); export the table again".into()));
    }
    let mut head = vec![0u8; len.min(64) as usize];
    file.read_exact(&mut head).map_err(io_error)?;
    if len < 12 || &head[..4] != PARQUET_MAGIC {
        let text: String = String::from_utf8_lossy(&head).lines().next().unwrap_or("").chars().take(48).collect();
        let looks_like = if text.contains(',') || text.contains(';') || text.contains('\t') {
            format!("it starts with `{text}`, which looks like CSV; export the table as Parquet")
        } else {
            "it does not start with the Parquet magic bytes `PAR1`".to_string()
        };
        return Err(not_parquet(format!("not a Parquet file: {looks_like}")));
    }
    let mut tail = [0u8; 4];
    file.seek(SeekFrom::End(-4)).map_err(io_error)?;
    file.read_exact(&mut tail).map_err(io_error)?;
    if &tail != PARQUET_MAGIC {
        return Err(not_parquet(format!(
            "truncated Parquet file ({len} bytes): the footer is missing; the export or the copy was cut short"
        )));
    }
    Ok(())
}

/// Checks a framed Parquet file's structure before anything decodes its data ([`check_parquet_layout`]).
/// Validation calls it once per file, after [`open`] (whose framing check gives a CSV or a cut file its
/// plain message) and before the first read of the data.
pub(crate) fn check_parquet_structure(input: &InputSpec) -> Result<(), DataError> {
    let io_error = |source| DataError::Io { file: input.display_path.clone(), source };
    let mut file = File::open(&input.path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    let mut footer_len = [0u8; 4];
    file.seek(SeekFrom::End(-8)).map_err(io_error)?;
    file.read_exact(&mut footer_len).map_err(io_error)?;
    let data_end = len.saturating_sub(8 + u64::from(u32::from_le_bytes(footer_len)));
    check_parquet_layout(&input.path, len, data_end).map_err(|detail| DataError::NotParquet {
        file: input.display_path.clone(),
        detail: format!("corrupt Parquet file: {detail}; export the table again"),
    })
}

/// Checks that the footer reads and that every row group and column chunk it describes lies inside the
/// file, before its data: polars' streaming reader slices the file by those ranges unchecked, so a
/// damaged footer would read past the end of the file (found by the Parquet fuzz target,
/// `tests/fuzz_parquet.rs`).
fn check_parquet_layout(path: &std::path::Path, len: u64, data_end: u64) -> Result<(), String> {
    let mut reader = ParquetReader::new(File::open(path).map_err(|e| e.to_string())?);
    let metadata = reader.get_metadata().map_err(|e| format!("the footer cannot be read ({e})"))?;
    let rows: usize = metadata.row_groups.iter().map(|g| g.num_rows()).sum();
    if rows != metadata.num_rows {
        return Err(format!("the footer counts {} rows but its row groups {rows}", metadata.num_rows));
    }
    for (i, group) in metadata.row_groups.iter().enumerate() {
        for range in std::iter::once(group.full_byte_range()).chain(group.byte_ranges_iter()) {
            if range.start > range.end || range.end > data_end {
                return Err(format!(
                    "row group {} points at bytes {}..{} of a {len}-byte file whose data ends at byte {data_end}",
                    i + 1,
                    range.start,
                    range.end
                ));
            }
        }
    }
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    for (i, group) in metadata.row_groups.iter().enumerate() {
        for column in group.parquet_columns() {
            check_pages(&mut file, column, group.num_rows()).map_err(|detail| {
                format!("row group {}, column `{}`: {detail}", i + 1, column.descriptor().path_in_schema.join("."))
            })?;
        }
    }
    Ok(())
}

/// The largest page (compressed or not) a file may declare: the format stores page sizes as `i32`.
const MAX_PAGE_BYTES: usize = 1 << 30;

/// Reads one column chunk's page headers (not its values) and checks them against the footer: a
/// flat column holds one value per row, the data pages' value counts add up to the chunk's, and no page
/// is larger than [`MAX_PAGE_BYTES`]. polars sizes its buffers from those header fields, so a damaged
/// header would otherwise ask for exabytes and abort the process (found by the Parquet fuzz target).
fn check_pages(
    file: &mut File,
    column: &polars_parquet::parquet::metadata::ColumnChunkMetadata,
    rows: usize,
) -> Result<(), String> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::PageReader;
    let values = usize::try_from(column.num_values()).map_err(|_| "a negative value count".to_string())?;
    if column.descriptor().descriptor.max_rep_level == 0 && values != rows {
        return Err(format!("{values} values in a flat column of {rows} rows"));
    }
    let range = column.byte_range();
    let mut bytes = vec![0u8; (range.end - range.start) as usize];
    file.seek(SeekFrom::Start(range.start)).map_err(|e| e.to_string())?;
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    let pages = PageReader::new(std::io::Cursor::new(polars_buffer::Buffer::from(bytes)), column, Vec::new(), MAX_PAGE_BYTES);
    let mut seen = 0usize;
    for page in pages {
        match page.map_err(|e| format!("a page header cannot be read ({e})"))? {
            CompressedPage::Data(page) => {
                if page.uncompressed_size() > MAX_PAGE_BYTES {
                    return Err(format!("a page declares {} bytes uncompressed", page.uncompressed_size()));
                }
                seen = seen.saturating_add(page.num_values());
                if seen > values {
                    return Err(format!("its pages hold more than the {values} values the footer counts"));
                }
            }
            CompressedPage::Dict(_) => {}
        }
    }
    if seen != values {
        return Err(format!("its pages hold {seen} values, the footer counts {values}"));
    }
    Ok(())
}

/// A lazy scan of an export and its Parquet schema, after the framing check (so a CSV
/// renamed to `.parquet` or a cut file gets its plain message).
pub(crate) fn scan_with_schema(input: &InputSpec) -> Result<(LazyFrame, SchemaRef), DataError> {
    check_parquet_framing(input)?;
    let file = input.display_path.clone();
    let path = PlRefPath::try_from_path(&input.path).map_err(|source| DataError::Polars {
        file: file.clone(),
        context: "cannot open".into(),
        source,
    })?;
    let mut scan = LazyFrame::scan_parquet(path, ScanArgsParquet::default())
        .map_err(|source| DataError::NotParquet { file: file.clone(), detail: format!("cannot read Parquet: {source}") })?;
    let schema = scan
        .collect_schema()
        .map_err(|source| DataError::NotParquet { file, detail: format!("cannot read the Parquet schema: {source}") })?;
    Ok((scan, schema))
}

/// Opens an export, maps its columns onto the contract and casts them.
pub fn open(input: &InputSpec, options: &ReadOptions) -> Result<Opened, DataError> {
    let (scan, schema) = scan_with_schema(input)?;
    let file = input.display_path.clone();

    let columns = input.table.columns(&options.stages);
    let found_names: Vec<String> = schema.iter_names().map(|name| name.to_string()).collect();
    let mut selected = Vec::new();
    let mut absent_columns = Vec::new();
    let mut used_export_names = Vec::new();
    for spec in &columns {
        let export_name = input.renames.get(&spec.name).cloned().unwrap_or_else(|| spec.name.clone());
        match schema.get(export_name.as_str()) {
            None if spec.nullable && !input.renames.contains_key(&spec.name) => {
                absent_columns.push(spec.name.clone());
                selected.push(lit(NULL).cast(spec.ty.dtype()).alias(spec.name.as_str()));
            }
            None => {
                return Err(missing_column(input, spec, &export_name, &found_names));
            }
            Some(dtype) => {
                if !spec.ty.accepts(dtype) {
                    let examples = example_values(&scan, &export_name);
                    return Err(DataError::Mistyped {
                        file: file.clone(),
                        table: input.table.name().to_string(),
                        column: export_name,
                        expected: spec.ty.name().to_string(),
                        found: dtype.to_string(),
                        examples,
                    });
                }
                used_export_names.push(export_name.clone());
                selected.push(cast_expr(col(export_name.as_str()), dtype, spec.ty, options)?.alias(spec.name.as_str()));
            }
        }
    }
    let currency_name = input.renames.get("currency").cloned().unwrap_or_else(|| "currency".to_string());
    let has_currency = schema.get(currency_name.as_str()).is_some();
    if has_currency {
        used_export_names.push(currency_name.clone());
        selected.push(col(currency_name.as_str()).cast(DataType::String).alias("currency"));
    }
    let ignored_columns = found_names.into_iter().filter(|name| !used_export_names.contains(name)).collect();
    Ok(Opened { frame: scan.select(selected), columns, has_currency, ignored_columns, absent_columns })
}

/// The cast from an accepted export type to the contract type. Datetimes are
/// brought to naive local time in the config's timezone, so that day
/// boundaries everywhere downstream are the analyst's days.
fn cast_expr(expr: Expr, found: &DataType, ty: ColType, options: &ReadOptions) -> Result<Expr, DataError> {
    if ty != ColType::Datetime {
        return Ok(expr.cast(ty.dtype()));
    }
    let naive = ColType::Datetime.dtype();
    let source_zone = match found {
        DataType::Datetime(_, Some(zone)) => Some(zone.clone()),
        _ => None,
    };
    let Some(target) = options.timezone.as_deref() else {
        // No timezone configured: timestamps are UTC.
        return Ok(match source_zone {
            Some(_) => expr
                .dt()
                .convert_time_zone(TimeZone::UTC)
                .dt()
                .replace_time_zone(None, lit("raise"), NonExistent::Raise)
                .cast(naive),
            None => expr.cast(naive),
        });
    };
    let target = TimeZone::opt_try_new(Some(target))
        .ok()
        .flatten()
        .ok_or_else(|| DataError::Config { file: "config".into(), message: format!("unknown timezone `{target}`") })?;
    let zoned = match source_zone {
        Some(_) => expr,
        None => expr.cast(naive.clone()).dt().replace_time_zone(Some(TimeZone::UTC), lit("raise"), NonExistent::Raise),
    };
    Ok(zoned.dt().convert_time_zone(target).dt().replace_time_zone(None, lit("earliest"), NonExistent::Null).cast(naive))
}

fn missing_column(input: &InputSpec, spec: &ColumnSpec, export_name: &str, found: &[String]) -> DataError {
    let table = input.table.name();
    let contract: Vec<String> = input.table.columns(&[]).into_iter().map(|c| c.name).collect();
    let candidate = found.iter().find(|name| !contract.contains(name) && similar(name, &spec.name));
    let hint = match (input.renames.get(&spec.name), candidate) {
        (Some(renamed), _) => format!(
            "\n  hint: the config maps `{}` to `{renamed}`, which the file does not have; fix [columns.{table}]",
            spec.name
        ),
        (None, Some(candidate)) => format!(
            "\n  hint: if your export calls it `{candidate}`, add to the config:\n        [columns.{table}]\n        {} = \"{candidate}\"",
            spec.name
        ),
        (None, None) => format!(
            "\n  hint: if your export calls it something else, map it in the config under [columns.{table}]: {} = \"<export name>\"",
            spec.name
        ),
    };
    let mut found_list: Vec<&str> = found.iter().map(String::as_str).take(12).collect();
    if found.len() > 12 {
        found_list.push("...");
    }
    DataError::MissingColumn {
        file: input.display_path.clone(),
        table: table.to_string(),
        column: export_name.to_string(),
        expected: spec.ty.name().to_string(),
        found: found_list.join(", "),
        hint,
    }
}

/// Two column names are similar when they share a word of three or more
/// letters (`paid_at` ~ `payment_date` share none; `paid_at` ~ `paid_date`
/// share `paid`) or one starts with the other's first three letters.
fn similar(a: &str, b: &str) -> bool {
    let a = a.to_lowercase();
    let b = b.to_lowercase();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3).map(str::to_string).collect()
    };
    let shared_word = words(&a).iter().any(|w| words(&b).contains(w));
    let shared_prefix = a.len() >= 3 && b.len() >= 3 && a[..3] == b[..3];
    shared_word || shared_prefix
}

fn example_values(scan: &LazyFrame, column: &str) -> String {
    let values = scan.clone().select([col(column).cast(DataType::String)]).limit(3).collect();
    match values {
        Ok(frame) => match frame.column(column) {
            Ok(series) => (0..series.len())
                .map(|i| format!("row {}: {}", i + 1, series.get(i).map(|v| v.to_string()).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; "),
            Err(_) => String::new(),
        },
        Err(_) => "(values could not be shown)".to_string(),
    }
}

/// The key-value metadata of a Parquet file (design parameters of a
/// schedule, for example); empty when the footer has none or cannot be read.
pub fn key_value_metadata(path: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(file) = File::open(path) else { return out };
    let mut reader = ParquetReader::new(file);
    if let Ok(metadata) = reader.get_metadata() {
        for pair in metadata.key_value_metadata().iter().flatten() {
            if let Some(value) = &pair.value {
                out.insert(pair.key.clone(), value.clone());
            }
        }
    }
    out
}

/// Writes a frame as a zstd-compressed Parquet file with key-value metadata,
/// through a temporary file so a failed write leaves nothing behind.
pub fn write_parquet(path: &std::path::Path, frame: &mut DataFrame, metadata: Vec<(String, String)>) -> Result<(), DataError> {
    let file_name = path.display().to_string();
    let partial = path.with_extension("parquet.partial");
    let io = |source| DataError::Io { file: file_name.clone(), source };
    let file = File::create(&partial).map_err(io)?;
    let mut writer = ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(None));
    if !metadata.is_empty() {
        writer = writer.with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)));
    }
    writer.finish(frame).map_err(|source| DataError::Polars {
        file: file_name.clone(),
        context: "cannot write".into(),
        source,
    })?;
    std::fs::rename(&partial, path).map_err(io)
}

/// The first value of an integer column as `u64` (0 when absent or null).
pub(crate) fn first_u64(frame: &DataFrame, column: &str) -> u64 {
    frame.column(column).ok().and_then(|c| c.get(0).ok()).and_then(|value| value.extract::<u64>()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_names() {
        assert!(similar("paid_date", "paid_at"));
        assert!(similar("costs", "cost_usd"));
        assert!(!similar("payment_date", "order_id"));
    }
}
