//! Hierarchical shrinkage of purchase rates (channel -> campaign -> ad group
//! -> ad) and the per-ad decision with Bayesian FDR control.
//!
//! Each node's rate (purchases per effective click) has a Beta prior whose
//! mean is its parent's posterior mean and whose concentration `kappa` is
//! fitted per level by maximum likelihood on the beta-binomial marginal of all
//! the level's nodes; channels shrink toward the pooled rate. The posterior is
//! Beta(m kappa + x, (1 - m) kappa + n - x). Effective clicks discount recent
//! clicks by the share of their purchases that has had time to arrive (the
//! cohort engine's lag profile), so purchases still to come are projected, not
//! counted as zero.

use rayon::prelude::*;
use statrs::function::gamma::ln_gamma;

use crate::Posterior;

/// One node's data: observed purchases, effective clicks (maturity-weighted), clicks, cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    /// Purchases observed so far.
    pub purchases: f64,
    /// Clicks weighted by the share of their purchases already arrived.
    pub effective_clicks: f64,
    /// Clicks.
    pub clicks: f64,
    /// Cost.
    pub cost: f64,
}

impl Counts {
    /// Adds another node's counts (roll-ups are exact sums).
    pub fn add(&mut self, other: &Counts) {
        self.purchases += other.purchases;
        self.effective_clicks += other.effective_clicks;
        self.clicks += other.clicks;
        self.cost += other.cost;
    }
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Beta-binomial log marginal of `(x, n)` under Beta(m kappa, (1 - m) kappa), without the binomial coefficient.
fn log_marginal(x: f64, n: f64, m: f64, kappa: f64) -> f64 {
    let (a, b) = (m * kappa, (1.0 - m) * kappa);
    ln_beta(a + x, b + (n - x).max(0.0)) - ln_beta(a, b)
}

/// Units per parallel chunk of the likelihood sum (fixed, so the sum does not depend on the threads).
const LIKELIHOOD_CHUNK: usize = 4096;

/// Concentration for units `(x, n, prior mean)`: the lower end of the 90% profile-likelihood interval
/// around the maximum-likelihood value (golden-section search on ln kappa in [ln 0.5, ln 1e7]; the
/// marginal likelihood is unimodal in practice, the bounds keep it finite when the units agree).
pub fn fit_concentration(units: &[(f64, f64, f64)]) -> f64 {
    let data: Vec<(f64, f64, f64)> = units.iter().copied().filter(|(_, n, m)| *n > 0.0 && *m > 0.0 && *m < 1.0).collect();
    if data.len() < 2 {
        return 1e3;
    }
    // Summed over fixed chunks in parallel, partial sums added in order: the same bytes on any number
    // of threads (100k ads x ~150 evaluations x 6 log-gammas is the analysis's costliest loop).
    let f = |ln_kappa: f64| -> f64 {
        let kappa = ln_kappa.exp();
        let partial: Vec<f64> = data
            .par_chunks(LIKELIHOOD_CHUNK)
            .map(|chunk| chunk.iter().map(|(x, n, m)| log_marginal(*x, *n, *m, kappa)).sum::<f64>())
            .collect();
        -partial.iter().sum::<f64>()
    };
    let (mut lo, mut hi) = (0.5f64.ln(), 1e7f64.ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc < fd {
            hi = d;
            d = c;
            fd = fc;
            c = hi - ratio * (hi - lo);
            fc = f(c);
        } else {
            lo = c;
            c = d;
            fc = fd;
            d = lo + ratio * (hi - lo);
            fd = f(d);
        }
    }
    let best = (lo + hi) / 2.0;
    // With a few purchases per unit the likelihood is flat toward large kappa (complete pooling), and the
    // maximum often sits there. Use the lower end of the 90% profile-likelihood interval instead
    // (log-likelihood 1.353 below the maximum, half the chi-square(1) 90% point): uncertainty about how
    // alike the siblings are then widens the posteriors instead of narrowing them.
    let floor = 0.5f64.ln();
    let limit = f(best) + 1.353;
    if f(floor) <= limit {
        return floor.exp();
    }
    let (mut a, mut b) = (floor, best);
    for _ in 0..60 {
        let mid = (a + b) / 2.0;
        if f(mid) > limit {
            a = mid;
        } else {
            b = mid;
        }
    }
    b.exp()
}

/// The least P(CAC <= target) an ad in the scale set may have: the FDR budget decides how many ads
/// scale, this floor keeps each one individually likely (without it the set fills its budget with
/// ads at 0.6 behind a few certain ones, and the shrunk posteriors' slight overconfidence shows:
/// 12.7% realized against 10% in the calibration simulation).
pub const SCALE_FLOOR: f64 = 0.8;

/// The power the clicks still needed are sized for: with that many more clicks at the current rate,
/// the call (scale or pause) is reached in this share of outcomes.
pub const POWER: f64 = 0.8;

/// A group with fewer usable nodes than this takes its level's pooled concentration: two or three
/// campaigns say little about how alike a channel's campaigns are.
pub const MIN_GROUP_UNITS: usize = 5;

/// One concentration of a level: the group it was fitted on (index into the caller's group
/// labels), the nodes it was fitted on, and whether it is the level's pooled value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concentration {
    /// The group.
    pub group: usize,
    /// The group's nodes with clicks.
    pub units: usize,
    /// The fitted concentration.
    pub kappa: f64,
    /// Too few nodes in the group: the level's concentration over all its nodes.
    pub pooled: bool,
}

/// Posteriors of one level's nodes given their parents' posterior means and variances. One
/// concentration per group of nodes (a channel, or its brand campaigns apart: brand keywords
/// convert at ~60% of clicks, generic ones at ~2%, and one concentration for both would shrink
/// each toward a spread it does not have), fitted on the parents' means; each node's prior then
/// widens by its parent's own posterior variance (the parent's rate is estimated too), so a node
/// under a thinly observed parent is not held to it as if it were known.
pub fn shrink_level(counts: &[Counts], parents: &[(f64, f64)], groups: &[usize]) -> (Vec<Concentration>, Vec<Posterior>) {
    let units: Vec<(f64, f64, f64)> =
        counts.iter().zip(parents).map(|(c, (m, _))| (c.purchases.min(c.effective_clicks), c.effective_clicks, *m)).collect();
    let pooled = fit_concentration(&units);
    let mut ids: Vec<usize> = groups.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let kappas: Vec<Concentration> = ids
        .iter()
        .map(|&g| {
            let mine: Vec<(f64, f64, f64)> =
                units.iter().zip(groups).filter(|(u, gi)| **gi == g && u.1 > 0.0).map(|(u, _)| *u).collect();
            if mine.len() < MIN_GROUP_UNITS || ids.len() == 1 {
                Concentration { group: g, units: mine.len(), kappa: pooled, pooled: true }
            } else {
                Concentration { group: g, units: mine.len(), kappa: fit_concentration(&mine), pooled: false }
            }
        })
        .collect();
    let kappa_of = |g: usize| kappas.iter().find(|k| k.group == g).map_or(pooled, |k| k.kappa);
    let posteriors = counts
        .iter()
        .zip(parents)
        .zip(groups)
        .map(|((c, (m, parent_var)), g)| {
            let kappa = kappa_of(*g);
            let m = m.clamp(1e-9, 1.0 - 1e-9);
            let variance = m * (1.0 - m) / (kappa + 1.0) + parent_var;
            let prior_kappa = (m * (1.0 - m) / variance - 1.0).max(1e-3);
            let x = c.purchases.min(c.effective_clicks.max(c.purchases));
            Posterior { alpha: m * prior_kappa + x, beta: (1.0 - m) * prior_kappa + (c.effective_clicks - x).max(0.0) }
        })
        .collect();
    (kappas, posteriors)
}

/// A node of the hierarchy: its parent in the level above (none for channels) and its counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    /// Index of the parent in the level above.
    pub parent: Option<usize>,
    /// The node's own counts (for a parent: the sum of its children's).
    pub counts: Counts,
    /// The group whose concentration it shares (a channel, or a channel's brand campaigns).
    pub group: usize,
}

/// Shrinks every level toward the level above, top down: channels toward the pooled rate, then each
/// level's nodes toward their parent's posterior mean. Returns each level's concentrations (one per
/// group) and posteriors.
pub fn shrink_hierarchy(levels: &[Vec<Node>]) -> Vec<(Vec<Concentration>, Vec<Posterior>)> {
    let mut out: Vec<(Vec<Concentration>, Vec<Posterior>)> = Vec::with_capacity(levels.len());
    for (l, nodes) in levels.iter().enumerate() {
        let counts: Vec<Counts> = nodes.iter().map(|n| n.counts).collect();
        // The prior of a node is its parent's posterior without the node's own counts (leave one out):
        // otherwise a node's purchases would count twice, in its prior mean and in its likelihood.
        let without = |p: &Posterior, c: &Counts| {
            let x = c.purchases.min(c.effective_clicks.max(c.purchases));
            let loo = Posterior { alpha: (p.alpha - x).max(1e-3), beta: (p.beta - (c.effective_clicks - x).max(0.0)).max(1e-3) };
            (loo.mean(), loo.variance())
        };
        let parents: Vec<(f64, f64)> = if l == 0 {
            let (x, n) = counts.iter().fold((0.0, 0.0), |(x, n), c| (x + c.purchases, n + c.effective_clicks));
            let pooled = Posterior { alpha: x + 0.5, beta: (n - x).max(0.0) + 0.5 };
            counts.iter().map(|c| without(&pooled, c)).collect()
        } else {
            let above = &out[l - 1].1;
            nodes
                .iter()
                .zip(&counts)
                .map(|(n, c)| n.parent.and_then(|p| above.get(p)).map_or((0.5, 0.0), |p| without(p, c)))
                .collect()
        };
        let groups: Vec<usize> = nodes.iter().map(|n| n.group).collect();
        out.push(shrink_level(&counts, &parents, &groups));
    }
    out
}

/// What to do with an ad.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// In the Bayesian FDR set: the largest set of ads, most certain first, whose expected share
    /// of wrong scale calls (CAC truly above target) is at most the FDR.
    Scale,
    /// P(CAC > k x target) >= the scale probability.
    Pause,
    /// CAC most likely between target and k x target.
    Optimize,
    /// Undecided: the clicks still needed at the current rate.
    NeedsData(f64),
    /// A brand campaign's ad that attributed CAC alone would scale: attribution cannot tell buyers
    /// who would have come anyway, so the call waits for incrementality evidence (an on/off test).
    NeedsTest,
}

/// A brand campaign is never scaled on attributed CAC alone: what would be a scale waits for an
/// on/off test. Every other verdict stands (a brand ad too expensive even by attribution is).
pub fn without_incrementality(verdict: Verdict, brand: bool) -> Verdict {
    if brand && verdict == Verdict::Scale { Verdict::NeedsTest } else { verdict }
}

/// The decision thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Pause when CAC > this multiple of target.
    pub pause_multiple: f64,
    /// Probability for pause (and the power of the clicks still needed).
    pub probability: f64,
    /// Bayesian FDR ceiling on the scale set: the rule that selects it.
    pub fdr: f64,
}

/// An ad's probabilities under its posterior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Odds {
    /// P(CAC <= target).
    pub p_within: f64,
    /// P(CAC > k x target).
    pub p_above: f64,
}

/// P(CAC <= target) and P(CAC > k x target), with CAC = cost / (clicks x p).
pub fn odds(posterior: &Posterior, counts: &Counts, target: f64, rule: &Rule) -> Option<Odds> {
    if counts.clicks <= 0.0 || counts.cost <= 0.0 {
        return None;
    }
    // CAC <= T  <=>  p >= cost / (clicks T).
    let at_target = counts.cost / (counts.clicks * target);
    let at_pause = counts.cost / (counts.clicks * target * rule.pause_multiple);
    let p_within = if at_target >= 1.0 { 0.0 } else { posterior.prob_at_least(at_target) };
    let p_above = if at_pause >= 1.0 { 1.0 } else { 1.0 - posterior.prob_at_least(at_pause) };
    Some(Odds { p_within, p_above })
}

/// Bayesian FDR q-values of "CAC <= target" claims (Newton et al. 2004): sorted by the probability of
/// being wrong, the q-value of an ad is the mean probability of being wrong over it and every ad more
/// certain than it. The running mean never falls, so `q <= fdr` is the largest such prefix whose
/// expected false discovery share is at most `fdr`: the scale set.
pub fn q_values(p_within: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..p_within.len()).filter(|&i| p_within[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (p_within[a].unwrap_or(0.0), p_within[b].unwrap_or(0.0));
        pb.total_cmp(&pa).then(a.cmp(&b))
    });
    let mut q = vec![None; p_within.len()];
    let mut wrong = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        wrong += 1.0 - p_within[i].unwrap_or(0.0);
        q[i] = Some(wrong / (rank + 1) as f64);
    }
    q
}

/// The verdict of one ad; `q` is its q-value.
pub fn verdict(posterior: &Posterior, counts: &Counts, odds: &Odds, q: f64, target: f64, rule: &Rule) -> Verdict {
    // The FDR cut selects; an ad below the floor never enters however certain the rest.
    if q <= rule.fdr && odds.p_within >= SCALE_FLOOR {
        return Verdict::Scale;
    }
    if odds.p_above >= rule.probability {
        return Verdict::Pause;
    }
    let cpc = counts.cost / counts.clicks;
    let (scale_rate, pause_rate) = (cpc / target, cpc / (target * rule.pause_multiple));
    let mean = posterior.mean();
    // Clicks (effective) at which, if the rate is the current mean, the posterior clears the nearer
    // boundary with the decision probability in POWER of the outcomes (the one-sided sample size
    // n = m (1 - m) (z_probability + z_power)^2 / gap^2, less the clicks already in the posterior).
    let z = upshot_stats::normal_quantile(rule.probability) + upshot_stats::normal_quantile(POWER);
    let needed = |boundary: f64| -> f64 {
        let gap = (mean - boundary).abs().max(1e-12);
        let concentration = mean * (1.0 - mean) * z * z / (gap * gap);
        (concentration - (posterior.alpha + posterior.beta)).max(0.0)
    };
    if mean > scale_rate {
        Verdict::NeedsData(needed(scale_rate).max(1.0))
    } else if mean < pause_rate {
        Verdict::NeedsData(needed(pause_rate).max(1.0))
    } else {
        Verdict::Optimize
    }
}

/// The odds of an ad judged on incremental CAC = attributed CAC / factor: P(CAC / low <= target)
/// for the scale side and P(CAC / high > k x target) for the pause side, so the call holds across
/// the factor's interval.
pub fn incremental_odds(posterior: &Posterior, counts: &Counts, target: f64, low: f64, high: f64, rule: &Rule) -> Option<Odds> {
    let scale = odds(posterior, counts, target * low, rule)?;
    let pause = odds(posterior, counts, target * high, rule)?;
    Some(Odds { p_within: scale.p_within, p_above: pause.p_above })
}

/// Decisions per ad: the odds of every ad with a target (on incremental CAC where a factor covers
/// its campaign), the q-values over them, the verdicts.
pub(crate) fn decide_ads(ad_level: &[crate::Segment], params: &crate::Params) -> Vec<crate::model::AdDecision> {
    let rule = Rule { pause_multiple: params.pause_multiple, probability: params.scale_probability, fdr: params.fdr };
    let brand = |s: &crate::Segment| params.brand_campaigns.as_ref().is_some_and(|m| m.matches(&s.keys[1]));
    let factor = |s: &crate::Segment| params.incrementality.iter().position(|f| f.matches(&s.keys[1]));
    let candidates: Vec<Option<(f64, Odds)>> = ad_level
        .par_iter()
        .map(|s| {
            let target = params.target_cac.of(&s.keys[0])?;
            let counts = s.measures.counts();
            let o = match factor(s).map(|i| &params.incrementality[i]) {
                Some(f) => incremental_odds(&s.posterior, &counts, target, f.low, f.high, &rule),
                None => odds(&s.posterior, &counts, target, &rule),
            };
            o.map(|o| (target, o))
        })
        .collect();
    let q = q_values(&candidates.iter().map(|c| c.map(|(_, o)| o.p_within)).collect::<Vec<_>>());
    candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (target, odds) = (*c)?;
            let s = &ad_level[i];
            let qi = q[i].unwrap_or(1.0);
            let incrementality = factor(s);
            let judged_at = incrementality.map_or(target, |f| target * params.incrementality[f].factor);
            let v = verdict(&s.posterior, &s.measures.counts(), &odds, qi, judged_at, &rule);
            Some(crate::model::AdDecision {
                index: i,
                target,
                odds,
                q: qi,
                // Evidence of incrementality lets a brand ad be decided; without it a scale waits for a test.
                verdict: if incrementality.is_some() { v } else { without_incrementality(v, brand(s)) },
                naive: s.measures.purchases > 0.0 && s.measures.cost / s.measures.purchases < target,
                incrementality,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn brand_ads_wait_for_a_test_instead_of_scaling() {
        use super::{Verdict, without_incrementality};
        assert_eq!(without_incrementality(Verdict::Scale, true), Verdict::NeedsTest);
        assert_eq!(without_incrementality(Verdict::Scale, false), Verdict::Scale);
        assert_eq!(without_incrementality(Verdict::Pause, true), Verdict::Pause);
    }

    use super::*;

    #[test]
    fn hand_computed_two_level_shrinkage() {
        // Parent mean 5%, concentration fixed by hand at 100: an ad with 3 purchases in 20 effective clicks
        // has posterior Beta(5 + 3, 95 + 17) = mean 8 / 120.
        let m = 0.05;
        let kappa = 100.0;
        let post = Posterior { alpha: m * kappa + 3.0, beta: (1.0 - m) * kappa + 17.0 };
        assert!((post.mean() - 8.0 / 120.0).abs() < 1e-12);
        // shrink_level with agreeing siblings pulls the odd one toward the parent.
        let counts: Vec<Counts> = (0..40)
            .map(|i| Counts { purchases: if i == 0 { 6.0 } else { 5.0 }, effective_clicks: 100.0, clicks: 100.0, cost: 100.0 })
            .collect();
        let (kappas, posts) = shrink_level(&counts, &vec![(0.05, 0.0); 40], &[0; 40]);
        let kappa = kappas[0].kappa;
        assert!(kappa > 100.0, "siblings agree: strong pooling, kappa {kappa}");
        assert!(posts[0].mean() < 0.06 && posts[0].mean() > 0.05, "{}", posts[0].mean());
    }

    #[test]
    fn the_fdr_cut_binds_it_admits_less_certain_ads_when_the_rest_are_sure_and_stops_at_the_budget() {
        let rule = Rule { pause_multiple: 2.0, probability: 0.9, fdr: 0.1 };
        // Nine near-certain winners leave room in the error budget for three at 0.8: all twelve scale,
        // three of them below the 0.9 a per-ad threshold would ask.
        let mut p: Vec<Option<f64>> = vec![Some(0.99); 9];
        p.extend([Some(0.8); 3]);
        let q = q_values(&p);
        assert!(q.iter().all(|q| q.is_some_and(|q| q <= rule.fdr)), "{q:?}");
        // Alone, ads at 0.96, 0.86 and 0.7: the running mean is 0.09 after two and 0.16 after the
        // third, so the cut keeps two; a per-ad 0.9 rule would keep one.
        let q = q_values(&[Some(0.96), Some(0.86), Some(0.7)]);
        let kept: Vec<bool> = q.iter().map(|q| q.is_some_and(|q| q <= rule.fdr)).collect();
        assert_eq!(kept, [true, true, false]);
        let counts = Counts { purchases: 40.0, effective_clicks: 1000.0, clicks: 1000.0, cost: 1000.0 };
        let post = Posterior { alpha: 40.0, beta: 960.0 };
        let odds = Odds { p_within: 0.85, p_above: 0.0 };
        assert_eq!(verdict(&post, &counts, &odds, 0.0975, 50.0, &rule), Verdict::Scale);
        assert_ne!(verdict(&post, &counts, &odds, 0.11, 50.0, &rule), Verdict::Scale);
        // Never an ad below the floor.
        let coin = Odds { p_within: 0.79, p_above: 0.0 };
        assert_ne!(verdict(&post, &counts, &coin, 0.01, 50.0, &rule), Verdict::Scale);
    }

    #[test]
    fn groups_get_their_own_concentration_and_small_groups_the_pooled_one() {
        // Twenty generic keywords at 2% and ten brand keywords spread widely around 60%: one
        // concentration for both would be wrong for each.
        let mut counts = Vec::new();
        let mut groups = Vec::new();
        let mut parents = Vec::new();
        for i in 0..20 {
            counts.push(Counts { purchases: 20.0 + (i % 3) as f64, effective_clicks: 1000.0, clicks: 1000.0, cost: 1000.0 });
            groups.push(0);
            parents.push((0.02, 0.0));
        }
        for i in 0..10 {
            counts.push(Counts { purchases: [30.0, 90.0][i % 2], effective_clicks: 100.0, clicks: 100.0, cost: 100.0 });
            groups.push(1);
            parents.push((0.6, 0.0));
        }
        for _ in 0..2 {
            counts.push(Counts { purchases: 5.0, effective_clicks: 100.0, clicks: 100.0, cost: 100.0 });
            groups.push(2);
            parents.push((0.05, 0.0));
        }
        let (k, posts) = shrink_level(&counts, &parents, &groups);
        assert_eq!(k.len(), 3);
        assert!(!k[0].pooled && !k[1].pooled && k[2].pooled && k[2].units == 2, "{k:?}");
        assert!(k[0].kappa > 10.0 * k[1].kappa, "alike generic keywords pool harder: {k:?}");
        // A brand keyword with 30 of 100 keeps most of its own rate under the brand group's spread.
        assert!(posts[20].mean() < 0.4, "{}", posts[20].mean());
    }

    #[test]
    fn incremental_odds_hold_across_the_factors_interval() {
        let rule = Rule { pause_multiple: 2.0, probability: 0.9, fdr: 0.1 };
        // 1,000 clicks at $1 with a rate tight at 4%: attributed CAC $25.
        let counts = Counts { purchases: 40.0, effective_clicks: 1000.0, clicks: 1000.0, cost: 1000.0 };
        let post = Posterior { alpha: 400.0, beta: 9600.0 };
        // Factor 0.5 (0.3 to 0.7) against a $150 target: incremental CAC $50 at worst $83: a scale.
        let o = incremental_odds(&post, &counts, 150.0, 0.3, 0.7, &rule).expect("odds");
        assert!(o.p_within > 0.999, "{o:?}");
        // Against a $60 target the worst end ($83) fails the scale side; the pause side ($25 / 0.7 =
        // $36 vs 2 x $60) is far.
        let o = incremental_odds(&post, &counts, 60.0, 0.3, 0.7, &rule).expect("odds");
        assert!(o.p_within < 0.001 && o.p_above < 0.001, "{o:?}");
        assert_eq!(odds(&post, &counts, 60.0 * 0.3, &rule).map(|x| x.p_within), Some(o.p_within));
    }

    #[test]
    fn q_values_are_running_means_of_the_error_probabilities() {
        let q = q_values(&[Some(0.99), None, Some(0.9), Some(0.5)]);
        assert_eq!(q[1], None);
        assert!((q[0].expect("q") - 0.01).abs() < 1e-12);
        assert!((q[2].expect("q") - 0.055).abs() < 1e-12);
        assert!((q[3].expect("q") - (0.01 + 0.1 + 0.5) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn odds_and_verdicts() {
        let rule = Rule { pause_multiple: 2.0, probability: 0.9, fdr: 0.1 };
        // 1,000 clicks at $1: CAC <= $50 needs p >= 2%. A posterior tight at 4% is a clear scale.
        let counts = Counts { purchases: 40.0, effective_clicks: 1000.0, clicks: 1000.0, cost: 1000.0 };
        let post = Posterior { alpha: 40.0, beta: 960.0 };
        let o = odds(&post, &counts, 50.0, &rule).expect("odds");
        assert!(o.p_within > 0.999 && o.p_above < 0.001);
        assert_eq!(verdict(&post, &counts, &o, 0.0, 50.0, &rule), Verdict::Scale);
        // At 0.5% (CAC $200 > 2 x $50) it is a pause.
        let bad = Posterior { alpha: 5.0, beta: 995.0 };
        let o = odds(&bad, &counts, 50.0, &rule).expect("odds");
        assert_eq!(verdict(&bad, &counts, &o, 1.0, 50.0, &rule), Verdict::Pause);
        // 1 purchase in 30 clicks: looks good, but needs more clicks.
        let few = Counts { purchases: 1.0, effective_clicks: 30.0, clicks: 30.0, cost: 30.0 };
        let post = Posterior { alpha: 1.0 + 0.03 * 20.0, beta: 29.0 + 0.97 * 20.0 };
        let o = odds(&post, &few, 50.0, &rule).expect("odds");
        match verdict(&post, &few, &o, 0.3, 50.0, &rule) {
            Verdict::NeedsData(n) => assert!(n > 10.0, "{n}"),
            other => panic!("{other:?}"),
        }
        // No clicks or no cost: no odds.
        assert!(odds(&post, &Counts { clicks: 0.0, ..few }, 50.0, &rule).is_none());
        assert!(odds(&post, &Counts { cost: 0.0, ..few }, 50.0, &rule).is_none());
    }
}
