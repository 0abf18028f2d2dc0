//! Which contract table a loose Parquet file holds, for `upshot validate FILE`:
//! from its file name (`orders.parquet`, `spend_2025.parquet`), else from its
//! columns (the one table whose required columns it has, with the most contract
//! columns). A file neither tells is reported as such, never guessed.

use std::path::Path;

use crate::config::InputSpec;
use crate::contract::{DEFAULT_STAGES, TableKind};
use crate::error::DataError;

/// What the file name or the columns said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableGuess {
    /// The file name names exactly one table.
    ByName(TableKind),
    /// The columns fit exactly one table best.
    ByColumns(TableKind),
    /// Neither tells; the sentence says why.
    Unknown(String),
}

/// Words of a file name that name a table (plural and singular forms).
fn table_of_word(word: &str) -> Option<TableKind> {
    Some(match word {
        "spend" | "spends" | "costs" => TableKind::Spend,
        "lead" | "leads" => TableKind::Leads,
        "order" | "orders" => TableKind::Orders,
        "touchpoint" | "touchpoints" | "journeys" => TableKind::Touchpoints,
        "survey" | "surveys" => TableKind::Survey,
        "plan" | "plans" => TableKind::Plan,
        "schedule" | "schedules" => TableKind::Schedule,
        _ => return None,
    })
}

/// The tables the words of a file name (its stem, split on anything but letters) name.
pub fn tables_named_by(file_name: &str) -> Vec<TableKind> {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem).to_lowercase();
    let mut tables: Vec<TableKind> = stem.split(|c: char| !c.is_ascii_alphabetic()).filter_map(table_of_word).collect();
    tables.sort();
    tables.dedup();
    tables
}

/// The table whose required columns `columns` all has, with the most contract columns
/// among them; `Err` says why none or several fit.
pub fn table_of_columns(columns: &[String]) -> Result<TableKind, String> {
    let stages: Vec<String> = DEFAULT_STAGES.iter().map(|s| s.to_string()).collect();
    let mut fits: Vec<(usize, TableKind)> = Vec::new();
    let mut closest: Option<(usize, TableKind, Vec<String>)> = None;
    for table in TableKind::ALL {
        let specs = table.columns(&stages);
        let missing: Vec<String> =
            specs.iter().filter(|s| !s.nullable && !columns.contains(&s.name)).map(|s| s.name.clone()).collect();
        let present = specs.iter().filter(|s| columns.contains(&s.name)).count();
        if missing.is_empty() {
            fits.push((present, table));
        } else if closest.as_ref().is_none_or(|(n, _, m)| missing.len() < m.len() || (missing.len() == m.len() && present > *n)) {
            closest = Some((present, table, missing));
        }
    }
    fits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    match fits.as_slice() {
        [] => Err(match closest {
            Some((_, table, missing)) => {
                format!("its columns fit no contract table (closest: `{table}`, which also needs {})", missing.join(", "))
            }
            None => "its columns fit no contract table".into(),
        }),
        [(_, only)] => Ok(*only),
        [(a, first), (b, second), ..] if a == b => Err(format!("its columns fit `{first}` and `{second}` equally well")),
        [(_, best), ..] => Ok(*best),
    }
}

/// Guesses the table of a loose file: its name first, then its Parquet schema.
/// Errors only when the file cannot be read as Parquet.
pub fn guess_table(path: &Path) -> Result<TableGuess, DataError> {
    let display = path.display().to_string();
    let file_name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let named = tables_named_by(&file_name);
    if let [only] = named.as_slice() {
        return Ok(TableGuess::ByName(*only));
    }
    // The table is not known yet; the scan only reads the schema.
    let input =
        InputSpec { table: TableKind::Spend, path: path.to_path_buf(), display_path: display, renames: Default::default() };
    let (_, schema) = crate::load::scan_with_schema(&input)?;
    let columns: Vec<String> = schema.iter_names().map(|name| name.to_string()).collect();
    let name_says = match named.as_slice() {
        [] => "its name names no contract table".to_string(),
        several => {
            format!("its name names several tables ({})", several.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))
        }
    };
    Ok(match table_of_columns(&columns) {
        Ok(table) if named.is_empty() || named.contains(&table) => TableGuess::ByColumns(table),
        Ok(table) => TableGuess::Unknown(format!("{name_says} and its columns fit `{table}`")),
        Err(why) => TableGuess::Unknown(format!("{name_says} and {why}; found columns: {}", columns.join(", "))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_tell_the_table() {
        assert_eq!(tables_named_by("orders.parquet"), vec![TableKind::Orders]);
        assert_eq!(tables_named_by("spend_2025.parquet"), vec![TableKind::Spend]);
        assert_eq!(tables_named_by("brand_schedule.parquet"), vec![TableKind::Schedule]);
        assert_eq!(tables_named_by("CRM-Leads-2025-11.parquet"), vec![TableKind::Leads]);
        assert_eq!(tables_named_by("export.parquet"), Vec::<TableKind>::new());
        assert_eq!(tables_named_by("leads_and_orders.parquet"), vec![TableKind::Leads, TableKind::Orders]);
        // Words, not substrings: "planner" is not "plan".
        assert_eq!(tables_named_by("planner.parquet"), Vec::<TableKind>::new());
    }

    #[test]
    fn columns_tell_the_table() {
        let orders = strings(&["order_id", "customer_id", "lead_id", "paid_at", "revenue", "channel"]);
        assert_eq!(table_of_columns(&orders), Ok(TableKind::Orders));
        let spend = strings(&["date", "channel", "campaign", "impressions", "clicks", "cost"]);
        assert_eq!(table_of_columns(&spend), Ok(TableKind::Spend));
        let survey = strings(&["order_id", "sent_at", "answer"]);
        assert_eq!(table_of_columns(&survey), Ok(TableKind::Survey));
        let touch = strings(&["customer_id", "at", "channel", "kind"]);
        assert_eq!(table_of_columns(&touch), Ok(TableKind::Touchpoints));
        let none = table_of_columns(&strings(&["date", "channel", "campaign", "clicks"])).expect_err("no table");
        assert!(none.contains("closest: `spend`") && none.contains("impressions, cost"), "{none}");
    }
}
