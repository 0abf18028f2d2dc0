//! The present layer of pacing: from paces and the decide layer's verdicts to metrics, flags,
//! decisions, tables and charts.

use upshot_result::format::{count, level_text, money, percent, signed_percent};
use upshot_result::{Action, Analysis, Cell, Chart, ChartKind, Decision, Format, Metric, Segment, Series, Table, Unit, names};
use upshot_stats::{normal_cdf, normal_quantile};

use crate::METRICS;
use crate::decide::{BEHIND, OVER_COST, Standing, Verdict};
use crate::model::{Computed, Line, Pace};

fn unit(metric: &str, currency: &str) -> Unit {
    match metric {
        "cost" | "revenue" => Unit::money(currency),
        "lead" => Unit::Leads,
        "purchase" => Unit::Purchases,
        other => Unit::Stage(format!("{other}s")),
    }
}

fn segment(line: &Line, metric: &str) -> Segment {
    let s = Segment::one("channel", &line.channel);
    let s = match &line.campaign {
        Some(c) => s.and("campaign", c),
        None => s,
    };
    s.and("metric", metric)
}

fn line_segment(line: &Line) -> Segment {
    let s = Segment::one("channel", &line.channel);
    match &line.campaign {
        Some(c) => s.and("campaign", c),
        None => s,
    }
}

fn metrics_of(line: &Line, currency: &str, level: f64, out: &mut Vec<Metric>) {
    for p in &line.paces {
        let seg = segment(line, &p.metric);
        let u = unit(&p.metric, currency);
        if let Some(plan) = p.plan {
            out.push(Metric::point(names::PLAN, u.clone(), plan).with_segment(seg.clone()));
        }
        out.push(Metric::point(names::FACT_TO_DATE, u.clone(), p.fact_to_date).with_segment(seg.clone()));
        let r = &p.run_rate;
        out.push(Metric::interval(names::RUN_RATE, u, r.month_end, r.low, r.high, level).with_segment(seg.clone()));
        if let Some((c, low, high)) = p.completion() {
            out.push(Metric::interval(names::PLAN_COMPLETION, Unit::Share, c, low, high, level).with_segment(seg));
        }
    }
}

/// The volume metric a line is judged on: purchases when planned, else target leads, else leads.
pub(crate) fn key_metric(line: &Line) -> Option<&Pace> {
    ["purchase", "target_lead", "lead"].iter().filter_map(|m| line.pace(m)).find(|p| p.plan.is_some_and(|v| v > 0.0))
}

/// Cost per unit of a metric at the run rate, and its plan.
pub(crate) fn unit_cost(line: &Line, metric: &Pace) -> Option<(f64, f64)> {
    let cost = line.pace("cost")?;
    let planned = cost.plan? / metric.plan.filter(|v| *v > 0.0)?;
    (metric.run_rate.month_end > 0.0).then(|| (cost.run_rate.month_end / metric.run_rate.month_end, planned))
}

fn cost_name(metric: &str) -> &'static str {
    match metric {
        "purchase" => "CAC",
        _ => "CPA",
    }
}

fn volume_name(metric: &str) -> String {
    match metric {
        "purchase" => "purchase".into(),
        "target_lead" => "target-lead".into(),
        other => other.replace('_', " "),
    }
}

/// The flag of a channel against its plan, with the action and its probability.
pub(crate) fn flag(line: &Line, currency: &str, level: f64) -> Option<(Action, f64, String)> {
    let pace = key_metric(line)?;
    let (completion, _, _) = pace.completion()?;
    let plan = pace.plan?;
    let z = normal_quantile(0.5 + level / 2.0);
    let sd = ((pace.run_rate.high - pace.run_rate.low) / (2.0 * z)).max(1e-9);
    let p_miss = normal_cdf((plan - pace.run_rate.month_end) / sd);
    let name = volume_name(&pace.metric);
    let costs = unit_cost(line, pace);
    let reach =
        format!("reaches {} of the {name} plan ({} of {})", percent(completion), count(pace.run_rate.month_end), count(plan));
    let delta = costs.map(|(actual, planned)| actual / planned - 1.0);
    let Verdict { action, confidence, standing } = crate::decide::verdict(completion, p_miss, delta);
    let cost_text = match (costs, delta) {
        (Some((actual, planned)), Some(delta)) => format!(
            "{} {} ({} vs plan {})",
            cost_name(&pace.metric),
            if delta <= 0.0 { format!("{} under plan", percent(-delta)) } else { format!("{} over plan", percent(delta)) },
            money(actual, currency),
            money(planned, currency)
        ),
        _ => String::new(),
    };
    let text = match standing {
        Standing::NoCostPlan { .. } => format!("At the current pace {reach}; no cost plan to judge the cost per {name}."),
        Standing::OnPaceOverCost => {
            format!("{name}s on pace ({}) but {cost_text}: optimize bids and creatives", percent(completion))
        }
        Standing::BehindOverCost => format!("At the current pace {reach} at a {cost_text}: optimize before adding budget"),
        Standing::BehindUnderCost => format!("At the current pace {reach} at a {cost_text}: room to scale"),
        Standing::BehindAtCost => format!("At the current pace {reach} at a {cost_text}: behind plan at the planned cost"),
        Standing::OnPace => format!("On pace: {reach} at a {cost_text}"),
    };
    Some((action, confidence, text))
}

/// The page's lead table: one row per channel (and the total) on the metric it is judged on,
/// plan against the month-end run rate, the cost per unit against plan, and the flag.
fn overview(c: &Computed, decisions: &[Decision]) -> Table {
    let mut table = Table::new(
        "overview",
        &format!("By channel: month-end run rate against plan ({} intervals)", level_text(c.level)),
        &[
            ("channel", Format::Text),
            ("metric", Format::Text),
            ("plan", Format::Count),
            ("fact_to_date", Format::Count),
            ("run_rate", Format::Count),
            ("run_rate_low", Format::Count),
            ("run_rate_high", Format::Count),
            ("plan_completion", Format::Percent),
            ("completion_low", Format::Percent),
            ("completion_high", Format::Percent),
            ("cost_per_unit", Format::Money),
            ("cost_per_unit_plan", Format::Money),
            ("flag", Format::Text),
        ],
    )
    .interval("run_rate", "run_rate_low", "run_rate_high")
    .interval("plan_completion", "completion_low", "completion_high")
    .lead();
    for line in std::iter::once(&c.total).chain(&c.channels) {
        let Some(pace) = key_metric(line) else { continue };
        let costs = unit_cost(line, pace);
        let decision = decisions.iter().find(|d| line.channel != "all" && d.subject.get("channel") == Some(&line.channel));
        table.push(vec![
            line.channel.as_str().into(),
            volume_name(&pace.metric).into(),
            pace.plan.into(),
            pace.fact_to_date.into(),
            pace.run_rate.month_end.into(),
            pace.run_rate.low.into(),
            pace.run_rate.high.into(),
            pace.completion().map(|c| c.0).into(),
            pace.completion().map(|c| c.1).into(),
            pace.completion().map(|c| c.2).into(),
            costs.map(|c| c.0).into(),
            costs.map(|c| c.1).into(),
            decision.map_or(Cell::Empty, |d| d.action.label().into()),
        ]);
    }
    table
}

fn tables(c: &Computed) -> Vec<Table> {
    let mut pace = Table::new(
        "pace",
        &format!("Plan vs fact to {} and the month-end run rate ({:.0}% intervals)", c.as_of, c.level * 100.0),
        &[
            ("channel", Format::Text),
            ("campaign", Format::Text),
            ("metric", Format::Text),
            ("plan", Format::Number),
            ("fact_to_date", Format::Number),
            ("run_rate", Format::Number),
            ("run_rate_low", Format::Number),
            ("run_rate_high", Format::Number),
            ("plan_completion", Format::Percent),
            ("needed_per_day", Format::Number),
            ("last_day", Format::Number),
        ],
    );
    pace.in_summary = false;
    let mut all: Vec<&Line> = vec![&c.total];
    all.extend(&c.channels);
    all.extend(&c.campaigns);
    for line in &all {
        for p in &line.paces {
            pace.push(vec![
                Cell::from(line.channel.as_str()),
                Cell::from(line.campaign.clone().unwrap_or_default()),
                Cell::from(p.metric.as_str()),
                p.plan.into(),
                p.fact_to_date.into(),
                p.run_rate.month_end.into(),
                p.run_rate.low.into(),
                p.run_rate.high.into(),
                p.completion().map(|x| x.0).into(),
                p.needed_per_day().into(),
                p.last_day.into(),
            ]);
        }
    }

    // Cost per step and conversion between steps, fact to date vs plan.
    let mut steps = Table::new(
        "funnel",
        "Cost per step and conversion between steps, month to date vs plan",
        &[
            ("channel", Format::Text),
            ("campaign", Format::Text),
            ("step", Format::Text),
            ("fact", Format::Number),
            ("plan", Format::Number),
            ("cost_per_step", Format::Money),
            ("plan_cost_per_step", Format::Money),
            ("conversion_from_previous", Format::Percent),
            ("plan_conversion_from_previous", Format::Percent),
        ],
    );
    for line in &all {
        let cost = line.pace("cost");
        let mut previous: Option<&Pace> = None;
        for metric in METRICS.iter().filter(|m| **m != "cost" && **m != "revenue") {
            let Some(p) = line.pace(metric) else { continue };
            let per = cost.filter(|_| p.fact_to_date > 0.0).map(|c| c.fact_to_date / p.fact_to_date);
            let plan_per = cost.and_then(|c| c.plan).zip(p.plan.filter(|v| *v > 0.0)).map(|(c, v)| c / v);
            let conversion = previous.filter(|q| q.fact_to_date > 0.0).map(|q| p.fact_to_date / q.fact_to_date);
            let plan_conversion = previous.and_then(|q| q.plan.filter(|v| *v > 0.0)).zip(p.plan).map(|(q, v)| v / q);
            steps.push(vec![
                Cell::from(line.channel.as_str()),
                Cell::from(line.campaign.clone().unwrap_or_default()),
                Cell::from(*metric),
                p.fact_to_date.into(),
                p.plan.into(),
                per.into(),
                plan_per.into(),
                conversion.into(),
                plan_conversion.into(),
            ]);
            previous = Some(p);
        }
    }
    steps.in_summary = false;
    vec![pace, steps]
}

fn charts(c: &Computed, currency: &str) -> Vec<Chart> {
    let note = format!(
        "Source: plan, spend, leads, orders; {} to {}; run rate from the last {} days with weekday weights; {:.0}% intervals",
        c.month_start,
        c.as_of,
        c.window_days,
        c.level * 100.0
    );
    let mut charts = Vec::new();
    // Plan vs projected month end per channel, for the metric the channels are judged on.
    let metric = ["purchase", "target_lead", "lead"]
        .into_iter()
        .find(|m| c.channels.iter().any(|l| l.pace(m).is_some_and(|p| p.plan.is_some())));
    if let Some(metric) = metric {
        let lines: Vec<&Line> = c.channels.iter().filter(|l| l.pace(metric).is_some()).collect();
        let plan: Vec<Option<f64>> = lines.iter().map(|l| l.pace(metric).and_then(|p| p.plan)).collect();
        let rr: Vec<&Pace> = lines.iter().filter_map(|l| l.pace(metric)).collect();
        let behind: Vec<String> = lines
            .iter()
            .filter(|l| l.pace(metric).and_then(Pace::completion).is_some_and(|x| x.0 < BEHIND))
            .map(|l| l.channel.clone())
            .collect();
        let title = match (c.total.pace(metric).and_then(Pace::completion), behind.is_empty()) {
            (Some((t, _, _)), true) => format!(
                "At the current pace all channels make their {} plan; {} of plan in total",
                volume_name(metric),
                percent(t)
            ),
            (Some((t, _, _)), false) => {
                format!("At the current pace {} of the {} plan: {} behind", percent(t), volume_name(metric), behind.join(", "))
            }
            (None, _) => format!("Projected month-end {}s per channel", volume_name(metric)),
        };
        charts.push(
            Chart::new(ChartKind::GroupedBars, "plan_vs_projection", title)
                .note(note.clone())
                .axes("channel", format!("{} in {}", unit(metric, currency), c.month_start.format("%B %Y")), Format::Count)
                .categories(lines.iter().map(|l| l.channel.clone()).collect())
                .series(vec![
                    Series::new("plan", plan),
                    Series::new("projected month end", rr.iter().map(|p| Some(p.run_rate.month_end)).collect()).with_interval(
                        rr.iter().map(|p| Some(p.run_rate.low)).collect(),
                        rr.iter().map(|p| Some(p.run_rate.high)).collect(),
                    ),
                ])
                .table("pace"),
        );
        // Cumulative fact vs plan by day, and the run rate to month end.
        if let (Some(cumulative), Some(total)) = (c.cumulative.get(metric), c.total.pace(metric)) {
            let days = cumulative.len();
            let done = (c.as_of - c.month_start).num_days() as usize + 1;
            let fact: Vec<Option<f64>> = (0..days).map(|d| (d < done).then(|| cumulative[d])).collect();
            let rest = total.run_rate.month_end - total.fact_to_date;
            let remaining = days.saturating_sub(done).max(1) as f64;
            let projection: Vec<Option<f64>> = (0..days)
                .map(|d| (d + 1 >= done).then(|| total.fact_to_date + rest * (d + 1 - done) as f64 / remaining))
                .collect();
            let mut series = vec![Series::new("fact", fact), Series::new("run rate", projection).dashed()];
            if let Some(plan) = total.plan {
                series.push(Series {
                    dashed: true,
                    ..Series::new("plan, even pace", (0..days).map(|d| Some(plan * (d + 1) as f64 / days as f64)).collect())
                });
            }
            charts.push(
                Chart::new(
                    ChartKind::Lines,
                    "cumulative",
                    match total.completion() {
                        Some((x, _, _)) => format!(
                            "{} {}s so far; at the current pace the month ends at {} of plan",
                            count(total.fact_to_date),
                            volume_name(metric),
                            percent(x)
                        ),
                        None => format!("{} {}s so far this month", count(total.fact_to_date), volume_name(metric)),
                    },
                )
                .note(note.clone())
                .axes("day of month", format!("cumulative {}", unit(metric, currency)), Format::Count)
                .categories((1..=days).map(|d| d.to_string()).collect())
                .series(series)
                .table("pace"),
            );
        }
    }
    charts
}

/// Builds the analysis.
pub(crate) fn build(c: &Computed, currency: &str) -> Analysis {
    let mut metrics = Vec::new();
    metrics_of(&c.total, currency, c.level, &mut metrics);
    for line in c.channels.iter().chain(&c.campaigns) {
        metrics_of(line, currency, c.level, &mut metrics);
    }
    let mut decisions: Vec<(f64, Decision)> = c
        .channels
        .iter()
        .filter(|line| line.pace("cost").is_some_and(|p| p.plan.unwrap_or(0.0) > 0.0 || p.fact_to_date > 0.0))
        .filter_map(|line| {
            let (action, confidence, reason) = flag(line, currency, c.level)?;
            let stake =
                line.pace("cost").and_then(|p| p.plan).unwrap_or_else(|| line.pace("cost").map_or(0.0, |p| p.run_rate.month_end));
            Some((stake, Decision { subject: line_segment(line), action, confidence, reason, stake: Some(stake) }))
        })
        .collect();
    decisions.sort_by(|a, b| Decision::order(&a.1, &b.1));
    let decisions: Vec<Decision> = decisions.into_iter().map(|(_, d)| d).collect();
    let tables = std::iter::once(overview(c, &decisions)).chain(tables(c)).collect();
    let headline = match key_metric(&c.total).and_then(|p| p.completion().map(|x| (p, x))) {
        Some((p, (x, low, high))) => {
            let scale: Vec<String> = decisions
                .iter()
                .filter(|d| d.action == Action::Scale)
                .filter_map(|d| d.subject.get("channel").cloned())
                .collect();
            let optimize: Vec<String> = decisions
                .iter()
                .filter(|d| d.action == Action::Optimize)
                .filter_map(|d| d.subject.get("channel").cloned())
                .collect();
            let mut text = format!(
                "At the current pace the month ends at {} of the {} plan ({} to {})",
                percent(x),
                volume_name(&p.metric),
                percent(low),
                percent(high)
            );
            if !scale.is_empty() {
                text.push_str(&format!("; room to scale {}", scale.join(", ")));
            }
            if !optimize.is_empty() {
                text.push_str(&format!("; optimize {}", optimize.join(", ")));
            }
            text
        }
        None => format!("Month to date {}: no plan to pace against", c.month_start.format("%B %Y")),
    };
    let days_left = (c.month_end - c.as_of).num_days();
    let context = vec![
        format!(
            "Month {} to {} ({} days left); facts up to and including {} (data to {}).",
            c.month_start, c.month_end, days_left, c.as_of, c.last_data_day
        ),
        format!(
            "Run rate: the last {} days, adjusted for the day of the week (weights from the 8 weeks before), projected to the month end; {:.0}% intervals treat days as over-dispersed counts.",
            c.window_days,
            c.level * 100.0
        ),
        format!(
            "Purchases are new customers (first paid order) and revenue is net of refunds, from orders; leads and funnel stages from leads; cost from spend; behind plan below {} of plan, cost out of range above {} of plan.",
            percent(BEHIND),
            signed_percent(OVER_COST)
        ),
    ];
    // The month to date is what pacing is about, whatever the rows span.
    let period = Some(upshot_result::Period { start: c.month_start.to_string(), end: c.as_of.to_string() });
    Analysis { headline, context, metrics, decisions, warnings: c.warnings.clone(), tables, charts: charts(c, currency), period }
}
