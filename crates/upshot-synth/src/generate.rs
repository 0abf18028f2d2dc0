//! One day of the synthetic company: spend, leads and everything that
//! follows from them (orders, refunds, repeat purchases, surveys, journeys).
//!
//! A day's rows depend only on the seed, the day and the catalogue, so days
//! are generated in parallel and the output is the same on any machine.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Exp, Poisson};

use crate::catalogue::{ANSWER_ACCURACY, Catalogue, Origin, SurveyWorld, misspecified_response};
use upshot_stats::rng::stream;

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;
const HOUR_US: i64 = 3_600_000_000;

/// The brand campaign's daily state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrandState {
    /// Outside the test: always on.
    Normal,
    /// Test day, campaign on.
    On,
    /// Test day, campaign off.
    Off,
}

/// Fixed facts of a generation run shared by all days.
pub struct World<'a> {
    /// Seed.
    pub seed: u64,
    /// Volume multiplier (1 = small).
    pub scale: f64,
    /// First day.
    pub start: NaiveDate,
    /// Number of days.
    pub days: usize,
    /// The company.
    pub catalogue: &'a Catalogue,
    /// Brand state per day.
    pub brand: Vec<BrandState>,
    /// Microseconds of the period's last instant.
    pub end_us: i64,
    /// Microseconds of the first day's midnight.
    pub start_us: i64,
    /// How survey respondents behave.
    pub survey_world: SurveyWorld,
}

/// Brand-intent customers a day at scale 1 (before seasonality).
pub const BRAND_DEMAND: f64 = 10.0;
/// Share of brand-intent customers who click the paid brand ad when it is on.
pub const BRAND_PAID_SHARE: f64 = 0.85;
/// Share of would-be paid-brand customers who still buy through organic when it is off.
pub const BRAND_COMEBACK: f64 = 0.70;

/// Column buffers of one day. Text columns are stored as indexes and ids as
/// numbers; `write` formats them once, when the frame is built.
#[derive(Default)]
pub struct DayRows {
    /// spend: (day, source, region, impressions, clicks, cost)
    pub spend: Vec<(u16, u32, u32, i64, i64, f64)>,
    /// leads
    pub leads: Vec<LeadRow>,
    /// orders
    pub orders: Vec<OrderRow>,
    /// touchpoints: (customer, at, origin, source, is_click)
    pub touchpoints: Vec<(u64, i64, u8, Option<u32>, bool)>,
    /// survey
    pub survey: Vec<SurveyRow>,
    /// Truth and plan counters of the day.
    pub tally: Tally,
}

/// One survey row: (order, sent_at, answered_at, answer = (origin, variant)).
pub type SurveyRow = (u64, i64, Option<i64>, Option<(u8, u8)>);

/// One lead.
pub struct LeadRow {
    /// Numeric id.
    pub id: u64,
    /// Created, µs.
    pub created_at: i64,
    /// Click source (None = organic).
    pub source: Option<u32>,
    /// Region index.
    pub region: u32,
    /// Score.
    pub score: f64,
    /// target_lead, call, proposal, negotiation, purchase timestamps.
    pub stages: [Option<i64>; 5],
    /// Revenue of the purchase.
    pub revenue: Option<f64>,
}

/// One order (or refund).
pub struct OrderRow {
    /// Numeric id.
    pub id: u64,
    /// Whether this row is a refund (id gets an `R` prefix).
    pub refund: bool,
    /// Customer id.
    pub customer: u64,
    /// Lead id.
    pub lead: Option<u64>,
    /// Paid, µs.
    pub paid_at: i64,
    /// Net revenue of the row.
    pub revenue: f64,
    /// Product index.
    pub product: u8,
    /// Influencer index and whether the code is typed in lower case.
    pub promo: Option<(u32, bool)>,
    /// Click source.
    pub source: Option<u32>,
    /// Region index.
    pub region: u32,
}

/// Product names and prices; the first three are main courses.
pub const PRODUCTS: [(&str, f64); 5] = [
    ("analytics_course", 420.0),
    ("marketing_course", 350.0),
    ("python_course", 390.0),
    ("mini_course", 49.0),
    ("consultation", 120.0),
];

/// Counters for the plan and the ground truth.
#[derive(Default, Clone)]
pub struct Tally {
    /// (month, channel index incl. organic = 4, metric index) -> value; metrics as in `PLAN_METRICS`.
    pub plan: std::collections::BTreeMap<(u32, u8, u8), f64>,
    /// Brand: expected incremental purchases on this day if it is an on-day.
    pub brand_expected_incremental: f64,
    /// Brand: realised incremental purchases (paid-brand buyers who would not have come back).
    pub brand_realised_incremental: u64,
    /// Brand: paid-brand purchases that came back as organic (off-days).
    pub brand_came_back: u64,
    /// Brand: purchases lost (off-days).
    pub brand_lost: u64,
    /// Brand: spend on test on-days.
    pub brand_cost_on_days: f64,
    /// Origin x click channel (0..4, 4 = organic) of new customers inside the period.
    pub origin_by_click: [[u64; 5]; 5],
    /// Per origin: new customers who answered the survey.
    pub responded: [u64; 5],
    /// Per (lead month, source channel): leads, expected purchases, eventual purchases, observed purchases.
    pub cohorts: std::collections::BTreeMap<(u32, u8), [f64; 4]>,
    /// Per source index (keywords): clicks, cost, leads, expected purchases, observed purchases.
    pub ads: std::collections::BTreeMap<u32, [f64; 5]>,
}

/// Plan metric names, in the order of the tally's metric index.
pub const PLAN_METRICS: [&str; 8] = ["cost", "lead", "target_lead", "call", "proposal", "negotiation", "purchase", "revenue"];

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    Poisson::new(lambda).map(|p| p.sample(rng) as u64).unwrap_or(0)
}

fn binomial(rng: &mut ChaCha8Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    Binomial::new(n, p.min(1.0)).map(|b| b.sample(rng)).unwrap_or(0)
}

fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[(Option<String>, f64)]) -> u32 {
    let mut u: f64 = rng.random();
    for (i, (_, w)) in weights.iter().enumerate() {
        if u < *w {
            return i as u32;
        }
        u -= w;
    }
    (weights.len() - 1) as u32
}

/// Day-of-week demand (Monday first): weekdays busier than weekends.
const DOW: [f64; 7] = [1.12, 1.10, 1.06, 1.02, 0.92, 0.80, 0.98];

/// Lead-to-purchase lag in months (0 = the lead's own month), most within a quarter.
const LAG_MONTHS: [f64; 12] = [0.30, 0.20, 0.13, 0.09, 0.07, 0.05, 0.04, 0.035, 0.03, 0.025, 0.02, 0.01];

/// Demand multiplier of a day: day of week x growth trend x yearly season.
pub fn demand(start: NaiveDate, day: usize, days: usize) -> f64 {
    let date = start + chrono::Days::new(day as u64);
    let dow = DOW[date.weekday().num_days_from_monday() as usize];
    let trend = 0.85 + 0.3 * day as f64 / days.max(1) as f64;
    let season = 1.0 + 0.08 * (2.0 * std::f64::consts::PI * (day as f64 / 365.0 - 0.1)).sin();
    dow * trend * season
}

/// Channel index of a source (0 google_search, 1 meta, 2 youtube, 3 influencers, 4 organic).
fn channel_index(channel: &str) -> u8 {
    match channel {
        "google_search" => 0,
        "meta" => 1,
        "youtube" => 2,
        "influencers" => 3,
        _ => 4,
    }
}

/// A respondent's answer delay, the origin it names and the label variant, drawn in this order
/// from `rng`; `None` for a customer who does not respond.
fn survey_draws(rng: &mut ChaCha8Rng, responds: bool, name: impl FnOnce(&mut ChaCha8Rng) -> Origin) -> Option<(i64, Origin, u8)> {
    if !responds {
        return None;
    }
    let delay = Exp::new(1.0 / (10.0 * HOUR_US as f64)).map(|e| e.sample(&mut *rng) as i64).unwrap_or(HOUR_US);
    let named = name(rng);
    let variant = match rng.random_range(0..10) {
        0..=6 => 0,
        7..=8 => 1,
        _ => 2,
    };
    Some((delay, named, variant))
}

fn origin_of_channel(index: u8) -> Origin {
    Origin::ALL[index as usize]
}

struct DayCtx<'w, 'a> {
    world: &'w World<'a>,
    day: usize,
    rng: ChaCha8Rng,
    /// The misspecified survey world's own stream: the other tables keep their bytes.
    survey_rng: ChaCha8Rng,
    rows: DayRows,
    next_id: u64,
}

impl DayCtx<'_, '_> {
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.day as u64 * 100_000_000 + self.next_id
    }

    fn month_of(&self, at_us: i64) -> u32 {
        let days = (at_us - self.world.start_us).div_euclid(DAY_US);
        let date = self.world.start + chrono::Days::new(days.max(0) as u64);
        (date.year() as u32) * 12 + date.month0()
    }

    fn source_channel(&self, source: Option<u32>) -> u8 {
        source.map_or(4, |s| channel_index(self.world.catalogue_channel(s)))
    }

    fn add_plan(&mut self, at_us: i64, channel: u8, metric: u8, value: f64) {
        if at_us <= self.world.end_us {
            let month = self.month_of(at_us);
            *self.rows.tally.plan.entry((month, channel, metric)).or_insert(0.0) += value;
        }
    }

    fn time_of_day(&mut self) -> i64 {
        // Business hours are busier: a triangular bump around 14:00.
        let hours: f64 = 8.0 + 14.0 * (self.rng.random::<f64>() + self.rng.random::<f64>()) / 2.0;
        let jitter: f64 = self.rng.random_range(-6.0..6.0);
        ((hours + jitter).rem_euclid(24.0) * HOUR_US as f64) as i64
    }

    fn region(&mut self) -> u32 {
        pick_weighted(&mut self.rng, &self.world.catalogue.regions)
    }

    /// A new customer: first order, survey, journey, repeats and refunds.
    #[allow(clippy::too_many_arguments)]
    fn customer(&mut self, t0: i64, origin: Origin, source: Option<u32>, region: u32, lead: Option<u64>, product: u8) {
        let world = self.world;
        let customer = self.new_id();
        let promo = match origin {
            Origin::Influencers if self.rng.random_bool(0.4) => {
                let n = world.catalogue.influencers.len() as u32;
                let who = match source.and_then(|s| world.influencer_of(s)) {
                    Some(i) => i,
                    None => self.rng.random_range(0..n),
                };
                Some((who, self.rng.random_bool(0.3)))
            }
            _ => None,
        };
        let price = PRODUCTS[product as usize].1 * if promo.is_some() { 0.9 } else { 1.0 };
        let click_channel = self.source_channel(source);
        self.rows.tally.origin_by_click[origin as usize][click_channel as usize] += 1;
        let order = self.new_id();
        self.push_order(order, customer, lead, t0, price, product, promo, source, region);
        self.add_plan(t0, click_channel, 6, 1.0);

        // Survey after the first order.
        let sent = t0 + HOUR_US;
        if sent <= world.end_us {
            // The model world's draws come from the day's stream, always (the other tables keep
            // their bytes whichever world is asked for); the misspecified world redraws the
            // survey from its own stream.
            let responds = self.rng.random_bool(origin.response_rate());
            let drawn = survey_draws(&mut self.rng, responds, |rng| {
                if rng.random_bool(ANSWER_ACCURACY) {
                    origin
                } else {
                    let others: Vec<Origin> = Origin::ALL.into_iter().filter(|o| *o != origin).collect();
                    others[rng.random_range(0..others.len())]
                }
            });
            let drawn = match world.survey_world {
                SurveyWorld::Model => drawn,
                SurveyWorld::Misspecified => {
                    let rng = &mut self.survey_rng;
                    let responds = rng.random_bool(misspecified_response(origin, click_channel != 4));
                    survey_draws(rng, responds, |rng| {
                        if rng.random_bool(origin.misspecified_accuracy()) {
                            return origin;
                        }
                        let weights = origin.confusions();
                        let mut u: f64 = rng.random::<f64>() * weights.iter().sum::<f64>();
                        for (o, w) in Origin::ALL.into_iter().zip(weights) {
                            if w > 0.0 && u < w {
                                return o;
                            }
                            u -= w;
                        }
                        origin
                    })
                }
            };
            let (answered, answer) = match drawn {
                Some((delay, named, variant)) => {
                    self.rows.tally.responded[origin as usize] += 1;
                    (Some(sent + delay.max(60_000_000)), Some((named as u8, variant)))
                }
                None => (None, None),
            };
            self.rows.survey.push((order, sent, answered, answer));
        }

        // The journey: views and clicks in the 30 days before the first order.
        let touches = 1 + poisson(&mut self.rng, 6.0);
        for i in 0..touches {
            let at = t0 - (self.rng.random::<f64>() * 30.0 * DAY_US as f64) as i64;
            let (touch_origin, touch_source) = if i == 0 {
                (origin as u8, source.filter(|s| self.source_channel(Some(*s)) == origin as u8))
            } else if i == touches - 1 && source.is_some() {
                (click_channel, source)
            } else {
                (self.rng.random_range(0..4u8), None)
            };
            let is_click = match touch_origin {
                2 | 3 => self.rng.random_bool(0.2),
                _ => self.rng.random_bool(0.8),
            } || (i == touches - 1 && source.is_some());
            let at = if i == touches - 1 { t0 - 60_000_000 } else { at };
            self.rows.touchpoints.push((customer, at.max(world.start_us), touch_origin, touch_source, is_click));
        }

        // Repeat purchases, attributed to no paid click.
        let repeats = poisson(&mut self.rng, 0.6);
        let mut t = t0;
        for _ in 0..repeats {
            let gap: f64 = Exp::new(1.0 / 75.0).map(|e| e.sample(&mut self.rng)).unwrap_or(75.0);
            t += (gap.max(1.0) * DAY_US as f64) as i64;
            if t > world.end_us {
                break;
            }
            let product = if self.rng.random_bool(0.6) { 3 } else { 4 };
            let id = self.new_id();
            let price = PRODUCTS[product as usize].1;
            self.push_order(id, customer, None, t, price, product, None, None, region);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_order(
        &mut self,
        id: u64,
        customer: u64,
        lead: Option<u64>,
        paid_at: i64,
        revenue: f64,
        product: u8,
        promo: Option<(u32, bool)>,
        source: Option<u32>,
        region: u32,
    ) {
        let channel = self.source_channel(source);
        self.add_plan(paid_at, channel, 7, revenue);
        self.rows.orders.push(OrderRow { id, refund: false, customer, lead, paid_at, revenue, product, promo, source, region });
        // About one order in twenty is refunded within two weeks.
        if self.rng.random_bool(0.05) {
            let at = paid_at + self.rng.random_range(DAY_US..14 * DAY_US);
            if at <= self.world.end_us {
                self.rows.orders.push(OrderRow {
                    id,
                    refund: true,
                    customer,
                    lead,
                    paid_at: at,
                    revenue: -revenue,
                    product,
                    promo,
                    source,
                    region,
                });
                self.add_plan(at, channel, 7, -revenue);
            }
        }
    }

    /// A lead, its funnel, and its purchase if it buys inside the period.
    fn lead(&mut self, created: i64, source: Option<u32>, origin: Origin, region: u32, purchase_prob: f64) {
        let world = self.world;
        let id = self.new_id();
        let channel = self.source_channel(source);
        let will_buy = self.rng.random_bool(purchase_prob.clamp(0.0, 1.0));
        let month = self.month_of(created);
        let entry = self.rows.tally.cohorts.entry((month, channel)).or_insert([0.0; 4]);
        entry[0] += 1.0;
        entry[1] += purchase_prob;
        if will_buy {
            entry[2] += 1.0;
        }
        if let Some(s) = source {
            let ad = self.rows.tally.ads.entry(s).or_insert([0.0; 5]);
            ad[2] += 1.0;
            ad[3] += purchase_prob;
        }
        self.add_plan(created, channel, 1, 1.0);
        let mut stages = [None; 5];
        let mut revenue = None;
        let score: f64 = (self.rng.random_range(20.0f64..80.0) + if will_buy { 15.0 } else { 0.0 }).min(100.0f64);
        let score = (score * 10.0).round() / 10.0;
        if will_buy {
            let weights = LAG_MONTHS;
            let mut u: f64 = self.rng.random::<f64>() * weights.iter().sum::<f64>();
            let mut lag_month = 0;
            for (m, w) in weights.iter().enumerate() {
                if u < *w {
                    lag_month = m;
                    break;
                }
                u -= w;
            }
            let lag_days = lag_month as f64 * 30.4 + self.rng.random_range(0.2..30.4);
            let purchase_at = created + (lag_days * DAY_US as f64) as i64;
            let fractions = [0.0005, 0.08, 0.3, 0.6, 1.0];
            let keep = [0.97, 0.95, 0.92, 0.85, 1.0];
            for (k, (fraction, keep)) in fractions.iter().zip(keep).enumerate() {
                let at = created + ((purchase_at - created) as f64 * fraction) as i64;
                if self.rng.random_bool(keep) && at <= world.end_us {
                    stages[k] = Some(at);
                }
            }
            if purchase_at <= world.end_us {
                let product = self.rng.random_range(0..3u8);
                revenue = Some(PRODUCTS[product as usize].1);
                if let Some(cohort) = self.rows.tally.cohorts.get_mut(&(month, channel)) {
                    cohort[3] += 1.0;
                }
                if let Some(ad) = source.and_then(|s| self.rows.tally.ads.get_mut(&s)) {
                    ad[4] += 1.0;
                }
                self.customer(purchase_at, origin, source, region, Some(id), product);
            }
        } else {
            // Most leads drop out early; a few get far down the funnel.
            let mut at = created;
            for (k, p) in [0.55, 0.4, 0.35, 0.3].into_iter().enumerate() {
                if !self.rng.random_bool(p) {
                    break;
                }
                at += (self.rng.random_range(0.01..(3.0 + 6.0 * k as f64)) * DAY_US as f64) as i64;
                if at <= world.end_us {
                    stages[k] = Some(at);
                }
            }
        }
        // Purchases are counted from orders (first paid order), not from the CRM stage.
        for (k, stage) in stages.iter().enumerate().take(4) {
            if let Some(at) = stage {
                self.add_plan(*at, channel, 2 + k as u8, 1.0);
            }
        }
        self.rows.leads.push(LeadRow { id, created_at: created, source, region, score, stages, revenue });
    }
}

impl World<'_> {
    /// Channel of a source index (daily ads first, then influencers).
    pub fn catalogue_channel(&self, source: u32) -> &'static str {
        let ads = self.catalogue.ads.len() as u32;
        if source < ads { self.catalogue.ads[source as usize].channel } else { "influencers" }
    }

    fn influencer_of(&self, source: u32) -> Option<u32> {
        let ads = self.catalogue.ads.len() as u32;
        (source >= ads).then(|| source - ads)
    }
}

/// Generates every row that starts on `day`.
pub fn generate_day(world: &World<'_>, day: usize) -> DayRows {
    let mut ctx = DayCtx {
        world,
        day,
        rng: stream(world.seed, "day", day as u64),
        survey_rng: stream(world.seed, "survey-misspecified", day as u64),
        rows: DayRows::default(),
        next_id: 0,
    };
    let catalogue = world.catalogue;
    let mult = demand(world.start, day, world.days) * world.scale;
    let day_us = world.start_us + day as i64 * DAY_US;
    let state = world.brand[day];
    let n_regions = catalogue.regions.len();

    // Daily ads: search keywords, meta creatives, youtube videos.
    for (a, ad) in catalogue.ads.iter().enumerate() {
        for r in 0..n_regions {
            let weight = catalogue.regions[r].1;
            let clicks_mean = if ad.brand {
                if state == BrandState::Off {
                    continue;
                }
                BRAND_DEMAND * BRAND_PAID_SHARE * 8.0 / 5.0 * mult * weight
            } else {
                ad.clicks_per_day * mult * weight
            };
            let impressions = poisson(&mut ctx.rng, clicks_mean / ad.ctr);
            let clicks = binomial(&mut ctx.rng, impressions, ad.ctr);
            if impressions == 0 {
                continue;
            }
            let cost = (clicks as f64 * ad.cpc * ctx.rng.random_range(0.9..1.1) * 100.0).round() / 100.0;
            ctx.rows.spend.push((day as u16, a as u32, r as u32, impressions as i64, clicks as i64, cost));
            let channel = channel_index(ad.channel);
            ctx.add_plan(day_us, channel, 0, cost);
            if ad.brand && state == BrandState::On {
                ctx.rows.tally.brand_cost_on_days += cost;
            }
            let tally = ctx.rows.tally.ads.entry(a as u32).or_insert([0.0; 5]);
            tally[0] += clicks as f64;
            tally[1] += cost;
            if !ad.brand {
                let leads = binomial(&mut ctx.rng, clicks, ad.lead_rate);
                for _ in 0..leads {
                    let t = day_us + ctx.time_of_day();
                    ctx.lead(t, Some(a as u32), origin_of_channel(channel), r as u32, ad.purchase_prob);
                }
            }
        }
    }

    // Influencers: a post brings clicks that day and the three after it.
    let decay = [1.0, 0.5, 0.25, 0.12];
    for (i, influencer) in catalogue.influencers.iter().enumerate() {
        let source = (catalogue.ads.len() + i) as u32;
        let mut effect = 0.0;
        for (lag, weight) in decay.iter().enumerate() {
            if day >= lag && influencer.post_days.binary_search(&(day - lag)).is_ok() {
                effect += weight;
            }
        }
        if effect == 0.0 {
            continue;
        }
        let clicks = poisson(&mut ctx.rng, 45.0 * influencer.reach * effect * world.scale);
        if influencer.post_days.binary_search(&day).is_ok() {
            let impressions = poisson(&mut ctx.rng, 30_000.0 * influencer.reach * world.scale) as i64;
            let cost = (influencer.fee * world.scale * 100.0).round() / 100.0;
            ctx.rows.spend.push((day as u16, source, u32::MAX, impressions.max(clicks as i64), clicks as i64, cost));
            ctx.add_plan(day_us, 3, 0, cost);
        }
        let leads = binomial(&mut ctx.rng, clicks, 0.06);
        for _ in 0..leads {
            let t = day_us + ctx.time_of_day();
            let region = ctx.region();
            ctx.lead(t, Some(source), Origin::Influencers, region, 0.2);
        }
        // Customers who saw the post and buy later without a tracked click.
        let dark = poisson(&mut ctx.rng, 1.2 * influencer.reach * effect * world.scale);
        for _ in 0..dark {
            let t = day_us + ctx.time_of_day();
            let region = ctx.region();
            let product = ctx.rng.random_range(0..3u8);
            ctx.customer(t, Origin::Influencers, None, region, None, product);
        }
    }

    // Brand demand: people who already know the brand and buy the same day.
    let brand_keywords: Vec<u32> = catalogue.ads.iter().enumerate().filter(|(_, ad)| ad.brand).map(|(i, _)| i as u32).collect();
    let n_brand = poisson(&mut ctx.rng, BRAND_DEMAND * mult);
    if state == BrandState::On {
        ctx.rows.tally.brand_expected_incremental = BRAND_DEMAND * mult * BRAND_PAID_SHARE * (1.0 - BRAND_COMEBACK);
    }
    for _ in 0..n_brand {
        let t = day_us + ctx.time_of_day();
        let region = ctx.region();
        let u: f64 = ctx.rng.random();
        let origin = if u < 0.85 {
            Origin::GoogleSearch
        } else if u < 0.95 {
            Origin::Youtube
        } else {
            Origin::Influencers
        };
        let wants_paid = ctx.rng.random_bool(BRAND_PAID_SHARE);
        let comes_back = ctx.rng.random_bool(BRAND_COMEBACK);
        let source = match (wants_paid, state) {
            (true, BrandState::Off) => {
                if comes_back {
                    ctx.rows.tally.brand_came_back += 1;
                    None
                } else {
                    ctx.rows.tally.brand_lost += 1;
                    continue;
                }
            }
            (true, _) => {
                if state == BrandState::On && !comes_back {
                    ctx.rows.tally.brand_realised_incremental += 1;
                }
                Some(brand_keywords[ctx.rng.random_range(0..brand_keywords.len())])
            }
            (false, _) => None,
        };
        let product = ctx.rng.random_range(0..3u8);
        ctx.customer(t, origin, source, region, None, product);
    }

    // Organic: direct buyers and organic leads; some truly came from YouTube.
    let n_direct = poisson(&mut ctx.rng, 4.5 * mult);
    for _ in 0..n_direct {
        let t = day_us + ctx.time_of_day();
        let region = ctx.region();
        let origin = if ctx.rng.random_bool(0.35) { Origin::Youtube } else { Origin::Organic };
        let product = ctx.rng.random_range(0..3u8);
        ctx.customer(t, origin, None, region, None, product);
    }
    let n_organic_leads = poisson(&mut ctx.rng, 4.0 * mult);
    for _ in 0..n_organic_leads {
        let t = day_us + ctx.time_of_day();
        let region = ctx.region();
        let u: f64 = ctx.rng.random();
        let origin = if u < 0.6 {
            Origin::Organic
        } else if u < 0.85 {
            Origin::Youtube
        } else {
            Origin::Influencers
        };
        ctx.lead(t, None, origin, region, 0.25);
    }
    ctx.rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_sell_more_than_saturdays() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("a Monday");
        assert!(demand(start, 0, 365) > demand(start, 5, 365));
    }

    #[test]
    fn lag_weights_cover_a_year() {
        assert_eq!(LAG_MONTHS.len(), 12);
        assert!((LAG_MONTHS.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
