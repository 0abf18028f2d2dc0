//! Cohort tables from raw rows, aggregated by polars: lead cohort (month or
//! ISO week of the lead) x age -> purchases and net revenue; customer cohort
//! (period of the first paid order) x age -> revenue per customer; leads and
//! spend per cohort; all per segment of the `by` keys.
//!
//! A purchase is a customer's first paid order (the contract's definition),
//! linked to its lead by `orders.lead_id`; revenue is every order of that
//! customer, refunds netted, placed at the age of its own payment. Age is the
//! whole number of periods between the cohort's period and the payment's.
//! Only complete periods are used: when the data ends inside a period, that
//! period's leads, orders and spend are left out (counted), because a half
//! month would read as a collapse of the last diagonal. Cells the data cannot
//! have seen yet are `None`; observed cells with nothing in them are zeros.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use upshot_analysis::{Exclusions, TableKind};
use upshot_data::derive::exact_money_sum;
use upshot_data::frame::{integers, key_rows, numbers, texts};

use upshot_development::chainladder::Triangle;

/// The cohort period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Calendar months; age 0 is the cohort's own month.
    Month,
    /// ISO weeks (Monday to Sunday).
    Week,
}

/// Day number of 1970-01-05, the first Monday after the epoch.
const FIRST_MONDAY: i32 = 4;

impl Grain {
    /// Index of the period containing `date`: months since year 0, or weeks since 1970-01-05 (a Monday).
    pub fn period(self, date: NaiveDate) -> i32 {
        match self {
            Grain::Month => date.year() * 12 + date.month0() as i32,
            Grain::Week => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                ((date - epoch).num_days() as i32 - FIRST_MONDAY).div_euclid(7)
            }
        }
    }

    /// The same, as a polars expression over a date or datetime column.
    pub fn period_expr(self, column: &str) -> Expr {
        match self {
            Grain::Month => {
                col(column).dt().year().cast(DataType::Int32) * lit(12) + col(column).dt().month().cast(DataType::Int32) - lit(1)
            }
            Grain::Week => (col(column).cast(DataType::Date).cast(DataType::Int32) - lit(FIRST_MONDAY)).floor_div(lit(7)),
        }
    }

    /// Label of a period: `2025-01` or `2025-W03` (ISO week-numbering year).
    pub fn label(self, period: i32) -> String {
        match self {
            Grain::Month => format!("{}-{:02}", period.div_euclid(12), period.rem_euclid(12) + 1),
            Grain::Week => {
                let week = self.first_day(period).iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
        }
    }

    /// First day of a period.
    pub fn first_day(self, period: i32) -> NaiveDate {
        match self {
            Grain::Month => {
                NaiveDate::from_ymd_opt(period.div_euclid(12), period.rem_euclid(12) as u32 + 1, 1).unwrap_or_default()
            }
            Grain::Week => NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or_default() + chrono::Duration::weeks(i64::from(period)),
        }
    }

    /// The last period the data covers completely when it ends on `last_day`.
    pub fn last_complete_period(self, last_day: NaiveDate) -> i32 {
        let period = self.period(last_day);
        let next = last_day.succ_opt().unwrap_or(last_day);
        if self.period(next) != period { period } else { period - 1 }
    }

    /// Periods in `months` months: the months themselves, or ceil(months x 52 / 12) weeks.
    pub fn periods_in_months(self, months: usize) -> usize {
        match self {
            Grain::Month => months,
            Grain::Week => (months * 52).div_ceil(12),
        }
    }

    /// `month` or `week`.
    pub fn name(self) -> &'static str {
        match self {
            Grain::Month => "month",
            Grain::Week => "week",
        }
    }
}

/// One segment's lead cohorts: exposure, spend and development increments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentCohorts {
    /// Values of the `by` keys (`organic` for a null channel, `(none)` for other null keys).
    pub keys: Vec<String>,
    /// Leads per cohort.
    pub leads: Vec<f64>,
    /// Spend per cohort (the cost of the cohort's period).
    pub spend: Vec<f64>,
    /// Purchases per cohort and age (increments).
    pub purchases: Vec<Vec<f64>>,
    /// Net revenue per cohort and age (increments) of the customers the cohort's leads became.
    pub revenue: Vec<Vec<f64>>,
    /// New customers per cohort whose first paid order names no lead (shop orders, brand clicks
    /// that buy on the spot), entered in the cohort of that order's period by its own keys: the
    /// same customers the cohort's spend bought, complete at once, so not in the triangle.
    pub direct: Vec<f64>,
}

/// One segment's customer cohorts (period of the first paid order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentCustomers {
    /// Values of the `by` keys.
    pub keys: Vec<String>,
    /// New customers per customer cohort.
    pub customers: Vec<f64>,
    /// Sum over customers of cumulative net revenue up to each age.
    pub revenue: Vec<Vec<f64>>,
    /// Sum over customers of the square of cumulative net revenue up to each age.
    pub squares: Vec<Vec<f64>>,
}

/// Leads of a week and channel that reached each lower-funnel stage.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelWeek {
    /// Channel (`organic` for null).
    pub channel: String,
    /// ISO week of the lead.
    pub week: i32,
    /// Leads.
    pub leads: f64,
    /// Leads that reached each stage, in `stages` order.
    pub reached: Vec<f64>,
}

/// Everything the cohort analysis reads, aggregated.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohorts {
    /// The period grain.
    pub grain: Grain,
    /// Ages per cohort (the horizon in periods).
    pub ages: usize,
    /// Lead cohort periods, oldest first, contiguous up to the last complete period.
    pub periods: Vec<i32>,
    /// Customer cohort periods, oldest first, contiguous.
    pub customer_periods: Vec<i32>,
    /// The last complete period.
    pub last_period: i32,
    /// The last day of the data.
    pub last_day: NaiveDate,
    /// Lead-cohort tables per segment, in key order.
    pub segments: Vec<SegmentCohorts>,
    /// Customer-cohort tables per segment, in key order.
    pub customers: Vec<SegmentCustomers>,
    /// Lower-funnel stages counted per week.
    pub stages: Vec<String>,
    /// Weekly lower funnel per channel.
    pub funnel: Vec<FunnelWeek>,
    /// Compound-Poisson scale of one order's revenue, `E[x^2] / E[x]` over paid orders.
    pub revenue_scale: f64,
    /// Rows left out, by table (`leads`, `orders`, `spend`) and reason.
    pub excluded: Exclusions,
    /// Spend of keys that have no leads at all (cost, rows), by keys.
    pub spend_without_leads: BTreeMap<Vec<String>, (f64, u64)>,
}

impl Cohorts {
    /// Latest observed age of each lead cohort.
    pub fn latest_age(&self) -> Vec<usize> {
        self.periods.iter().map(|p| ((self.last_period - p) as usize).min(self.ages - 1)).collect()
    }

    /// A cumulative triangle from increments, cells past the latest observed age unknown.
    pub fn triangle(&self, increments: &[Vec<f64>]) -> Triangle {
        Triangle::from_increments(increments, &self.latest_age())
    }
}

/// What to aggregate.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// Cohort period.
    pub grain: Grain,
    /// Ages per cohort.
    pub ages: usize,
    /// Segment keys (lead, order and spend columns: channel, campaign, ad_group, ad).
    pub by: &'a [String],
    /// Lower-funnel stages to count weekly (`proposal` -> `proposal_at`), those the leads have.
    pub stages: &'a [String],
}

fn key_expr(key: &str) -> Expr {
    let fill = if key == "channel" { "organic" } else { "(none)" };
    col(key).fill_null(lit(fill)).alias(key)
}

fn count(frame: LazyFrame) -> PolarsResult<u64> {
    let counted = frame.select([len().alias("n")]).collect()?;
    Ok(counted.column("n")?.cast(&DataType::UInt64)?.u64()?.get(0).unwrap_or(0))
}

fn last_day_of(frame: &DataFrame, column: &str) -> PolarsResult<Option<NaiveDate>> {
    let out = frame.clone().lazy().select([col(column).cast(DataType::Date).cast(DataType::Int32).max().alias("d")]).collect()?;
    Ok(out
        .column("d")?
        .i32()?
        .get(0)
        .map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(d))))
}

/// Aggregates leads, orders and spend into cohort tables.
pub fn build(leads: &DataFrame, orders: &DataFrame, spend: &DataFrame, spec: &Spec<'_>) -> PolarsResult<Cohorts> {
    let grain = spec.grain;
    let mut excluded = Exclusions::new();
    let last_day = [last_day_of(leads, "created_at")?, last_day_of(orders, "paid_at")?, last_day_of(spend, "date")?]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default();
    let last_period = grain.last_complete_period(last_day);
    let mut lead_cohorts = lead_cohorts(leads, spec, last_period, &mut excluded)?;
    let sorted = sorted_orders(orders, spec)?;
    let linked = link_first_orders(&sorted, lead_cohorts.leads_seg.clone(), spec)?;
    let sums = accumulate(&linked, &mut lead_cohorts, spec.ages, last_period, &mut excluded);
    let (customer_periods, customers) = customer_tables(sums, spec.ages, last_period);
    let spend_without_leads = spend_by_segment(spend, spec, &mut lead_cohorts, last_period, &mut excluded)?;
    let (stages, funnel) = weekly_funnel(leads, spec, last_period)?;
    Ok(Cohorts {
        grain,
        ages: spec.ages,
        periods: lead_cohorts.periods,
        customer_periods,
        last_period,
        last_day,
        segments: lead_cohorts.segments,
        customers,
        stages,
        funnel,
        revenue_scale: revenue_scale(orders)?,
        excluded,
        spend_without_leads,
    })
}

/// Leads in complete periods with their cohort and segment code, and the per-segment cohort
/// tables their counts start.
struct LeadCohorts {
    /// `lead_id`, `cohort`, `seg` of every lead in a complete period.
    leads_seg: LazyFrame,
    /// The `by` keys of each segment code.
    lead_keys: Vec<Vec<String>>,
    /// The first cohort period.
    first: i32,
    /// Cohort periods, first to the last complete one.
    periods: Vec<i32>,
    /// Per segment: leads per cohort, and the spend, purchases and revenue tables to fill.
    segments: Vec<SegmentCohorts>,
}

/// Leads: cohort and segment code, complete periods only. Segment keys become one integer
/// code through a small key table, so nothing downstream groups or joins on strings but ids.
fn lead_cohorts(leads: &DataFrame, spec: &Spec<'_>, last_period: i32, excluded: &mut Exclusions) -> PolarsResult<LeadCohorts> {
    let (grain, ages) = (spec.grain, spec.ages);
    let by: Vec<Expr> = spec.by.iter().map(|k| col(k.as_str())).collect();
    let mut lead_columns = vec![col("lead_id"), grain.period_expr("created_at").alias("cohort")];
    lead_columns.extend(spec.by.iter().map(|k| key_expr(k)));
    let all_leads = leads.clone().lazy().select(lead_columns);
    excluded.add(
        TableKind::Leads,
        "created_in_incomplete_period",
        count(all_leads.clone().filter(col("cohort").gt(lit(last_period))))?,
    );
    let complete_leads = all_leads.filter(col("cohort").lt_eq(lit(last_period)));
    let key_table = if spec.by.is_empty() {
        df! { "seg" => [0u32] }?
    } else {
        complete_leads
            .clone()
            .group_by(by.clone())
            .agg([len().alias("n")])
            .sort(spec.by.iter().map(String::as_str).collect::<Vec<_>>(), SortMultipleOptions::default())
            .select(by.clone())
            .with_row_index("seg", None)
            .collect()?
    };
    let lead_keys: Vec<Vec<String>> = key_rows(&key_table, spec.by)?;
    let leads_seg = if spec.by.is_empty() {
        complete_leads.with_column(lit(0u32).alias("seg")).select([col("lead_id"), col("cohort"), col("seg")])
    } else {
        complete_leads.join(key_table.clone().lazy(), by.clone(), by.clone(), JoinArgs::new(JoinType::Inner)).select([
            col("lead_id"),
            col("cohort"),
            col("seg"),
        ])
    }
    .collect_with_engine(Engine::Streaming)?
    .unwrap_single()
    .lazy();
    let lead_counts = leads_seg
        .clone()
        .group_by([col("seg"), col("cohort")])
        .agg([len().alias("leads")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let count_cohorts = integers(&lead_counts, "cohort")?;
    let first = count_cohorts.iter().copied().min().unwrap_or(last_period);
    let periods: Vec<i32> = (first..=last_period).collect();
    let mut segments: Vec<SegmentCohorts> = lead_keys
        .iter()
        .map(|keys| SegmentCohorts {
            keys: keys.clone(),
            leads: vec![0.0; periods.len()],
            spend: vec![0.0; periods.len()],
            purchases: vec![vec![0.0; ages]; periods.len()],
            revenue: vec![vec![0.0; ages]; periods.len()],
            direct: vec![0.0; periods.len()],
        })
        .collect();
    for ((seg, cohort), n) in integers(&lead_counts, "seg")?.into_iter().zip(count_cohorts).zip(numbers(&lead_counts, "leads")?) {
        segments[seg as usize].leads[(cohort - first) as usize] += n;
    }
    Ok(LeadCohorts { leads_seg, lead_keys, first, periods, segments })
}

/// Orders with their period and money in integer millionths, sorted by customer.
fn sorted_orders(orders: &DataFrame, spec: &Spec<'_>) -> PolarsResult<DataFrame> {
    let mut order_columns = vec![
        col("customer_id"),
        col("lead_id"),
        col("order_id"),
        col("paid_at").cast(DataType::Int64).alias("paid_at"),
        spec.grain.period_expr("paid_at").alias("period"),
        (col("revenue") * lit(1e6)).round(0, RoundMode::HalfToEven).cast(DataType::Int64).alias("micros"),
    ];
    order_columns.extend(spec.by.iter().map(|k| key_expr(k).alias(format!("order_{k}"))));
    orders.clone().lazy().select(order_columns).sort(["customer_id"], SortMultipleOptions::default()).collect()
}

/// Every customer's rows in the sorted orders, its first paid order and that order's lead.
struct Linked<'a> {
    /// Per customer: its rows `start..end` and its first paid order's row.
    spans: Vec<(usize, usize, Option<usize>)>,
    order_id: Vec<Option<&'a str>>,
    paid_at: Vec<i64>,
    period: Vec<i32>,
    micros: Vec<i64>,
    /// Per customer: whether the first paid order names a lead, and that lead's cohort and segment.
    has_lead: Vec<bool>,
    lead_cohort: Vec<Option<i32>>,
    lead_seg: Vec<Option<u32>>,
    /// The `by` keys on each order (for customers without a lead).
    order_keys: Vec<StringChunked>,
}

/// Each customer's rows and first paid order (earliest paid_at with positive revenue, ties by
/// order_id), then the lead of that order only: one join of first orders, not of every order.
fn link_first_orders<'a>(sorted: &'a DataFrame, leads_seg: LazyFrame, spec: &Spec<'_>) -> PolarsResult<Linked<'a>> {
    let customer: Vec<Option<&str>> = sorted.column("customer_id")?.str()?.iter().collect();
    let order_id: Vec<Option<&str>> = sorted.column("order_id")?.str()?.iter().collect();
    let paid_at: Vec<i64> = sorted.column("paid_at")?.i64()?.iter().map(|v| v.unwrap_or(0)).collect();
    let period = integers(sorted, "period")?;
    let micros: Vec<i64> = sorted.column("micros")?.i64()?.iter().map(|v| v.unwrap_or(0)).collect();
    let mut spans: Vec<(usize, usize, Option<usize>)> = Vec::new();
    let mut r = 0;
    while r < sorted.height() {
        let id = customer[r];
        let mut end = r + 1;
        while end < sorted.height() && customer[end] == id {
            end += 1;
        }
        let first_paid = (r..end)
            .filter(|&j| micros[j] > 0)
            .min_by(|&a, &b| paid_at[a].cmp(&paid_at[b]).then_with(|| order_id[a].cmp(&order_id[b])));
        spans.push((r, end, first_paid));
        r = end;
    }
    let lead_ids = sorted.column("lead_id")?.str()?;
    let first_leads: StringChunked = spans.iter().map(|(_, _, f)| f.and_then(|f| lead_ids.get(f))).collect();
    let mut join = JoinArgs::new(JoinType::Left);
    join.maintain_order = MaintainOrderJoin::Left;
    let linked = DataFrame::new(spans.len(), vec![first_leads.with_name("lead_id".into()).into_column()])?
        .lazy()
        .join(leads_seg, [col("lead_id")], [col("lead_id")], join)
        // Streaming keeps the left order too, and runs this join in a third less time.
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let has_lead: Vec<bool> = linked.column("lead_id")?.str()?.iter().map(|v| v.is_some()).collect();
    let lead_cohort: Vec<Option<i32>> = linked.column("cohort")?.i32()?.iter().collect();
    let lead_seg: Vec<Option<u32>> = linked.column("seg")?.cast(&DataType::UInt32)?.u32()?.iter().collect();
    let order_keys: Vec<StringChunked> = spec
        .by
        .iter()
        .map(|k| sorted.column(&format!("order_{k}")).and_then(|c| c.str().cloned()))
        .collect::<PolarsResult<_>>()?;
    Ok(Linked { spans, order_id, paid_at, period, micros, has_lead, lead_cohort, lead_seg, order_keys })
}

/// Customer sums by (customer segment, customer period): customers, and sums and sums of
/// squares of cumulative revenue by age.
type Sums = (f64, Vec<f64>, Vec<f64>);

/// Customer segments (the lead segments, then keys seen only on customers without a lead) and
/// their sums.
struct CustomerSums {
    keys: Vec<Vec<String>>,
    acc: HashMap<(usize, i32), Sums>,
}

/// One pass over the customers: each customer's purchase goes to its lead cohort, its revenue
/// to the lead cohort's ages and to its own customer cohort. Money is summed in integer
/// millionths, so the order of rows within a customer changes nothing.
fn accumulate(
    linked: &Linked<'_>,
    lead_cohorts: &mut LeadCohorts,
    ages: usize,
    last_period: i32,
    excluded: &mut Exclusions,
) -> CustomerSums {
    let Linked { spans, order_id, paid_at, period, micros, has_lead, lead_cohort, lead_seg, order_keys } = linked;
    let lead_index: HashMap<Vec<String>, usize> =
        lead_cohorts.lead_keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    let (first, periods) = (lead_cohorts.first, &lead_cohorts.periods);
    let segments = &mut lead_cohorts.segments;
    let mut customer_keys: Vec<Vec<String>> = lead_cohorts.lead_keys.clone();
    let mut extra_index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut acc: HashMap<(usize, i32), Sums> = HashMap::new();
    // Lead-cohort revenue in millionths: segment -> cohort row -> age.
    let mut lead_micros: Vec<Vec<Vec<i64>>> = vec![vec![vec![0; ages]; periods.len()]; segments.len()];
    let mut cumulative = vec![0i64; ages];
    let (mut incomplete, mut lead_missing, mut before_lead, mut unpaid) = (0u64, 0u64, 0u64, 0u64);
    for (c, &(start, end, first_paid)) in spans.iter().enumerate() {
        let rows = start..end;
        // A first paid order after the last complete period means none inside it: the customer
        // is not acquired yet as far as complete periods go.
        let Some(f) = first_paid.filter(|&f| period[f] <= last_period) else {
            for j in rows {
                if period[j] > last_period {
                    incomplete += 1;
                } else {
                    unpaid += 1;
                }
            }
            continue;
        };
        let customer_period = period[f];
        // The lead, when the first paid order links to one in a complete period and came after it.
        let mut buyer: Option<(usize, usize)> = None;
        let segment = match (lead_seg[c], lead_cohort[c]) {
            (Some(seg), Some(cohort)) => {
                if customer_period >= cohort {
                    buyer = Some((seg as usize, (cohort - first) as usize));
                } else {
                    before_lead += 1;
                }
                seg as usize
            }
            _ => {
                if has_lead[c] {
                    lead_missing += 1;
                }
                let keys: Vec<String> = order_keys.iter().map(|c| c.get(f).unwrap_or_default().to_string()).collect();
                match lead_index.get(keys.as_slice()) {
                    Some(&i) => {
                        // A first order without any lead joins its segment's cohort of its own period.
                        if !has_lead[c] && customer_period >= first {
                            segments[i].direct[(customer_period - first) as usize] += 1.0;
                        }
                        i
                    }
                    None => *extra_index.entry(keys.clone()).or_insert_with(|| {
                        customer_keys.push(keys);
                        customer_keys.len() - 1
                    }),
                }
            }
        };
        if let Some((seg, row)) = buyer {
            let age = (customer_period - periods[row]) as usize;
            if age < ages {
                segments[seg].purchases[row][age] += 1.0;
            }
        }
        cumulative.iter_mut().for_each(|c| *c = 0);
        let key_f = (paid_at[f], order_id[f]);
        for j in rows {
            if period[j] > last_period {
                incomplete += 1;
                continue;
            }
            if (paid_at[j], order_id[j]) < key_f {
                unpaid += 1;
                continue;
            }
            let age = (period[j] - customer_period) as usize;
            if age < ages {
                cumulative[age] += micros[j];
            }
            if let Some((seg, row)) = buyer {
                let lead_age = (period[j] - periods[row]) as usize;
                if lead_age < ages {
                    lead_micros[seg][row][lead_age] += micros[j];
                }
            }
        }
        let entry = acc.entry((segment, customer_period)).or_insert_with(|| (0.0, vec![0.0; ages], vec![0.0; ages]));
        entry.0 += 1.0;
        let mut total = 0i64;
        for (k, increment) in cumulative.iter().enumerate() {
            total += increment;
            let money = total as f64 / 1e6;
            entry.1[k] += money;
            entry.2[k] += money * money;
        }
    }
    for (segment, cohorts) in segments.iter_mut().zip(&lead_micros) {
        for (row, ages) in segment.revenue.iter_mut().zip(cohorts) {
            for (cell, m) in row.iter_mut().zip(ages) {
                *cell = *m as f64 / 1e6;
            }
        }
    }
    excluded.add(TableKind::Orders, "paid_in_incomplete_period", incomplete);
    excluded.add(TableKind::Orders, "purchase_lead_not_in_complete_periods", lead_missing);
    excluded.add(TableKind::Orders, "paid_before_lead", before_lead);
    excluded.add(TableKind::Orders, "refund_without_purchase", unpaid);
    CustomerSums { keys: customer_keys, acc }
}

/// Customer-cohort tables in key order, with their periods.
fn customer_tables(sums: CustomerSums, ages: usize, last_period: i32) -> (Vec<i32>, Vec<SegmentCustomers>) {
    let CustomerSums { keys: customer_keys, acc } = sums;
    let first_customer = acc.keys().map(|(_, p)| *p).min().unwrap_or(last_period);
    let customer_periods: Vec<i32> = (first_customer..=last_period).collect();
    let mut order: Vec<usize> = (0..customer_keys.len()).collect();
    order.sort_by(|a, b| customer_keys[*a].cmp(&customer_keys[*b]));
    let mut position = vec![0usize; customer_keys.len()];
    let mut tables: Vec<SegmentCustomers> = Vec::new();
    for &i in &order {
        let present = acc.keys().any(|(s, _)| *s == i);
        if present {
            position[i] = tables.len();
            tables.push(SegmentCustomers {
                keys: customer_keys[i].clone(),
                customers: vec![0.0; customer_periods.len()],
                revenue: vec![vec![0.0; ages]; customer_periods.len()],
                squares: vec![vec![0.0; ages]; customer_periods.len()],
            });
        }
    }
    for ((segment, customer_period), (n, sums, squares)) in acc {
        let table = &mut tables[position[segment]];
        let row = (customer_period - first_customer) as usize;
        table.customers[row] += n;
        table.revenue[row] = sums;
        table.squares[row] = squares;
    }
    (customer_periods, tables)
}

/// Spend per keys and cohort period into the segments' tables; spend of keys without leads
/// is kept apart (and excluded, counted), spend outside the cohort periods excluded.
fn spend_by_segment(
    spend: &DataFrame,
    spec: &Spec<'_>,
    lead_cohorts: &mut LeadCohorts,
    last_period: i32,
    excluded: &mut Exclusions,
) -> PolarsResult<BTreeMap<Vec<String>, (f64, u64)>> {
    let grain = spec.grain;
    let by: Vec<Expr> = spec.by.iter().map(|k| col(k.as_str())).collect();
    let first = lead_cohorts.first;
    let lead_index: HashMap<Vec<String>, usize> =
        lead_cohorts.lead_keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    let segments = &mut lead_cohorts.segments;
    let mut spend_columns = vec![grain.period_expr("date").alias("cohort"), col("cost")];
    spend_columns.extend(spec.by.iter().map(|k| key_expr(k)));
    let mut spend_group = by.clone();
    spend_group.push(col("cohort"));
    let spend_by = spend
        .clone()
        .lazy()
        .select(spend_columns)
        .group_by(spend_group)
        .agg([exact_money_sum("cost"), len().alias("rows")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let mut spend_without_leads: BTreeMap<Vec<String>, (f64, u64)> = BTreeMap::new();
    let spend_cohorts = integers(&spend_by, "cohort")?;
    let spend_rows_n = numbers(&spend_by, "rows")?;
    for (((keys, cohort), cost), rows) in
        key_rows(&spend_by, spec.by)?.into_iter().zip(spend_cohorts).zip(numbers(&spend_by, "cost")?).zip(spend_rows_n)
    {
        if cohort < first || cohort > last_period {
            excluded.add(TableKind::Spend, "outside_cohort_periods", rows as u64);
            continue;
        }
        match lead_index.get(keys.as_slice()) {
            Some(&i) => segments[i].spend[(cohort - first) as usize] += cost,
            None => {
                let entry = spend_without_leads.entry(keys).or_insert((0.0, 0));
                entry.0 += cost;
                entry.1 += rows as u64;
                excluded.add(TableKind::Spend, "no_leads_for_segment", rows as u64);
            }
        }
    }
    Ok(spend_without_leads)
}

/// Revenue scale of one paid order: sum of squares over sum (the over-dispersion unit).
fn revenue_scale(orders: &DataFrame) -> PolarsResult<f64> {
    let scale = orders
        .clone()
        .lazy()
        .filter(col("revenue").gt(lit(0.0)))
        .select([(col("revenue").pow(2).sum() / col("revenue").sum()).alias("scale")])
        .collect()?;
    Ok(scale.column("scale")?.f64()?.get(0).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0))
}

/// Weekly lower funnel per channel: leads and how many reached each stage the leads table has.
fn weekly_funnel(leads: &DataFrame, spec: &Spec<'_>, last_period: i32) -> PolarsResult<(Vec<String>, Vec<FunnelWeek>)> {
    let grain = spec.grain;
    let stage_columns: Vec<String> = spec
        .stages
        .iter()
        .filter(|s| leads.get_column_names().iter().any(|c| c.as_str() == format!("{s}_at")))
        .cloned()
        .collect();
    let mut funnel_aggs = vec![len().alias("leads")];
    funnel_aggs.extend(
        stage_columns.iter().map(|s| col(format!("{s}_at")).is_not_null().sum().cast(DataType::Float64).alias(s.as_str())),
    );
    let funnel_frame = leads
        .clone()
        .lazy()
        .filter(grain.period_expr("created_at").lt_eq(lit(last_period)))
        .group_by([key_expr("channel"), Grain::Week.period_expr("created_at").alias("week")])
        .agg(funnel_aggs)
        .sort(["channel", "week"], SortMultipleOptions::default())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let funnel_channels = texts(&funnel_frame, "channel")?;
    let funnel_weeks = integers(&funnel_frame, "week")?;
    let funnel_leads = numbers(&funnel_frame, "leads")?;
    let reached: Vec<Vec<f64>> = stage_columns.iter().map(|s| numbers(&funnel_frame, s)).collect::<PolarsResult<_>>()?;
    let funnel = (0..funnel_frame.height())
        .map(|r| FunnelWeek {
            channel: funnel_channels[r].clone(),
            week: funnel_weeks[r],
            leads: funnel_leads[r],
            reached: reached.iter().map(|c| c[r]).collect(),
        })
        .collect();
    Ok((stage_columns, funnel))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() * 86_400_000_000
    }

    fn frames() -> (DataFrame, DataFrame, DataFrame) {
        let micros = DataType::Datetime(TimeUnit::Microseconds, None);
        let leads = df! {
            "lead_id" => ["L1", "L2", "L3", "L4", "L5"],
            "created_at" => [day(2025, 1, 10), day(2025, 1, 20), day(2025, 2, 5), day(2025, 3, 1), day(2025, 4, 2)],
            "channel" => [Some("meta"), Some("meta"), None, Some("meta"), Some("meta")],
            "proposal_at" => [Some(day(2025, 1, 12)), None, None, None, None],
        }
        .expect("leads");
        let leads = leads
            .lazy()
            .with_columns([col("created_at").cast(micros.clone()), col("proposal_at").cast(micros.clone())])
            .collect()
            .expect("cast");
        // L1 buys in January (age 0) and again in March (age 2); L2 buys in February (age 1) and refunds
        // it in March; L3 (organic) buys in March (age 1); C9's order links to an unknown lead; C8 has no
        // lead; C7 buys from a meta click in February without a lead. The data ends on April 2: April is
        // incomplete, so L5 and the April order are left out.
        let orders = df! {
            "order_id" => ["O1", "O2", "O3", "R3", "O4", "O5", "O6", "O7", "O8"],
            "customer_id" => ["C1", "C1", "C2", "C2", "C3", "C9", "C8", "C1", "C7"],
            "lead_id" => [Some("L1"), None, Some("L2"), Some("L2"), Some("L3"), Some("L99"), None, None, None],
            "paid_at" => [day(2025, 1, 25), day(2025, 3, 3), day(2025, 2, 14), day(2025, 3, 2), day(2025, 3, 9), day(2025, 2, 1), day(2025, 2, 3), day(2025, 4, 1), day(2025, 2, 10)],
            "revenue" => [100.0, 30.0, 200.0, -200.0, 50.0, 10.0, 70.0, 5.0, 40.0],
            "channel" => [Some("meta"), None, Some("meta"), Some("meta"), None, Some("google"), Some("google"), None, Some("meta")],
        }
        .expect("orders");
        let orders = orders.lazy().with_column(col("paid_at").cast(micros)).collect().expect("cast");
        let spend = df! {
            "date" => [NaiveDate::from_ymd_opt(2025, 1, 3).expect("d"), NaiveDate::from_ymd_opt(2025, 3, 3).expect("d"), NaiveDate::from_ymd_opt(2025, 2, 3).expect("d")],
            "channel" => ["meta", "meta", "google"],
            "cost" => [300.0, 100.0, 50.0],
        }
        .expect("spend");
        (leads, orders, spend)
    }

    #[test]
    fn hand_computed_monthly_cohorts() {
        let (leads, orders, spend) = frames();
        let by = vec!["channel".to_string()];
        let stages = vec!["proposal".to_string(), "negotiation".to_string()];
        let spec = Spec { grain: Grain::Month, ages: 4, by: &by, stages: &stages };
        let c = build(&leads, &orders, &spend, &spec).expect("builds");
        assert_eq!(c.last_period, Grain::Month.period(NaiveDate::from_ymd_opt(2025, 3, 1).expect("d")));
        assert_eq!(c.periods.iter().map(|p| Grain::Month.label(*p)).collect::<Vec<_>>(), ["2025-01", "2025-02", "2025-03"]);
        assert_eq!(c.excluded.get(TableKind::Leads, "created_in_incomplete_period"), 1);
        assert_eq!(c.excluded.get(TableKind::Orders, "paid_in_incomplete_period"), 1);
        assert_eq!(c.excluded.get(TableKind::Orders, "purchase_lead_not_in_complete_periods"), 1);
        let meta = c.segments.iter().find(|s| s.keys == ["meta"]).expect("meta");
        assert_eq!(meta.leads, [2.0, 0.0, 1.0]);
        assert_eq!(meta.spend, [300.0, 0.0, 100.0]);
        // January cohort: 1 purchase at age 0, 1 more at age 1.
        assert_eq!(meta.purchases[0], [1.0, 1.0, 0.0, 0.0]);
        // C7 joins meta's February cohort as a direct customer, outside the triangle; C9's order names
        // a lead that is not there, so it is counted as such, not as direct.
        assert_eq!(meta.direct, [0.0, 1.0, 0.0]);
        assert_eq!(meta.purchases[1], [0.0; 4]);
        // Revenue: 100 (age 0), +200 (age 1), +30 - 200 (age 2, refund netted).
        assert_eq!(meta.revenue[0], [100.0, 200.0, -170.0, 0.0]);
        let triangle = c.triangle(&meta.purchases);
        assert_eq!(triangle.cells[0], [Some(1.0), Some(2.0), Some(2.0), None]);
        // March cohort: observed at age 0 only, a real zero.
        assert_eq!(triangle.cells[2], [Some(0.0), None, None, None]);
        let organic = c.segments.iter().find(|s| s.keys == ["organic"]).expect("organic");
        assert_eq!(c.triangle(&organic.purchases).cells[1], [Some(0.0), Some(1.0), None, None]);
        // Google has spend but no leads: reported, not silently dropped.
        assert_eq!(c.spend_without_leads.get(&vec!["google".to_string()]), Some(&(50.0, 1)));
        // Customer cohorts: C8 and C9 (no lead: keys from their first order) are google customers of February.
        let google = c.customers.iter().find(|s| s.keys == ["google"]).expect("google customers");
        assert_eq!(google.customers, [0.0, 2.0, 0.0]);
        assert_eq!(google.revenue[1][0], 80.0);
        assert_eq!(google.squares[1][0], 100.0 + 4900.0);
        let meta_customers = c.customers.iter().find(|s| s.keys == ["meta"]).expect("meta customers");
        // C1 (January): 100, then 130 from age 2.
        assert_eq!(meta_customers.revenue[0], [100.0, 100.0, 130.0, 130.0]);
        assert_eq!(c.stages, ["proposal"]);
        let week = c.funnel.iter().find(|w| w.channel == "meta" && w.leads == 1.0 && w.reached[0] == 1.0);
        assert!(week.is_some(), "{:?}", c.funnel);
    }

    #[test]
    fn periods_labels_and_completeness() {
        let date = NaiveDate::from_ymd_opt(2025, 1, 15).expect("date");
        assert_eq!(Grain::Week.label(Grain::Week.period(date)), "2025-W03");
        let new_year = NaiveDate::from_ymd_opt(2024, 12, 30).expect("date");
        assert_eq!(Grain::Week.label(Grain::Week.period(new_year)), "2025-W01");
        assert_eq!(Grain::Month.label(Grain::Month.period(date)), "2025-01");
        let sunday = NaiveDate::from_ymd_opt(2025, 1, 19).expect("date");
        assert_eq!(Grain::Week.last_complete_period(sunday), Grain::Week.period(sunday));
        assert_eq!(Grain::Week.last_complete_period(date), Grain::Week.period(date) - 1);
        let feb = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        assert_eq!(Grain::Month.last_complete_period(feb), Grain::Month.period(feb));
        assert_eq!(Grain::Week.periods_in_months(12), 52);
        assert_eq!(Grain::Week.periods_in_months(1), 5);
        assert_eq!(Grain::Month.first_day(Grain::Month.period(date)), NaiveDate::from_ymd_opt(2025, 1, 1).expect("d"));
    }
}
