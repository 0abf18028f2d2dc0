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
use upshot_data::derive::{exact_money_sum, new_customers};

use crate::chainladder::Triangle;

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
    pub excluded: BTreeMap<(String, String), u64>,
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
        let latest = self.latest_age();
        Triangle {
            cells: increments
                .iter()
                .zip(&latest)
                .map(|(row, &last)| {
                    let mut total = 0.0;
                    row.iter()
                        .enumerate()
                        .map(|(age, v)| {
                            total += v;
                            (age <= last).then_some(total)
                        })
                        .collect()
                })
                .collect(),
        }
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

fn strings(frame: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    Ok(frame.column(name)?.str()?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
}

fn numbers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

fn integers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<i32>> {
    let column = frame.column(name)?.cast(&DataType::Int32)?;
    Ok(column.i32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn keys_of(frame: &DataFrame, by: &[String]) -> PolarsResult<Vec<Vec<String>>> {
    let columns: Vec<Vec<String>> = by.iter().map(|k| strings(frame, k)).collect::<PolarsResult<_>>()?;
    Ok((0..frame.height()).map(|r| columns.iter().map(|c| c[r].clone()).collect()).collect())
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
    let (grain, ages) = (spec.grain, spec.ages);
    let by: Vec<Expr> = spec.by.iter().map(|k| col(k.as_str())).collect();
    let mut excluded: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut exclude = |table: &str, reason: &str, n: u64| {
        if n > 0 {
            *excluded.entry((table.to_string(), reason.to_string())).or_insert(0) += n;
        }
    };
    let last_day = [last_day_of(leads, "created_at")?, last_day_of(orders, "paid_at")?, last_day_of(spend, "date")?]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default();
    let last_period = grain.last_complete_period(last_day);

    // Leads: cohort and keys, complete periods only.
    let mut lead_columns = vec![col("lead_id"), grain.period_expr("created_at").alias("cohort")];
    lead_columns.extend(spec.by.iter().map(|k| key_expr(k)));
    let all_leads = leads.clone().lazy().select(lead_columns);
    exclude("leads", "created_in_incomplete_period", count(all_leads.clone().filter(col("cohort").gt(lit(last_period))))?);
    let lead_cohorts = all_leads.filter(col("cohort").lt_eq(lit(last_period))).collect()?;
    let mut group = by.clone();
    group.push(col("cohort"));
    let lead_counts = lead_cohorts.clone().lazy().group_by(group.clone()).agg([len().alias("leads")]).collect()?;

    // Buyers: customers whose first paid order links to a lead.
    let firsts = new_customers(orders)?;
    let mut first_columns = vec![col("customer_id"), col("lead_id"), grain.period_expr("paid_at").alias("first_period")];
    first_columns.extend(spec.by.iter().map(|k| key_expr(k).alias(format!("order_{k}"))));
    let firsts = firsts.lazy().select(first_columns).collect()?;
    let mut join = JoinArgs::new(JoinType::Left);
    join.maintain_order = MaintainOrderJoin::Left;
    let linked = firsts
        .clone()
        .lazy()
        .join(lead_cohorts.clone().lazy(), [col("lead_id")], [col("lead_id")], join.clone())
        .with_column((col("first_period") - col("cohort")).alias("age"))
        .collect()?;
    let has_lead = col("lead_id").is_not_null();
    exclude(
        "orders",
        "purchase_lead_not_in_complete_periods",
        count(linked.clone().lazy().filter(has_lead.clone().and(col("cohort").is_null())))?,
    );
    exclude("orders", "paid_before_lead", count(linked.clone().lazy().filter(col("age").lt(lit(0))))?);
    let buyers = linked.clone().lazy().filter(col("age").gt_eq(lit(0)));
    let purchases = buyers
        .clone()
        .filter(col("age").lt(lit(ages as i32)).and(col("first_period").lt_eq(lit(last_period))))
        .group_by(group.iter().cloned().chain([col("age")]).collect::<Vec<_>>())
        .agg([len().alias("purchases")])
        .collect()?;

    // Every order of the buyers at the age of its payment, complete periods only.
    let order_rows =
        orders.clone().lazy().select([col("customer_id"), grain.period_expr("paid_at").alias("paid_period"), col("revenue")]);
    exclude("orders", "paid_in_incomplete_period", count(order_rows.clone().filter(col("paid_period").gt(lit(last_period))))?);
    let order_rows = order_rows.filter(col("paid_period").lt_eq(lit(last_period)));
    let mut buyer_columns = vec![col("customer_id"), col("cohort")];
    buyer_columns.extend(spec.by.iter().map(|k| col(k.as_str())));
    let revenue = order_rows
        .clone()
        .join(buyers.select(buyer_columns), [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .with_column((col("paid_period") - col("cohort")).alias("age"))
        .filter(col("age").gt_eq(lit(0)).and(col("age").lt(lit(ages as i32))))
        .group_by(group.iter().cloned().chain([col("age")]).collect::<Vec<_>>())
        .agg([exact_money_sum("revenue")])
        .collect()?;

    // Customer cohorts: keys from the lead when linked, else from the first order.
    let mut customer_columns = vec![col("customer_id"), col("first_period")];
    customer_columns.extend(
        spec.by.iter().map(|k| {
            when(col("cohort").is_not_null()).then(col(k.as_str())).otherwise(col(format!("order_{k}"))).alias(k.as_str())
        }),
    );
    let customers = linked.lazy().select(customer_columns).filter(col("first_period").lt_eq(lit(last_period)));
    let mut customer_group = by.clone();
    customer_group.push(col("first_period"));
    let customer_counts = customers.clone().group_by(customer_group.clone()).agg([len().alias("customers")]).collect()?;
    let mut per_customer_group = vec![col("customer_id")];
    per_customer_group.extend(customer_group.iter().cloned());
    per_customer_group.push(col("age"));
    let per_customer = order_rows
        .join(customers, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .with_column((col("paid_period") - col("first_period")).alias("age"))
        .filter(col("age").gt_eq(lit(0)).and(col("age").lt(lit(ages as i32))))
        .group_by(per_customer_group)
        .agg([exact_money_sum("revenue")])
        .sort(["customer_id", "age"], SortMultipleOptions::default())
        .collect()?;

    // Spend per keys and cohort period.
    let mut spend_columns = vec![grain.period_expr("date").alias("cohort"), col("cost")];
    spend_columns.extend(spec.by.iter().map(|k| key_expr(k)));
    let spend_rows = spend.clone().lazy().select(spend_columns);
    let spend_by = spend_rows.group_by(group.clone()).agg([exact_money_sum("cost"), len().alias("rows")]).collect()?;

    // Revenue scale of one paid order.
    let scale = orders
        .clone()
        .lazy()
        .filter(col("revenue").gt(lit(0.0)))
        .select([(col("revenue").pow(2).sum() / col("revenue").sum()).alias("scale")])
        .collect()?;
    let revenue_scale = scale.column("scale")?.f64()?.get(0).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0);

    // Periods: contiguous from the first lead cohort to the last complete period.
    let cohort_of = integers(&lead_counts, "cohort")?;
    let first = cohort_of.iter().copied().min().unwrap_or(last_period);
    let periods: Vec<i32> = (first..=last_period).collect();
    let customer_period_of = integers(&customer_counts, "first_period")?;
    let first_customer = customer_period_of.iter().copied().min().unwrap_or(last_period);
    let customer_periods: Vec<i32> = (first_customer..=last_period).collect();

    // Assemble lead-cohort segments.
    let blank = |keys: Vec<String>| SegmentCohorts {
        keys,
        leads: vec![0.0; periods.len()],
        spend: vec![0.0; periods.len()],
        purchases: vec![vec![0.0; ages]; periods.len()],
        revenue: vec![vec![0.0; ages]; periods.len()],
    };
    let mut segments: BTreeMap<Vec<String>, SegmentCohorts> = BTreeMap::new();
    for ((keys, cohort), n) in keys_of(&lead_counts, spec.by)?.into_iter().zip(&cohort_of).zip(numbers(&lead_counts, "leads")?) {
        let row = (cohort - first) as usize;
        segments.entry(keys.clone()).or_insert_with(|| blank(keys)).leads[row] += n;
    }
    // (keys, cohort row, age, value) of every cell of an aggregated frame.
    type Cells = Vec<(Vec<String>, usize, usize, f64)>;
    let cell = |frame: &DataFrame, value: &str| -> PolarsResult<Cells> {
        let keys = keys_of(frame, spec.by)?;
        let cohorts = integers(frame, "cohort")?;
        let age = integers(frame, "age")?;
        let values = numbers(frame, value)?;
        Ok((0..frame.height())
            .filter(|&r| cohorts[r] >= first && cohorts[r] <= last_period)
            .map(|r| (keys[r].clone(), (cohorts[r] - first) as usize, age[r] as usize, values[r]))
            .collect())
    };
    for (keys, row, age, n) in cell(&purchases, "purchases")? {
        if let Some(s) = segments.get_mut(&keys) {
            s.purchases[row][age] += n;
        }
    }
    for (keys, row, age, v) in cell(&revenue, "revenue")? {
        if let Some(s) = segments.get_mut(&keys) {
            s.revenue[row][age] += v;
        }
    }
    let mut spend_without_leads: BTreeMap<Vec<String>, (f64, u64)> = BTreeMap::new();
    let spend_cohorts = integers(&spend_by, "cohort")?;
    let spend_rows_n = numbers(&spend_by, "rows")?;
    for (((keys, cohort), cost), rows) in
        keys_of(&spend_by, spec.by)?.into_iter().zip(spend_cohorts).zip(numbers(&spend_by, "cost")?).zip(spend_rows_n)
    {
        if cohort < first || cohort > last_period {
            exclude("spend", "outside_cohort_periods", rows as u64);
            continue;
        }
        match segments.get_mut(&keys) {
            Some(s) => s.spend[(cohort - first) as usize] += cost,
            None => {
                let entry = spend_without_leads.entry(keys).or_insert((0.0, 0));
                entry.0 += cost;
                entry.1 += rows as u64;
                exclude("spend", "no_leads_for_segment", rows as u64);
            }
        }
    }

    // Customer cohorts: sums and sums of squares of cumulative revenue per customer.
    let blank_customers = |keys: Vec<String>| SegmentCustomers {
        keys,
        customers: vec![0.0; customer_periods.len()],
        revenue: vec![vec![0.0; ages]; customer_periods.len()],
        squares: vec![vec![0.0; ages]; customer_periods.len()],
    };
    let mut customer_segments: BTreeMap<Vec<String>, SegmentCustomers> = BTreeMap::new();
    for ((keys, cohort), n) in
        keys_of(&customer_counts, spec.by)?.into_iter().zip(&customer_period_of).zip(numbers(&customer_counts, "customers")?)
    {
        let row = (cohort - first_customer) as usize;
        customer_segments.entry(keys.clone()).or_insert_with(|| blank_customers(keys)).customers[row] += n;
    }
    let segment_index: HashMap<Vec<String>, usize> = customer_segments.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    let mut tables: Vec<SegmentCustomers> = customer_segments.into_values().collect();
    {
        let ids = per_customer.column("customer_id")?.str()?;
        let keys = keys_of(&per_customer, spec.by)?;
        let cohorts = integers(&per_customer, "first_period")?;
        let age = integers(&per_customer, "age")?;
        let values = numbers(&per_customer, "revenue")?;
        let mut r = 0;
        let mut cumulative = vec![0.0; ages];
        while r < per_customer.height() {
            let id = ids.get(r);
            let (segment, row) = (segment_index.get(&keys[r]).copied(), (cohorts[r] - first_customer) as usize);
            cumulative.iter_mut().for_each(|c| *c = 0.0);
            let mut end = r;
            while end < per_customer.height() && ids.get(end) == id {
                cumulative[age[end] as usize] += values[end];
                end += 1;
            }
            let mut total = 0.0;
            if let Some(table) = segment.map(|s| &mut tables[s]) {
                for (k, increment) in cumulative.iter().enumerate() {
                    total += increment;
                    table.revenue[row][k] += total;
                    table.squares[row][k] += total * total;
                }
            }
            r = end;
        }
    }

    // Weekly lower funnel per channel.
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
        .collect()?;
    let funnel_channels = strings(&funnel_frame, "channel")?;
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

    Ok(Cohorts {
        grain,
        ages,
        periods,
        customer_periods,
        last_period,
        last_day,
        segments: segments.into_values().collect(),
        customers: tables,
        stages: stage_columns,
        funnel,
        revenue_scale,
        excluded,
        spend_without_leads,
    })
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
        // lead. The data ends on April 2: April is incomplete, so L5 and the April order are left out.
        let orders = df! {
            "order_id" => ["O1", "O2", "O3", "R3", "O4", "O5", "O6", "O7"],
            "customer_id" => ["C1", "C1", "C2", "C2", "C3", "C9", "C8", "C1"],
            "lead_id" => [Some("L1"), None, Some("L2"), Some("L2"), Some("L3"), Some("L99"), None, None],
            "paid_at" => [day(2025, 1, 25), day(2025, 3, 3), day(2025, 2, 14), day(2025, 3, 2), day(2025, 3, 9), day(2025, 2, 1), day(2025, 2, 3), day(2025, 4, 1)],
            "revenue" => [100.0, 30.0, 200.0, -200.0, 50.0, 10.0, 70.0, 5.0],
            "channel" => [Some("meta"), None, Some("meta"), Some("meta"), None, Some("google"), Some("google"), None],
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
        assert_eq!(c.excluded.get(&("leads".into(), "created_in_incomplete_period".into())), Some(&1));
        assert_eq!(c.excluded.get(&("orders".into(), "paid_in_incomplete_period".into())), Some(&1));
        assert_eq!(c.excluded.get(&("orders".into(), "purchase_lead_not_in_complete_periods".into())), Some(&1));
        let meta = c.segments.iter().find(|s| s.keys == ["meta"]).expect("meta");
        assert_eq!(meta.leads, [2.0, 0.0, 1.0]);
        assert_eq!(meta.spend, [300.0, 0.0, 100.0]);
        // January cohort: 1 purchase at age 0, 1 more at age 1.
        assert_eq!(meta.purchases[0], [1.0, 1.0, 0.0, 0.0]);
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
