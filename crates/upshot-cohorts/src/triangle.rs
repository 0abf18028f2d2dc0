//! Development triangles from raw rows: lead cohort (month or ISO week of the
//! lead) x age -> cumulative purchases and net revenue, per segment.
//!
//! A purchase is a customer's first paid order (the contract's definition),
//! linked to its lead by `orders.lead_id`; revenue is every order of that
//! customer, refunds netted, placed at the age of its own payment. Age is the
//! whole number of periods between the lead's period and the payment's.
//! Cells the data cannot have seen yet (the cohort is too young) are `None`;
//! observed cells with nothing in them are real zeros.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::chainladder::Triangle;

/// The cohort period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Calendar months; age 0 is the cohort's own month.
    Month,
    /// ISO weeks (Monday to Sunday).
    Week,
}

impl Grain {
    /// Index of the period containing `date`: months since year 0, or weeks since 1970-01-05 (a Monday).
    pub fn period(self, date: NaiveDate) -> i32 {
        match self {
            Grain::Month => date.year() * 12 + date.month0() as i32,
            Grain::Week => {
                let monday = NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or_default();
                (date - monday).num_days().div_euclid(7) as i32
            }
        }
    }

    /// Label of a period: `2025-01` or `2025-W03` (ISO week-numbering year).
    pub fn label(self, period: i32) -> String {
        match self {
            Grain::Month => format!("{}-{:02}", period.div_euclid(12), period.rem_euclid(12) + 1),
            Grain::Week => {
                let monday = NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or_default() + chrono::Duration::weeks(i64::from(period));
                let week = monday.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
        }
    }
}

/// One segment's triangles.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentTriangles {
    /// Values of the `by` keys (`organic` for a null channel).
    pub segment: Vec<String>,
    /// Cohort periods, oldest first.
    pub cohorts: Vec<i32>,
    /// Leads per cohort (the exposure).
    pub leads: Vec<f64>,
    /// Cumulative purchases.
    pub purchases: Triangle,
    /// Cumulative net revenue.
    pub revenue: Triangle,
}

/// Triangles of every segment, with what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Triangles {
    /// Per segment, in key order.
    pub segments: Vec<SegmentTriangles>,
    /// Purchases left out, by reason (`paid_before_lead`, `lead_not_found`).
    pub excluded: BTreeMap<String, u64>,
}

/// One cohort's leads and per-age increments while the triangle is built.
struct CohortCells {
    leads: f64,
    purchases: Vec<f64>,
    revenue: Vec<f64>,
}

impl CohortCells {
    fn new(ages: usize) -> Self {
        Self { leads: 0.0, purchases: vec![0.0; ages], revenue: vec![0.0; ages] }
    }
}

fn epoch_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(days))
}

fn dates(frame: &DataFrame, column: &str) -> PolarsResult<Vec<Option<NaiveDate>>> {
    let days = frame.clone().lazy().select([col(column).cast(DataType::Date).cast(DataType::Int32).alias("d")]).collect()?;
    Ok(days.column("d")?.i32()?.iter().map(|d| d.map(epoch_date)).collect())
}

fn texts(frame: &DataFrame, column: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame.column(column)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Builds cumulative triangles of `ages` ages per segment of `by` (lead
/// columns, e.g. `["channel"]`; empty for one segment), as of `as_of`.
pub fn build(
    leads: &DataFrame,
    orders: &DataFrame,
    grain: Grain,
    ages: usize,
    as_of: NaiveDate,
    by: &[&str],
) -> PolarsResult<Triangles> {
    let as_of_period = grain.period(as_of);
    // Leads: cohort period and segment.
    let lead_ids = texts(leads, "lead_id")?;
    let lead_dates = dates(leads, "created_at")?;
    let mut lead_keys: Vec<Vec<String>> = vec![Vec::new(); leads.height()];
    for key in by {
        let values = texts(leads, key)?;
        for (i, v) in values.into_iter().enumerate() {
            lead_keys[i].push(v.unwrap_or_else(|| if *key == "channel" { "organic".to_string() } else { String::new() }));
        }
    }
    let mut lead_of: std::collections::HashMap<String, usize> = std::collections::HashMap::with_capacity(leads.height());
    // segment -> cohort period -> leads and per-age increments
    let mut segments: BTreeMap<Vec<String>, BTreeMap<i32, CohortCells>> = BTreeMap::new();
    for i in 0..leads.height() {
        let (Some(id), Some(date)) = (&lead_ids[i], lead_dates[i]) else { continue };
        lead_of.insert(id.clone(), i);
        let cell =
            segments.entry(lead_keys[i].clone()).or_default().entry(grain.period(date)).or_insert_with(|| CohortCells::new(ages));
        cell.leads += 1.0;
    }

    // Customers acquired from a lead: the lead of their first paid order.
    let firsts = upshot_data::derive::new_customers(orders)?;
    let first_lead = texts(&firsts, "lead_id")?;
    let first_customer = texts(&firsts, "customer_id")?;
    let mut excluded: BTreeMap<String, u64> = BTreeMap::new();
    let mut customer_lead: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (lead, customer) in first_lead.iter().zip(&first_customer) {
        let (Some(lead), Some(customer)) = (lead, customer) else { continue };
        match lead_of.get(lead) {
            Some(i) => {
                customer_lead.insert(customer.clone(), *i);
            }
            None => *excluded.entry("lead_not_found".into()).or_insert(0) += 1,
        }
    }
    // Every order of those customers, at the age of its payment.
    let customers = texts(orders, "customer_id")?;
    let paid = dates(orders, "paid_at")?;
    let revenue = orders.column("revenue")?.f64()?.clone();
    let first_ids: std::collections::HashSet<String> = texts(&firsts, "order_id")?.into_iter().flatten().collect();
    let order_ids = texts(orders, "order_id")?;
    for o in 0..orders.height() {
        let (Some(customer), Some(paid_on)) = (&customers[o], paid[o]) else { continue };
        let Some(&i) = customer_lead.get(customer) else { continue };
        let Some(created) = lead_dates[i] else { continue };
        let cohort = grain.period(created);
        let age = grain.period(paid_on) - cohort;
        let is_purchase = order_ids[o].as_ref().is_some_and(|id| first_ids.contains(id));
        if age < 0 {
            if is_purchase {
                *excluded.entry("paid_before_lead".into()).or_insert(0) += 1;
            }
            continue;
        }
        if age as usize >= ages {
            continue;
        }
        if let Some(cell) = segments.get_mut(&lead_keys[i]).and_then(|s| s.get_mut(&cohort)) {
            if is_purchase {
                cell.purchases[age as usize] += 1.0;
            }
            cell.revenue[age as usize] += revenue.get(o).unwrap_or(0.0);
        }
    }

    let cumulate = |cohort: i32, increments: &[f64]| -> Vec<Option<f64>> {
        let latest = as_of_period - cohort;
        let mut total = 0.0;
        increments
            .iter()
            .enumerate()
            .map(|(age, v)| {
                total += v;
                (age as i32 <= latest).then_some(total)
            })
            .collect()
    };
    let segments = segments
        .into_iter()
        .map(|(segment, cells)| {
            let cells: Vec<(i32, CohortCells)> = cells.into_iter().filter(|(c, _)| *c <= as_of_period).collect();
            SegmentTriangles {
                segment,
                cohorts: cells.iter().map(|(c, _)| *c).collect(),
                leads: cells.iter().map(|(_, v)| v.leads).collect(),
                purchases: Triangle { cells: cells.iter().map(|(c, v)| cumulate(*c, &v.purchases)).collect() },
                revenue: Triangle { cells: cells.iter().map(|(c, v)| cumulate(*c, &v.revenue)).collect() },
            }
        })
        .collect();
    Ok(Triangles { segments, excluded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() * 86_400_000_000
    }

    fn frames() -> (DataFrame, DataFrame) {
        let micros = DataType::Datetime(TimeUnit::Microseconds, None);
        let leads = df! {
            "lead_id" => ["L1", "L2", "L3", "L4"],
            "created_at" => [day(2025, 1, 10), day(2025, 1, 20), day(2025, 2, 5), day(2025, 3, 1)],
            "channel" => [Some("meta"), Some("meta"), None, Some("meta")],
        }
        .expect("leads");
        let leads = leads.lazy().with_column(col("created_at").cast(micros.clone())).collect().expect("cast");
        // L1 buys in January (age 0) and again in March (age 2); L2 buys in February (age 1) and refunds
        // it in March; L3 (organic) buys in March (age 1); an order links to an unknown lead.
        let orders = df! {
            "order_id" => ["O1", "O2", "O3", "R3", "O4", "O5"],
            "customer_id" => ["C1", "C1", "C2", "C2", "C3", "C9"],
            "lead_id" => [Some("L1"), None, Some("L2"), Some("L2"), Some("L3"), Some("L99")],
            "paid_at" => [day(2025, 1, 25), day(2025, 3, 3), day(2025, 2, 14), day(2025, 3, 2), day(2025, 3, 9), day(2025, 2, 1)],
            "revenue" => [100.0, 30.0, 200.0, -200.0, 50.0, 10.0],
        }
        .expect("orders");
        let orders = orders.lazy().with_column(col("paid_at").cast(micros)).collect().expect("cast");
        (leads, orders)
    }

    #[test]
    fn hand_computed_monthly_triangles() {
        let (leads, orders) = frames();
        let as_of = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let t = build(&leads, &orders, Grain::Month, 4, as_of, &["channel"]).expect("builds");
        assert_eq!(t.excluded.get("lead_not_found"), Some(&1));
        let meta = t.segments.iter().find(|s| s.segment == ["meta"]).expect("meta");
        assert_eq!(meta.cohorts.iter().map(|c| Grain::Month.label(*c)).collect::<Vec<_>>(), ["2025-01", "2025-03"]);
        assert_eq!(meta.leads, [2.0, 1.0]);
        // January cohort: 1 purchase at age 0, 1 more at age 1; ages 0..2 observed, age 3 not yet.
        assert_eq!(meta.purchases.cells[0], [Some(1.0), Some(2.0), Some(2.0), None]);
        // Revenue: 100 (age 0), +200 (age 1), +30 - 200 (age 2, refund netted).
        assert_eq!(meta.revenue.cells[0], [Some(100.0), Some(300.0), Some(130.0), None]);
        // March cohort: observed at age 0 only, a real zero.
        assert_eq!(meta.purchases.cells[1], [Some(0.0), None, None, None]);
        let organic = t.segments.iter().find(|s| s.segment == ["organic"]).expect("organic");
        assert_eq!(organic.purchases.cells[0], [Some(0.0), Some(1.0), None, None]);
    }

    #[test]
    fn iso_week_labels() {
        let date = NaiveDate::from_ymd_opt(2025, 1, 15).expect("date");
        assert_eq!(Grain::Week.label(Grain::Week.period(date)), "2025-W03");
        let new_year = NaiveDate::from_ymd_opt(2024, 12, 30).expect("date");
        assert_eq!(Grain::Week.label(Grain::Week.period(new_year)), "2025-W01");
        assert_eq!(Grain::Month.label(Grain::Month.period(date)), "2025-01");
    }
}
