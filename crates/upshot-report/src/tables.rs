//! tables/*.csv (raw values, RFC 4180 quoting) and tables/tables.xlsx (one sheet per table).

use std::fmt::Write;
use std::path::Path;

use rust_xlsxwriter::Workbook;
use upshot_result::{Cell, Table};

use crate::{ReportError, io_err};

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

fn raw(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Int(value) => value.to_string(),
        // Shortest representation that round-trips: stable across runs.
        Cell::Num(value) => value.to_string(),
        Cell::Empty => String::new(),
    }
}

/// The CSV text of a table.
pub(crate) fn csv(table: &Table) -> String {
    let mut out = String::new();
    let header: Vec<String> = table.columns.iter().map(|c| csv_field(&c.name)).collect();
    let _ = writeln!(out, "{}", header.join(","));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|cell| csv_field(&raw(cell))).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

pub(crate) fn write_csvs(dir: &Path, tables: &[Table], _currency: &str) -> Result<(), ReportError> {
    for table in tables {
        let path = dir.join(format!("{}.csv", table.name));
        std::fs::write(&path, csv(table)).map_err(io_err(&path))?;
    }
    Ok(())
}

/// Sheet names: at most 31 characters, unique.
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let base: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
    let mut candidate = base.clone();
    let mut i = 2;
    while used.contains(&candidate) {
        candidate = format!("{base}_{i}");
        i += 1;
    }
    used.push(candidate.clone());
    candidate
}

pub(crate) fn write_workbook(path: &Path, tables: &[Table]) -> Result<(), ReportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Workbook(e.to_string());
    let mut workbook = Workbook::new();
    let mut used = Vec::new();
    for table in tables {
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name(sheet_name(&table.name, &mut used)).map_err(err)?;
        for (c, column) in table.columns.iter().enumerate() {
            sheet.write_string(0, c as u16, &column.name).map_err(err)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(text) => sheet.write_string(r, c, text).map(|_| ()).map_err(err)?,
                    Cell::Int(value) => sheet.write_number(r, c, *value as f64).map(|_| ()).map_err(err)?,
                    Cell::Num(value) => sheet.write_number(r, c, *value).map(|_| ()).map_err(err)?,
                    Cell::Empty => {}
                }
            }
        }
    }
    workbook.save(path).map_err(err)
}

#[cfg(test)]
mod tests {
    use upshot_result::Format;

    use super::*;

    #[test]
    fn csv_quotes_fields_that_need_it() {
        let mut table = Table::new("t", "t", &[("campaign", Format::Text), ("cost", Format::Money)]);
        table.push(vec![Cell::from("brand, \"exact\""), Cell::from(12.5)]);
        table.push(vec![Cell::from("Блогер"), Cell::Empty]);
        assert_eq!(csv(&table), "campaign,cost\n\"brand, \"\"exact\"\"\",12.5\nБлогер,\n");
    }

    #[test]
    fn sheet_names_are_short_and_unique() {
        let mut used = Vec::new();
        let a = sheet_name("a_very_long_table_name_that_goes_on_and_on", &mut used);
        let b = sheet_name("a_very_long_table_name_that_goes_on_and_on", &mut used);
        assert!(a.len() <= 31 && b.len() <= 31);
        assert_ne!(a, b);
    }
}
