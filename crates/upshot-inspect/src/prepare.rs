//! The prepare layer of inspect, the only module that touches polars: spend, clicks, new
//! customers and net revenue per click channel and week.

use std::collections::BTreeMap;

use polars::prelude::*;
use upshot_analysis::{AnalysisError, Dataset, Kind, TableKind};
use upshot_data::derive::{channel_or_organic, exact_money_sum, new_customers};

use crate::Inspect;

fn pl(table: TableKind) -> impl Fn(PolarsError) -> AnalysisError {
    let context = match table {
        TableKind::Spend => "summarise spend by channel and week",
        _ => "summarise orders by channel and week",
    };
    AnalysisError::polars(context)
}

/// Per channel and week: spend, clicks, new customers, net revenue.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct WeekCell {
    pub(crate) cost: f64,
    pub(crate) clicks: i64,
    pub(crate) purchases: i64,
    pub(crate) revenue: f64,
}

/// (week, channel) -> cell.
pub(crate) type Weeks = BTreeMap<(String, String), WeekCell>;

/// The weekly cells and the refund rows netted into revenue.
pub(crate) struct Weekly {
    pub(crate) weeks: Weeks,
    pub(crate) refunds: usize,
}

/// The Monday of the week as `YYYY-MM-DD`, for a Date or a Datetime column.
fn week_start(expr: Expr) -> Expr {
    // Polars' 1w windows start on Monday.
    expr.cast(DataType::Date).dt().truncate(lit("1w")).cast(DataType::String)
}

fn collect_weekly(frame: &DataFrame, aggs: Vec<Expr>, table: TableKind) -> Result<DataFrame, AnalysisError> {
    frame
        .clone()
        .lazy()
        .group_by([col("channel"), col("week")])
        .agg(aggs)
        .sort(["week", "channel"], SortMultipleOptions::default())
        .collect()
        .map_err(pl(table))
}

pub(crate) fn prepare(data: &Dataset) -> Result<Weekly, AnalysisError> {
    let spend = data.get(TableKind::Spend);
    let orders = data.get(TableKind::Orders);
    if spend.is_none() && orders.is_none() {
        return Err(AnalysisError::NeedsOneOf { kind: Inspect::NAME, tables: "`spend` or `orders`" });
    }
    let mut weeks = Weeks::new();
    if let Some(spend) = spend {
        spend_weeks(&spend.frame, &mut weeks)?;
    }
    let refunds = match orders {
        Some(orders) => order_weeks(&orders.frame, &mut weeks)?,
        None => 0,
    };
    Ok(Weekly { weeks, refunds })
}

/// Spend and clicks per channel and week.
fn spend_weeks(spend: &DataFrame, weeks: &mut Weeks) -> Result<(), AnalysisError> {
    let weekly = spend
        .clone()
        .lazy()
        .select([col("channel"), week_start(col("date")).alias("week"), col("cost"), col("clicks")])
        .collect()
        .map_err(pl(TableKind::Spend))?;
    let weekly = collect_weekly(&weekly, vec![exact_money_sum("cost"), col("clicks").sum()], TableKind::Spend)?;
    let channels = weekly.column("channel").and_then(|c| c.str().cloned()).map_err(pl(TableKind::Spend))?;
    let week = weekly.column("week").and_then(|c| c.str().cloned()).map_err(pl(TableKind::Spend))?;
    let cost = weekly.column("cost").and_then(|c| c.f64().cloned()).map_err(pl(TableKind::Spend))?;
    let clicks = weekly.column("clicks").and_then(|c| c.i64().cloned()).map_err(pl(TableKind::Spend))?;
    for i in 0..weekly.height() {
        let key = (week.get(i).unwrap_or("").to_string(), channels.get(i).unwrap_or("").to_string());
        let cell = weeks.entry(key).or_default();
        cell.cost += cost.get(i).unwrap_or(0.0);
        cell.clicks += clicks.get(i).unwrap_or(0);
    }
    Ok(())
}

/// New customers and net revenue per click channel and week; returns the refund rows.
fn order_weeks(orders: &DataFrame, weeks: &mut Weeks) -> Result<usize, AnalysisError> {
    let frame = orders.clone().lazy();
    let firsts = new_customers(orders)
        .map_err(pl(TableKind::Orders))?
        .lazy()
        .select([channel_or_organic().alias("channel"), week_start(col("paid_at")).alias("week"), lit(1i64).alias("purchases")])
        .collect()
        .map_err(pl(TableKind::Orders))?;
    let revenue = frame
        .clone()
        .select([channel_or_organic().alias("channel"), week_start(col("paid_at")).alias("week"), col("revenue")])
        .collect()
        .map_err(pl(TableKind::Orders))?;
    let refunds = orders
        .column("revenue")
        .ok()
        .and_then(|c| c.f64().ok().map(|r| r.iter().flatten().filter(|v| *v < 0.0).count()))
        .unwrap_or(0);
    let purchases = collect_weekly(&firsts, vec![col("purchases").sum()], TableKind::Orders)?;
    let revenue = collect_weekly(&revenue, vec![exact_money_sum("revenue")], TableKind::Orders)?;
    for (frame, is_purchases) in [(purchases, true), (revenue, false)] {
        let channels = frame.column("channel").and_then(|c| c.str().cloned()).map_err(pl(TableKind::Orders))?;
        let week = frame.column("week").and_then(|c| c.str().cloned()).map_err(pl(TableKind::Orders))?;
        let value = frame.column(if is_purchases { "purchases" } else { "revenue" }).map_err(pl(TableKind::Orders))?;
        let value = value.cast(&DataType::Float64).map_err(pl(TableKind::Orders))?;
        let value = value.f64().map_err(pl(TableKind::Orders))?;
        for i in 0..frame.height() {
            let key = (week.get(i).unwrap_or("").to_string(), channels.get(i).unwrap_or("").to_string());
            let cell = weeks.entry(key).or_default();
            if is_purchases {
                cell.purchases += value.get(i).unwrap_or(0.0) as i64;
            } else {
                cell.revenue += value.get(i).unwrap_or(0.0);
            }
        }
    }
    Ok(refunds)
}
