//! From spend, leads and orders to the ad hierarchy with shrunk purchase
//! rates, CAC posteriors and verdicts.

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;
use upshot_data::derive::{exact_money_sum, new_customers_with};
use upshot_data::{Dataset, TableKind};
use upshot_development::chainladder::Triangle;
use upshot_development::projection::{developed_shares, lag_profile};

use crate::decide::{Counts, Node, Odds, Rule, Verdict, odds, q_values, shrink_hierarchy, verdict};
use crate::{Exclusions, Params, Posterior, SegmentsError};

/// The levels, top down.
pub const LEVELS: [&str; 4] = ["channel", "campaign", "ad_group", "ad"];
/// Funnel stages counted per ad (the leads' `<stage>_at`).
pub const STAGES: [&str; 4] = ["target_lead", "call", "proposal", "negotiation"];
/// Weeks of lag the maturity of clicks is measured over.
const LAG_WEEKS: usize = 52;

/// Everything measured on one node of the hierarchy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measures {
    /// Spend.
    pub cost: f64,
    /// Impressions.
    pub impressions: f64,
    /// Clicks.
    pub clicks: f64,
    /// Clicks weighted by the share of their purchases already arrived.
    pub effective_clicks: f64,
    /// Leads.
    pub leads: f64,
    /// Leads reaching each of `STAGES`.
    pub stages: [f64; 4],
    /// Purchases so far (new customers whose first paid order links to a lead of the node).
    pub purchases: f64,
    /// Net revenue of those first orders.
    pub revenue: f64,
}

impl Measures {
    fn add(&mut self, o: &Measures) {
        self.cost += o.cost;
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.effective_clicks += o.effective_clicks;
        self.leads += o.leads;
        for (a, b) in self.stages.iter_mut().zip(&o.stages) {
            *a += b;
        }
        self.purchases += o.purchases;
        self.revenue += o.revenue;
    }

    fn counts(&self) -> Counts {
        Counts { purchases: self.purchases, effective_clicks: self.effective_clicks, clicks: self.clicks, cost: self.cost }
    }
}

/// One node: its keys (as many as its level's depth), measures and posterior.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Level index into [`LEVELS`].
    pub level: usize,
    /// Keys from the channel down.
    pub keys: Vec<String>,
    /// Index of the parent in the level above.
    pub parent: Option<usize>,
    /// Measures (a parent's are the exact sums of its children's).
    pub measures: Measures,
    /// Posterior purchase rate per click.
    pub posterior: Posterior,
    /// The posterior's equal-tailed interval at the run's level (computed once: the Beta quantile is
    /// the costliest number of the report).
    pub interval: (f64, f64),
}

impl Segment {
    /// Purchases expected in total from the node's clicks: observed plus the still-to-come part.
    pub fn projected_purchases(&self, rate: f64) -> f64 {
        self.measures.purchases + rate * (self.measures.clicks - self.measures.effective_clicks).max(0.0)
    }
}

/// One ad's decision inputs and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct AdDecision {
    /// Index into the ad level.
    pub index: usize,
    /// The channel's target CAC.
    pub target: f64,
    /// Odds under the posterior.
    pub odds: Odds,
    /// Bayesian FDR q-value of "CAC <= target".
    pub q: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The naive rule: observed CAC < target.
    pub naive: bool,
}

/// Everything the report needs.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Nodes per level, in key order.
    pub levels: Vec<Vec<Segment>>,
    /// Concentration fitted per level.
    pub kappa: Vec<f64>,
    /// Decisions of the ads with clicks, cost and a target.
    pub decisions: Vec<AdDecision>,
    /// Share of eventual purchases arrived by each week of age (pooled lag profile).
    pub developed: Vec<f64>,
    /// Leads (and their purchases) whose keys have no spend row: (keys, leads, purchases).
    pub leads_without_spend: Vec<(Vec<String>, f64, f64)>,
    /// Ads with purchases and no cost: (keys, purchases).
    pub free_conversions: Vec<(Vec<String>, f64)>,
    /// Rows left out, by table and reason.
    pub exclusions: Exclusions,
    /// Data warnings.
    pub warnings: Vec<String>,
    /// First and last day of the window.
    pub window: (chrono::NaiveDate, chrono::NaiveDate),
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

fn day_expr(column: &str) -> Expr {
    col(column).cast(DataType::Date).cast(DataType::Int32)
}

fn keys_of(frame: &DataFrame) -> PolarsResult<Vec<Vec<String>>> {
    let columns: Vec<StringChunked> =
        LEVELS.iter().map(|k| frame.column(k).and_then(|c| c.str().cloned())).collect::<PolarsResult<_>>()?;
    Ok((0..frame.height()).map(|r| columns.iter().map(|c| c.get(r).unwrap_or_default().to_string()).collect()).collect())
}

fn numbers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

fn streaming(frame: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(frame.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

fn to_day(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// Builds the hierarchy and the decisions.
pub(crate) fn compute(data: &Dataset, params: &Params) -> Result<Computed, SegmentsError> {
    let table = |kind: TableKind| data.get(kind).ok_or(SegmentsError::MissingTable { kind: "segments", table: kind.name() });
    let (spend, leads, orders) = (table(TableKind::Spend)?, table(TableKind::Leads)?, table(TableKind::Orders)?);
    let err = SegmentsError::polars;
    let mut exclusions = Exclusions::new();
    let mut warnings = Vec::new();

    // Window: the params' dates, else the spend's.
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
    let start = params.start.map_or(first_day, to_day);
    let end = params.end.map_or(last_day, to_day);
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let window = (epoch + chrono::Duration::days(i64::from(start)), epoch + chrono::Duration::days(i64::from(end)));
    let in_window = |column: &str| day_expr(column).gt_eq(lit(start)).and(day_expr(column).lt_eq(lit(end)));
    let mut count_outside = |kind: TableKind, frame: &DataFrame, column: &str| -> Result<u64, SegmentsError> {
        let outside = streaming(frame.clone().lazy().select([in_window(column).not().sum().cast(DataType::UInt64).alias("n")]))
            .map_err(err("count rows outside the window"))?;
        let n = outside.column("n").ok().and_then(|c| c.u64().ok().and_then(|c| c.get(0))).unwrap_or(0);
        if n > 0 {
            exclusions.add(kind, "outside_window", n);
        }
        Ok(n)
    };
    let spend_outside = count_outside(TableKind::Spend, &spend.frame, "date")?;
    let leads_outside = count_outside(TableKind::Leads, &leads.frame, "created_at")?;
    // Filtering copies every column: only when some row is outside.
    let within = |frame: &DataFrame, column: &str, outside: u64| {
        let rows = frame.clone().lazy();
        if outside > 0 { rows.filter(in_window(column)) } else { rows }
    };

    let spend_rows = within(&spend.frame, "date", spend_outside).with_columns(key_exprs(&spend.frame));

    // Leads per ad and stage.
    let lead_rows = within(&leads.frame, "created_at", leads_outside).with_columns(key_exprs(&leads.frame));
    let present: Vec<&str> = STAGES
        .iter()
        .copied()
        .filter(|s| leads.frame.get_column_names().iter().any(|c| c.as_str() == format!("{s}_at")))
        .collect();
    let mut lead_aggs = vec![len().cast(DataType::Float64).alias("leads")];
    lead_aggs.extend(present.iter().map(|s| col(format!("{s}_at")).is_not_null().sum().cast(DataType::Float64).alias(*s)));
    let leads_by_ad = streaming(lead_rows.clone().group_by(LEVELS.map(col)).agg(lead_aggs)).map_err(err("count leads per ad"))?;

    // Purchases: new customers whose first paid order links to a lead of the window.
    let firsts =
        new_customers_with(&orders.frame, Some(&["lead_id", "paid_at", "revenue", "channel", "campaign", "ad_group", "ad"]))
            .map_err(err("find new customers"))?;
    let firsts_height = firsts.height() as u64;
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

    // The pooled lag profile by week of age (the cohort engine), from lead week x purchase week.
    let last_week = (end - 4).div_euclid(7);
    let lags = streaming(
        bought
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
    let developed = developed_shares(&lag_profile(&triangle));

    // Spend per ad, with clicks weighted by the share of their purchases that has had time to arrive
    // (week of the click as the lead's week); summed in integer millionths so the order of rows
    // cannot change a byte.
    // Share arrived by age (weeks before the last week), 1 past the measured ages; looked up by
    // position rather than joined, so the 20M spend rows are not hashed or copied.
    let mut share_by_age = developed.clone();
    share_by_age.push(1.0);
    let oldest = (share_by_age.len() - 1) as i32;
    let share = lit(Series::new("share".into(), share_by_age))
        .gather((lit(last_week) - week_expr("date")).clip(lit(0), lit(oldest)).cast(IDX_DTYPE), false)
        .alias("share");
    let by_ad = streaming(
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
    .map_err(err("sum spend per ad"))?;

    // Ads: spend rows first, then leads-only keys (reported, no decision).
    let mut ads: BTreeMap<Vec<String>, Measures> = BTreeMap::new();
    let ad_keys = keys_of(&by_ad).map_err(err("read ads"))?;
    let (cost, impressions, clicks, effective) = (
        numbers(&by_ad, "cost").map_err(err("read ads"))?,
        numbers(&by_ad, "impressions").map_err(err("read ads"))?,
        numbers(&by_ad, "clicks").map_err(err("read ads"))?,
        numbers(&by_ad, "effective_clicks").map_err(err("read ads"))?,
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
        let keys = keys_of(&leads_by_ad).map_err(err("read leads per ad"))?;
        let n = numbers(&leads_by_ad, "leads").map_err(err("read leads per ad"))?;
        let stage_counts: Vec<Vec<f64>> =
            present.iter().map(|s| numbers(&leads_by_ad, s)).collect::<PolarsResult<_>>().map_err(err("read stages"))?;
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
        let keys = keys_of(&purchases_by_ad).map_err(err("read purchases per ad"))?;
        let p = numbers(&purchases_by_ad, "purchases").map_err(err("read purchases per ad"))?;
        let r = numbers(&purchases_by_ad, "revenue").map_err(err("read purchases per ad"))?;
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

    // The hierarchy: roll ads up level by level (exact sums), in key order.
    let mut levels: Vec<Vec<Segment>> = vec![Vec::new(); LEVELS.len()];
    let mut index: Vec<BTreeMap<Vec<String>, usize>> = vec![BTreeMap::new(); LEVELS.len()];
    for (keys, m) in &ads {
        for depth in 0..LEVELS.len() {
            let prefix = keys[..=depth].to_vec();
            let slot = match index[depth].get(&prefix) {
                Some(&i) => i,
                None => {
                    let parent = (depth > 0).then(|| index[depth - 1][&keys[..depth].to_vec()]);
                    levels[depth].push(Segment {
                        level: depth,
                        keys: prefix.clone(),
                        parent,
                        measures: Measures::default(),
                        posterior: Posterior { alpha: 1.0, beta: 1.0 },
                        interval: (0.0, 1.0),
                    });
                    index[depth].insert(prefix, levels[depth].len() - 1);
                    levels[depth].len() - 1
                }
            };
            levels[depth][slot].measures.add(m);
        }
    }
    let nodes: Vec<Vec<Node>> =
        levels.iter().map(|l| l.iter().map(|s| Node { parent: s.parent, counts: s.measures.counts() }).collect()).collect();
    let shrunk = shrink_hierarchy(&nodes);
    let kappa: Vec<f64> = shrunk.iter().map(|(k, _)| *k).collect();
    for (level, (_, posteriors)) in levels.iter_mut().zip(shrunk) {
        level.par_iter_mut().zip(posteriors).for_each(|(segment, posterior)| {
            segment.posterior = posterior;
            segment.interval = posterior.interval(params.level);
        });
    }

    // Decisions per ad.
    let rule = Rule { pause_multiple: params.pause_multiple, probability: params.scale_probability, fdr: params.fdr };
    let ad_level = &levels[LEVELS.len() - 1];
    let candidates: Vec<Option<(f64, Odds)>> = ad_level
        .par_iter()
        .map(|s| {
            let target = params.target_cac.of(&s.keys[0])?;
            odds(&s.posterior, &s.measures.counts(), target, &rule).map(|o| (target, o))
        })
        .collect();
    let q = q_values(&candidates.iter().map(|c| c.map(|(_, o)| o.p_within)).collect::<Vec<_>>());
    let decisions: Vec<AdDecision> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (target, odds) = (*c)?;
            let s = &ad_level[i];
            let qi = q[i].unwrap_or(1.0);
            Some(AdDecision {
                index: i,
                target,
                odds,
                q: qi,
                verdict: verdict(&s.posterior, &s.measures.counts(), &odds, qi, target, &rule),
                naive: s.measures.purchases > 0.0 && s.measures.cost / s.measures.purchases < target,
            })
        })
        .collect();
    if matches!(params.target_cac, crate::TargetCac::None) {
        warnings.push("No `target_cac` in [params]: shrunk rates and CAC are reported, no ad is decided.".into());
    }
    Ok(Computed { levels, kappa, decisions, developed, leads_without_spend, free_conversions, exclusions, warnings, window })
}
