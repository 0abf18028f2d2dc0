//! tables/*.csv (raw values, RFC 4180 quoting) and tables/tables.xlsx (one sheet per table).

use std::fmt::Write;
use std::path::Path;

use rust_xlsxwriter::Workbook;
use upshot_result::{Cell, Table};

use crate::{ReportError, io_err};

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// A text cell a spreadsheet would read as a formula (a leading `=`, `+`, `-`, `@`, tab or carriage
/// return: an ad named `=HYPERLINK(...)`) gets a leading `'` and quotes, OWASP's advice against CSV
/// injection: Excel and Google Sheets then show the text as it was. Numbers are never text cells, so a
/// negative number stays a number.
fn text_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("\"'{}\"", text.replace('"', "\"\""))
    } else {
        csv_field(text)
    }
}

fn field(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text_field(text),
        other => raw(other),
    }
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
    let header: Vec<String> = table.columns.iter().map(|c| text_field(&c.name)).collect();
    let _ = writeln!(out, "{}", header.join(","));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(field).collect();
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
    // No write time in the document's properties (1980-01-01, the zip format's first day), so the same
    // run gives the same workbook bytes, like every other file of the folder.
    let epoch = rust_xlsxwriter::ExcelDateTime::from_ymd(1980, 1, 1).map_err(err)?;
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&epoch));
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
    fn csv_neutralises_text_a_spreadsheet_would_run_as_a_formula() {
        let mut table = Table::new("t", "t", &[("ad", Format::Text), ("cost", Format::Money), ("n", Format::Count)]);
        table.push(vec![Cell::from("=HYPERLINK(\"http://x\",\"x\")"), Cell::from(-12.5), Cell::Int(-3)]);
        table.push(vec![Cell::from("+1 call"), Cell::from(1.0), Cell::Int(1)]);
        table.push(vec![Cell::from("-brand"), Cell::Empty, Cell::Empty]);
        table.push(vec![Cell::from("@SUM(A1)"), Cell::Empty, Cell::Empty]);
        table.push(vec![Cell::from("\tcmd"), Cell::Empty, Cell::Empty]);
        table.push(vec![Cell::from("\rcmd"), Cell::Empty, Cell::Empty]);
        table.push(vec![Cell::from("brand = exact"), Cell::Empty, Cell::Empty]);
        let text = csv(&table);
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://x\"\",\"\"x\"\")\",-12.5,-3", "numbers stay numbers");
        assert_eq!(lines[2], "\"'+1 call\",1,1");
        assert_eq!(lines[3], "\"'-brand\",,");
        assert_eq!(lines[4], "\"'@SUM(A1)\",,");
        assert_eq!(lines[5], "\"'\tcmd\",,");
        assert_eq!(lines[6], "\"'\rcmd\",,");
        assert_eq!(lines[7], "brand = exact,,", "only a leading character makes a formula");
    }

    /// The workbook writes text as strings: read back by calamine (as a spreadsheet program reads it),
    /// a formula-like name is a string cell and the sheet has no formula anywhere.
    #[test]
    fn workbook_text_that_looks_like_a_formula_stays_text() {
        use calamine::{Data, Reader, Xlsx, open_workbook};
        let mut table = Table::new("ads", "t", &[("ad", Format::Text), ("cost", Format::Money)]);
        let names = ["=HYPERLINK(\"http://x\",\"x\")", "+1", "-brand", "@SUM(A1)", "=1+1"];
        for name in names {
            table.push(vec![Cell::from(name), Cell::from(-2.5)]);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tables.xlsx");
        write_workbook(&path, &[table]).expect("workbook");
        let mut workbook: Xlsx<_> = open_workbook(&path).expect("a real reader opens it");
        let formulas = workbook.worksheet_formula("ads").expect("formulas");
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula cells");
        let values = workbook.worksheet_range("ads").expect("values");
        for (i, name) in names.iter().enumerate() {
            assert_eq!(values.get((i + 1, 0)), Some(&Data::String(name.to_string())));
            assert_eq!(values.get((i + 1, 1)), Some(&Data::Float(-2.5)), "numbers stay numbers");
        }
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
