//! The model layer of pacing, pure: each line's (total, channel, campaign) month-to-date pace
//! of every metric against its plan, with the run rate to the month's end.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use upshot_data::Dataset;

use crate::prepare::{Daily, Plan};
use crate::runrate::{RunRate, run_rate};
use crate::{Exclusions, METRICS, PacingError, Params};

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

/// Prepare, then the lines and the month's cumulative facts.
pub(crate) fn compute(data: &Dataset, params: &Params) -> Result<Computed, PacingError> {
    let prepared = crate::prepare::prepare(data, params)?;
    let crate::prepare::Prepared { as_of, last_data_day, month_start, month_end, daily, plan, exclusions, mut warnings } =
        prepared;
    let (window, level) = (params.window_days, params.level);
    let Lines { channels, campaigns, total, total_series } = lines(&daily, &plan, as_of, month_start, window, level);
    // Channels with activity and no plan at all: reported, never dropped.
    if !plan.channel.is_empty() {
        for l in &channels {
            let planned = plan.channel.keys().any(|(c, _)| c == &l.channel);
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

/// The channel, campaign and total lines, and the total's daily series per metric.
struct Lines {
    channels: Vec<Line>,
    campaigns: Vec<Line>,
    total: Line,
    total_series: BTreeMap<String, BTreeMap<NaiveDate, f64>>,
}

/// Series per line: every channel and campaign with a fact this month or a plan, and the total.
fn lines(daily: &Daily, plan: &Plan, as_of: NaiveDate, month_start: NaiveDate, window: usize, level: f64) -> Lines {
    let (channel_plan, campaign_plan) = (&plan.channel, &plan.campaign);
    // Series per line.
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
    for ((channel, _, metric), series) in daily {
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

    Lines { channels, campaigns, total, total_series }
}
