//! The `inspect` analysis: what is in the exports, before any method runs.
//!
//! Rows and date ranges of every table, spend and new customers by channel
//! and week, click-attributed CAC and revenue per channel. It exercises the
//! whole pipeline (contract, validation, report) and is the first thing to
//! run on a new export.
//!
//! A purchase is a customer's first paid order (earliest `paid_at` with
//! positive revenue, ties broken by `order_id`); revenue is net of refunds;
//! a null click channel is reported as `organic`.
#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};
use upshot_data::derive::{channel_or_organic, exact_money_sum, new_customers};
use upshot_result::format::{count, money, percent};
use upshot_result::{Analysis, Cell, Chart, ChartKind, Format, Metric, Segment, Series, Table, Unit, names};

fn pl(table: TableKind) -> impl Fn(PolarsError) -> AnalysisError {
    let context = match table {
        TableKind::Spend => "summarise spend by channel and week",
        _ => "summarise orders by channel and week",
    };
    AnalysisError::polars(context)
}

/// Per channel and week: spend, clicks, new customers, net revenue.
#[derive(Debug, Default, Clone, PartialEq)]
struct WeekCell {
    cost: f64,
    clicks: i64,
    purchases: i64,
    revenue: f64,
}

/// What is in the exports, `kind = "inspect"`: the first thing to run on a new export.
pub struct Inspect;

impl Kind for Inspect {
    const NAME: &'static str = "inspect";
    /// None required: at least one of spend and orders (checked by the run).
    const INPUTS: &'static [TableKind] = &[];
    type Params = ();

    /// Inspect takes no parameters: any key is an error naming it.
    fn params(table: &toml::Table) -> Result<(), AnalysisError> {
        match table.keys().next() {
            Some(key) => Err(AnalysisError::Params(format!("unknown key `{key}` for kind `inspect` (it takes none)"))),
            None => Ok(()),
        }
    }

    fn columns(_: &(), _: TableKind) -> Option<&'static [&'static str]> {
        None
    }

    fn run(data: &Dataset, _: &(), _: Seed) -> Result<Outcome, AnalysisError> {
        Ok(Outcome::new(analyze(data)?))
    }
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

/// Runs the analysis on validated tables.
fn analyze(data: &Dataset) -> Result<Analysis, AnalysisError> {
    let currency = data.currency.as_str();
    let spend = data.get(TableKind::Spend);
    let orders = data.get(TableKind::Orders);
    if spend.is_none() && orders.is_none() {
        return Err(AnalysisError::NeedsOneOf { kind: Inspect::NAME, tables: "`spend` or `orders`" });
    }
    let mut weeks: BTreeMap<(String, String), WeekCell> = BTreeMap::new();

    if let Some(spend) = spend {
        let weekly = spend
            .frame
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
    }

    let mut refunds = 0usize;
    if let Some(orders) = orders {
        let frame = orders.frame.clone().lazy();
        let firsts = new_customers(&orders.frame)
            .map_err(pl(TableKind::Orders))?
            .lazy()
            .select([
                channel_or_organic().alias("channel"),
                week_start(col("paid_at")).alias("week"),
                lit(1i64).alias("purchases"),
            ])
            .collect()
            .map_err(pl(TableKind::Orders))?;
        let revenue = frame
            .clone()
            .select([channel_or_organic().alias("channel"), week_start(col("paid_at")).alias("week"), col("revenue")])
            .collect()
            .map_err(pl(TableKind::Orders))?;
        refunds = orders
            .frame
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
    }

    // Channel totals, channels ordered by spend then purchases.
    let mut totals: BTreeMap<String, WeekCell> = BTreeMap::new();
    for ((_, channel), cell) in &weeks {
        let total = totals.entry(channel.clone()).or_default();
        total.cost += cell.cost;
        total.clicks += cell.clicks;
        total.purchases += cell.purchases;
        total.revenue += cell.revenue;
    }
    let mut channels: Vec<String> = totals.keys().cloned().collect();
    channels.sort_by(|a, b| {
        let (ta, tb) = (&totals[a], &totals[b]);
        tb.cost.total_cmp(&ta.cost).then(tb.purchases.cmp(&ta.purchases)).then(a.cmp(b))
    });
    let week_labels: Vec<String> = weeks.keys().map(|(w, _)| w.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let all = WeekCell {
        cost: totals.values().map(|t| t.cost).sum(),
        clicks: totals.values().map(|t| t.clicks).sum(),
        purchases: totals.values().map(|t| t.purchases).sum(),
        revenue: totals.values().map(|t| t.revenue).sum(),
    };

    let mut metrics = Vec::new();
    let mut channel_table = Table::new(
        "channels",
        "Spend, new customers and net revenue by click channel",
        &[
            ("channel", Format::Text),
            ("cost", Format::Money),
            ("clicks", Format::Count),
            ("purchases", Format::Count),
            ("share_of_purchases", Format::Percent),
            ("click_cac", Format::Money),
            ("revenue", Format::Money),
            ("roas", Format::Number),
        ],
    );
    let ratio = |a: f64, b: f64| if b > 0.0 { Some(a / b) } else { None };
    for (segment, cell) in
        std::iter::once((Segment::all(), &all)).chain(channels.iter().map(|c| (Segment::one("channel", c), &totals[c])))
    {
        metrics.push(Metric::point(names::COST, Unit::money(currency), cell.cost).with_segment(segment.clone()));
        metrics.push(Metric::point(names::PURCHASES, Unit::Purchases, cell.purchases as f64).with_segment(segment.clone()));
        metrics.push(Metric::point(names::REVENUE, Unit::money(currency), cell.revenue).with_segment(segment.clone()));
        if let Some(cac) = ratio(cell.cost, cell.purchases as f64).filter(|_| cell.cost > 0.0) {
            metrics.push(Metric::point(names::CLICK_CAC, Unit::money(currency), cac).with_segment(segment.clone()));
        }
    }
    for channel in &channels {
        let t = &totals[channel];
        channel_table.push(vec![
            Cell::from(channel.as_str()),
            Cell::from(t.cost),
            Cell::from(t.clicks),
            Cell::from(t.purchases),
            Cell::from(ratio(t.purchases as f64, all.purchases as f64)),
            Cell::from(ratio(t.cost, t.purchases as f64).filter(|_| t.cost > 0.0)),
            Cell::from(t.revenue),
            Cell::from(ratio(t.revenue, t.cost)),
        ]);
    }

    let mut weekly_table = Table::new(
        "weekly_by_channel",
        "Weekly spend and new customers by click channel (weeks start on Monday)",
        &[
            ("week", Format::Text),
            ("channel", Format::Text),
            ("cost", Format::Money),
            ("clicks", Format::Count),
            ("purchases", Format::Count),
            ("revenue", Format::Money),
        ],
    );
    weekly_table.in_summary = false;
    for ((week, channel), cell) in &weeks {
        weekly_table.push(vec![
            Cell::from(week.as_str()),
            Cell::from(channel.as_str()),
            Cell::from(cell.cost),
            Cell::from(cell.clicks),
            Cell::from(cell.purchases),
            Cell::from(cell.revenue),
        ]);
    }

    let mut inputs_table = Table::new(
        "inputs",
        "What the exports hold",
        &[
            ("table", Format::Text),
            ("rows", Format::Count),
            ("rows_used", Format::Count),
            ("rows_excluded", Format::Count),
            ("first", Format::Text),
            ("last", Format::Text),
        ],
    );
    for report in data.reports() {
        let (first, last) = report.time_range.clone().unwrap_or_default();
        inputs_table.push(vec![
            Cell::from(report.table.name()),
            Cell::from(report.rows),
            Cell::from(report.rows_used),
            Cell::from(report.rows - report.rows_used),
            Cell::from(first.get(..10).unwrap_or(&first).to_string()),
            Cell::from(last.get(..10).unwrap_or(&last).to_string()),
        ]);
    }

    let first_week = week_labels.first().cloned().unwrap_or_default();
    let last_week = week_labels.last().cloned().unwrap_or_default();
    let period = format!("weeks of {first_week} to {last_week}");
    let series_of = |pick: &dyn Fn(&WeekCell) -> f64| -> Vec<Series> {
        channels
            .iter()
            .map(|channel| {
                Series::new(
                    channel,
                    week_labels.iter().map(|w| Some(weeks.get(&(w.clone(), channel.clone())).map_or(0.0, pick))).collect(),
                )
            })
            .collect()
    };
    let mut charts = Vec::new();
    let top_buyers = channels.iter().max_by(|a, b| totals[*a].purchases.cmp(&totals[*b].purchases).then(b.cmp(a))).cloned();
    if all.purchases > 0 {
        let top = top_buyers.clone().unwrap_or_default();
        let share = totals[&top].purchases as f64 / all.purchases as f64;
        charts.push(
            Chart::new(
                ChartKind::Lines,
                "weekly_purchases",
                format!("{top} brings {} of {} new customers", percent(share), count(all.purchases as f64)),
            )
            .note(format!("New customers (first paid order) by click channel and week; {period}. Source: orders."))
            .axes("week starting", "new customers per week", Format::Count)
            .categories(week_labels.clone())
            .series(series_of(&|c: &WeekCell| c.purchases as f64))
            .table("weekly_by_channel"),
        );
    }
    let paid: Vec<&String> = channels.iter().filter(|c| totals[*c].cost > 0.0).collect();
    if all.cost > 0.0 {
        let top = paid.first().map(|c| c.to_string()).unwrap_or_default();
        charts.push(
            Chart::new(
                ChartKind::StackedBars,
                "weekly_spend",
                format!("{} ad spend, {top} the largest at {}", money(all.cost, currency), percent(totals[&top].cost / all.cost)),
            )
            .note(format!("Ad spend by channel and week ({currency}); {period}. Source: spend."))
            .axes("week starting", format!("spend per week ({currency})"), Format::Money)
            .categories(week_labels.clone())
            .series(
                series_of(&|c: &WeekCell| c.cost)
                    .into_iter()
                    .filter(|s| s.values.iter().any(|v| v.unwrap_or(0.0) > 0.0))
                    .collect(),
            )
            .table("weekly_by_channel"),
        );
    }

    // The headline names the paid channel that brings the most customers.
    let top_paid = channels
        .iter()
        .filter(|c| totals[*c].cost > 0.0 && totals[*c].purchases > 0)
        .max_by(|a, b| totals[*a].purchases.cmp(&totals[*b].purchases).then(b.cmp(a)))
        .cloned();
    let headline = match (&top_paid, all.cost > 0.0, all.purchases > 0) {
        (Some(top), true, true) => {
            let t = &totals[top];
            let cac = if t.cost > 0.0 {
                format!(" at a {} click CAC", money(t.cost / t.purchases.max(1) as f64, currency))
            } else {
                String::new()
            };
            format!(
                "{} new customers from {} ad spend; {top} brings the most paid ones, {} of all,{cac}",
                count(all.purchases as f64),
                money(all.cost, currency),
                percent(t.purchases as f64 / all.purchases as f64)
            )
        }
        (_, true, false) => {
            format!("{} ad spend across {} channels; no orders in the inputs", money(all.cost, currency), paid.len())
        }
        _ => format!("{} new customers and {} net revenue", count(all.purchases as f64), money(all.revenue, currency)),
    };
    let mut context = vec![format!(
        "Inspection of the exports, {period}: {} channels, {} spend, {} new customers, {} net revenue.",
        channels.len(),
        money(all.cost, currency),
        count(all.purchases as f64),
        money(all.revenue, currency)
    )];
    context.push("Click attribution (last click in orders); a null click channel is reported as `organic`. New customer = first paid order.".into());
    if refunds > 0 {
        context.push(format!("{} refund rows netted from revenue.", count(refunds as f64)));
    }

    let mut warnings = Vec::new();
    for channel in &channels {
        let t = &totals[channel];
        if t.cost > 0.0 && t.purchases == 0 {
            warnings.push(format!("{channel} has {} spend but no new customers attributed by click.", money(t.cost, currency)));
        }
    }

    Ok(Analysis {
        headline,
        context,
        metrics,
        decisions: Vec::new(),
        warnings,
        tables: vec![channel_table, inputs_table, weekly_table],
        charts,
    })
}
