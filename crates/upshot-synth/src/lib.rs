//! Deterministic synthetic exports for every contract table, with the ground
//! truth (`truth.json`) that analyses must recover.
//!
//! The synthetic company sells online courses through Google Search (a brand
//! campaign and 100 generic keywords, only a handful of which truly meet the
//! target CAC), Meta, YouTube and influencers with promo codes. Leads buy
//! 0-11 months after they arrive; customers repeat and refund; a share of the
//! customers that click data calls organic truly came from YouTube or an
//! influencer, and a post-purchase survey whose response rate depends on the
//! channel tells on them. A brand on/off test runs for eight weeks in autumn,
//! and on its off-days 70% of the paid-brand buyers come back through organic.
//!
//! Same seed and scale, same bytes: every day is generated from its own
//! random stream, independently of thread count.
//!
//! ```no_run
//! use upshot_synth::{Scale, SurveyWorld, SynthOptions, generate};
//! let options = SynthOptions { seed: 42, scale: Scale::Small, out: "notebooks-data".into(), survey_world: SurveyWorld::Model };
//! let truth = generate(&options, &|_, _| {})?;
//! println!("{} orders", truth.rows["orders"]);
//! # Ok::<(), upshot_synth::SynthError>(())
//! ```
#![deny(missing_docs)]

pub mod catalogue;
pub mod generate;
pub mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;

use crate::catalogue::{Catalogue, Origin, PAID_CHANNELS};
use crate::generate::{BRAND_COMEBACK, BRAND_PAID_SHARE, BrandState, DAY_US, PLAN_METRICS, Tally, World, generate_day};
use crate::write::{Sources, TableWriter, epoch_days, epoch_us, frames, write_frame};

/// How big the exports are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// ~10k orders, one region: the committed sample in `notebooks-data/`.
    Small,
    /// ~100k orders, 4 regions.
    Medium,
    /// ~1M orders, ~3M spend rows (40 regions).
    Large,
    /// ~10M orders and leads, ~20M spend rows, ~50M touchpoints.
    Xl,
}

impl Scale {
    /// Parses `small|medium|large|xl`.
    pub fn parse(name: &str) -> Option<Scale> {
        match name {
            "small" => Some(Scale::Small),
            "medium" => Some(Scale::Medium),
            "large" => Some(Scale::Large),
            "xl" => Some(Scale::Xl),
            _ => None,
        }
    }

    /// Volume multiplier against `small`.
    pub fn factor(self) -> f64 {
        match self {
            Scale::Small => 1.0,
            Scale::Medium => 10.0,
            Scale::Large => 100.0,
            Scale::Xl => 1000.0,
        }
    }

    fn regions(self) -> usize {
        match self {
            Scale::Small => 1,
            Scale::Medium => 4,
            Scale::Large => 40,
            Scale::Xl => 290,
        }
    }

    /// Days generated and written together (bounded memory at large scales).
    fn batch_days(self) -> usize {
        match self {
            Scale::Small | Scale::Medium => 366,
            Scale::Large => 32,
            Scale::Xl => 6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
            Scale::Xl => "xl",
        }
    }
}

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Seed of every random draw.
    pub seed: u64,
    /// Size.
    pub scale: Scale,
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// How survey respondents behave.
    pub survey_world: SurveyWorld,
}

pub use catalogue::SurveyWorld;

/// Errors while generating.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Writing a file failed.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Building or writing a frame failed.
    #[error("{path}: cannot write Parquet: {source}")]
    Polars {
        /// The file.
        path: String,
        /// The polars error.
        #[source]
        source: PolarsError,
    },
}

/// The first day of the synthetic period.
pub const PERIOD_START: (i32, u32, u32) = (2025, 1, 1);
/// Days in the synthetic period (all of 2025).
pub const PERIOD_DAYS: usize = 365;
/// First day of the brand on/off test (a Monday).
pub const BRAND_TEST_START: (i32, u32, u32) = (2025, 10, 6);
/// Days in the brand test (eight weeks).
pub const BRAND_TEST_DAYS: usize = 56;

/// The brand test's ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct BrandTruth {
    /// First test day.
    pub start: String,
    /// Last test day.
    pub end: String,
    /// Days with the campaign on.
    pub on_days: usize,
    /// Days with the campaign off.
    pub off_days: usize,
    /// Washout days (excluded from estimation).
    pub washout_days: usize,
    /// Share of brand-intent buyers who click the paid ad when it is on.
    pub paid_share: f64,
    /// Share of paid-brand buyers who come back through organic when it is off.
    pub comeback_share: f64,
    /// Expected incremental purchases per on-day (the estimand).
    pub incremental_purchases_per_on_day: f64,
    /// Expected incremental purchases over all on-days.
    pub incremental_purchases_total: f64,
    /// Realised incremental purchases on on-days (paid-brand buyers who would not have come back).
    pub realised_incremental_purchases_total: u64,
    /// Brand spend on on-days.
    pub incremental_cost_total: f64,
    /// Off-days: paid-brand buyers who came back through organic.
    pub came_back_on_off_days: u64,
    /// Off-days: purchases lost.
    pub lost_on_off_days: u64,
}

/// The true origin of new customers and what click data says of them.
#[derive(Debug, Clone, Serialize)]
pub struct OriginTruth {
    /// True origin channel.
    pub channel: String,
    /// New customers (first order inside the period).
    pub new_customers: u64,
    /// Of those, by click channel (`organic` = no click).
    pub by_click_channel: BTreeMap<String, u64>,
    /// Probability of answering the survey.
    pub response_rate: f64,
    /// Customers who answered.
    pub responded: u64,
}

/// A generic search keyword's true economics.
#[derive(Debug, Clone, Serialize)]
pub struct KeywordTruth {
    /// Campaign.
    pub campaign: String,
    /// Ad group.
    pub ad_group: String,
    /// Keyword.
    pub ad: String,
    /// Mean cost per click.
    pub cpc: f64,
    /// Leads per click.
    pub lead_rate: f64,
    /// Probability a lead eventually buys.
    pub purchase_prob: f64,
    /// cpc / (lead_rate x purchase_prob).
    pub true_cac: f64,
    /// Whether true CAC <= target.
    pub meets_target: bool,
    /// Clicks in the period.
    pub clicks: f64,
    /// Cost in the period.
    pub cost: f64,
    /// Leads in the period.
    pub leads: f64,
    /// Purchases from those leads inside the period.
    pub purchases_observed: f64,
}

/// A lead cohort's eventual conversion.
#[derive(Debug, Clone, Serialize)]
pub struct CohortTruth {
    /// Lead month `YYYY-MM`.
    pub cohort: String,
    /// Lead channel (`organic` = no click).
    pub channel: String,
    /// Leads.
    pub leads: u64,
    /// Expected eventual purchases (sum of purchase probabilities).
    pub expected_purchases: f64,
    /// Leads that will buy, inside or after the period.
    pub eventual_purchases: u64,
    /// Purchases inside the period.
    pub observed_purchases: u64,
}

/// Everything `truth.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Seed.
    pub seed: u64,
    /// Scale name.
    pub scale: String,
    /// First day.
    pub period_start: String,
    /// Last day.
    pub period_end: String,
    /// Currency of every money column.
    pub currency: String,
    /// Target CAC the keywords are judged against.
    pub target_cac: f64,
    /// Survey answers that name the true origin (in the `model` world; per origin in the other).
    pub survey_answer_accuracy: f64,
    /// How respondents behave: `model` or `misspecified` (catalogue.rs gives its numbers).
    pub survey_world: &'static str,
    /// Rows written per table.
    pub rows: BTreeMap<String, u64>,
    /// Brand test truth.
    pub brand_test: BrandTruth,
    /// True origins of new customers.
    pub origins: Vec<OriginTruth>,
    /// Generic keyword truth.
    pub keywords: Vec<KeywordTruth>,
    /// Lead cohorts.
    pub cohorts: Vec<CohortTruth>,
}

fn date(ymd: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2).unwrap_or_default()
}

/// The brand test's randomised schedule: within each weekday, half the test
/// days are on, so the design is balanced by day of week.
pub fn brand_schedule(seed: u64, start: NaiveDate, days: usize) -> Vec<(NaiveDate, bool)> {
    let mut rng = upshot_stats::rng::stream(seed, "brand-schedule", 0);
    let mut schedule: Vec<(NaiveDate, bool)> = (0..days).map(|d| (start + chrono::Days::new(d as u64), false)).collect();
    for weekday in 0..7 {
        let mut idx: Vec<usize> = (0..days).filter(|d| d % 7 == weekday).collect();
        idx.shuffle(&mut rng);
        for &d in idx.iter().take(idx.len() / 2) {
            schedule[d].1 = true;
        }
    }
    schedule
}

fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io { path: path.display().to_string(), source }
}

fn pl_err(path: &std::path::Path) -> impl Fn(PolarsError) -> SynthError + '_ {
    move |source| SynthError::Polars { path: path.display().to_string(), source }
}

fn month_label(month: u32) -> String {
    format!("{}-{:02}", month / 12, month % 12 + 1)
}

/// Generates all seven tables and `truth.json` into `options.out`.
/// `progress(done, total)` is called after each batch of days.
pub fn generate(options: &SynthOptions, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Truth, SynthError> {
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let start = date(PERIOD_START);
    let days = PERIOD_DAYS;
    let catalogue: Catalogue = catalogue::build(options.seed, options.scale.regions(), days);
    let test_start = date(BRAND_TEST_START);
    let schedule = brand_schedule(options.seed, test_start, BRAND_TEST_DAYS);
    let mut brand = vec![BrandState::Normal; days];
    for (day, on) in &schedule {
        let index = (*day - start).num_days() as usize;
        brand[index] = if *on { BrandState::On } else { BrandState::Off };
    }
    let start_us = epoch_us(start);
    let world = World {
        seed: options.seed,
        scale: options.scale.factor(),
        start,
        days,
        catalogue: &catalogue,
        brand: brand.clone(),
        end_us: start_us + days as i64 * DAY_US - 1,
        start_us,
        survey_world: options.survey_world,
    };
    let sources = Sources::new(&catalogue);
    let stage_names = ["target_lead", "call", "proposal", "negotiation", "purchase"];
    let tables = ["spend", "leads", "orders", "touchpoints", "survey"];
    let mut writers = Vec::new();
    for table in tables {
        let path = out.join(format!("{table}.parquet"));
        writers.push((TableWriter::create(&path, vec![]).map_err(io_err(&path))?, path));
    }
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut tally = Tally::default();
    let batch = options.scale.batch_days();
    let start_days = epoch_days(start);
    let mut done = 0;
    while done < days {
        let range = done..(done + batch).min(days);
        let batch_frames: Vec<Result<(write::Frames, Tally), PolarsError>> = range
            .clone()
            .into_par_iter()
            .map(|day| {
                let day_rows = generate_day(&world, day);
                let frames = frames(&day_rows, &sources, start_days, &stage_names)?;
                Ok((frames, day_rows.tally))
            })
            .collect();
        let mut parts: Vec<Vec<DataFrame>> = vec![Vec::new(); tables.len()];
        for result in batch_frames {
            let (frames, day_tally) = result.map_err(pl_err(out))?;
            for (i, frame) in
                [frames.spend, frames.leads, frames.orders, frames.touchpoints, frames.survey].into_iter().enumerate()
            {
                parts[i].push(frame);
            }
            merge_tally(&mut tally, day_tally);
        }
        for (i, frames) in parts.into_iter().enumerate() {
            let (writer, path) = &mut writers[i];
            let mut frames = frames.into_iter();
            let Some(mut frame) = frames.next() else { continue };
            for next in frames {
                frame.vstack_mut_owned(next).map_err(pl_err(path))?;
            }
            frame.rechunk_mut();
            *rows.entry(tables[i].to_string()).or_insert(0) += frame.height() as u64;
            writer.write(&frame).map_err(pl_err(path))?;
        }
        done = range.end;
        progress(done, days);
    }
    for (writer, path) in writers {
        writer.finish().map_err(pl_err(&path))?;
    }

    // The plan: what the team expected, roughly the realised month plus an ambition.
    let mut plan_rng = upshot_stats::rng::stream(options.seed, "plan", 0);
    let (mut p_month, mut p_channel, mut p_metric, mut p_value) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((month, channel, metric), value) in &tally.plan {
        if *channel == 4 && *metric == 0 {
            continue;
        }
        let factor: f64 = rand::Rng::random_range(&mut plan_rng, 0.92..1.15);
        let year = (*month / 12) as i32;
        let first = NaiveDate::from_ymd_opt(year, month % 12 + 1, 1).unwrap_or_default();
        p_month.push(epoch_days(first));
        p_channel.push(if *channel == 4 { "organic" } else { PAID_CHANNELS[*channel as usize] });
        p_metric.push(PLAN_METRICS[*metric as usize]);
        let planned = value * factor;
        p_value.push(if *metric == 0 || *metric == 7 { (planned / 100.0).round() * 100.0 } else { planned.round() });
    }
    let plan_path = out.join("plan.parquet");
    let mut plan = DataFrame::new_infer_height(vec![
        Column::new("month".into(), p_month).cast(&DataType::Date).map_err(pl_err(&plan_path))?,
        Column::new("channel".into(), p_channel),
        Column::new("campaign".into(), vec![None::<&str>; p_value.len()]).cast(&DataType::String).map_err(pl_err(&plan_path))?,
        Column::new("metric".into(), p_metric),
        Column::new("value".into(), p_value),
    ])
    .map_err(pl_err(&plan_path))?;
    rows.insert("plan".into(), plan.height() as u64);
    write_frame(&plan_path, &mut plan, vec![]).map_err(pl_err(&plan_path))?;

    let schedule_path = out.join("brand_schedule.parquet");
    let mut schedule_frame = DataFrame::new_infer_height(vec![
        Column::new("date".into(), schedule.iter().map(|(d, _)| epoch_days(*d)).collect::<Vec<i32>>())
            .cast(&DataType::Date)
            .map_err(pl_err(&schedule_path))?,
        Column::new("region".into(), vec![None::<&str>; schedule.len()])
            .cast(&DataType::String)
            .map_err(pl_err(&schedule_path))?,
        Column::new("brand_on".into(), schedule.iter().map(|(_, on)| *on).collect::<Vec<bool>>()),
        Column::new("washout".into(), vec![false; schedule.len()]),
    ])
    .map_err(pl_err(&schedule_path))?;
    rows.insert("schedule".into(), schedule_frame.height() as u64);
    let metadata = upshot_data::ScheduleDesign::switchback(options.seed, 1, 0).to_metadata();
    write_frame(&schedule_path, &mut schedule_frame, metadata).map_err(pl_err(&schedule_path))?;

    let truth = build_truth(options, &catalogue, &tally, &brand, &schedule, rows, start);
    let truth_path = out.join("truth.json");
    let mut text = serde_json::to_string_pretty(&truth).unwrap_or_default();
    text.push('\n');
    std::fs::write(&truth_path, text).map_err(io_err(&truth_path))?;
    Ok(truth)
}

fn merge_tally(into: &mut Tally, day: Tally) {
    for (key, value) in day.plan {
        *into.plan.entry(key).or_insert(0.0) += value;
    }
    into.brand_expected_incremental += day.brand_expected_incremental;
    into.brand_realised_incremental += day.brand_realised_incremental;
    into.brand_came_back += day.brand_came_back;
    into.brand_lost += day.brand_lost;
    into.brand_cost_on_days += day.brand_cost_on_days;
    for (row, day_row) in into.origin_by_click.iter_mut().zip(day.origin_by_click) {
        for (cell, value) in row.iter_mut().zip(day_row) {
            *cell += value;
        }
    }
    for (cell, value) in into.responded.iter_mut().zip(day.responded) {
        *cell += value;
    }
    for (key, values) in day.cohorts {
        let entry = into.cohorts.entry(key).or_insert([0.0; 4]);
        for (cell, value) in entry.iter_mut().zip(values) {
            *cell += value;
        }
    }
    for (key, values) in day.ads {
        let entry = into.ads.entry(key).or_insert([0.0; 5]);
        for (cell, value) in entry.iter_mut().zip(values) {
            *cell += value;
        }
    }
}

fn build_truth(
    options: &SynthOptions,
    catalogue: &Catalogue,
    tally: &Tally,
    brand: &[BrandState],
    schedule: &[(NaiveDate, bool)],
    rows: BTreeMap<String, u64>,
    start: NaiveDate,
) -> Truth {
    let on_days = brand.iter().filter(|s| **s == BrandState::On).count();
    let off_days = brand.iter().filter(|s| **s == BrandState::Off).count();
    let channels = ["google_search", "meta", "youtube", "influencers", "organic"];
    let origins = Origin::ALL
        .iter()
        .map(|origin| {
            let row = tally.origin_by_click[*origin as usize];
            OriginTruth {
                channel: origin.channel().to_string(),
                new_customers: row.iter().sum(),
                by_click_channel: channels.iter().zip(row).filter(|(_, n)| *n > 0).map(|(c, n)| (c.to_string(), n)).collect(),
                response_rate: origin.response_rate(),
                responded: tally.responded[*origin as usize],
            }
        })
        .collect();
    let keywords = catalogue
        .ads
        .iter()
        .enumerate()
        .filter(|(_, ad)| ad.channel == "google_search" && !ad.brand)
        .map(|(i, ad)| {
            let t = tally.ads.get(&(i as u32)).copied().unwrap_or([0.0; 5]);
            KeywordTruth {
                campaign: ad.campaign.clone(),
                ad_group: ad.ad_group.clone().unwrap_or_default(),
                ad: ad.ad.clone(),
                cpc: ad.cpc,
                lead_rate: ad.lead_rate,
                purchase_prob: ad.purchase_prob,
                true_cac: ad.true_cac(),
                meets_target: ad.true_cac() <= catalogue.target_cac,
                clicks: t[0],
                cost: (t[1] * 100.0).round() / 100.0,
                leads: t[2],
                purchases_observed: t[4],
            }
        })
        .collect();
    let cohorts = tally
        .cohorts
        .iter()
        .map(|((month, channel), v)| CohortTruth {
            cohort: month_label(*month),
            channel: channels[*channel as usize].to_string(),
            leads: v[0] as u64,
            expected_purchases: v[1],
            eventual_purchases: v[2] as u64,
            observed_purchases: v[3] as u64,
        })
        .collect();
    let first = schedule.first().map(|(d, _)| d.to_string()).unwrap_or_default();
    let last = schedule.last().map(|(d, _)| d.to_string()).unwrap_or_default();
    let end = start + chrono::Days::new(PERIOD_DAYS as u64 - 1);
    Truth {
        seed: options.seed,
        scale: options.scale.name().to_string(),
        period_start: start.to_string(),
        period_end: format!("{}-{:02}-{:02}", end.year(), end.month(), end.day()),
        currency: "USD".into(),
        target_cac: catalogue.target_cac,
        survey_answer_accuracy: catalogue::ANSWER_ACCURACY,
        survey_world: options.survey_world.name(),
        rows,
        brand_test: BrandTruth {
            start: first,
            end: last,
            on_days,
            off_days,
            washout_days: 0,
            paid_share: BRAND_PAID_SHARE,
            comeback_share: BRAND_COMEBACK,
            incremental_purchases_per_on_day: tally.brand_expected_incremental / on_days.max(1) as f64,
            incremental_purchases_total: tally.brand_expected_incremental,
            realised_incremental_purchases_total: tally.brand_realised_incremental,
            incremental_cost_total: (tally.brand_cost_on_days * 100.0).round() / 100.0,
            came_back_on_off_days: tally.brand_came_back,
            lost_on_off_days: tally.brand_lost,
        },
        origins,
        keywords,
        cohorts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_balanced_by_weekday() {
        let start = date(BRAND_TEST_START);
        let schedule = brand_schedule(7, start, BRAND_TEST_DAYS);
        for weekday in 0..7 {
            let on = schedule.iter().filter(|(d, on)| *on && d.weekday().num_days_from_monday() == weekday).count();
            assert_eq!(on, 4, "weekday {weekday}");
        }
    }
}
