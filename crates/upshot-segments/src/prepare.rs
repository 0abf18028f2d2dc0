//! The prepare layer of the segmentation, the only module that touches polars: the window,
//! leads per ad and stage, purchases (linked to a lead of the window, or by the first order's own
//! click), the pooled lag profile, spend per ad with maturity-weighted clicks, and the merge into
//! one set of measures per ad.

use std::collections::BTreeMap;

use polars::prelude::*;
use upshot_data::derive::{exact_money_sum, new_customers_with};
use upshot_data::frame::{day_expr, days_of, key_rows, numbers, streaming};
use upshot_data::{Dataset, TableKind};
use upshot_development::chainladder::Triangle;
use upshot_development::projection::{developed_shares, lag_profile};

use crate::model::{LEVELS, Measures, STAGES};
use crate::{Exclusions, Params, SegmentsError};

/// Weeks of lag the maturity of clicks is measured over.
const LAG_WEEKS: usize = 52;

/// Everything measured per ad, with the rows that could not be placed.
pub(crate) struct Prepared {
    /// Measures per ad keys (channel, campaign, ad group, ad), in key order.
    pub(crate) ads: BTreeMap<Vec<String>, Measures>,
    /// Share of eventual purchases arrived by each week of age (pooled lag profile).
    pub(crate) developed: Vec<f64>,
    /// Leads (and their purchases) whose keys have no spend row: (keys, leads, purchases).
    pub(crate) leads_without_spend: Vec<(Vec<String>, f64, f64)>,
    /// Ads with purchases and no cost: (keys, purchases).
    pub(crate) free_conversions: Vec<(Vec<String>, f64)>,
    pub(crate) exclusions: Exclusions,
    pub(crate) warnings: Vec<String>,
    /// First and last day of the window.
    pub(crate) window: (chrono::NaiveDate, chrono::NaiveDate),
    /// New customers (first paid orders, every channel) per day of the window, when brand campaigns
    /// and a target are configured: the history a brand on/off test is sized on.
    pub(crate) daily_new_customers: Option<Vec<f64>>,
}

/// The level keys with nulls named (`organic` for a channel, `(none)` below), for the key columns of
/// `frame` that have nulls: filling a column without any would copy 20M strings for nothing.
fn key_exprs(frame: &DataFrame) -> Vec<Expr> {
    LEVELS
        .iter()
        .filter(|k| frame.column(k).is_ok_and(|c| c.null_count() > 0))
        .map(|k| {
            let fill = if *k == "channel" { "organic" } else { "(none)" };
            col(*k).fill_null(lit(fill)).alias(*k)
        })
        .collect()
}

fn week_expr(column: &str) -> Expr {
    (col(column).cast(DataType::Date).cast(DataType::Int32) - lit(4)).floor_div(lit(7)).alias("week")
}

/// The analysis window in days since 1970-01-01: the params' dates, else the spend's.
struct Window {
    start: i32,
    end: i32,
}

impl Window {
    fn contains(&self, column: &str) -> Expr {
        day_expr(column).gt_eq(lit(self.start)).and(day_expr(column).lt_eq(lit(self.end)))
    }

    fn dates(&self) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        (epoch + chrono::Duration::days(i64::from(self.start)), epoch + chrono::Duration::days(i64::from(self.end)))
    }

    /// The rows of `frame` inside the window; rows outside are excluded and counted. Filtering
    /// copies every column: only when some row is outside.
    fn rows(
        &self,
        kind: TableKind,
        frame: &DataFrame,
        column: &str,
        exclusions: &mut Exclusions,
    ) -> Result<LazyFrame, SegmentsError> {
        let outside =
            streaming(frame.clone().lazy().select([self.contains(column).not().sum().cast(DataType::UInt64).alias("n")]))
                .map_err(SegmentsError::polars("count rows outside the window"))?;
        let n = outside.column("n").ok().and_then(|c| c.u64().ok().and_then(|c| c.get(0))).unwrap_or(0);
        let rows = frame.clone().lazy();
        if n > 0 {
            exclusions.add(kind, "outside_window", n);
            Ok(rows.filter(self.contains(column)))
        } else {
            Ok(rows)
        }
    }
}

pub(crate) fn prepare(data: &Dataset, params: &Params) -> Result<Prepared, SegmentsError> {
    let table = |kind: TableKind| data.get(kind).ok_or(SegmentsError::MissingTable { kind: "segments", table: kind.name() });
    let (spend, leads, orders) = (table(TableKind::Spend)?, table(TableKind::Leads)?, table(TableKind::Orders)?);
    let mut exclusions = Exclusions::new();
    let mut warnings = Vec::new();
    let window = window(spend, params)?;
    let spend_rows = window.rows(TableKind::Spend, &spend.frame, "date", &mut exclusions)?.with_columns(key_exprs(&spend.frame));
    let lead_rows =
        window.rows(TableKind::Leads, &leads.frame, "created_at", &mut exclusions)?.with_columns(key_exprs(&leads.frame));
    let (present, leads_by_ad) = leads_per_ad(lead_rows.clone(), &leads.frame)?;
    // The history a brand on/off test is sized on, when brand campaigns and a target are configured.
    let daily_wanted = params.brand_campaigns.is_some() && !matches!(params.target_cac, crate::TargetCac::None);
    let mut purchases = purchases(orders, lead_rows, &window, daily_wanted, &mut exclusions)?;
    let daily_new_customers = purchases.daily.take();
    let developed = maturity(&purchases.bought, &window)?;
    let by_ad = spend_per_ad(spend_rows, &developed, &window)?;
    let (ads, (leads_without_spend, free_conversions)) =
        measures(&by_ad, &leads_by_ad, &present, &purchases.by_ad, &mut exclusions, &mut warnings)?;
    let dates = window.dates();
    Ok(Prepared {
        ads,
        developed,
        leads_without_spend,
        free_conversions,
        exclusions,
        warnings,
        window: dates,
        daily_new_customers,
    })
}

/// New customers (first paid orders) per day of the window, zero on days without one.
fn daily_in_window(firsts: &DataFrame, window: &Window) -> Result<Vec<f64>, SegmentsError> {
    let days = firsts
        .clone()
        .lazy()
        .select([day_expr("paid_at").alias("d")])
        .collect()
        .map_err(SegmentsError::polars("count new customers per day"))?;
    let column = days.column("d").and_then(|c| c.i32().cloned()).map_err(SegmentsError::polars("count new customers per day"))?;
    let mut daily = vec![0.0; (window.end - window.start + 1).max(0) as usize];
    for d in column.iter().flatten() {
        if (window.start..=window.end).contains(&d) {
            daily[(d - window.start) as usize] += 1.0;
        }
    }
    Ok(daily)
}

/// Window: the params' dates, else the spend's.
fn window(spend: &upshot_data::LoadedTable, params: &Params) -> Result<Window, SegmentsError> {
    let err = SegmentsError::polars;
    let bounds = streaming(
        spend.frame.clone().lazy().select([day_expr("date").min().alias("first"), day_expr("date").max().alias("last")]),
    )
    .map_err(err("read spend dates"))?;
    let first_day = bounds.column("first").ok().and_then(|c| c.i32().ok().and_then(|c| c.get(0)));
    let last_day = bounds.column("last").ok().and_then(|c| c.i32().ok().and_then(|c| c.get(0)));
    let (Some(first_day), Some(last_day)) = (first_day, last_day) else {
        return Err(SegmentsError::Input {
            file: spend.report.path.clone(),
            column: "date".into(),
            message: "no spend rows: nothing to segment".into(),
        });
    };
    let start = params.start.map_or(first_day, days_of);
    let end = params.end.map_or(last_day, days_of);
    Ok(Window { start, end })
}

/// Leads per ad and stage, with the stages the leads table has.
fn leads_per_ad(lead_rows: LazyFrame, leads: &DataFrame) -> Result<(Vec<&'static str>, DataFrame), SegmentsError> {
    let err = SegmentsError::polars;
    let present: Vec<&'static str> =
        STAGES.iter().copied().filter(|s| leads.get_column_names().iter().any(|c| c.as_str() == format!("{s}_at"))).collect();
    let mut lead_aggs = vec![len().cast(DataType::Float64).alias("leads")];
    lead_aggs.extend(present.iter().map(|s| col(format!("{s}_at")).is_not_null().sum().cast(DataType::Float64).alias(*s)));
    let leads_by_ad = streaming(lead_rows.group_by(LEVELS.map(col)).agg(lead_aggs)).map_err(err("count leads per ad"))?;
    Ok((present, leads_by_ad))
}

/// Purchases linked to a lead of the window (with the lead's and the purchase's weeks, for the
/// lag profile), and purchases per ad.
struct Purchases {
    bought: DataFrame,
    by_ad: DataFrame,
    /// New customers per day of the window (every first paid order), when asked for.
    daily: Option<Vec<f64>>,
}

/// Purchases: new customers whose first paid order links to a lead of the window.
fn purchases(
    orders: &upshot_data::LoadedTable,
    lead_rows: LazyFrame,
    window: &Window,
    daily_wanted: bool,
    exclusions: &mut Exclusions,
) -> Result<Purchases, SegmentsError> {
    let err = SegmentsError::polars;
    let in_window = |column: &str| window.contains(column);
    let firsts =
        new_customers_with(&orders.frame, Some(&["lead_id", "paid_at", "revenue", "channel", "campaign", "ad_group", "ad"]))
            .map_err(err("find new customers"))?;
    let firsts_height = firsts.height() as u64;
    let daily = if daily_wanted { Some(daily_in_window(&firsts, window)?) } else { None };
    let mut lead_columns: Vec<Expr> = vec![col("lead_id"), week_expr("created_at")];
    lead_columns.extend(LEVELS.map(col));
    let bought = firsts
        .clone()
        .lazy()
        .with_row_index("__first", None)
        .filter(col("lead_id").is_not_null())
        .select([col("__first"), col("lead_id"), week_expr("paid_at").alias("paid_week"), col("revenue")])
        .join(lead_rows.select(lead_columns), [col("lead_id")], [col("lead_id")], JoinArgs::new(JoinType::Inner));
    // Streaming: a third faster than the in-memory join here; everything downstream is order-free
    // (counts and integer money sums).
    let bought = streaming(bought).map_err(err("link purchases to leads"))?;
    // New customers without a lead of the window (search buyers who never filled a form, brand
    // clicks): their first order's own click attribution, when paid in the window. The first orders
    // the join did not link are marked by position, without a second join on the lead id.
    let mut unlinked = vec![true; firsts.height()];
    let linked = bought.column("__first").and_then(|c| c.idx().cloned()).map_err(err("link purchases to leads"))?;
    for row in linked.iter().flatten() {
        unlinked[row as usize] = false;
    }
    let unlinked = BooleanChunked::from_iter_values("unlinked".into(), unlinked.into_iter());
    let mut direct_keys: Vec<Expr> = vec![col("lead_id"), col("revenue"), week_expr("paid_at").alias("paid_week")];
    direct_keys.extend(LEVELS.map(col));
    let direct_names = key_exprs(&firsts);
    let direct = firsts
        .lazy()
        .with_column(lit(unlinked.into_series()))
        .filter(col("unlinked").and(in_window("paid_at")))
        .select(direct_keys)
        .with_columns(direct_names)
        .filter(col("channel").neq(lit("organic")))
        .collect()
        .map_err(err("attribute purchases without a lead"))?;
    let orders_total = orders.frame.height() as u64;
    let customers = firsts_height;
    if orders_total > customers {
        exclusions.add(TableKind::Orders, "repeat_or_refund", orders_total - customers);
    }
    let attributed = (bought.height() + direct.height()) as u64;
    if customers > attributed {
        exclusions.add(TableKind::Orders, "first_order_not_from_a_window_click", customers - attributed);
    }
    let mut purchase_rows = bought.clone().lazy().select([col("revenue")].into_iter().chain(LEVELS.map(col)).collect::<Vec<_>>());
    purchase_rows = concat(
        [purchase_rows, direct.clone().lazy().select([col("revenue")].into_iter().chain(LEVELS.map(col)).collect::<Vec<_>>())],
        UnionArgs::default(),
    )
    .map_err(err("count purchases per ad"))?;
    let purchases_by_ad = streaming(
        purchase_rows
            .group_by(LEVELS.map(col))
            .agg([len().cast(DataType::Float64).alias("purchases"), exact_money_sum("revenue")]),
    )
    .map_err(err("count purchases per ad"))?;
    Ok(Purchases { bought, by_ad: purchases_by_ad, daily })
}

/// The pooled lag profile by week of age (the cohort engine), from lead week x purchase week:
/// the share of eventual purchases arrived by each week of age.
fn maturity(bought: &DataFrame, window: &Window) -> Result<Vec<f64>, SegmentsError> {
    let err = SegmentsError::polars;
    let (start, end) = (window.start, window.end);
    let last_week = (end - 4).div_euclid(7);
    let lags = streaming(
        bought
            .clone()
            .lazy()
            .with_column((col("paid_week") - col("week")).alias("age"))
            .filter(col("age").gt_eq(lit(0)))
            .group_by([col("week"), col("age")])
            .agg([len().cast(DataType::Float64).alias("n")]),
    )
    .map_err(err("measure purchase lags"))?;
    let first_week = (start - 4).div_euclid(7);
    let weeks = (last_week - first_week + 1).max(1) as usize;
    let ages = LAG_WEEKS.min(weeks).max(1);
    let mut increments = vec![vec![0.0; ages]; weeks];
    {
        let week = lags.column("week").and_then(|c| c.i32().cloned()).map_err(err("read lags"))?;
        let age = lags.column("age").and_then(|c| c.i32().cloned()).map_err(err("read lags"))?;
        let n = numbers(&lags, "n").map_err(err("read lags"))?;
        for (i, count) in n.iter().enumerate() {
            let (Some(w), Some(a)) = (week.get(i), age.get(i)) else { continue };
            let row = (w - first_week) as usize;
            if row < weeks && (a as usize) < ages {
                increments[row][a as usize] += count;
            }
        }
    }
    let latest: Vec<usize> = (0..weeks).map(|row| (weeks - 1 - row).min(ages - 1)).collect();
    let triangle = Triangle::from_increments(&increments, &latest);
    Ok(developed_shares(&lag_profile(&triangle)))
}

// Spend per ad, with clicks weighted by the share of their purchases that has had time to arrive
// (week of the click as the lead's week); summed in integer millionths so the order of rows
// cannot change a byte.
// Share arrived by age (weeks before the last week), 1 past the measured ages; looked up by
// position rather than joined, so the 20M spend rows are not hashed or copied.
fn spend_per_ad(spend_rows: LazyFrame, developed: &[f64], window: &Window) -> Result<DataFrame, SegmentsError> {
    let err = SegmentsError::polars;
    let last_week = (window.end - 4).div_euclid(7);
    let mut share_by_age = developed.to_vec();
    share_by_age.push(1.0);
    let oldest = (share_by_age.len() - 1) as i32;
    let share = lit(Series::new("share".into(), share_by_age))
        .gather((lit(last_week) - week_expr("date")).clip(lit(0), lit(oldest)).cast(IDX_DTYPE), false)
        .alias("share");
    streaming(
        spend_rows.with_column(share).group_by(LEVELS.map(col)).agg([
            exact_money_sum("cost"),
            col("impressions").sum().cast(DataType::Float64).alias("impressions"),
            col("clicks").sum().cast(DataType::Float64).alias("clicks"),
            ((col("clicks").cast(DataType::Float64) * col("share") * lit(1e6))
                .round(0, RoundMode::HalfToEven)
                .cast(DataType::Int64)
                .sum()
                .cast(DataType::Float64)
                / lit(1e6))
            .alias("effective_clicks"),
        ]),
    )
    .map_err(err("sum spend per ad"))
}

/// Leads without a spend row (keys, leads, purchases), and ads with purchases but no cost.
type Unplaced = (Vec<(Vec<String>, f64, f64)>, Vec<(Vec<String>, f64)>);

/// Ads: spend rows first, then leads-only keys (reported, no decision).
fn measures(
    by_ad: &DataFrame,
    leads_by_ad: &DataFrame,
    present: &[&str],
    purchases_by_ad: &DataFrame,
    exclusions: &mut Exclusions,
    warnings: &mut Vec<String>,
) -> Result<(BTreeMap<Vec<String>, Measures>, Unplaced), SegmentsError> {
    let err = SegmentsError::polars;
    let mut ads: BTreeMap<Vec<String>, Measures> = BTreeMap::new();
    let ad_keys = key_rows(by_ad, &LEVELS).map_err(err("read ads"))?;
    let (cost, impressions, clicks, effective) = (
        numbers(by_ad, "cost").map_err(err("read ads"))?,
        numbers(by_ad, "impressions").map_err(err("read ads"))?,
        numbers(by_ad, "clicks").map_err(err("read ads"))?,
        numbers(by_ad, "effective_clicks").map_err(err("read ads"))?,
    );
    for (i, keys) in ad_keys.into_iter().enumerate() {
        let m = ads.entry(keys).or_default();
        m.cost += cost[i];
        m.impressions += impressions[i];
        m.clicks += clicks[i];
        m.effective_clicks += effective[i];
    }
    let mut leads_only: BTreeMap<Vec<String>, (f64, f64)> = BTreeMap::new();
    {
        let keys = key_rows(leads_by_ad, &LEVELS).map_err(err("read leads per ad"))?;
        let n = numbers(leads_by_ad, "leads").map_err(err("read leads per ad"))?;
        let stage_counts: Vec<Vec<f64>> =
            present.iter().map(|s| numbers(leads_by_ad, s)).collect::<PolarsResult<_>>().map_err(err("read stages"))?;
        for (i, k) in keys.into_iter().enumerate() {
            match ads.get_mut(&k) {
                Some(m) => {
                    m.leads += n[i];
                    for (j, s) in present.iter().enumerate() {
                        if let Some(slot) = STAGES.iter().position(|x| x == s) {
                            m.stages[slot] += stage_counts[j][i];
                        }
                    }
                }
                None => leads_only.entry(k).or_default().0 += n[i],
            }
        }
        let keys = key_rows(purchases_by_ad, &LEVELS).map_err(err("read purchases per ad"))?;
        let p = numbers(purchases_by_ad, "purchases").map_err(err("read purchases per ad"))?;
        let r = numbers(purchases_by_ad, "revenue").map_err(err("read purchases per ad"))?;
        for (i, k) in keys.into_iter().enumerate() {
            match ads.get_mut(&k) {
                Some(m) => {
                    m.purchases += p[i];
                    m.revenue += r[i];
                }
                None => leads_only.entry(k).or_default().1 += p[i],
            }
        }
    }
    let leads_without_spend: Vec<(Vec<String>, f64, f64)> = leads_only.into_iter().map(|(k, (l, p))| (k, l, p)).collect();
    if !leads_without_spend.is_empty() {
        let leads_n: f64 = leads_without_spend.iter().map(|x| x.1).sum();
        let purchases_n: f64 = leads_without_spend.iter().map(|x| x.2).sum();
        exclusions.add(TableKind::Leads, "no_spend_for_ad", leads_n as u64);
        warnings.push(format!(
            "{} key combinations (ads, or organic/direct) have {} leads and {} purchases but no spend row in the window; listed in tables/unmatched.csv, not decided (example: {}).",
            leads_without_spend.len(),
            leads_n,
            purchases_n,
            leads_without_spend[0].0.join(" / ")
        ));
    }
    let free_conversions: Vec<(Vec<String>, f64)> =
        ads.iter().filter(|(_, m)| m.cost <= 0.0 && m.purchases > 0.0).map(|(k, m)| (k.clone(), m.purchases)).collect();
    if !free_conversions.is_empty() {
        warnings.push(format!(
            "{} ads have purchases but no cost in the window (CAC 0): reported, not decided.",
            free_conversions.len()
        ));
    }
    let no_clicks = ads.values().filter(|m| m.clicks <= 0.0 && m.cost > 0.0).count();
    if no_clicks > 0 {
        warnings.push(format!("{no_clicks} ads have cost but no clicks: their CAC has no rate to rest on; not decided."));
    }
    Ok((ads, (leads_without_spend, free_conversions)))
}
