//! From validated tables to analysis units: one row per day (or region-day)
//! of the schedule, with the outcome split, brand spend and the design.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use upshot_analysis::Exclusions;
use upshot_data::derive::new_customers;
use upshot_data::frame::{self, date_of};
use upshot_data::{Dataset, TableKind};

use crate::BrandError;
use crate::design::{Balance, stratum_of};
use crate::model::Units;

/// Outcome series, in the order of `Units::outcomes`.
pub const OUTCOMES: [&str; 5] = ["purchases", "revenue", "paid_brand", "organic", "other"];

/// One day (or region-day) of the test.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// Day.
    pub date: NaiveDate,
    /// Region, or None for the whole market.
    pub region: Option<String>,
    /// Campaign on.
    pub brand_on: bool,
    /// Excluded from estimation.
    pub washout: bool,
    /// Outcomes in `OUTCOMES` order.
    pub outcomes: [f64; 5],
    /// Brand spend.
    pub brand_cost: f64,
}

/// The assembled test, with row accounting of what the analysis left out.
#[derive(Debug, Clone)]
pub struct TestData {
    /// Every schedule unit, washout included, in (region, date) order.
    pub rows: Vec<UnitRow>,
    /// The estimation units (washout excluded).
    pub units: Units,
    /// Index into `rows` of every estimation unit.
    pub unit_rows: Vec<usize>,
    /// Days per randomisation block.
    pub block_days: usize,
    /// Whether the test is a region x day design.
    pub regional: bool,
    /// Rows left out by the analysis: (table, reason) -> count.
    pub exclusions: Exclusions,
    /// Mean first-order revenue of the test's new customers.
    pub revenue_per_purchase: f64,
}

/// Distinct non-null values of a text column, sorted.
fn distinct(frame: &DataFrame, column: &str) -> Result<Vec<String>, BrandError> {
    let values = frame
        .clone()
        .lazy()
        .select([col(column).drop_nulls().unique()])
        .collect()
        .map_err(BrandError::polars("list campaigns"))?;
    let mut out: Vec<String> =
        frame::strings(&values, column).map_err(BrandError::polars("read a text column"))?.into_iter().flatten().collect();
    out.sort();
    Ok(out)
}

fn dates(frame: &DataFrame, column: &str) -> Result<Vec<i32>, BrandError> {
    let out = frame
        .clone()
        .lazy()
        .select([col(column).cast(DataType::Date).cast(DataType::Int32).alias("d")])
        .collect()
        .map_err(BrandError::polars("read dates"))?;
    let column = out.column("d").map_err(BrandError::polars("read dates"))?;
    Ok(column.i32().map_err(BrandError::polars("read dates"))?.iter().map(|v| v.unwrap_or(i32::MIN)).collect())
}

pub use upshot_analysis::params::BrandMatcher;

/// Builds the test from the orders, spend and schedule tables. `covariate_lag_days` > 0 adds the
/// pre-period covariate of a region design: each unit's region's new customers on the day that
/// many days earlier (a day before the schedule, so fixed before the assignment; the orders must
/// cover it).
pub fn assemble(data: &Dataset, brand: &BrandMatcher, covariate_lag_days: usize) -> Result<TestData, BrandError> {
    let table = |kind: TableKind| data.get(kind).ok_or(BrandError::MissingTable { kind: "brand-test", table: kind.name() });
    let schedule = table(TableKind::Schedule)?;
    let orders = table(TableKind::Orders)?;
    let spend = table(TableKind::Spend)?;
    let grid = schedule_grid(schedule)?;
    if covariate_lag_days > 0 && !grid.regional {
        return Err(BrandError::Params(format!(
            "`covariate_lag_days` adjusts region designs (each region's own earlier days beside date and region effects); {} is a time-only schedule: remove the key",
            schedule.report.path
        )));
    }
    if covariate_lag_days > 0 && covariate_lag_days < grid.days {
        return Err(BrandError::Params(format!(
            "`covariate_lag_days = {covariate_lag_days}` is shorter than the test ({} days): a lagged day would fall inside the test, where the campaign moved it; use at least {} (364 takes last year's same weekday)",
            grid.days,
            grid.days.div_ceil(7) * 7
        )));
    }
    let block_days = upshot_data::ScheduleDesign::block_days_of(&schedule.metadata);
    let balance =
        if upshot_data::ScheduleDesign::weekday_balanced_of(&schedule.metadata) { Balance::Weekday } else { Balance::DaysOnly };
    let mut exclusions = Exclusions::new();
    let customers = customers_in_window(orders, &grid, covariate_lag_days, &mut exclusions)?;
    // Brand campaigns are matched once per distinct name, not once per row.
    let customer_brand = brand.matching(&distinct(&customers, "campaign")?);
    let spend_brand = brand_spend_campaigns(spend, brand)?;
    let (outcomes, revenue_per_purchase, lagged) =
        outcomes(orders, customers, customer_brand, &grid, covariate_lag_days, &mut exclusions)?;
    let brand_cost = brand_cost(spend, spend_brand, &grid, &mut exclusions)?;
    let (rows, mut units, unit_rows) = units(&grid, &outcomes, &brand_cost, block_days, balance, &mut exclusions);
    if let Some(lagged) = lagged {
        // The unit's cell (region x day), `covariate_lag_days` earlier.
        units.covariate = Some(units.region.iter().zip(&units.day).map(|(r, d)| lagged[r * grid.days + d]).collect());
    }
    let on_units = units.on.iter().filter(|on| **on).count();
    if on_units == 0 || on_units == units.len() {
        let which = if on_units == 0 { "on" } else { "off" };
        return Err(BrandError::Input {
            file: schedule.report.path.clone(),
            column: "brand_on".into(),
            message: format!(
                "the schedule has no {which} units outside washout ({} units in all): nothing to compare",
                units.len()
            ),
        });
    }
    Ok(TestData { rows, units, unit_rows, block_days, regional: grid.regional, exclusions, revenue_per_purchase })
}

/// The schedule as a dense grid: one cell per (region, day) of the test window, (on, washout).
struct Grid {
    /// Regions in sorted order; `[None]` for a whole-market test.
    region_names: Vec<Option<String>>,
    region_lookup: std::collections::HashMap<String, usize>,
    regional: bool,
    /// First and last day, as days since 1970-01-01.
    first: i32,
    last: i32,
    days: usize,
    /// `region * days + day` -> (on, washout).
    cells: Vec<Option<(bool, bool)>>,
}

impl Grid {
    /// Where a row lands: its unit's cell, or the reason it is left out.
    fn locate(&self, date: i32, region: Option<&str>) -> Result<usize, &'static str> {
        if date < self.first || date > self.last {
            return Err("outside_test_window");
        }
        let r = match (self.regional, region) {
            (false, _) => 0,
            (true, None) => return Err("no_region"),
            (true, Some(name)) => *self.region_lookup.get(name).ok_or("region_not_in_schedule")?,
        };
        let cell = r * self.days + (date - self.first) as usize;
        if self.cells[cell].is_some_and(|(_, washout)| washout) {
            return Err("washout_day");
        }
        Ok(cell)
    }
}

/// The schedule: one row per (region, date), contiguous per region, every day of the window.
fn schedule_grid(schedule: &upshot_data::LoadedTable) -> Result<Grid, BrandError> {
    let s_dates = dates(&schedule.frame, "date")?;
    let s_regions = frame::strings(&schedule.frame, "region").map_err(BrandError::polars("read a text column"))?;
    let s_on = frame::flags(&schedule.frame, "brand_on").map_err(BrandError::polars("read flags"))?;
    let s_washout = frame::flags(&schedule.frame, "washout").map_err(BrandError::polars("read flags"))?;
    let regional = s_regions.iter().any(Option::is_some);
    if regional && s_regions.iter().any(Option::is_none) {
        let row = s_regions.iter().position(Option::is_none).unwrap_or(0) + 1;
        return Err(BrandError::Input {
            file: schedule.report.path.clone(),
            column: "region".into(),
            message: format!("mixes region rows with whole-market rows (region null), e.g. row {row}; use one or the other"),
        });
    }
    let mut region_names: Vec<Option<String>> = s_regions.clone();
    region_names.sort();
    region_names.dedup();
    let region_index: BTreeMap<Option<String>, usize> = region_names.iter().cloned().enumerate().map(|(i, r)| (r, i)).collect();
    let first = s_dates.iter().copied().min().unwrap_or(0);
    let last = s_dates.iter().copied().max().unwrap_or(0);
    let days = (last - first + 1) as usize;
    let mut grid: Vec<Option<(bool, bool)>> = vec![None; region_names.len() * days];
    for i in 0..s_dates.len() {
        let r = region_index[&s_regions[i]];
        grid[r * days + (s_dates[i] - first) as usize] = Some((s_on[i], s_washout[i]));
    }
    if let Some(gap) = grid.iter().position(Option::is_none) {
        let (r, d) = (gap / days, gap % days);
        let region = region_names[r].as_deref().map_or(String::new(), |r| format!(" in region `{r}`"));
        return Err(BrandError::Input {
            file: schedule.report.path.clone(),
            column: "date".into(),
            message: format!(
                "the schedule does not cover the test window {} to {}: no row for {}{region}",
                date_of(first),
                date_of(last),
                date_of(first + d as i32)
            ),
        });
    }
    let region_lookup = region_names.iter().enumerate().filter_map(|(i, r)| r.clone().map(|name| (name, i))).collect();
    Ok(Grid { region_names, region_lookup, regional, first, last, days, cells: grid })
}

/// New customers (first paid order); the orders export must cover the test window.
fn customers_in_window(
    orders: &upshot_data::LoadedTable,
    grid: &Grid,
    covariate_lag_days: usize,
    exclusions: &mut Exclusions,
) -> Result<DataFrame, BrandError> {
    let (first, last) = (grid.first - covariate_lag_days as i32, grid.last);
    let customers = new_customers(&orders.frame).map_err(BrandError::polars("find new customers"))?;
    let repeat_rows = (orders.frame.height() - customers.height()) as u64;
    if repeat_rows > 0 {
        exclusions.add(TableKind::Orders, "repeat_or_refund", repeat_rows);
    }
    let c_dates = dates(&customers, "paid_at")?;
    let (o_first, o_last) = (c_dates.iter().copied().min().unwrap_or(0), c_dates.iter().copied().max().unwrap_or(0));
    if o_first > first || o_last < last {
        return Err(BrandError::Input {
            file: orders.report.path.clone(),
            column: "paid_at".into(),
            message: format!(
                "orders run from {} to {}, but the schedule runs from {} to {}{}: the test window must be inside the orders export",
                date_of(o_first),
                date_of(o_last),
                date_of(grid.first),
                date_of(last),
                if covariate_lag_days > 0 {
                    format!(" and `covariate_lag_days = {covariate_lag_days}` reaches back to {}", date_of(first))
                } else {
                    String::new()
                }
            ),
        });
    }
    Ok(customers)
}

/// The spend's brand campaigns; none is an error that lists the campaigns the export has.
fn brand_spend_campaigns(spend: &upshot_data::LoadedTable, brand: &BrandMatcher) -> Result<Vec<String>, BrandError> {
    let spend_campaigns = distinct(&spend.frame, "campaign")?;
    let spend_brand = brand.matching(&spend_campaigns);
    if spend_brand.is_empty() {
        let mut campaigns = spend_campaigns;
        campaigns.truncate(8);
        return Err(BrandError::Input {
            file: spend.report.path.clone(),
            column: "campaign".into(),
            message: format!(
                "no campaign matches `brand_campaigns = {:?}`; campaigns in the export include: {}; set [params] brand_campaigns",
                brand.written,
                campaigns.join(", ")
            ),
        });
    }
    Ok(spend_brand)
}

/// New customers per unit cell, split by what brought them (paid brand, organic, other), and
/// the mean first-order revenue of those placed.
#[allow(clippy::type_complexity)]
fn outcomes(
    orders: &upshot_data::LoadedTable,
    customers: DataFrame,
    customer_brand: Vec<String>,
    grid: &Grid,
    covariate_lag_days: usize,
    exclusions: &mut Exclusions,
) -> Result<(Vec<[f64; 5]>, f64, Option<Vec<f64>>), BrandError> {
    let lag = covariate_lag_days as i32;
    let mut lagged = vec![0.0f64; grid.cells.len()];
    let c_dates = dates(&customers, "paid_at")?;
    let component = when(col("channel").is_null())
        .then(lit(3i32))
        .when(col("campaign").is_in(lit(Series::new("brand".into(), customer_brand)).implode(false), false))
        .then(lit(2i32))
        .otherwise(lit(4i32));
    let customers = customers
        .lazy()
        .select([col("region"), component.alias("component"), col("revenue")])
        .collect()
        .map_err(BrandError::polars("split purchases"))?;
    let c_regions = customers.column("region").and_then(|c| c.str().cloned()).map_err(BrandError::polars("read regions"))?;
    let c_component =
        customers.column("component").and_then(|c| c.i32().cloned()).map_err(BrandError::polars("read components"))?;
    let c_revenue = frame::numbers(&customers, "revenue").map_err(BrandError::polars("read numbers"))?;
    let mut outcomes = vec![[0.0f64; 5]; grid.cells.len()];
    let mut unknown_regions: Vec<String> = Vec::new();
    let mut revenue_sum = 0.0;
    let mut revenue_n = 0usize;
    for (i, (region, component)) in c_regions.iter().zip(c_component.iter()).enumerate() {
        let cell = match grid.locate(c_dates[i], region) {
            Ok(cell) => cell,
            // A new customer `lag` days before a test day, in a test region: that cell's covariate (used).
            Err("outside_test_window") if lag > 0 && (grid.first - lag..=grid.last - lag).contains(&c_dates[i]) => {
                match grid.locate(c_dates[i] + lag, region) {
                    Ok(cell) => lagged[cell] += 1.0,
                    Err(reason) => exclusions.add(TableKind::Orders, reason, 1),
                }
                continue;
            }
            Err(reason) => {
                if let (Some(name), "region_not_in_schedule") = (region, reason)
                    && unknown_regions.len() < 3
                    && !unknown_regions.iter().any(|u| u == name)
                {
                    unknown_regions.push(name.to_string());
                }
                exclusions.add(TableKind::Orders, reason, 1);
                continue;
            }
        };
        let o = &mut outcomes[cell];
        o[0] += 1.0;
        o[1] += c_revenue[i];
        o[component.unwrap_or(4) as usize] += 1.0;
        revenue_sum += c_revenue[i];
        revenue_n += 1;
    }
    let no_region = exclusions.get(TableKind::Orders, "no_region");
    if grid.regional && revenue_n == 0 && no_region > 0 {
        return Err(BrandError::Input {
            file: orders.report.path.clone(),
            column: "region".into(),
            message: format!(
                "the schedule assigns regions, but none of the {no_region} new customers in the test window has a region; export orders with `region` (or map it under [columns.orders])"
            ),
        });
    }
    if !unknown_regions.is_empty() {
        let n = exclusions.get(TableKind::Orders, "region_not_in_schedule");
        return Err(BrandError::Input {
            file: orders.report.path.clone(),
            column: "region".into(),
            message: format!(
                "{n} new customers in the test window are in regions the schedule does not have, e.g. {}; add them to the schedule or filter the export",
                unknown_regions.join(", ")
            ),
        });
    }

    Ok((outcomes, if revenue_n > 0 { revenue_sum / revenue_n as f64 } else { 0.0 }, (lag > 0).then_some(lagged)))
}

/// Spend: brand campaigns only, filtered before anything is read into Rust; per unit cell.
fn brand_cost(
    spend: &upshot_data::LoadedTable,
    spend_brand: Vec<String>,
    grid: &Grid,
    exclusions: &mut Exclusions,
) -> Result<Vec<f64>, BrandError> {
    let brand_spend = spend
        .frame
        .clone()
        .lazy()
        .filter(col("campaign").is_in(lit(Series::new("brand".into(), spend_brand)).implode(false), false))
        .select([col("date").cast(DataType::Int32).alias("date"), col("region"), col("cost")])
        .collect()
        .map_err(BrandError::polars("select brand spend"))?;
    let not_brand = (spend.frame.height() - brand_spend.height()) as u64;
    if not_brand > 0 {
        exclusions.add(TableKind::Spend, "not_brand_campaign", not_brand);
    }
    let p_dates = brand_spend.column("date").and_then(|c| c.i32().cloned()).map_err(BrandError::polars("read dates"))?;
    let p_regions = brand_spend.column("region").and_then(|c| c.str().cloned()).map_err(BrandError::polars("read regions"))?;
    let p_cost = frame::numbers(&brand_spend, "cost").map_err(BrandError::polars("read numbers"))?;
    let mut brand_cost = vec![0.0f64; grid.cells.len()];
    let mut located = 0usize;
    for (i, (date, region)) in p_dates.iter().zip(p_regions.iter()).enumerate() {
        match grid.locate(date.unwrap_or(i32::MIN), region) {
            Ok(cell) => {
                brand_cost[cell] += p_cost[i];
                located += 1;
            }
            Err(reason) => exclusions.add(TableKind::Spend, reason, 1),
        }
    }
    let spend_without_region = exclusions.get(TableKind::Spend, "no_region");
    if grid.regional && located == 0 && spend_without_region > 0 {
        return Err(BrandError::Input {
            file: spend.report.path.clone(),
            column: "region".into(),
            message: format!(
                "the schedule assigns regions, but none of the {spend_without_region} brand spend rows in the test window has a region; export spend by region"
            ),
        });
    }

    Ok(brand_cost)
}

/// Units and the design: every schedule row, and the estimation units (washout left out) with
/// their blocks, strata, clusters and yesterday's state.
fn units(
    grid: &Grid,
    outcomes: &[[f64; 5]],
    brand_cost: &[f64],
    block_days: usize,
    balance: Balance,
    exclusions: &mut Exclusions,
) -> (Vec<UnitRow>, Units, Vec<usize>) {
    let (first, days) = (grid.first, grid.days);
    let mut rows = Vec::new();
    let mut units = Units::empty(5);
    let mut unit_rows = Vec::new();
    let mut block_ids: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut washout_rows = 0u64;
    for (r, region) in grid.region_names.iter().enumerate() {
        for d in 0..days {
            let cell = r * days + d;
            let (on, washout) = grid.cells[cell].unwrap_or((false, false));
            let date = date_of(first + d as i32);
            rows.push(UnitRow {
                date,
                region: region.clone(),
                brand_on: on,
                washout,
                outcomes: outcomes[cell],
                brand_cost: brand_cost[cell],
            });
            if washout {
                washout_rows += 1;
                continue;
            }
            let block_index = d / block_days;
            let next_block = block_ids.len();
            let block = *block_ids.entry((r, block_index)).or_insert(next_block);
            if block == units.block_strata.len() {
                let block_start = date_of(first + (block_index * block_days) as i32);
                units.block_strata.push(stratum_of(r, block_start, block_days, balance));
            }
            for (o, value) in outcomes[cell].iter().enumerate() {
                units.outcomes[o].push(*value);
            }
            units.on.push(on);
            units.dow.push(chrono::Datelike::weekday(&date).num_days_from_monday() as usize);
            units.day.push(d);
            units.region.push(r);
            units.block.push(block);
            units.cluster.push(if grid.regional { d } else { block });
            units.previous_on.push(if d > 0 { grid.cells[cell - 1].map(|(on, _)| on) } else { None });
            unit_rows.push(rows.len() - 1);
        }
    }
    if washout_rows > 0 {
        exclusions.add(TableKind::Schedule, "washout_day", washout_rows);
    }
    (rows, units, unit_rows)
}
