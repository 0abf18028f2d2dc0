//! The model layer of the segmentation: the ad hierarchy rolled up from the prepared measures,
//! with purchase rates shrunk level by level (empirical Bayes), pure.

use std::collections::BTreeMap;

use rayon::prelude::*;
use upshot_data::Dataset;

use crate::decide::{Concentration, Counts, Node, Odds, Verdict, shrink_hierarchy};
use crate::{Exclusions, Params, Posterior, SegmentsError};
use upshot_analysis::params::BrandMatcher;

/// The levels, top down.
pub const LEVELS: [&str; 4] = ["channel", "campaign", "ad_group", "ad"];
/// Funnel stages counted per ad (the leads' `<stage>_at`).
pub const STAGES: [&str; 4] = ["target_lead", "call", "proposal", "negotiation"];

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

    pub(crate) fn counts(&self) -> Counts {
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
    /// The incrementality factor the ad was judged with (index into `Params::incrementality`).
    pub incrementality: Option<usize>,
}

/// A concentration with the name of its group (`meta`, `google_search brand`).
pub type Named = (String, Concentration);

/// Everything the report needs.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Nodes per level, in key order.
    pub levels: Vec<Vec<Segment>>,
    /// Concentrations per level: one per group (a channel, its brand campaigns apart), each with
    /// the group's name.
    pub concentrations: Vec<Vec<Named>>,
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
    /// Brand on/off tests the channels' brand campaigns need before they can be judged (no
    /// incrementality evidence covers them), sized on the window's daily new customers.
    pub brand_tests: Vec<BrandSizing>,
}

/// A brand on/off test a channel's brand campaigns need, sized by the brand test's own power
/// simulation (the re-randomization test on a daily switchback).
#[derive(Debug, Clone, PartialEq)]
pub struct BrandSizing {
    /// The channel whose brand campaigns it switches.
    pub channel: String,
    /// Brand spend per day over the window.
    pub spend_per_day: f64,
    /// The channel's target CAC.
    pub target: f64,
    /// New customers a day the campaigns must add for their incremental CAC to meet the target:
    /// spend a day / target.
    pub effect: f64,
    /// Days of a daily switchback that tell that effect from none with 80% power; `None` when not
    /// even [`BRAND_TEST_LENGTHS`]' longest does.
    pub days: Option<usize>,
}

/// Test lengths a brand test is sized among (days of a daily switchback).
pub const BRAND_TEST_LENGTHS: [usize; 8] = [28, 42, 56, 84, 112, 168, 224, 365];

/// Sizes a brand test per channel whose brand campaigns no incrementality evidence covers.
fn brand_tests(
    levels: &[Vec<Segment>],
    params: &Params,
    window: (chrono::NaiveDate, chrono::NaiveDate),
    daily: Option<&[f64]>,
    seed: u64,
) -> Vec<BrandSizing> {
    let (Some(brand), Some(daily)) = (params.brand_campaigns.as_ref(), daily) else { return Vec::new() };
    let mut spend: BTreeMap<String, f64> = BTreeMap::new();
    for s in levels.get(1).into_iter().flatten() {
        let campaign = &s.keys[1];
        if brand.matches(campaign) && !params.incrementality.iter().any(|f| f.matches(campaign)) {
            *spend.entry(s.keys[0].clone()).or_default() += s.measures.cost;
        }
    }
    let days = daily.len().max(1) as f64;
    spend
        .into_iter()
        .filter(|(_, cost)| *cost > 0.0)
        .filter_map(|(channel, cost)| {
            let target = params.target_cac.of(&channel)?;
            let effect = cost / days / target;
            let power = upshot_brand::power::sizing_params(BRAND_TEST_LENGTHS.to_vec(), 1, effect, seed);
            let needed = upshot_brand::power::days_to_detect(window.0, &[daily], &power);
            Some(BrandSizing { channel, spend_per_day: cost / days, target, effect, days: needed })
        })
        .collect()
}

/// The whole analysis: prepare, then the hierarchy, then the decisions.
pub(crate) fn compute(data: &Dataset, params: &Params, seed: u64) -> Result<Computed, SegmentsError> {
    let prepared = crate::prepare::prepare(data, params)?;
    let mut warnings = prepared.warnings;
    let (levels, concentrations) = hierarchy(&prepared.ads, params.level, params.brand_campaigns.as_ref());
    let decisions = crate::decide::decide_ads(&levels[LEVELS.len() - 1], params);
    if matches!(params.target_cac, crate::TargetCac::None) {
        warnings.push("No `target_cac` in [params]: shrunk rates and CAC are reported, no ad is decided.".into());
    }
    let brand_tests = brand_tests(&levels, params, prepared.window, prepared.daily_new_customers.as_deref(), seed);
    Ok(Computed {
        brand_tests,
        levels,
        concentrations,
        decisions,
        developed: prepared.developed,
        leads_without_spend: prepared.leads_without_spend,
        free_conversions: prepared.free_conversions,
        exclusions: prepared.exclusions,
        warnings,
        window: prepared.window,
    })
}

/// The concentration group of a node below the channel level: its channel, with the channel's
/// brand campaigns (`brand_campaigns`) a group of their own.
fn group_name(keys: &[String], brand: Option<&BrandMatcher>) -> String {
    match keys {
        [channel, campaign, ..] if brand.is_some_and(|b| b.matches(campaign)) => format!("{channel} brand"),
        [channel, ..] => channel.clone(),
        [] => String::new(),
    }
}

/// Each level's nodes with their concentration group (one group for the channels).
fn nodes(levels: &[Vec<Segment>], brand: Option<&BrandMatcher>) -> (Vec<Vec<Node>>, Vec<String>) {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for level in levels.iter().skip(1) {
        for s in level {
            let next = names.len();
            names.entry(group_name(&s.keys, brand)).or_insert(next);
        }
    }
    let nodes = levels
        .iter()
        .map(|l| {
            l.iter()
                .map(|s| {
                    let group = if s.level == 0 { 0 } else { names[&group_name(&s.keys, brand)] };
                    Node { parent: s.parent, counts: s.measures.counts(), group }
                })
                .collect()
        })
        .collect();
    let mut labels = vec![String::new(); names.len().max(1)];
    for (name, i) in names {
        labels[i] = name;
    }
    (nodes, labels)
}

/// The hierarchy: roll ads up level by level (exact sums), in key order, and shrink every
/// level's rates toward its parents; returns the levels and the concentrations of each level's
/// groups.
pub(crate) fn hierarchy(
    ads: &BTreeMap<Vec<String>, Measures>,
    interval_level: f64,
    brand: Option<&BrandMatcher>,
) -> (Vec<Vec<Segment>>, Vec<Vec<Named>>) {
    let mut levels: Vec<Vec<Segment>> = vec![Vec::new(); LEVELS.len()];
    let mut index: Vec<BTreeMap<Vec<String>, usize>> = vec![BTreeMap::new(); LEVELS.len()];
    for (keys, m) in ads {
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
    let (nodes, labels) = nodes(&levels, brand);
    let shrunk = shrink_hierarchy(&nodes);
    let concentrations = shrunk
        .iter()
        .enumerate()
        .map(|(depth, (ks, _))| {
            let name = |k: &Concentration| if depth == 0 { "all channels".to_string() } else { labels[k.group].clone() };
            ks.iter().map(|k| (name(k), *k)).collect()
        })
        .collect();
    for (level, (_, posteriors)) in levels.iter_mut().zip(shrunk) {
        level.par_iter_mut().zip(posteriors).for_each(|(segment, posterior)| {
            segment.posterior = posterior;
            segment.interval = posterior.interval(interval_level);
        });
    }
    (levels, concentrations)
}
