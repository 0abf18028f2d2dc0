//! The prepare layer of pacing, the only module that touches polars: daily facts per channel,
//! campaign and metric from the exports (spend, leads and their funnel stages, new customers
//! and net revenue), and the month's plan.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use upshot_data::derive::{exact_money_sum, new_customers};
use upshot_data::frame::{self, date_of, days_of};
use upshot_data::{Dataset, LoadedTable, TableKind};

use crate::runrate::last_day_of_month;
use crate::{Exclusions, METRICS, PacingError, Params};

/// Weeks of history before the month for the day-of-week weights.
const HISTORY_DAYS: u64 = 56;
/// Name of the campaign of leads, orders and spend rows without one.
pub const NO_CAMPAIGN: &str = "(none)";

/// Daily values per (channel, campaign, metric).
pub(crate) type Daily = BTreeMap<(String, String, String), BTreeMap<NaiveDate, f64>>;

/// The month's plan: channel totals (campaign null; a channel planned only by campaign gets
/// the sum of its campaigns) and campaign rows.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) channel: BTreeMap<(String, String), f64>,
    pub(crate) campaign: BTreeMap<(String, String, String), f64>,
}

/// The dates of the pace, the daily facts and the plan.
pub(crate) struct Prepared {
    pub(crate) as_of: NaiveDate,
    pub(crate) last_data_day: NaiveDate,
    pub(crate) month_start: NaiveDate,
    pub(crate) month_end: NaiveDate,
    pub(crate) daily: Daily,
    pub(crate) plan: Plan,
    pub(crate) exclusions: Exclusions,
    pub(crate) warnings: Vec<String>,
}

fn day_expr(column: &str) -> Expr {
    frame::day_expr(column).alias("day")
}

fn keys() -> [Expr; 2] {
    [col("channel").fill_null(lit("organic")).alias("channel"), col("campaign").fill_null(lit(NO_CAMPAIGN)).alias("campaign")]
}

/// Adds an aggregated frame (day, channel, campaign, value) to the daily series of `metric`.
fn add(daily: &mut Daily, frame: &DataFrame, metric: &str) -> PolarsResult<()> {
    let days = frame.column("day")?.i32()?.clone();
    let channels = frame.column("channel")?.str()?.clone();
    let campaigns = frame.column("campaign")?.str()?.clone();
    let values = frame.column("value")?.cast(&DataType::Float64)?;
    let values = values.f64()?;
    for i in 0..frame.height() {
        let (Some(day), Some(channel), Some(campaign)) = (days.get(i), channels.get(i), campaigns.get(i)) else {
            continue;
        };
        let key = (channel.to_string(), campaign.to_string(), metric.to_string());
        *daily.entry(key).or_default().entry(date_of(day)).or_insert(0.0) += values.get(i).unwrap_or(0.0);
    }
    Ok(())
}

/// Adds `value` (one aggregate of `rows`) per day, channel and campaign to `daily` as `metric`.
fn add_per_day(daily: &mut Daily, rows: LazyFrame, value: Expr, metric: &str, keys: &[Expr]) -> PolarsResult<()> {
    let per_day = rows
        .group_by([col("day"), keys[0].clone(), keys[1].clone()])
        .agg([value.alias("value")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    add(daily, &per_day, metric)
}

/// Counts rows of `frame` by day in [start, end], and the rows outside.
fn daily_counts(frame: LazyFrame, column: &str, start: i32, end: i32) -> PolarsResult<(DataFrame, u64, u64)> {
    let with_day = frame.with_column(day_expr(column));
    let counts = with_day
        .clone()
        .select([
            col("day").gt(lit(end)).sum().cast(DataType::UInt64).alias("after"),
            col("day").lt(lit(start)).sum().cast(DataType::UInt64).alias("before"),
        ])
        .collect()?;
    let after = counts.column("after")?.u64()?.get(0).unwrap_or(0);
    let before = counts.column("before")?.u64()?.get(0).unwrap_or(0);
    let inside = with_day.filter(col("day").gt_eq(lit(start)).and(col("day").lt_eq(lit(end))));
    Ok((inside.collect()?, after, before))
}

fn last_date(frame: &DataFrame, column: &str) -> PolarsResult<Option<NaiveDate>> {
    let out = frame.clone().lazy().select([day_expr(column).max()]).collect()?;
    Ok(out.column("day")?.i32()?.get(0).map(date_of))
}

pub(crate) fn prepare(data: &Dataset, params: &Params) -> Result<Prepared, PacingError> {
    let table = |kind: TableKind| data.get(kind).ok_or(PacingError::MissingTable { kind: "pacing", table: kind.name() });
    let (plan, spend, leads, orders) =
        (table(TableKind::Plan)?, table(TableKind::Spend)?, table(TableKind::Leads)?, table(TableKind::Orders)?);
    let polars = |context: &'static str| PacingError::polars(context);
    let last_data_day = [
        last_date(&spend.frame, "date").map_err(polars("read spend dates"))?,
        last_date(&leads.frame, "created_at").map_err(polars("read lead dates"))?,
        last_date(&orders.frame, "paid_at").map_err(polars("read order dates"))?,
    ]
    .into_iter()
    .flatten()
    .max()
    .ok_or_else(|| PacingError::Input {
        file: spend.report.path.clone(),
        column: "date".into(),
        message: "no rows in spend, leads or orders: nothing to pace".into(),
    })?;
    let as_of = params.as_of.unwrap_or(last_data_day);
    let month_start = NaiveDate::from_ymd_opt(as_of.year(), as_of.month(), 1).unwrap_or(as_of);
    let month_end = last_day_of_month(as_of);
    let history_start = month_start - chrono::Days::new(HISTORY_DAYS);
    let (start, end) = (days_of(history_start), days_of(as_of));
    let mut exclusions = Exclusions::new();
    let mut warnings = Vec::new();
    if as_of > last_data_day {
        warnings.push(format!(
            "The as-of date {as_of} is {} days after the last date in the data ({last_data_day}); those days count as zero.",
            (as_of - last_data_day).num_days()
        ));
    }
    let daily = daily_facts(spend, leads, orders, (start, end), &mut exclusions)?;
    let plan = month_plan(plan, month_start, &mut exclusions, &mut warnings)?;
    Ok(Prepared { as_of, last_data_day, month_start, month_end, daily, plan, exclusions, warnings })
}

/// Daily facts: spend, leads and the stages they reached, net revenue and new customers, in
/// [start, end] (days since 1970-01-01); rows outside are excluded and counted.
fn daily_facts(
    spend: &LoadedTable,
    leads: &LoadedTable,
    orders: &LoadedTable,
    (start, end): (i32, i32),
    exclusions: &mut Exclusions,
) -> Result<Daily, PacingError> {
    let polars = |context: &'static str| PacingError::polars(context);
    let mut exclude = |table: TableKind, reason: &str, n: u64| exclusions.add(table, reason, n);
    // Daily facts.
    let mut daily = Daily::new();
    let key_columns = keys();
    let (rows, after, before) =
        daily_counts(spend.frame.clone().lazy(), "date", start, end).map_err(polars("select spend days"))?;
    exclude(TableKind::Spend, "after_as_of", after);
    exclude(TableKind::Spend, "before_pacing_history", before);
    add_per_day(&mut daily, rows.lazy(), exact_money_sum("cost"), "cost", &key_columns).map_err(polars("sum spend per day"))?;

    let (rows, after, before) =
        daily_counts(leads.frame.clone().lazy(), "created_at", start, end).map_err(polars("select lead days"))?;
    exclude(TableKind::Leads, "after_as_of", after);
    exclude(TableKind::Leads, "before_pacing_history", before);
    add_per_day(&mut daily, rows.lazy(), len(), "lead", &key_columns).map_err(polars("count leads per day"))?;
    for stage in ["target_lead", "call", "proposal", "negotiation"] {
        let column = format!("{stage}_at");
        if !leads.frame.get_column_names().iter().any(|c| c.as_str() == column) {
            continue;
        }
        let reached = leads
            .frame
            .clone()
            .lazy()
            .filter(col(column.as_str()).is_not_null())
            .with_column(day_expr(&column))
            .filter(col("day").gt_eq(lit(start)).and(col("day").lt_eq(lit(end))));
        add_per_day(&mut daily, reached, len(), stage, &key_columns).map_err(polars("count funnel stages per day"))?;
    }

    // Purchases (new customers) and net revenue from orders.
    let (rows, after, before) =
        daily_counts(orders.frame.clone().lazy(), "paid_at", start, end).map_err(polars("select order days"))?;
    exclude(TableKind::Orders, "after_as_of", after);
    exclude(TableKind::Orders, "before_pacing_history", before);
    add_per_day(&mut daily, rows.clone().lazy(), exact_money_sum("revenue"), "revenue", &key_columns)
        .map_err(polars("sum revenue per day"))?;
    // A customer is new on the day of its first paid order ever (earliest paid_at, ties by
    // order_id): the paid orders of the pacing window whose customer paid nothing before it,
    // first per customer.
    let paid = orders.frame.clone().lazy().filter(col("revenue").gt(lit(0.0))).with_column(day_expr("paid_at"));
    let earlier = paid.clone().filter(col("day").lt(lit(start))).select([col("customer_id")]);
    let window = paid
        .filter(col("day").gt_eq(lit(start)).and(col("day").lt_eq(lit(end))))
        .join(earlier, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Anti))
        .collect_with_engine(Engine::Streaming)
        .map_err(polars("find new customers"))?
        .unwrap_single();
    let firsts = new_customers(&window).map_err(polars("find new customers"))?;
    add_per_day(&mut daily, firsts.lazy(), len(), "purchase", &key_columns).map_err(polars("count new customers per day"))?;

    Ok(daily)
}

/// The plan of the month: channel totals (campaign null) and campaign rows; rows of other
/// months and metrics outside the contract are excluded and counted.
fn month_plan(
    plan: &LoadedTable,
    month_start: NaiveDate,
    exclusions: &mut Exclusions,
    warnings: &mut Vec<String>,
) -> Result<Plan, PacingError> {
    let polars = |context: &'static str| PacingError::polars(context);
    let mut exclude = |table: TableKind, reason: &str, n: u64| exclusions.add(table, reason, n);
    let month_day = days_of(month_start);
    let plan_rows = plan
        .frame
        .clone()
        .lazy()
        .select([col("month").cast(DataType::Int32).alias("month"), col("channel"), col("campaign"), col("metric"), col("value")])
        .collect()
        .map_err(polars("read the plan"))?;
    let months = plan_rows.column("month").map_err(polars("read the plan"))?.i32().map_err(polars("read the plan"))?.clone();
    let channels_col = plan_rows.column("channel").and_then(|c| c.str().cloned()).map_err(polars("read the plan"))?;
    let campaigns_col = plan_rows.column("campaign").and_then(|c| c.str().cloned()).map_err(polars("read the plan"))?;
    let metrics_col = plan_rows.column("metric").and_then(|c| c.str().cloned()).map_err(polars("read the plan"))?;
    let values_col = plan_rows.column("value").and_then(|c| c.f64().cloned()).map_err(polars("read the plan"))?;
    let mut channel_plan: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut campaign_plan: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    let (mut other_month, mut unknown_metric) = (0u64, Vec::new());
    for i in 0..plan_rows.height() {
        if months.get(i) != Some(month_day) {
            other_month += 1;
            continue;
        }
        let (Some(channel), Some(metric), Some(value)) = (channels_col.get(i), metrics_col.get(i), values_col.get(i)) else {
            continue;
        };
        if !METRICS.contains(&metric) {
            unknown_metric.push(metric.to_string());
            continue;
        }
        match campaigns_col.get(i) {
            None => *channel_plan.entry((channel.to_string(), metric.to_string())).or_insert(0.0) += value,
            Some(campaign) => {
                *campaign_plan.entry((channel.to_string(), campaign.to_string(), metric.to_string())).or_insert(0.0) += value
            }
        }
    }
    exclude(TableKind::Plan, "other_month", other_month);
    exclude(TableKind::Plan, "unknown_metric", unknown_metric.len() as u64);
    if !unknown_metric.is_empty() {
        unknown_metric.sort();
        unknown_metric.dedup();
        warnings.push(format!(
            "{}: plan metrics outside the contract left out: {}; expected {}.",
            plan.report.path,
            unknown_metric.join(", "),
            METRICS.join(", ")
        ));
    }
    if channel_plan.is_empty() && campaign_plan.is_empty() {
        warnings.push(format!(
            "{}: no plan rows for {}; facts and run rates are reported without plan.",
            plan.report.path,
            month_start.format("%Y-%m")
        ));
    }
    // A channel metric planned only by campaign gets the sum of its campaigns.
    let mut summed: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ((channel, _, metric), value) in &campaign_plan {
        *summed.entry((channel.clone(), metric.clone())).or_insert(0.0) += value;
    }
    for (key, value) in summed {
        channel_plan.entry(key).or_insert(value);
    }

    Ok(Plan { channel: channel_plan, campaign: campaign_plan })
}
