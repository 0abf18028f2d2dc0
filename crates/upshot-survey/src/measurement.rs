//! The survey's measurement model: every customer's true origin is a latent class.
//!
//! Three parts, fitted together by maximum likelihood (EM) on the customer cells:
//! - **origin given the stratum** (the click channel, and the order-value quartile when asked):
//!   a free mix over the origins per stratum, for customers without a known origin;
//! - **response given the origin** ([`Response::Origin`]: customers of one true origin answer at
//!   one rate whatever their click) or given the click channel ([`Response::Click`], the
//!   post-stratified estimator's assumption), with the two compared on the same data;
//! - **answer given the origin**: a respondent gives an unmapped answer ("Other", free text the
//!   map does not catch) with an origin's own probability; a mapped answer names the true origin
//!   with probability `accuracy` and each other origin with an equal share of the rest.
//!
//! Customers of a mapped promo code have a known origin: they identify the accuracy and their
//! origin's response rate. Without them the accuracy comes from the config (an audit) or, when
//! neither is there, is not identified: the analysis then fits a grid of accuracies and reports
//! the union of their intervals (see `lib.rs`).
//!
//! The fit runs on cells (a few dozen), so a bootstrap draw re-fits the whole model from the
//! point fit in well under a millisecond.

use crate::model::{Answer, Attribution, Fitted, Population};

/// What a customer's chance of answering depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// The true origin (the measurement model's assumption).
    Origin,
    /// The click channel (the post-stratified estimator's assumption).
    Click,
}

/// Where the answer accuracy comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accuracy {
    /// Estimated from the customers of known origin (a mapped promo code) who answered.
    Estimated,
    /// Fixed: configured from an audit, or one point of the grid when it is not identified.
    Fixed(f64),
}

/// One model to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Channel indexes that can be a true origin (every channel an answer or a promo code names).
    pub origins: Vec<usize>,
    /// What response depends on.
    pub response: Response,
    /// The accuracy, estimated or fixed.
    pub accuracy: Accuracy,
    /// Strata by order-value quartile within click channel.
    pub by_order_value: bool,
    /// Promo-code customers have a known origin (the promo channel).
    pub known_origin: bool,
    /// With [`Response::Origin`]: the response rate of customers without a paid click (click
    /// channel organic/direct, the last channel) over that of the same origin's customers with
    /// one: estimated from the known-origin customers, or fixed (1 is the plain model; the
    /// sensitivity bound fits the ends of `response_ratio`).
    pub no_click: Ratio,
    /// A corner of the wrong-answer bound ([`AnswerBound`]): accuracy by origin and wrong answers
    /// concentrated on, or kept away from, one origin; `None` is the model as stated (one accuracy,
    /// wrong answers spread evenly).
    pub tilt: Option<Tilt>,
}

/// One corner of the wrong-answer bound, for one origin: its count as low as the bound allows
/// (`low`: its own answers more accurate, the others' less, and as many of their wrong answers
/// as the bound allows naming it) or as high (the reverse).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tilt {
    /// Origin index (into [`Spec::origins`]).
    pub origin: usize,
    /// The low corner (else the high one).
    pub low: bool,
    /// The bound.
    pub bound: AnswerBound,
}

/// How far answers may depart from "one accuracy, wrong answers spread evenly" (the model's
/// statement, which the data cannot check without known-origin customers of every origin):
/// each origin's accuracy within `spread` of the fitted one, and at most `share` of one origin's
/// wrong answers naming any one other origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerBound {
    /// Largest difference between an origin's accuracy and the fitted one.
    pub spread: f64,
    /// Largest share of an origin's wrong answers that name one other origin.
    pub share: f64,
}

impl AnswerBound {
    /// No bound: the model as stated.
    pub const OFF: AnswerBound = AnswerBound { spread: 0.0, share: 0.0 };

    /// Whether the bound moves anything with `k` origins.
    pub fn active(&self, k: usize) -> bool {
        k > 1 && (self.spread > 0.0 || (k > 2 && self.share > 1.0 / (k - 1) as f64))
    }
}

/// P(a mapped answer names origin `a` | true origin `o`) at `[o * k + a]`: the accuracy on the
/// diagonal and the rest spread evenly, or tilted to one corner of the bound.
fn answer_matrix(accuracy: f64, k: usize, tilt: Option<Tilt>) -> Vec<f64> {
    let mut m = vec![0.0; k * k];
    for o in 0..k {
        let own = match tilt {
            None => accuracy,
            // The low corner raises the origin's own accuracy and lowers the others'.
            Some(t) => {
                let up = (t.origin == o) == t.low;
                (accuracy + if up { t.bound.spread } else { -t.bound.spread }).clamp(ACCURACY_FLOOR, 1.0 - EDGE)
            }
        };
        m[o * k + o] = own;
        if k == 1 {
            continue;
        }
        let wrong = 1.0 - own;
        let even = 1.0 / (k - 1) as f64;
        // The share of o's wrong answers that name the tilted origin; the rest spread evenly.
        let to_tilted = match tilt {
            Some(t) if t.origin != o && k > 2 => {
                let share = t.bound.share.max(even).min(1.0);
                Some((t.origin, if t.low { share } else { (1.0 - share * (k - 2) as f64).max(0.0) }))
            }
            _ => None,
        };
        for a in (0..k).filter(|&a| a != o) {
            m[o * k + a] = wrong
                * match to_tilted {
                    Some((t, s)) if a == t => s,
                    Some((_, s)) => (1.0 - s) / (k - 2) as f64,
                    None => even,
                };
        }
    }
    m
}

/// The no-click response ratio of a [`Spec`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ratio {
    /// From the known-origin customers with and without a paid click (Mantel-Haenszel).
    Estimated,
    /// Fixed.
    Fixed(f64),
}

impl Spec {
    /// Response rates a fit holds: one per origin, or one per click channel.
    fn response_len(&self, cells: &Cells) -> usize {
        match self.response {
            Response::Origin => cells.origins,
            Response::Click => cells.channels,
        }
    }

    /// The response rate of origin `o`'s customers with click channel `click` under `fit`.
    fn rate(&self, fit: &Fit, cells: &Cells, o: usize, click: usize) -> f64 {
        match self.response {
            Response::Origin if click + 1 == cells.channels => (fit.response[o] * fit.no_click_ratio).min(1.0 - EDGE),
            Response::Origin => fit.response[o],
            Response::Click => fit.response[click],
        }
    }
}

/// The smallest accuracy a fit may reach: below it, "the answer names the origin" is no longer
/// the likeliest answer and origins could swap labels.
pub const ACCURACY_FLOOR: f64 = 0.5;
const MAX_ITERATIONS: usize = 5_000;
const TOLERANCE: f64 = 1e-14;
const EDGE: f64 = 1e-9;

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Origin mix per stratum (strata x origins, row-major).
    pub mix: Vec<f64>,
    /// Response rate per origin ([`Response::Origin`]) or per click channel ([`Response::Click`]).
    pub response: Vec<f64>,
    /// Share of an origin's respondents whose answer maps to no channel.
    pub unmapped: Vec<f64>,
    /// P(a mapped answer names the true origin).
    pub accuracy: f64,
    /// Response of customers without a paid click over that of the same origin's with one.
    pub no_click_ratio: f64,
    /// Log-likelihood of the data (weighted by the cells' customers).
    pub loglik: f64,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether the log-likelihood stopped moving before the iteration limit.
    pub converged: bool,
}

/// A survey state the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    NotSurveyed,
    NoResponse,
    Unmapped,
    /// A mapped answer naming origin `k` (index into `Spec::origins`).
    Named(usize),
    /// A mapped answer naming a channel that is no origin (cannot happen when origins hold every
    /// answer channel; kept so no customer is ever dropped).
    Elsewhere,
}

/// Customers with identical keys for the model.
#[derive(Debug, Clone, PartialEq)]
struct ModelCell {
    stratum: usize,
    click: usize,
    known: Option<usize>,
    state: State,
}

/// The population collapsed to the model's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    cells: Vec<ModelCell>,
    /// Model cell of every population cell.
    of: Vec<usize>,
    strata: usize,
    origins: usize,
    channels: usize,
    /// Strata whose customers gave no answer at all: their mix is fixed to the click channel's
    /// origin (nothing to learn it from), or left uniform when the click channel is no origin.
    silent: Vec<bool>,
    /// Origin index of each stratum's click channel, when it is an origin.
    click_origin: Vec<Option<usize>>,
}

impl Cells {
    /// Collapses `population` to the keys `spec` reads.
    pub fn new(population: &Population, spec: &Spec) -> Self {
        let n = population.channels.len();
        let bands = if spec.by_order_value { population.bands.max(1) } else { 1 };
        let origin_of = |channel: usize| spec.origins.iter().position(|&o| o == channel);
        let mut keys: Vec<(usize, usize, Option<usize>, State)> = Vec::new();
        let mut of = Vec::with_capacity(population.cells.len());
        for cell in &population.cells {
            let stratum = cell.click * bands + if spec.by_order_value { cell.band.min(bands - 1) } else { 0 };
            let known = if spec.known_origin { cell.promo.and_then(origin_of) } else { None };
            let state = match cell.answer {
                Answer::NotSurveyed => State::NotSurveyed,
                Answer::NoResponse => State::NoResponse,
                Answer::Unmapped => State::Unmapped,
                Answer::Channel(c) => origin_of(c).map_or(State::Elsewhere, State::Named),
            };
            let key = (stratum, cell.click, known, state);
            let index = match keys.iter().position(|k| *k == key) {
                Some(i) => i,
                None => {
                    keys.push(key);
                    keys.len() - 1
                }
            };
            of.push(index);
        }
        let strata = n * bands;
        let mut answered = vec![false; strata];
        let mut click_origin = vec![None; strata];
        for &(stratum, click, known, state) in &keys {
            click_origin[stratum] = origin_of(click);
            if known.is_none() && !matches!(state, State::NotSurveyed | State::NoResponse) {
                answered[stratum] = true;
            }
        }
        let cells = keys.into_iter().map(|(stratum, click, known, state)| ModelCell { stratum, click, known, state }).collect();
        Self {
            cells,
            of,
            strata,
            origins: spec.origins.len(),
            channels: n,
            silent: answered.iter().map(|a| !a).collect(),
            click_origin,
        }
    }

    /// Customers per model cell under population weights.
    fn weights(&self, population_weights: &[f64]) -> Vec<f64> {
        let mut w = vec![0.0; self.cells.len()];
        for (i, &m) in self.of.iter().enumerate() {
            w[m] += population_weights[i];
        }
        w
    }

    /// Click channels with customers to extrapolate but no respondent to learn their mix from.
    pub fn silent_clicks(&self, population: &Population) -> Vec<usize> {
        let bands = self.strata / self.channels.max(1);
        let mut out: Vec<usize> = (0..self.strata)
            .filter(|&s| self.silent[s] && self.cells.iter().any(|c| c.stratum == s && c.known.is_none()))
            .map(|s| s / bands.max(1))
            .collect();
        out.dedup();
        out.retain(|&h| population.sum(|c| c.click == h) > 0.0);
        out
    }

    /// The number of free parameters and of data degrees of freedom of `spec` on these cells,
    /// and the number of strata with unknown-origin respondents.
    pub fn count(&self, spec: &Spec) -> Identification {
        let k = self.origins;
        let informative: Vec<usize> = (0..self.strata).filter(|&s| !self.silent[s]).collect();
        let used_strata = informative.iter().filter(|&&s| self.cells.iter().any(|c| c.stratum == s && c.known.is_none())).count();
        let response = match spec.response {
            Response::Origin => k,
            Response::Click => {
                let mut clicks: Vec<usize> = self.cells.iter().map(|c| c.click).collect();
                clicks.sort_unstable();
                clicks.dedup();
                clicks.len()
            }
        };
        let parameters = used_strata * k.saturating_sub(1) + response + k + usize::from(spec.accuracy == Accuracy::Estimated);
        // Per group of customers (a stratum's unknown-origin customers, or one known origin's):
        // the surveyed customers fall into K mapped answers, unmapped or no response (K + 1 free
        // shares).
        let mut groups: Vec<(usize, Option<usize>)> = self
            .cells
            .iter()
            .filter(|c| c.state != State::NotSurveyed && (c.known.is_some() || !self.silent[c.stratum]))
            .map(|c| (if c.known.is_some() { usize::MAX } else { c.stratum }, c.known))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        Identification { origins: k, strata: used_strata, parameters, degrees_of_freedom: groups.len() * (k + 1) }
    }
}

/// The counting side of identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identification {
    /// Origins (K).
    pub origins: usize,
    /// Strata with unknown-origin respondents.
    pub strata: usize,
    /// Free parameters of the model.
    pub parameters: usize,
    /// Free shares in the data it is fitted to.
    pub degrees_of_freedom: usize,
}

impl Identification {
    /// Whether the data have at least as many free shares as the model has parameters.
    pub fn counts(&self) -> bool {
        self.degrees_of_freedom >= self.parameters
    }
}

/// P(state | origin k) for one cell, given the parameters; `r` is the response rate that
/// applies to this cell and origin, `named` the [`answer_matrix`].
fn likelihood(state: State, k: usize, r: f64, unmapped: f64, named: &[f64], origins: usize) -> f64 {
    match state {
        State::NotSurveyed => 1.0,
        State::NoResponse => 1.0 - r,
        State::Unmapped => r * unmapped,
        State::Named(a) => r * (1.0 - unmapped) * named[k * origins + a],
        // Never produced when origins hold every answer channel: treated like an unmapped answer.
        State::Elsewhere => r * unmapped,
    }
}

/// Re-fits a bootstrap draw from the point fit, with every mix share raised to at least
/// [`WARM_FLOOR`]: a share at zero would stay at zero under EM, so a draw could never move a
/// boundary estimate and its interval would be too narrow there.
pub fn refit(cells: &Cells, population_weights: &[f64], spec: &Spec, point: &Fit) -> Fit {
    let k = cells.origins.max(1);
    let mut start = point.clone();
    for (s, row) in start.mix.chunks_mut(k).enumerate() {
        if cells.silent[s] {
            continue;
        }
        row.iter_mut().for_each(|p| *p = p.max(WARM_FLOOR));
        let sum: f64 = row.iter().sum();
        row.iter_mut().for_each(|p| *p /= sum);
    }
    fit_to(cells, population_weights, spec, Some(&start), REFIT_TOLERANCE)
}

/// A bootstrap draw's fit stops when the log-likelihood moves by less than this share of itself:
/// looser than the point fit's [`TOLERANCE`], as a draw's own sampling error is orders of
/// magnitude above what the last digits of its fit would change.
const REFIT_TOLERANCE: f64 = 1e-10;

/// The smallest mix share a bootstrap draw starts from.
pub const WARM_FLOOR: f64 = 1e-3;

/// P(a mapped answer names the origin) among respondents of known origin, under `w`.
fn known_accuracy(cells: &Cells, w: &[f64]) -> Option<f64> {
    let (mut named, mut correct) = (0.0, 0.0);
    for (cell, &weight) in cells.cells.iter().zip(w) {
        if let (Some(o), State::Named(a)) = (cell.known, cell.state) {
            named += weight;
            if a == o {
                correct += weight;
            }
        }
    }
    (named > 0.0).then(|| correct / named)
}

/// The no-click response ratio's limits in a fit.
const RATIO_LIMITS: (f64, f64) = (0.25, 4.0);

/// Known-origin customers surveyed, with a paid click and without one.
fn known_surveyed(cells: &Cells, w: &[f64]) -> (f64, f64) {
    let (mut paid, mut none) = (0.0, 0.0);
    for (cell, &weight) in cells.cells.iter().zip(w) {
        if cell.known.is_some() && cell.state != State::NotSurveyed {
            if cell.click + 1 == cells.channels {
                none += weight;
            } else {
                paid += weight;
            }
        }
    }
    (paid, none)
}

/// The Mantel-Haenszel risk ratio of answering, without a paid click over with one, across the
/// known origins (each origin a stratum): sum y_none n_paid / N over sum y_paid n_none / N.
fn known_ratio(cells: &Cells, w: &[f64]) -> Option<f64> {
    let k = cells.origins;
    // Per origin: [answered paid, surveyed paid, answered none, surveyed none].
    let mut t = vec![[0.0f64; 4]; k];
    for (cell, &weight) in cells.cells.iter().zip(w) {
        let Some(o) = cell.known else { continue };
        if cell.state == State::NotSurveyed {
            continue;
        }
        let none = usize::from(cell.click + 1 == cells.channels) * 2;
        t[o][none + 1] += weight;
        if cell.state != State::NoResponse {
            t[o][none] += weight;
        }
    }
    let (mut top, mut bottom) = (0.0, 0.0);
    for [yp, np, yn, nn] in t {
        let all = np + nn;
        if all > 0.0 {
            top += yn * np / all;
            bottom += yp * nn / all;
        }
    }
    (top > 0.0 && bottom > 0.0).then(|| top / bottom)
}

/// Fits `spec` to the cells with `population_weights` customers per population cell, starting
/// from `start` (the point fit, for bootstrap draws) or from a neutral start.
///
/// EM, accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3): two EM steps give a
/// direction, one extrapolated step along it is projected back into the parameter space and
/// kept only when it does not lower the likelihood, so the fit keeps EM's monotone ascent and
/// converges in tens of iterations where plain EM needs thousands.
pub fn fit(cells: &Cells, population_weights: &[f64], spec: &Spec, start: Option<&Fit>) -> Fit {
    fit_to(cells, population_weights, spec, start, TOLERANCE)
}

/// [`fit`], stopping when the log-likelihood moves by less than `tolerance` of itself.
fn fit_to(cells: &Cells, population_weights: &[f64], spec: &Spec, start: Option<&Fit>, tolerance: f64) -> Fit {
    let w = cells.weights(population_weights);
    let (k, strata) = (cells.origins, cells.strata);
    let response_len = spec.response_len(cells);
    // Estimated: from the known-origin respondents alone, in closed form (their answers name
    // their origin or not). Estimating it jointly with the free per-stratum mixes would let those
    // mixes absorb wrong answers as real origins (a true zero can only be over-estimated), which
    // biases the accuracy up and inflates the small channels.
    let accuracy = match spec.accuracy {
        Accuracy::Fixed(a) => a,
        Accuracy::Estimated => known_accuracy(cells, &w).unwrap_or(0.8),
    }
    .clamp(ACCURACY_FLOOR, 1.0 - EDGE);
    // Estimated the same way: from the known-origin customers with and without a paid click.
    let ratio = match (spec.response, spec.no_click) {
        (Response::Click, _) => 1.0,
        (Response::Origin, Ratio::Fixed(t)) => t,
        (Response::Origin, Ratio::Estimated) => known_ratio(cells, &w).unwrap_or(1.0),
    }
    .clamp(RATIO_LIMITS.0, RATIO_LIMITS.1);
    let current = match start {
        Some(s) if s.mix.len() == strata * k && s.response.len() == response_len => s.clone(),
        // Mixtures have local maxima: a cold fit tries three starts and keeps the best.
        _ => {
            let starts = [initial(cells, &w, spec, (accuracy, ratio), 0.0), initial(cells, &w, spec, (accuracy, ratio), 0.01), {
                let mut uniform = initial(cells, &w, spec, (accuracy, ratio), 0.0);
                uniform.mix.fill(1.0 / k.max(1) as f64);
                uniform
            }];
            let mut best: Option<Fit> = None;
            for start in starts {
                let f = fit_to(cells, population_weights, spec, Some(&start), tolerance);
                if best.as_ref().is_none_or(|b| f.loglik > b.loglik + 1e-9) {
                    best = Some(f);
                }
            }
            return best.expect("three starts");
        }
    };
    let mut current = current;
    current.accuracy = accuracy;
    current.no_click_ratio = ratio;
    if spec.response == Response::Origin {
        current.response.iter_mut().for_each(|r| *r = r.min(0.95 / ratio));
    }
    // Silent strata: the click channel's origin when it is one.
    for s in 0..strata {
        if cells.silent[s] {
            let row = &mut current.mix[s * k..(s + 1) * k];
            match cells.click_origin[s] {
                Some(o) => {
                    row.fill(0.0);
                    row[o] = 1.0;
                }
                None => row.fill(1.0 / k.max(1) as f64),
            }
        }
    }
    let em = Em { cells, w: &w, spec, k, strata, ratio, named: answer_matrix(accuracy, k, spec.tilt) };
    let mut theta = em.pack(&current);
    let mut previous = f64::NEG_INFINITY;
    let mut converged = false;
    let mut iterations = 0;
    loop {
        let (theta1, ll0) = em.step(&theta, accuracy);
        iterations += 1;
        if (ll0 - previous).abs() <= tolerance * ll0.abs().max(1.0) {
            converged = true;
            break;
        }
        if iterations >= MAX_ITERATIONS {
            break;
        }
        previous = ll0;
        let (theta2, ll1) = em.step(&theta1, accuracy);
        iterations += 1;
        let r: Vec<f64> = theta1.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let v: Vec<f64> = theta2.iter().zip(&theta1).zip(&r).map(|((a, b), r)| a - b - r).collect();
        let (rr, vv) = (norm(&r), norm(&v));
        theta = theta2;
        if vv > 0.0 && rr > 0.0 {
            let step = -(rr / vv).max(1.0);
            let jump: Vec<f64> = theta.iter().zip(&r).zip(&v).map(|((t, r), v)| t - 2.0 * step * r + step * step * v).collect();
            let jump = em.project(jump);
            // One EM step from the jump stabilises it; keep it only when it is no worse.
            let (stabilised, ll_jump) = em.step(&jump, accuracy);
            iterations += 1;
            if ll_jump >= ll1 {
                theta = stabilised;
            }
        }
    }
    let mut out = em.unpack(&theta, accuracy);
    out.loglik = previous.max(em.step(&theta, accuracy).1);
    out.iterations = iterations;
    out.converged = converged;
    out
}

/// A start near the answer: each stratum's answer mix with the misclassification undone (the
/// uniform confusion matrix inverts in closed form), shares below `floor` raised to it (a share
/// at zero stays at zero under EM); response rates from the whole survey.
fn initial(cells: &Cells, w: &[f64], spec: &Spec, (accuracy, ratio): (f64, f64), floor: f64) -> Fit {
    let (k, strata) = (cells.origins, cells.strata);
    let mut answers = vec![0.0; strata * k];
    let (mut surveyed, mut responded, mut unmapped) = (0.0, 0.0, 0.0);
    for (cell, &weight) in cells.cells.iter().zip(w) {
        if cell.state != State::NotSurveyed {
            surveyed += weight;
        }
        match cell.state {
            State::Named(a) => {
                responded += weight;
                if cell.known.is_none() {
                    answers[cell.stratum * k + a] += weight;
                }
            }
            State::Unmapped | State::Elsewhere => {
                responded += weight;
                unmapped += weight;
            }
            _ => {}
        }
    }
    let wrong = if k > 1 { (1.0 - accuracy) / (k - 1) as f64 } else { 0.0 };
    let mut mix = vec![1.0 / k.max(1) as f64; strata * k];
    for s in 0..strata {
        let f = &answers[s * k..(s + 1) * k];
        let total: f64 = f.iter().sum();
        if total <= 0.0 {
            continue;
        }
        let row = &mut mix[s * k..(s + 1) * k];
        for o in 0..k {
            row[o] = ((f[o] / total - wrong) / (accuracy - wrong)).max(floor);
        }
        let sum: f64 = row.iter().sum();
        if sum > 0.0 {
            row.iter_mut().for_each(|p| *p /= sum);
        } else {
            row.fill(1.0 / k as f64);
        }
    }
    let rate = if surveyed > 0.0 { (responded / surveyed).clamp(0.05, 0.95) } else { 0.5 };
    let rate = if spec.response == Response::Origin { rate.min(0.95 / ratio) } else { rate };
    let response_len = spec.response_len(cells);
    Fit {
        mix,
        response: vec![rate; response_len],
        unmapped: vec![if responded > 0.0 { (unmapped / responded).clamp(0.001, 0.5) } else { 0.01 }; k],
        accuracy,
        no_click_ratio: ratio,
        loglik: f64::NEG_INFINITY,
        iterations: 0,
        converged: false,
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// One EM map over a flat parameter vector: the mixes (strata x origins), the response rates,
/// the unmapped shares.
struct Em<'a> {
    cells: &'a Cells,
    w: &'a [f64],
    spec: &'a Spec,
    k: usize,
    strata: usize,
    ratio: f64,
    /// The answer matrix at the fit's accuracy.
    named: Vec<f64>,
}

impl Em<'_> {
    fn response_len(&self) -> usize {
        self.spec.response_len(self.cells)
    }

    fn pack(&self, fit: &Fit) -> Vec<f64> {
        let mut theta = fit.mix.clone();
        theta.extend_from_slice(&fit.response);
        theta.extend_from_slice(&fit.unmapped);
        theta
    }

    fn unpack(&self, theta: &[f64], accuracy: f64) -> Fit {
        let m = self.strata * self.k;
        let r = self.response_len();
        Fit {
            mix: theta[..m].to_vec(),
            response: theta[m..m + r].to_vec(),
            unmapped: theta[m + r..].to_vec(),
            accuracy,
            no_click_ratio: self.ratio,
            loglik: f64::NEG_INFINITY,
            iterations: 0,
            converged: false,
        }
    }

    /// Back into the parameter space: probabilities in range, mixes summing to one.
    fn project(&self, mut theta: Vec<f64>) -> Vec<f64> {
        let (k, m, r) = (self.k, self.strata * self.k, self.response_len());
        for s in 0..self.strata {
            let row = &mut theta[s * k..(s + 1) * k];
            row.iter_mut().for_each(|p| *p = p.max(0.0));
            let sum: f64 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|p| *p /= sum);
            } else {
                row.fill(1.0 / k as f64);
            }
        }
        theta[m..m + r].iter_mut().for_each(|p| *p = p.clamp(EDGE, 1.0 - EDGE));
        theta[m + r..].iter_mut().for_each(|p| *p = p.clamp(0.0, 1.0 - EDGE));
        theta
    }

    /// One EM step from `theta`: the updated parameters and the log-likelihood at `theta`.
    fn step(&self, theta: &[f64], accuracy: f64) -> (Vec<f64>, f64) {
        let (k, strata, spec, cells) = (self.k, self.strata, self.spec, self.cells);
        let current = self.unpack(theta, accuracy);
        let response_len = self.response_len();
        let mut post = vec![0.0; k];
        let mut mix_sum = vec![0.0; strata * k];
        let mut surveyed = vec![0.0; response_len];
        let mut responded = vec![0.0; response_len];
        // With a no-click ratio: the origin's tallies of customers without a paid click.
        let mut surveyed_no_click = vec![0.0; k];
        let mut responded_no_click = vec![0.0; k];
        let scaled = spec.response == Response::Origin && self.ratio != 1.0;
        let mut responded_by_origin = vec![0.0; k];
        let mut unmapped = vec![0.0; k];
        let mut loglik = 0.0;
        for (cell, &weight) in cells.cells.iter().zip(self.w) {
            if weight <= 0.0 {
                continue;
            }
            let lik = |o: usize| {
                likelihood(cell.state, o, spec.rate(&current, cells, o, cell.click), current.unmapped[o], &self.named, k)
            };
            match cell.known {
                Some(o) => {
                    post.fill(0.0);
                    post[o] = 1.0;
                    loglik += weight * lik(o).max(f64::MIN_POSITIVE).ln();
                }
                None => {
                    let row = &current.mix[cell.stratum * k..(cell.stratum + 1) * k];
                    let mut total = 0.0;
                    for o in 0..k {
                        post[o] = row[o] * lik(o);
                        total += post[o];
                    }
                    if total > 0.0 {
                        post.iter_mut().for_each(|p| *p /= total);
                        loglik += weight * total.ln();
                    } else {
                        post.copy_from_slice(row);
                        loglik += weight * f64::MIN_POSITIVE.ln();
                    }
                    for o in 0..k {
                        mix_sum[cell.stratum * k + o] += weight * post[o];
                    }
                }
            }
            if cell.state == State::NotSurveyed {
                continue;
            }
            let answered = cell.state != State::NoResponse;
            match spec.response {
                Response::Origin => {
                    let (s, r) = if scaled && cell.click + 1 == cells.channels {
                        (&mut surveyed_no_click, &mut responded_no_click)
                    } else {
                        (&mut surveyed, &mut responded)
                    };
                    for o in 0..k {
                        s[o] += weight * post[o];
                        if answered {
                            r[o] += weight * post[o];
                        }
                    }
                }
                Response::Click => {
                    surveyed[cell.click] += weight;
                    if answered {
                        responded[cell.click] += weight;
                    }
                }
            }
            if answered {
                for o in 0..k {
                    responded_by_origin[o] += weight * post[o];
                    if matches!(cell.state, State::Unmapped | State::Elsewhere) {
                        unmapped[o] += weight * post[o];
                    }
                }
            }
        }
        // M step.
        let mut next = current;
        for s in 0..strata {
            if cells.silent[s] {
                continue;
            }
            let row_sum: f64 = mix_sum[s * k..(s + 1) * k].iter().sum();
            if row_sum > 0.0 {
                for o in 0..k {
                    next.mix[s * k + o] = mix_sum[s * k + o] / row_sum;
                }
            }
        }
        if scaled {
            for o in 0..k {
                let tallies = [responded[o], surveyed[o], responded_no_click[o], surveyed_no_click[o]];
                if let Some(r) = scaled_rate(tallies, self.ratio) {
                    next.response[o] = r;
                }
            }
        } else {
            for (r, (&yes, &all)) in next.response.iter_mut().zip(responded.iter().zip(&surveyed)) {
                if all > 0.0 {
                    *r = (yes / all).clamp(EDGE, 1.0 - EDGE);
                }
            }
        }
        for (u, (&yes, &all)) in next.unmapped.iter_mut().zip(unmapped.iter().zip(&responded_by_origin)) {
            if all > 0.0 {
                *u = (yes / all).clamp(0.0, 1.0 - EDGE);
            }
        }
        (self.pack(&next), loglik)
    }
}

/// The maximum-likelihood response rate r of one origin when customers with a paid click answer
/// with r and those without with `ratio` x r: `tallies` = [answered, surveyed] with a paid click,
/// then without. The score is decreasing in r, so bisection on it finds the one root.
fn scaled_rate(tallies: [f64; 4], ratio: f64) -> Option<f64> {
    let [yes, all, yes_nc, all_nc] = tallies;
    if all + all_nc <= 0.0 {
        return None;
    }
    let score = |r: f64| {
        let no = all - yes;
        let no_nc = all_nc - yes_nc;
        (yes + yes_nc) / r - no / (1.0 - r) - no_nc * ratio / (1.0 - ratio * r)
    };
    let (mut low, mut high) = (EDGE, (1.0 / ratio).min(1.0) - EDGE);
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if score(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
        if high - low < 1e-13 {
            break;
        }
    }
    Some(0.5 * (low + high))
}

/// Customers and first-order revenue per channel under a fit: every customer's origin
/// posterior, summed. Sources: known origin (promo code), respondents, customers without an
/// answer; `survey_extrapolated` is Fairing's count as in [`crate::model::attribute`].
pub fn attribution(
    population: &Population,
    cells: &Cells,
    spec: &Spec,
    fit: &Fit,
    weights: &[f64],
    revenue: &[f64],
) -> Attribution {
    let n = population.channels.len();
    let k = cells.origins;
    let named = answer_matrix(fit.accuracy, k, spec.tilt);
    // The posterior of each model cell, once.
    let posteriors: Vec<Vec<f64>> = cells
        .cells
        .iter()
        .map(|cell| {
            let mut post = vec![0.0; k];
            match cell.known {
                Some(o) => post[o] = 1.0,
                None => {
                    let row = &fit.mix[cell.stratum * k..(cell.stratum + 1) * k];
                    let mut total = 0.0;
                    for o in 0..k {
                        let r = spec.rate(fit, cells, o, cell.click);
                        post[o] = row[o] * likelihood(cell.state, o, r, fit.unmapped[o], &named, k);
                        total += post[o];
                    }
                    if total > 0.0 {
                        post.iter_mut().for_each(|p| *p /= total);
                    } else {
                        post.copy_from_slice(row);
                    }
                }
            }
            post
        })
        .collect();
    let mut out = Attribution {
        no_donors: cells.silent_clicks(population),
        fitted: Some(Fitted {
            accuracy: fit.accuracy,
            response_by_origin: (0..n)
                .map(|c| match spec.response {
                    Response::Origin => spec.origins.iter().position(|&o| o == c).map(|o| fit.response[o]),
                    Response::Click => None,
                })
                .collect(),
            no_click_ratio: (spec.response == Response::Origin).then_some(fit.no_click_ratio),
        }),
        ..Attribution::empty(n)
    };
    let (mut total, mut answered) = (0.0, 0.0);
    for (i, cell) in population.cells.iter().enumerate() {
        let (w, r) = (weights[i], revenue[i]);
        total += w;
        out.click[cell.click] += w;
        if let Answer::Channel(c) = cell.answer {
            answered += w;
            out.survey_extrapolated[c] += w;
        }
        let m = &cells.cells[cells.of[i]];
        let source = if m.known.is_some() {
            0
        } else if cell.answer.responded() {
            1
        } else if cells.silent[m.stratum] {
            3
        } else {
            2
        };
        for (o, &p) in posteriors[cells.of[i]].iter().enumerate() {
            if p > 0.0 {
                let c = spec.origins[o];
                if cell.click == n - 1 && c != n - 1 {
                    out.no_click_paid += w * p;
                }
                out.blended[c] += w * p;
                out.blended_revenue[c] += r * p;
                out.by_source[c][source] += w * p;
            }
        }
    }
    if answered > 0.0 {
        for value in &mut out.survey_extrapolated {
            *value *= total / answered;
        }
    }
    out
}

/// Mapped-answer respondents with a known origin needed to estimate the accuracy.
pub const MIN_KNOWN_RESPONDENTS: f64 = 30.0;
/// The accuracies assumed when nothing identifies it and the config gives no range.
pub const DEFAULT_ACCURACY_RANGE: (f64, f64) = (0.6, 1.0);
/// Points of an accuracy range that are fitted (its ends included).
const GRID: usize = 5;
/// A response model is favoured when its log-likelihood is this much higher (the models have
/// the same number of parameters, so this is an AIC difference of 4); below it both are kept.
pub const RESPONSE_MARGIN: f64 = 2.0;

/// What the config says about the answer accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccuracyConfig {
    /// Nothing: estimate it from known-origin customers, or bound it by the default range.
    Unset,
    /// One value from an audit.
    Value(f64),
    /// A range: every value in it is fitted and the intervals are joined.
    Range(f64, f64),
}

/// Where the accuracy of the reported fit comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccuracySource {
    /// Estimated from the customers of known origin who answered.
    Estimated {
        /// Respondents of known origin (a mapped promo code) with a mapped answer.
        known: f64,
    },
    /// Configured (one value).
    Configured,
    /// Not identified (too few known-origin respondents, `known`) or configured as a range: the
    /// range is fitted and intervals span it.
    Bounded {
        /// Lowest accuracy fitted.
        low: f64,
        /// Highest accuracy fitted.
        high: f64,
        /// Respondents of known origin with a mapped answer.
        known: f64,
        /// Whether the range is the config's (else the default range).
        configured: bool,
    },
}

/// Where the no-click response ratio of the reported fits comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RatioSource {
    /// Estimated from known-origin customers surveyed with a paid click (`paid`) and without.
    Estimated {
        /// Known-origin customers surveyed with a paid click.
        paid: f64,
        /// Known-origin customers surveyed without one.
        none: f64,
    },
    /// Not identified: the bound's ends are fitted and the intervals span them.
    Bounded {
        /// The configured bound (`response_ratio`).
        ratio: f64,
        /// Known-origin customers surveyed with a paid click.
        paid: f64,
        /// Known-origin customers surveyed without one.
        none: f64,
    },
    /// Not identified and no bound: response by origin alone is assumed (`response_ratio = 1`).
    Assumed,
}

/// Which response models the reported intervals hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseChoice {
    /// The data favour response by true origin.
    Origin,
    /// The data favour response by click channel.
    Click,
    /// The data cannot tell them apart: intervals span both.
    Both,
}

/// The model actually reported, and what chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// The fits whose intervals are joined; the first is the point estimate.
    pub variants: Vec<(Spec, Fit)>,
    /// The wrong-answer bound, when it moves anything.
    pub bound: Option<AnswerBound>,
    /// The bound's corners that converged (two per origin), fitted at the point only: their
    /// intervals are the point variant's draws moved by the corner's shift (the bound is about
    /// what the data cannot tell, not about sampling).
    pub corners: Vec<(Spec, Fit)>,
    /// The accuracy's source.
    pub accuracy: AccuracySource,
    /// Where the no-click response ratio comes from.
    pub ratio: RatioSource,
    /// Which response model(s).
    pub response: ResponseChoice,
    /// Log-likelihoods of the two response models at the first variant's accuracy.
    pub loglik_origin: f64,
    /// See `loglik_origin`.
    pub loglik_click: f64,
    /// Parameters and degrees of freedom of the first variant.
    pub identification: Identification,
    /// Whether every variant's point fit converged.
    pub converged: bool,
    /// The model cells.
    pub cells: Cells,
}

/// Chooses and fits the variants to report: the accuracy (configured, estimated when known-origin
/// customers identify it, otherwise a range) and the response model the data favour.
pub fn choose(
    population: &Population,
    origins: Vec<usize>,
    accuracy: AccuracyConfig,
    by_order_value: bool,
    known_origin: bool,
    response_ratio: f64,
    bound: AnswerBound,
) -> Chosen {
    let base = Spec {
        origins,
        response: Response::Origin,
        accuracy: Accuracy::Estimated,
        by_order_value,
        known_origin,
        no_click: Ratio::Fixed(1.0),
        tilt: None,
    };
    let cells = Cells::new(population, &base);
    let known = known_respondents(population, &cells);
    let (paid, none) = known_surveyed(&cells, &population.counts());
    let ratio_source = if paid >= MIN_KNOWN_RESPONDENTS && none >= MIN_KNOWN_RESPONDENTS {
        RatioSource::Estimated { paid, none }
    } else if response_ratio > 1.0 {
        RatioSource::Bounded { ratio: response_ratio, paid, none }
    } else {
        RatioSource::Assumed
    };
    let base = match ratio_source {
        RatioSource::Estimated { .. } => Spec { no_click: Ratio::Estimated, ..base },
        _ => base,
    };
    let grid =
        |low: f64, high: f64| -> Vec<f64> { (0..GRID).map(|i| low + (high - low) * i as f64 / (GRID - 1) as f64).collect() };
    let estimated_counts = cells.count(&base).counts();
    let (accuracies, source): (Vec<Accuracy>, AccuracySource) = match accuracy {
        AccuracyConfig::Value(a) => (vec![Accuracy::Fixed(a)], AccuracySource::Configured),
        AccuracyConfig::Range(low, high) => (
            grid(low, high).into_iter().map(Accuracy::Fixed).collect(),
            AccuracySource::Bounded { low, high, known, configured: true },
        ),
        AccuracyConfig::Unset if known >= MIN_KNOWN_RESPONDENTS && estimated_counts => {
            (vec![Accuracy::Estimated], AccuracySource::Estimated { known })
        }
        AccuracyConfig::Unset => {
            let (low, high) = DEFAULT_ACCURACY_RANGE;
            (
                grid(low, high).into_iter().map(Accuracy::Fixed).collect(),
                AccuracySource::Bounded { low, high, known, configured: false },
            )
        }
    };
    // The point variant: the estimated or configured accuracy, or the middle of the range.
    let primary = accuracies[accuracies.len() / 2];
    let counts = population.counts();
    let origin_spec = Spec { accuracy: primary, ..base.clone() };
    let click_spec = Spec { response: Response::Click, ..origin_spec.clone() };
    let origin_fit = fit(&cells, &counts, &origin_spec, None);
    let click_fit = fit(&cells, &counts, &click_spec, None);
    let response = if origin_fit.loglik >= click_fit.loglik + RESPONSE_MARGIN {
        ResponseChoice::Origin
    } else if click_fit.loglik >= origin_fit.loglik + RESPONSE_MARGIN {
        ResponseChoice::Click
    } else {
        ResponseChoice::Both
    };
    let responses: &[Response] = match response {
        ResponseChoice::Origin => &[Response::Origin],
        ResponseChoice::Click => &[Response::Click],
        ResponseChoice::Both if origin_fit.loglik >= click_fit.loglik => &[Response::Origin, Response::Click],
        ResponseChoice::Both => &[Response::Click, Response::Origin],
    };
    let identification = cells.count(&Spec { response: responses[0], ..origin_spec.clone() });
    // The point variant first, then the rest of the grid and the other response model.
    let mut order: Vec<Accuracy> = vec![primary];
    order.extend(accuracies.iter().copied().filter(|a| *a != primary));
    let mut variants = Vec::new();
    for &r in responses {
        for &a in &order {
            let spec = Spec { response: r, accuracy: a, ..base.clone() };
            let f = match (r, a == primary) {
                (Response::Origin, true) => origin_fit.clone(),
                (Response::Click, true) => click_fit.clone(),
                _ => fit(&cells, &counts, &spec, None),
            };
            variants.push((spec, f));
        }
    }
    // Not identified (too few known-origin customers with or without a paid click): response by
    // origin may also differ between customers with and without a paid click, by up to
    // `response_ratio` either way; both ends are fitted at the point accuracy and the intervals
    // span them.
    if matches!(ratio_source, RatioSource::Bounded { .. }) && responses.contains(&Response::Origin) {
        for ratio in [1.0 / response_ratio, response_ratio] {
            let spec = Spec { accuracy: primary, no_click: Ratio::Fixed(ratio), ..base.clone() };
            let f = fit(&cells, &counts, &spec, None);
            variants.push((spec, f));
        }
    }
    // The point variant leads whichever response model it uses.
    let converged = variants.iter().all(|(_, f)| f.converged);
    // The wrong-answer bound: for every origin, its low and its high corner, fitted at the point
    // variant's response model, accuracy and ratio (cold: a corner can sit far from the point).
    let k = base.origins.len();
    let bound = bound.active(k).then_some(bound);
    let corners: Vec<(Spec, Fit)> = match bound {
        Some(b) => (0..k)
            .flat_map(|origin| [true, false].map(|low| Tilt { origin, low, bound: b }))
            .map(|tilt| {
                let spec = Spec { tilt: Some(tilt), ..variants[0].0.clone() };
                let f = fit(&cells, &counts, &spec, None);
                (spec, f)
            })
            .filter(|(_, f)| f.converged)
            .collect(),
        None => Vec::new(),
    };
    Chosen {
        bound,
        corners,
        variants,
        accuracy: source,
        ratio: ratio_source,
        response,
        loglik_origin: origin_fit.loglik,
        loglik_click: click_fit.loglik,
        identification,
        converged,
        cells,
    }
}

/// Respondents with a known origin and a mapped answer.
fn known_respondents(population: &Population, cells: &Cells) -> f64 {
    population
        .cells
        .iter()
        .zip(&cells.of)
        .filter(|(c, m)| cells.cells[**m].known.is_some() && matches!(c.answer, Answer::Channel(_)))
        .map(|(c, _)| c.customers)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;
    use rand::Rng;
    use upshot_stats::rng::stream;

    const CHANNELS: [&str; 4] = ["google_search", "youtube", "influencers", "organic"];

    #[test]
    fn the_scaled_response_rate_is_the_maximum_likelihood_one() {
        // Expected counts from r = 0.4 with a paid click and 1.5 x 0.4 = 0.6 without.
        let r = scaled_rate([400.0, 1000.0, 300.0, 500.0], 1.5).expect("a rate");
        assert!((r - 0.4).abs() < 1e-9, "{r}");
        // Ratio 1: the pooled share.
        let r = scaled_rate([400.0, 1000.0, 300.0, 500.0], 1.0).expect("a rate");
        assert!((r - 700.0 / 1500.0).abs() < 1e-9, "{r}");
        assert_eq!(scaled_rate([0.0; 4], 1.5), None);
    }

    fn spec(accuracy: Accuracy, response: Response) -> Spec {
        Spec {
            origins: vec![0, 1, 2, 3],
            response,
            accuracy,
            by_order_value: false,
            known_origin: true,
            no_click: Ratio::Fixed(1.0),
            tilt: None,
        }
    }

    /// Exact expected counts (no noise) of a world the model describes: the fit must give the
    /// truth back, with the accuracy estimated from the known-origin customers.
    fn expected_world(accuracy: f64) -> (Population, [f64; 4]) {
        // Click channel -> true origin mix, customers per click channel.
        let mixes = [[0.85, 0.10, 0.05, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.2, 0.25, 0.15, 0.4]];
        let sizes = [3000.0, 200.0, 300.0, 3000.0];
        let response = [0.4, 0.6, 0.65, 0.5];
        let unmapped = [0.0, 0.01, 0.0, 0.08];
        let promo_share_of_influencers = 0.4;
        let mut cells = Vec::new();
        let mut truth = [0.0; 4];
        for (click, mix) in mixes.iter().enumerate() {
            for (o, &share) in mix.iter().enumerate() {
                let n = sizes[click] * share;
                truth[o] += n;
                let (promo, free) =
                    if o == 2 { (n * promo_share_of_influencers, n * (1.0 - promo_share_of_influencers)) } else { (0.0, n) };
                for (count, code) in [(promo, Some(2)), (free, None)] {
                    if count == 0.0 {
                        continue;
                    }
                    cells.push(Cell::count(click, code, Answer::NoResponse, count * (1.0 - response[o])));
                    let answering = count * response[o];
                    cells.push(Cell::count(click, code, Answer::Unmapped, answering * unmapped[o]));
                    for a in 0..4 {
                        let p = if a == o { accuracy } else { (1.0 - accuracy) / 3.0 };
                        cells.push(Cell::count(click, code, Answer::Channel(a), answering * (1.0 - unmapped[o]) * p));
                    }
                }
            }
        }
        cells.retain(|c| c.customers > 0.0);
        (Population { channels: CHANNELS.map(String::from).to_vec(), bands: 1, cells }, truth)
    }

    #[test]
    fn expected_counts_give_the_truth_back() {
        let (population, truth) = expected_world(0.85);
        let s = spec(Accuracy::Estimated, Response::Origin);
        let cells = Cells::new(&population, &s);
        let f = fit(&cells, &population.counts(), &s, None);
        assert!(f.converged, "{f:?}");
        assert!((f.accuracy - 0.85).abs() < 1e-4, "accuracy {}", f.accuracy);
        for (o, r) in [0.4, 0.6, 0.65, 0.5].iter().enumerate() {
            assert!((f.response[o] - r).abs() < 1e-3, "response {:?}", f.response);
        }
        let a = attribution(&population, &cells, &s, &f, &population.counts(), &population.revenues());
        for o in 0..4 {
            assert!((a.blended[o] - truth[o]).abs() < 0.5, "{:?} vs {truth:?}", a.blended);
        }
        let total: f64 = a.blended.iter().sum();
        assert!((total - population.total()).abs() < 1e-6);
        // The post-stratified estimate takes wrong answers at face value: it overstates the small
        // youtube channel (wrong answers from large channels) on the same data.
        let stratified = crate::model::attribute(
            &population,
            &population.counts(),
            &population.revenues(),
            &crate::model::Rules {
                precedence: vec![crate::Source::Promo, crate::Source::Survey, crate::Source::Click],
                extrapolation: crate::Extrapolation::Reweighted,
                by_order_value: false,
            },
        );
        assert!(stratified.blended[0] < truth[0] - 100.0, "{:?} vs {truth:?}", stratified.blended);
    }

    #[test]
    fn the_answer_matrix_holds_the_bound() {
        let bound = AnswerBound { spread: 0.1, share: 0.5 };
        let k = 5;
        let even = answer_matrix(0.85, k, None);
        for o in 0..k {
            assert!((even[o * k + o] - 0.85).abs() < 1e-12);
            assert!((0..k).filter(|&a| a != o).all(|a| (even[o * k + a] - 0.15 / 4.0).abs() < 1e-12));
        }
        for origin in 0..k {
            for low in [true, false] {
                let m = answer_matrix(0.85, k, Some(Tilt { origin, low, bound }));
                for o in 0..k {
                    let row = &m[o * k..(o + 1) * k];
                    assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
                    assert!((row[o] - 0.85).abs() <= 0.1 + 1e-12, "{row:?}");
                    let wrong = 1.0 - row[o];
                    assert!((0..k).filter(|&a| a != o).all(|a| row[a] <= 0.5 * wrong + 1e-12), "{row:?}");
                }
                // The low corner: the origin's own answers more accurate, the others' less and
                // half their wrong answers naming it; the high corner: the reverse, none naming it.
                let own = m[origin * k + origin];
                let other = (origin + 1) % k;
                if low {
                    assert!((own - 0.95).abs() < 1e-12 && (m[other * k + origin] - 0.25 * 0.5).abs() < 1e-12);
                } else {
                    assert!((own - 0.75).abs() < 1e-12 && m[other * k + origin].abs() < 1e-12);
                }
            }
        }
        assert!(!AnswerBound::OFF.active(5));
        assert!(!AnswerBound { spread: 0.0, share: 0.25 }.active(5), "an even share adds nothing");
        assert!(AnswerBound { spread: 0.0, share: 0.3 }.active(5));
    }

    #[test]
    fn the_corners_bracket_the_point_fit() {
        let (population, truth) = expected_world(0.85);
        let s = spec(Accuracy::Estimated, Response::Origin);
        let cells = Cells::new(&population, &s);
        let counts = population.counts();
        let point = fit(&cells, &counts, &s, None);
        let at = |spec: &Spec| {
            let f = fit(&cells, &counts, spec, None);
            assert!(f.converged);
            attribution(&population, &cells, spec, &f, &counts, &population.revenues()).blended
        };
        let centre = attribution(&population, &cells, &s, &point, &counts, &population.revenues()).blended;
        let bound = AnswerBound { spread: 0.1, share: 0.5 };
        for origin in 0..4 {
            let low = at(&Spec { tilt: Some(Tilt { origin, low: true, bound }), ..s.clone() });
            let high = at(&Spec { tilt: Some(Tilt { origin, low: false, bound }), ..s.clone() });
            assert!(
                low[origin] < centre[origin] - 1.0 && centre[origin] + 1.0 < high[origin],
                "{origin}: {low:?} {centre:?} {high:?}"
            );
            assert!(low[origin] < truth[origin] && truth[origin] < high[origin]);
        }
    }

    #[test]
    fn origin_response_is_favoured_where_it_is_true() {
        let (population, _) = expected_world(0.85);
        let cells = Cells::new(&population, &spec(Accuracy::Estimated, Response::Origin));
        let by_origin = fit(&cells, &population.counts(), &spec(Accuracy::Estimated, Response::Origin), None);
        let by_click = fit(&cells, &population.counts(), &spec(Accuracy::Estimated, Response::Click), None);
        assert!(by_origin.loglik > by_click.loglik + 5.0, "{} vs {}", by_origin.loglik, by_click.loglik);
    }

    #[test]
    fn counting_parameters_and_degrees_of_freedom() {
        let (population, _) = expected_world(0.85);
        let s = spec(Accuracy::Estimated, Response::Origin);
        let cells = Cells::new(&population, &s);
        let id = cells.count(&s);
        // 4 strata x 3 mix + 4 response + 4 unmapped + accuracy = 21; 4 strata + 1 known group, 5 shares each.
        assert_eq!(id, Identification { origins: 4, strata: 4, parameters: 21, degrees_of_freedom: 25 });
        assert!(id.counts());
        let no_promo = Spec { known_origin: false, ..s };
        let cells = Cells::new(&population, &no_promo);
        assert_eq!(cells.count(&no_promo).degrees_of_freedom, 20);
        assert!(!cells.count(&no_promo).counts());
    }

    #[test]
    fn fits_are_reproducible_and_a_warm_start_agrees() {
        let mut rng = stream(3, "measurement-test", 0);
        let (population, _) = expected_world(0.8);
        let weights: Vec<f64> = population.cells.iter().map(|c| c.customers * (0.8 + 0.4 * rng.random::<f64>())).collect();
        let s = spec(Accuracy::Estimated, Response::Origin);
        let cells = Cells::new(&population, &s);
        let cold = fit(&cells, &weights, &s, None);
        assert_eq!(cold, fit(&cells, &weights, &s, None));
        let point = fit(&cells, &population.counts(), &s, None);
        let warm = fit(&cells, &weights, &s, Some(&point));
        assert!(warm.iterations < cold.iterations, "{} vs {}", warm.iterations, cold.iterations);
        assert!((warm.accuracy - cold.accuracy).abs() < 1e-3, "{} vs {}", warm.accuracy, cold.accuracy);
    }

    #[test]
    fn a_silent_click_channel_is_reported() {
        let (mut population, _) = expected_world(0.85);
        population.channels.push("meta".into());
        let organic = population.channels.len() - 2;
        // Five meta-click customers, none answered: meta is no origin (nothing names it).
        population.cells.push(Cell::count(4, None, Answer::NoResponse, 5.0));
        let s = spec(Accuracy::Fixed(0.85), Response::Origin);
        let cells = Cells::new(&population, &s);
        let f = fit(&cells, &population.counts(), &s, None);
        let a = attribution(&population, &cells, &s, &f, &population.counts(), &population.revenues());
        assert_eq!(a.no_donors, vec![4]);
        assert!(a.blended.iter().all(|v| v.is_finite()));
        assert!((a.blended.iter().sum::<f64>() - population.total()).abs() < 1e-6);
        assert!(organic < 4);
    }
}
