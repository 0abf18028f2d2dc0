//! Daily facts per channel, campaign and metric from the exports, and the
//! month-to-date pace of each against its plan.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use upshot_data::derive::{exact_money_sum, new_customers};
use upshot_data::{Dataset, TableKind};

use crate::runrate::{RunRate, last_day_of_month, run_rate};
use crate::{Exclusions, METRICS, PacingError, Params};

/// Weeks of history before the month for the day-of-week weights.
const HISTORY_DAYS: u64 = 56;
/// Name of the campaign of leads, orders and spend rows without one.
pub const NO_CAMPAIGN: &str = "(none)";

/// One metric of one line: plan, fact and the run rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// Plan metric name (`cost`, `lead`, ..., `revenue`).
    pub metric: String,
    /// The month's plan, when the plan has a row for it.
    pub plan: Option<f64>,
    /// Month to date, up to and including the as-of day.
    pub fact_to_date: f64,
    /// The as-of day alone (the digest's "last 24 hours").
    pub last_day: f64,
    /// Month-end projection with its interval.
    pub run_rate: RunRate,
}

impl Pace {
    /// Projected month end over plan, with the interval ends over plan.
    pub fn completion(&self) -> Option<(f64, f64, f64)> {
        let plan = self.plan.filter(|p| *p > 0.0)?;
        Some((self.run_rate.month_end / plan, self.run_rate.low / plan, self.run_rate.high / plan))
    }

    /// What each remaining day must bring to make the plan (after the as-of day); `None`
    /// without a plan or when the month has no day left.
    pub fn needed_per_day(&self) -> Option<f64> {
        let plan = self.plan?;
        let days = self.run_rate.remaining_days;
        (days > 0).then(|| ((plan - self.fact_to_date) / f64::from(days)).max(0.0))
    }
}

/// A channel, a campaign of a channel, or all channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Channel (`all` for the rollup, `organic` for null).
    pub channel: String,
    /// Campaign, for campaign lines.
    pub campaign: Option<String>,
    /// One pace per metric with data or plan, in funnel order.
    pub paces: Vec<Pace>,
}

impl Line {
    /// The pace of one metric.
    pub fn pace(&self, metric: &str) -> Option<&Pace> {
        self.paces.iter().find(|p| p.metric == metric)
    }

    /// Whether any metric has a plan.
    pub fn has_plan(&self) -> bool {
        self.paces.iter().any(|p| p.plan.is_some())
    }
}

/// Everything the report and the digest need.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// The last day counted.
    pub as_of: NaiveDate,
    /// The last date in the data.
    pub last_data_day: NaiveDate,
    /// First day of the as-of month.
    pub month_start: NaiveDate,
    /// Last day of the as-of month.
    pub month_end: NaiveDate,
    /// Trailing window of the run rate.
    pub window_days: usize,
    /// Interval level.
    pub level: f64,
    /// Channel lines, in name order.
    pub channels: Vec<Line>,
    /// Campaign lines, by channel then campaign.
    pub campaigns: Vec<Line>,
    /// All channels together.
    pub total: Line,
    /// Cumulative daily facts of the total for the month (day of month, metric -> cumulative).
    pub cumulative: BTreeMap<String, Vec<f64>>,
    /// Rows left out, by table and reason.
    pub exclusions: Exclusions,
    /// Data warnings.
    pub warnings: Vec<String>,
}

/// Daily values per (channel, campaign, metric).
type Daily = BTreeMap<(String, String, String), BTreeMap<NaiveDate, f64>>;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn to_date(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(i64::from(days))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

fn day_expr(column: &str) -> Expr {
    col(column).cast(DataType::Date).cast(DataType::Int32).alias("day")
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
        *daily.entry(key).or_default().entry(to_date(day)).or_insert(0.0) += values.get(i).unwrap_or(0.0);
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
    Ok(out.column("day")?.i32()?.get(0).map(to_date))
}

/// Builds the daily facts and the paces.
pub(crate) fn compute(data: &Dataset, params: &Params) -> Result<Computed, PacingError> {
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
    let (start, end) = (days_since_epoch(history_start), days_since_epoch(as_of));
    let mut exclusions = Exclusions::new();
    let mut exclude = |table: TableKind, reason: &str, n: u64| exclusions.add(table, reason, n);
    let mut warnings = Vec::new();
    if as_of > last_data_day {
        warnings.push(format!(
            "The as-of date {as_of} is {} days after the last date in the data ({last_data_day}); those days count as zero.",
            (as_of - last_data_day).num_days()
        ));
    }

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

    // The plan of the month: channel totals (campaign null) and campaign rows.
    let month_day = days_since_epoch(month_start);
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

    // Series per line.
    let window = params.window_days;
    let level = params.level;
    let pace = |metric: &str, series: &BTreeMap<NaiveDate, f64>, plan: Option<f64>| -> Option<Pace> {
        let days: Vec<(NaiveDate, f64)> = series.iter().map(|(d, v)| (*d, *v)).collect();
        let rate = run_rate(&days, as_of, window, level).ok()?;
        Some(Pace {
            metric: metric.to_string(),
            plan,
            fact_to_date: rate.fact_to_date,
            last_day: series.get(&as_of).copied().unwrap_or(0.0),
            run_rate: rate,
        })
    };
    let merge = |target: &mut BTreeMap<NaiveDate, f64>, source: &BTreeMap<NaiveDate, f64>| {
        for (d, v) in source {
            *target.entry(*d).or_insert(0.0) += v;
        }
    };
    let mut channel_series: BTreeMap<(String, String), BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    let mut total_series: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for ((channel, _, metric), series) in &daily {
        merge(channel_series.entry((channel.clone(), metric.clone())).or_default(), series);
        merge(total_series.entry(metric.clone()).or_default(), series);
    }
    type Series = BTreeMap<NaiveDate, f64>;
    let line = |channel: &str,
                campaign: Option<&str>,
                series_of: &dyn Fn(&str) -> Option<Series>,
                plan_of: &dyn Fn(&str) -> Option<f64>| Line {
        channel: channel.to_string(),
        campaign: campaign.map(str::to_string),
        paces: METRICS
            .iter()
            .filter_map(|m| {
                let series = series_of(m);
                let plan = plan_of(m);
                if series.is_none() && plan.is_none() {
                    return None;
                }
                pace(m, &series.unwrap_or_default(), plan)
            })
            .collect(),
    };
    let mut channel_names: Vec<String> = channel_series.keys().map(|(c, _)| c.clone()).collect();
    channel_names.extend(channel_plan.keys().map(|(c, _)| c.clone()));
    channel_names.sort();
    channel_names.dedup();
    let channels: Vec<Line> = channel_names
        .iter()
        .map(|c| {
            line(c, None, &|m| channel_series.get(&(c.clone(), m.to_string())).cloned(), &|m| {
                channel_plan.get(&(c.clone(), m.to_string())).copied()
            })
        })
        .collect();
    let mut campaign_names: Vec<(String, String)> =
        daily.iter().filter(|(_, s)| s.keys().any(|d| *d >= month_start)).map(|((c, k, _), _)| (c.clone(), k.clone())).collect();
    campaign_names.extend(campaign_plan.keys().map(|(c, k, _)| (c.clone(), k.clone())));
    campaign_names.sort();
    campaign_names.dedup();
    let campaigns: Vec<Line> = campaign_names
        .iter()
        .map(|(c, k)| {
            line(c, Some(k), &|m| daily.get(&(c.clone(), k.clone(), m.to_string())).cloned(), &|m| {
                campaign_plan.get(&(c.clone(), k.clone(), m.to_string())).copied()
            })
        })
        .collect();
    let total_plan: BTreeMap<String, f64> = channel_plan.iter().fold(BTreeMap::new(), |mut acc, ((_, m), v)| {
        *acc.entry(m.clone()).or_insert(0.0) += v;
        acc
    });
    let total = line("all", None, &|m| total_series.get(m).cloned(), &|m| total_plan.get(m).copied());

    // Channels with activity and no plan at all: reported, never dropped.
    if !channel_plan.is_empty() {
        for l in &channels {
            let planned = channel_plan.keys().any(|(c, _)| c == &l.channel);
            let cost = l.pace("cost").map_or(0.0, |p| p.fact_to_date);
            if !planned && cost > 0.0 {
                warnings.push(format!(
                    "{}: spend this month ({:.2}) but no plan rows; its facts and run rate are reported without plan.",
                    l.channel, cost
                ));
            }
        }
    }
    let days_in_month = month_end.day() as usize;
    let cumulative = total_series
        .iter()
        .map(|(m, series)| {
            let mut sum = 0.0;
            let values: Vec<f64> = (0..days_in_month)
                .map(|d| {
                    let day = month_start + chrono::Days::new(d as u64);
                    sum += series.get(&day).copied().unwrap_or(0.0);
                    sum
                })
                .collect();
            (m.clone(), values)
        })
        .collect();
    Ok(Computed {
        as_of,
        last_data_day,
        month_start,
        month_end,
        window_days: window,
        level,
        channels,
        campaigns,
        total,
        cumulative,
        exclusions,
        warnings,
    })
}
