//! The present layer of inspect: metrics, the channel, weekly and input tables, charts and
//! sentences.

use upshot_analysis::Dataset;
use upshot_result::format::{count, money, percent};
use upshot_result::{Analysis, Cell, Chart, ChartKind, Format, Metric, Segment, Series, Table, Unit, names};

use crate::model::Totals;
use crate::prepare::{WeekCell, Weekly};

pub(crate) fn build(data: &Dataset, weekly: &Weekly, t: &Totals) -> Analysis {
    let (metrics, channel_table) = channels(t, &data.currency);
    let (headline, context, warnings) = words(weekly, t, &data.currency);
    Analysis {
        headline,
        context,
        metrics,
        decisions: Vec::new(),
        warnings,
        tables: vec![channel_table, inputs_table(data), weekly_table(weekly)],
        charts: charts(weekly, t, &data.currency),
        period: None,
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    if b > 0.0 { Some(a / b) } else { None }
}

/// The metrics of the total and of every channel, and the channel table.
fn channels(t: &Totals, currency: &str) -> (Vec<Metric>, Table) {
    let Totals { totals, channels, all, .. } = t;
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
    )
    .lead();
    for (segment, cell) in
        std::iter::once((Segment::all(), all)).chain(channels.iter().map(|c| (Segment::one("channel", c), &totals[c])))
    {
        metrics.push(Metric::point(names::COST, Unit::money(currency), cell.cost).with_segment(segment.clone()));
        metrics.push(Metric::point(names::PURCHASES, Unit::Purchases, cell.purchases as f64).with_segment(segment.clone()));
        metrics.push(Metric::point(names::REVENUE, Unit::money(currency), cell.revenue).with_segment(segment.clone()));
        if let Some(cac) = ratio(cell.cost, cell.purchases as f64).filter(|_| cell.cost > 0.0) {
            metrics.push(Metric::point(names::CLICK_CAC, Unit::money(currency), cac).with_segment(segment.clone()));
        }
    }
    for channel in channels.iter() {
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

    (metrics, channel_table)
}

fn weekly_table(weekly: &Weekly) -> Table {
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
    for ((week, channel), cell) in &weekly.weeks {
        weekly_table.push(vec![
            Cell::from(week.as_str()),
            Cell::from(channel.as_str()),
            Cell::from(cell.cost),
            Cell::from(cell.clicks),
            Cell::from(cell.purchases),
            Cell::from(cell.revenue),
        ]);
    }

    weekly_table
}

fn inputs_table(data: &Dataset) -> Table {
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

    inputs_table
}

fn charts(weekly: &Weekly, t: &Totals, currency: &str) -> Vec<Chart> {
    let Totals { totals, channels, week_labels, all } = t;
    let weeks = &weekly.weeks;
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

    charts
}

/// The headline (the paid channel that brings the most customers), context and warnings.
fn words(weekly: &Weekly, t: &Totals, currency: &str) -> (String, Vec<String>, Vec<String>) {
    let Totals { totals, channels, week_labels, all } = t;
    let refunds = weekly.refunds;
    let first_week = week_labels.first().cloned().unwrap_or_default();
    let last_week = week_labels.last().cloned().unwrap_or_default();
    let period = format!("weeks of {first_week} to {last_week}");
    let paid: Vec<&String> = channels.iter().filter(|c| totals[*c].cost > 0.0).collect();
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
    for channel in channels.iter() {
        let t = &totals[channel];
        if t.cost > 0.0 && t.purchases == 0 {
            warnings.push(format!("{channel} has {} spend but no new customers attributed by click.", money(t.cost, currency)));
        }
    }

    (headline, context, warnings)
}
