//! Blended attribution and its uncertainty, on customer *cells*.
//!
//! Every estimate of the survey analysis depends on a customer only through
//! its click channel, its promo channel, its survey state and its order-value
//! quartile. Customers are therefore collapsed into cells of identical keys
//! (a few hundred at most, whatever the number of orders), with their count,
//! first-order revenue and sum of squared revenue.
//!
//! **Attribution.** Each customer gets the first signal in `precedence` it has
//! (promo code, mapped survey answer). Customers that reach `click` have no
//! signal but their click: they are *extrapolated*. With
//! [`Extrapolation::Reweighted`] they take the answer mix of the *donors* in
//! their stratum (respondents with a mapped answer and no promo code, with the
//! same click channel, and the same order-value quartile when asked), which is
//! post-stratification: it is unbiased when answering is random within a
//! stratum (missing at random given the click channel), and it reproduces the
//! click-channel totals exactly, so no further raking to those totals is
//! needed. A quartile stratum without donors collapses to its click channel; a
//! click channel without donors keeps its customers on the click channel and is
//! reported. With [`Extrapolation::Naive`] there is one stratum (Fairing's
//! count / response rate).
//!
//! **Uncertainty.** A Bayesian bootstrap over customers (Rubin 1981): every
//! customer gets an Exp(1) weight. Summed within a cell, the weights are one
//! Gamma(n, 1) draw, so a draw costs one Gamma per cell, not one number per
//! customer: the same distribution, exactly. Revenue within a cell moves with
//! the weights and gets its within-cell spread by a normal term (the weighted
//! sum's exact mean and variance). Draws run in fixed chunks with their own
//! seeded streams, so the result does not depend on the number of threads.

use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use rayon::prelude::*;
use upshot_stats::rng::stream;

use crate::{Extrapolation, Source};

/// Where a customer's survey stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Answer {
    /// No survey row for the first order.
    NotSurveyed,
    /// Surveyed, no answer.
    NoResponse,
    /// Answered, but no rule of the answer map matches.
    Unmapped,
    /// Answered with a channel (index into [`Population::channels`]).
    Channel(usize),
}

impl Answer {
    /// Whether the customer answered (mapped or not).
    pub fn responded(self) -> bool {
        matches!(self, Answer::Unmapped | Answer::Channel(_))
    }

    /// Whether a survey was sent.
    pub fn surveyed(self) -> bool {
        self != Answer::NotSurveyed
    }
}

/// Customers with identical keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Click channel of the first order (index; organic included).
    pub click: usize,
    /// Channel of a mapped promo code on the first order.
    pub promo: Option<usize>,
    /// Survey state.
    pub answer: Answer,
    /// Order-value quartile of the first order (0 = lowest).
    pub band: usize,
    /// Customers.
    pub customers: f64,
    /// Sum of first-order revenue.
    pub revenue: f64,
    /// Sum of squared first-order revenue.
    pub revenue_sq: f64,
}

impl Cell {
    /// A cell of `customers` customers with no revenue (for hand-made cases).
    pub fn count(click: usize, promo: Option<usize>, answer: Answer, customers: f64) -> Self {
        Self { click, promo, answer, band: 0, customers, revenue: 0.0, revenue_sq: 0.0 }
    }
}

/// Every new customer, as cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Channel names; click, promo and answer indexes point here.
    pub channels: Vec<String>,
    /// Order-value quartiles in use (1 when revenue does not vary).
    pub bands: usize,
    /// The cells.
    pub cells: Vec<Cell>,
}

impl Population {
    /// Customers per cell.
    pub fn counts(&self) -> Vec<f64> {
        self.cells.iter().map(|c| c.customers).collect()
    }

    /// Revenue per cell.
    pub fn revenues(&self) -> Vec<f64> {
        self.cells.iter().map(|c| c.revenue).collect()
    }

    /// Customers in all.
    pub fn total(&self) -> f64 {
        self.cells.iter().map(|c| c.customers).sum()
    }

    /// Customers in the cells that pass `keep`.
    pub fn sum(&self, keep: impl Fn(&Cell) -> bool) -> f64 {
        self.cells.iter().filter(|c| keep(c)).map(|c| c.customers).sum()
    }
}

/// How signals are combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Which signal wins; ends with `Click`.
    pub precedence: Vec<Source>,
    /// How customers without a signal are extrapolated.
    pub extrapolation: Extrapolation,
    /// Post-stratify by order-value quartile too.
    pub by_order_value: bool,
}

/// Where a channel's blended customers come from.
pub const SOURCES: [&str; 4] = ["promo_code", "survey_answer", "extrapolated", "click_no_respondents"];

/// Customers (and revenue) per channel under one set of rules and weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Customers by click channel.
    pub click: Vec<f64>,
    /// Fairing's survey-only extrapolation: answers naming the channel / response rate.
    pub survey_extrapolated: Vec<f64>,
    /// Blended customers.
    pub blended: Vec<f64>,
    /// Blended first-order revenue.
    pub blended_revenue: Vec<f64>,
    /// Blended customers by source, in [`SOURCES`] order.
    pub by_source: Vec<[f64; 4]>,
    /// Click channels with customers to extrapolate but no donors: they stay on their click channel.
    pub no_donors: Vec<usize>,
    /// Customers whose click channel is organic/direct (the last channel) attributed to another
    /// channel: the "organic" customers that came from paid channels.
    pub no_click_paid: f64,
    /// The measurement model's parameters behind this attribution, when it made it.
    pub fitted: Option<Fitted>,
}

impl Attribution {
    /// Nothing attributed yet, over `n` channels.
    pub fn empty(n: usize) -> Self {
        Self {
            click: vec![0.0; n],
            survey_extrapolated: vec![0.0; n],
            blended: vec![0.0; n],
            blended_revenue: vec![0.0; n],
            by_source: vec![[0.0; 4]; n],
            no_donors: Vec::new(),
            no_click_paid: 0.0,
            fitted: None,
        }
    }
}

/// The measurement model's parameters in channel terms (one bootstrap draw's, or the point fit's).
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// P(a mapped answer names the true origin).
    pub accuracy: f64,
    /// Response rate by true origin, per channel (`None` for channels that are no origin, and for
    /// every channel when response depends on the click channel).
    pub response_by_origin: Vec<Option<f64>>,
    /// Response without a paid click over response with one, same origin (response by origin only).
    pub no_click_ratio: Option<f64>,
}

/// Attributes customers with `weights` (customers per cell) and `revenue` (per cell).
pub fn attribute(population: &Population, weights: &[f64], revenue: &[f64], rules: &Rules) -> Attribution {
    let n = population.channels.len();
    let bands = population.bands.max(1);
    let uses_promo = rules.precedence.contains(&Source::Promo);
    let strata = match rules.extrapolation {
        Extrapolation::Naive => 1,
        // The measurement model is fitted elsewhere ([`crate::measurement`]); here it means its
        // post-stratified counterpart.
        Extrapolation::Reweighted | Extrapolation::Model if rules.by_order_value => n * bands,
        Extrapolation::Reweighted | Extrapolation::Model => n,
    };
    let stratum = |cell: &Cell| match rules.extrapolation {
        Extrapolation::Naive => 0,
        Extrapolation::Reweighted | Extrapolation::Model if rules.by_order_value => cell.click * bands + cell.band.min(bands - 1),
        Extrapolation::Reweighted | Extrapolation::Model => cell.click,
    };
    let mut out = Attribution::empty(n);
    let mut donors = vec![0.0f64; strata * n];
    let mut donors_by_click = vec![0.0f64; n * n];
    // Customers (and revenue) to extrapolate, by stratum and click channel.
    let mut open = vec![0.0f64; strata * n];
    let mut open_revenue = vec![0.0f64; strata * n];
    let mut total = 0.0;
    let mut answered = 0.0;
    for (i, cell) in population.cells.iter().enumerate() {
        let (w, r) = (weights[i], revenue[i]);
        total += w;
        out.click[cell.click] += w;
        let promo = if uses_promo { cell.promo } else { None };
        if let Answer::Channel(c) = cell.answer {
            answered += w;
            out.survey_extrapolated[c] += w;
            if promo.is_none() {
                donors[stratum(cell) * n + c] += w;
                donors_by_click[cell.click * n + c] += w;
            }
        }
        let mut decided = None;
        for source in &rules.precedence {
            match (source, promo, cell.answer) {
                (Source::Promo, Some(p), _) => decided = Some((p, 0)),
                (Source::Survey, _, Answer::Channel(c)) => decided = Some((c, 1)),
                (Source::Click, _, _) => break,
                _ => continue,
            }
            break;
        }
        match decided {
            Some((c, source)) => {
                if cell.click == n - 1 && c != n - 1 {
                    out.no_click_paid += w;
                }
                out.blended[c] += w;
                out.blended_revenue[c] += r;
                out.by_source[c][source] += w;
            }
            None => {
                let s = stratum(cell) * n + cell.click;
                open[s] += w;
                open_revenue[s] += r;
            }
        }
    }
    if answered > 0.0 {
        for value in &mut out.survey_extrapolated {
            *value *= total / answered;
        }
    }
    for s in 0..strata {
        let stratum_donors = &donors[s * n..(s + 1) * n];
        let stratum_total: f64 = stratum_donors.iter().sum();
        for h in 0..n {
            let (w, r) = (open[s * n + h], open_revenue[s * n + h]);
            if w <= 0.0 {
                continue;
            }
            let click_donors = &donors_by_click[h * n..(h + 1) * n];
            let click_total: f64 = click_donors.iter().sum();
            let mix = if stratum_total > 0.0 {
                Some((stratum_donors, stratum_total))
            } else if rules.extrapolation != Extrapolation::Naive && click_total > 0.0 {
                Some((click_donors, click_total))
            } else {
                None
            };
            match mix {
                Some((mix, mix_total)) => {
                    for (c, donors) in mix.iter().enumerate() {
                        let share = donors / mix_total;
                        if h == n - 1 && c != n - 1 {
                            out.no_click_paid += w * share;
                        }
                        out.blended[c] += w * share;
                        out.blended_revenue[c] += r * share;
                        out.by_source[c][2] += w * share;
                    }
                }
                None => {
                    out.blended[h] += w;
                    out.blended_revenue[h] += r;
                    out.by_source[h][3] += w;
                    if !out.no_donors.contains(&h) {
                        out.no_donors.push(h);
                    }
                }
            }
        }
    }
    out.no_donors.sort_unstable();
    out
}

/// A bootstrap `draw` of one fit moved by the shift from `base` (that fit's point estimate) to
/// `target` (another fit's): counts and revenue by their ratio (so they stay positive and keep
/// their relative spread), response rates by their difference. Clicks and the naive count are
/// the draw's.
pub fn moved(draw: &Attribution, base: &Attribution, target: &Attribution) -> Attribution {
    let scale = |d: f64, b: f64, t: f64| if b > 0.0 { d * t / b } else { (d + t - b).max(0.0) };
    let mut out = draw.clone();
    for c in 0..out.blended.len() {
        let (b, t) = (base.blended[c], target.blended[c]);
        out.blended[c] = scale(draw.blended[c], b, t);
        out.blended_revenue[c] = scale(draw.blended_revenue[c], base.blended_revenue[c], target.blended_revenue[c]);
        for (s, source) in out.by_source[c].iter_mut().enumerate() {
            *source = scale(draw.by_source[c][s], base.by_source[c][s], target.by_source[c][s]);
        }
    }
    out.no_click_paid = scale(draw.no_click_paid, base.no_click_paid, target.no_click_paid);
    if let (Some(f), Some(b), Some(t)) = (out.fitted.as_mut(), base.fitted.as_ref(), target.fitted.as_ref()) {
        for (c, r) in f.response_by_origin.iter_mut().enumerate() {
            if let (Some(r), Some(Some(rb)), Some(Some(rt))) =
                (r.as_mut(), b.response_by_origin.get(c), t.response_by_origin.get(c))
            {
                *r = (*r + rt - rb).clamp(0.0, 1.0);
            }
        }
    }
    out
}

/// Draws per seeded chunk; fixed, so results do not depend on the thread count.
const CHUNK: usize = 50;

/// Bayesian-bootstrap draws: for each draw, one [`Attribution`] per rule set.
pub fn bootstrap(population: &Population, rule_sets: &[Rules], draws: usize, seed: u64) -> Vec<Vec<Attribution>> {
    bootstrap_with(population, draws, seed, |weights, revenue| {
        rule_sets.iter().map(|rules| attribute(population, weights, revenue, rules)).collect()
    })
}

/// Bayesian-bootstrap draws of any estimator: `estimate(weights, revenue)` gets each draw's
/// customers and revenue per cell and returns that draw's attributions.
pub fn bootstrap_with<F>(population: &Population, draws: usize, seed: u64, estimate: F) -> Vec<Vec<Attribution>>
where
    F: Fn(&[f64], &[f64]) -> Vec<Attribution> + Sync,
{
    let total = population.total();
    let gammas: Vec<Option<Gamma<f64>>> =
        population.cells.iter().map(|c| if c.customers > 0.0 { Gamma::new(c.customers, 1.0).ok() } else { None }).collect();
    // Within-cell revenue spread: sqrt(n) x standard deviation.
    let spread: Vec<f64> = population
        .cells
        .iter()
        .map(|c| {
            if c.customers <= 0.0 {
                return 0.0;
            }
            let mean = c.revenue / c.customers;
            (c.revenue_sq - c.customers * mean * mean).max(0.0).sqrt()
        })
        .collect();
    let chunks = draws.div_ceil(CHUNK);
    (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut rng = stream(seed, "survey-bootstrap", chunk as u64);
            let in_chunk = CHUNK.min(draws - chunk * CHUNK);
            let mut out = Vec::with_capacity(in_chunk);
            let mut weights = vec![0.0f64; population.cells.len()];
            let mut revenue = vec![0.0f64; population.cells.len()];
            for _ in 0..in_chunk {
                let mut sum = 0.0;
                for (i, cell) in population.cells.iter().enumerate() {
                    let g = gammas[i].as_ref().map_or(0.0, |gamma| gamma.sample(&mut rng));
                    let z: f64 = if spread[i] > 0.0 { rng.sample(StandardNormal) } else { 0.0 };
                    let mean = if cell.customers > 0.0 { cell.revenue / cell.customers } else { 0.0 };
                    weights[i] = g;
                    revenue[i] = mean * g + spread[i] * z;
                    sum += g;
                }
                // Scale to the observed number of customers: a draw re-weights them, it does not add any.
                let scale = if sum > 0.0 { total / sum } else { 0.0 };
                for i in 0..weights.len() {
                    weights[i] *= scale;
                    revenue[i] *= scale;
                }
                out.push(estimate(&weights, &revenue));
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: usize = 0; // google_search
    const Y: usize = 1; // youtube
    const I: usize = 2; // influencers
    const O: usize = 3; // organic

    fn rules(extrapolation: Extrapolation) -> Rules {
        Rules { precedence: vec![Source::Promo, Source::Survey, Source::Click], extrapolation, by_order_value: false }
    }

    fn population(cells: Vec<Cell>) -> Population {
        Population {
            channels: ["google_search", "youtube", "influencers", "organic"].map(String::from).to_vec(),
            bands: 1,
            cells,
        }
    }

    /// 100 google clicks (40 answered: 30 google, 10 youtube) and 100 organic
    /// (50 answered: 20 youtube, 20 influencers, 10 organic); 10 organic-click
    /// customers used an influencer's promo code, 5 of whom answered "youtube".
    fn example() -> Population {
        population(vec![
            Cell::count(G, None, Answer::Channel(G), 30.0),
            Cell::count(G, None, Answer::Channel(Y), 10.0),
            Cell::count(G, None, Answer::NoResponse, 60.0),
            Cell::count(O, None, Answer::Channel(Y), 20.0),
            Cell::count(O, None, Answer::Channel(I), 20.0),
            Cell::count(O, None, Answer::Channel(O), 5.0),
            Cell::count(O, Some(I), Answer::Channel(Y), 5.0),
            Cell::count(O, Some(I), Answer::NoResponse, 5.0),
            Cell::count(O, None, Answer::NoResponse, 45.0),
        ])
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn reweighted_by_hand() {
        let p = example();
        let a = attribute(&p, &p.counts(), &p.revenues(), &rules(Extrapolation::Reweighted));
        assert!(close(&a.click, &[100.0, 0.0, 0.0, 100.0]));
        // Google stratum: donors 30 G / 10 Y -> its 60 open customers split 45 / 15.
        // Organic stratum: donors (no promo) 20 Y / 20 I / 5 O -> its 45 open split 20 / 20 / 5.
        // Promo: 10 influencers (promo beats the 5 "youtube" answers).
        // google 30 + 45 = 75; youtube 10 + 15 + 20 + 20 = 65; influencers 20 + 20 + 10 = 50; organic 5 + 5 = 10.
        assert!(close(&a.blended, &[75.0, 65.0, 50.0, 10.0]), "{:?}", a.blended);
        assert!((a.blended.iter().sum::<f64>() - 200.0).abs() < 1e-9, "shares sum to one");
        assert_eq!(a.by_source[I], [10.0, 20.0, 20.0, 0.0]);
        assert!(a.no_donors.is_empty());
        // Fairing: 90 mapped answers (30 + 10 + 20 + 20 + 5 + 5) of 200 customers; youtube 35 -> 35 x 200 / 90.
        assert!((a.survey_extrapolated[Y] - 35.0 * 200.0 / 90.0).abs() < 1e-9);
    }

    #[test]
    fn naive_uses_one_stratum() {
        let p = example();
        let a = attribute(&p, &p.counts(), &p.revenues(), &rules(Extrapolation::Naive));
        // Donors (no promo): 30 G, 30 Y, 20 I, 5 O = 85; open 105.
        let open = 105.0;
        let expected = [30.0 + open * 30.0 / 85.0, 30.0 + open * 30.0 / 85.0, 30.0 + open * 20.0 / 85.0, 5.0 + open * 5.0 / 85.0];
        assert!(close(&a.blended, &expected), "{:?}", a.blended);
    }

    #[test]
    fn survey_first_precedence_beats_promo() {
        let p = example();
        let r = Rules { precedence: vec![Source::Survey, Source::Promo, Source::Click], ..rules(Extrapolation::Reweighted) };
        let a = attribute(&p, &p.counts(), &p.revenues(), &r);
        // The 5 promo customers who answered youtube now count for youtube (10 + 20 + 5 answers);
        // the 5 silent ones stay on the promo.
        assert_eq!(a.by_source[Y][1], 35.0);
        assert_eq!(a.by_source[I][0], 5.0);
        assert!((a.blended.iter().sum::<f64>() - 200.0).abs() < 1e-9);
    }

    #[test]
    fn a_click_channel_without_respondents_stays_on_its_clicks() {
        let mut p = example();
        p.cells.push(Cell::count(Y, None, Answer::NoResponse, 40.0));
        p.cells.push(Cell::count(Y, None, Answer::NotSurveyed, 8.0));
        let a = attribute(&p, &p.counts(), &p.revenues(), &rules(Extrapolation::Reweighted));
        assert_eq!(a.no_donors, vec![Y]);
        assert_eq!(a.by_source[Y][3], 48.0);
        assert!(a.blended.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn order_value_strata_collapse_to_the_click_channel_when_empty() {
        let mut cells = vec![
            Cell { band: 0, ..Cell::count(G, None, Answer::Channel(G), 10.0) },
            Cell { band: 1, ..Cell::count(G, None, Answer::Channel(Y), 10.0) },
            Cell { band: 0, ..Cell::count(G, None, Answer::NoResponse, 30.0) },
            Cell { band: 1, ..Cell::count(G, None, Answer::NoResponse, 10.0) },
        ];
        // Quartile 2 has no donors: its customers take the whole click channel's mix (half G, half Y).
        cells.push(Cell { band: 2, ..Cell::count(G, None, Answer::NoResponse, 20.0) });
        let p = Population { bands: 3, ..population(cells) };
        let r = Rules { by_order_value: true, ..rules(Extrapolation::Reweighted) };
        let a = attribute(&p, &p.counts(), &p.revenues(), &r);
        assert!(close(&a.blended, &[10.0 + 30.0 + 10.0, 10.0 + 10.0 + 10.0, 0.0, 0.0]), "{:?}", a.blended);
    }

    #[test]
    fn revenue_follows_customers() {
        let p = population(vec![
            Cell { revenue: 300.0, revenue_sq: 30_000.0, ..Cell::count(O, None, Answer::Channel(Y), 3.0) },
            Cell { revenue: 100.0, revenue_sq: 10_000.0, ..Cell::count(O, None, Answer::Channel(O), 1.0) },
            Cell { revenue: 800.0, revenue_sq: 160_000.0, ..Cell::count(O, None, Answer::NoResponse, 4.0) },
        ]);
        let a = attribute(&p, &p.counts(), &p.revenues(), &rules(Extrapolation::Reweighted));
        assert!(close(&a.blended_revenue, &[0.0, 300.0 + 600.0, 0.0, 100.0 + 200.0]), "{:?}", a.blended_revenue);
    }

    #[test]
    fn bootstrap_is_reproducible_and_keeps_the_total() {
        let p = example();
        let sets = [rules(Extrapolation::Reweighted)];
        let a = bootstrap(&p, &sets, 120, 7);
        let b = bootstrap(&p, &sets, 120, 7);
        assert_eq!(a.len(), 120);
        assert_eq!(a, b);
        for draw in &a {
            assert!((draw[0].blended.iter().sum::<f64>() - 200.0).abs() < 1e-6);
        }
        let c = bootstrap(&p, &sets, 120, 8);
        assert_ne!(a, c);
    }
}
