//! Honest winners: on synthetic keywords with known conversion rates, about
//! 15 in 100 truly under the target CAC, the share of "scale" decisions that
//! are wrong stays under the 10% FDR the cut selects by (and the cut binds: it
//! changes calls of the per-ad 0.9 rule), while the naive rule (observed CAC < target)
//! picks many keywords whose true CAC is above target. Run with `--nocapture`
//! to see both rates.

use rand::Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use upshot_segments::decide::{Counts, Node, Rule, Verdict, odds, q_values, shrink_hierarchy, verdict};
use upshot_stats::rng::stream;

const RUNS: u64 = 300;

struct Keyword {
    counts: Counts,
    true_cac: f64,
    group: usize,
}

/// One account: 4 campaigns x 5 ad groups x 5 keywords; the target is the true CAC's 16th smallest, so
/// about 15 keywords in 100 are truly under it.
fn account(seed: u64) -> (Vec<Keyword>, usize, f64) {
    let mut rng = stream(seed, "segments-calibration", 0);
    let base = rng.random_range(0.01..0.04);
    let mut keywords = Vec::new();
    for campaign in 0..4 {
        let campaign_rate = base * (0.3 * rng.sample::<f64, _>(StandardNormal)).exp();
        for group in 0..5 {
            let group_rate = campaign_rate * (0.25 * rng.sample::<f64, _>(StandardNormal)).exp();
            for _ in 0..5 {
                let p = (group_rate * (0.35 * rng.sample::<f64, _>(StandardNormal)).exp()).min(0.5);
                let cpc = rng.random_range(0.8..3.0);
                let clicks = (rng.random_range(20f64.ln()..1000f64.ln())).exp().round();
                let purchases = Binomial::new(clicks as u64, p).map_or(0, |b| b.sample(&mut rng)) as f64;
                keywords.push(Keyword {
                    counts: Counts { purchases, effective_clicks: clicks, clicks, cost: clicks * cpc },
                    true_cac: cpc / p,
                    group: campaign * 5 + group,
                });
            }
        }
    }
    let mut cacs: Vec<f64> = keywords.iter().map(|k| k.true_cac).collect();
    cacs.sort_by(f64::total_cmp);
    let target = cacs[15];
    (keywords, 20, target)
}

#[test]
fn scale_decisions_are_rarely_wrong_and_the_naive_rule_often_is() {
    let rule = Rule { pause_multiple: 2.0, probability: 0.9, fdr: 0.1 };
    let (mut scaled, mut scaled_wrong, mut naive, mut naive_wrong, mut truly_good, mut found) = (0, 0, 0, 0, 0, 0);
    let (mut paused, mut paused_wrong) = (0, 0);
    // The old rule (P(CAC <= target) >= 0.9 per ad, whose q-value gate never bound), for comparison.
    let (mut per_ad, mut per_ad_wrong, mut differ) = (0, 0, 0);
    for seed in 0..RUNS {
        let (keywords, groups, target) = account(seed);
        // Levels: one channel, 4 campaigns, 20 ad groups, 100 keywords (sums roll up).
        let mut group_counts = vec![Counts::default(); groups];
        for k in &keywords {
            group_counts[k.group].add(&k.counts);
        }
        let mut campaign_counts = vec![Counts::default(); 4];
        for (g, c) in group_counts.iter().enumerate() {
            campaign_counts[g / 5].add(c);
        }
        let mut channel = Counts::default();
        for c in &campaign_counts {
            channel.add(c);
        }
        let levels = vec![
            vec![Node { parent: None, counts: channel, group: 0 }],
            campaign_counts.iter().map(|c| Node { parent: Some(0), counts: *c, group: 0 }).collect(),
            group_counts.iter().enumerate().map(|(g, c)| Node { parent: Some(g / 5), counts: *c, group: 0 }).collect(),
            keywords.iter().map(|k| Node { parent: Some(k.group), counts: k.counts, group: 0 }).collect(),
        ];
        let shrunk = shrink_hierarchy(&levels);
        let posteriors = &shrunk[3].1;
        let all_odds: Vec<_> = keywords.iter().zip(posteriors).map(|(k, p)| odds(p, &k.counts, target, &rule)).collect();
        let q = q_values(&all_odds.iter().map(|o| o.map(|o| o.p_within)).collect::<Vec<_>>());
        for (i, k) in keywords.iter().enumerate() {
            let good = k.true_cac <= target;
            truly_good += usize::from(good);
            if k.counts.purchases > 0.0 && k.counts.cost / k.counts.purchases < target {
                naive += 1;
                naive_wrong += usize::from(!good);
            }
            let Some(o) = all_odds[i] else { continue };
            let old_rule = o.p_within >= rule.probability;
            per_ad += usize::from(old_rule);
            per_ad_wrong += usize::from(old_rule && !good);
            let v = verdict(&posteriors[i], &k.counts, &o, q[i].unwrap_or(1.0), target, &rule);
            differ += usize::from(old_rule != (v == Verdict::Scale));
            match v {
                Verdict::Scale => {
                    scaled += 1;
                    scaled_wrong += usize::from(!good);
                    found += usize::from(good);
                }
                Verdict::Pause => {
                    paused += 1;
                    paused_wrong += usize::from(k.true_cac <= rule.pause_multiple * target);
                }
                _ => {}
            }
        }
    }
    let wrong = scaled_wrong as f64 / scaled.max(1) as f64;
    let naive_rate = naive_wrong as f64 / naive.max(1) as f64;
    eprintln!(
        "{RUNS} accounts x 100 keywords: scale {scaled} times, {:.1}% wrong (true CAC above target); naive rule picks {naive}, {:.1}% wrong; \
         scale finds {:.1}% of the {truly_good} truly good keywords; pause {paused} times, {:.1}% with true CAC under {}x target",
        100.0 * wrong,
        100.0 * naive_rate,
        100.0 * found as f64 / truly_good as f64,
        100.0 * paused_wrong as f64 / paused.max(1) as f64,
        rule.pause_multiple
    );
    eprintln!(
        "the old per-ad rule scales {per_ad} times, {:.1}% wrong; the FDR cut changes {differ} of those calls",
        100.0 * per_ad_wrong as f64 / per_ad.max(1) as f64
    );
    assert!(wrong < 0.10, "wrong scale share {wrong}");
    assert!(differ > scaled / 20, "the FDR cut binds: it changes {differ} of {scaled} scale calls");
    assert!(naive_rate > 0.3, "the naive rule should be noisy here: {naive_rate}");
    assert!(scaled > 0 && found as f64 > 0.1 * truly_good as f64, "scale finds some winners");
}
