//! The synthetic company: its channels, campaigns, ads and their true
//! economics. Everything here is drawn once from the seed, before any day is
//! generated, so every day can be generated independently and in parallel.

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use upshot_stats::rng::stream;

/// The paid channels, in report order.
pub const PAID_CHANNELS: [&str; 4] = ["google_search", "meta", "youtube", "influencers"];

/// Where a customer truly came from (what a perfect survey would say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Google search (brand or generic).
    GoogleSearch,
    /// Facebook / Instagram ads.
    Meta,
    /// YouTube ads.
    Youtube,
    /// Influencer posts.
    Influencers,
    /// Word of mouth, podcasts, press: organic.
    Organic,
}

impl Origin {
    /// Every origin, in report order.
    pub const ALL: [Origin; 5] = [Origin::GoogleSearch, Origin::Meta, Origin::Youtube, Origin::Influencers, Origin::Organic];

    /// Channel name as in exports and results.
    pub fn channel(self) -> &'static str {
        match self {
            Origin::GoogleSearch => "google_search",
            Origin::Meta => "meta",
            Origin::Youtube => "youtube",
            Origin::Influencers => "influencers",
            Origin::Organic => "organic",
        }
    }

    /// Probability that a customer of this origin answers the survey.
    pub fn response_rate(self) -> f64 {
        match self {
            Origin::GoogleSearch => 0.40,
            Origin::Meta => 0.45,
            Origin::Youtube => 0.58,
            Origin::Influencers => 0.65,
            Origin::Organic => 0.50,
        }
    }

    /// Misspecified world: P(the answer names this origin | the customer came from it).
    pub fn misspecified_accuracy(self) -> f64 {
        match self {
            Origin::GoogleSearch => 0.92,
            Origin::Meta => 0.78,
            Origin::Youtube => 0.72,
            Origin::Influencers => 0.85,
            Origin::Organic => 0.80,
        }
    }

    /// Misspecified world: where a wrong answer goes, per other origin in [`Origin::ALL`] order
    /// (youtube viewers who later searched say "Google"; Instagram influencers read as Meta).
    pub fn confusions(self) -> [f64; 5] {
        match self {
            Origin::GoogleSearch => [0.0, 0.1, 0.5, 0.1, 0.3],
            Origin::Meta => [0.2, 0.0, 0.1, 0.6, 0.1],
            Origin::Youtube => [0.6, 0.1, 0.0, 0.1, 0.2],
            Origin::Influencers => [0.1, 0.4, 0.3, 0.0, 0.2],
            Origin::Organic => [0.4, 0.2, 0.2, 0.2, 0.0],
        }
    }

    /// Survey answer labels a customer of this origin picks (first is the
    /// standard option; the rest are free-text variants an answer map must catch).
    pub fn answers(self) -> &'static [&'static str] {
        match self {
            Origin::GoogleSearch => &["Google", "google search", "Поиск в Google"],
            Origin::Meta => &["Instagram / Facebook", "instagram", "Saw an ad on Facebook"],
            Origin::Youtube => &["YouTube", "youtube ad", "Реклама на YouTube"],
            Origin::Influencers => &["Blogger / influencer", "Блогер", "an influencer I follow"],
            Origin::Organic => &["Friend or colleague", "Podcast", "Other"],
        }
    }
}

/// Share of survey answers that name the true origin; the rest name another option.
pub const ANSWER_ACCURACY: f64 = 0.85;

/// How survey respondents behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SurveyWorld {
    /// As the survey's measurement model assumes: one accuracy ([`ANSWER_ACCURACY`]), wrong
    /// answers spread evenly over the other origins, response by true origin only.
    #[default]
    Model,
    /// A world that breaks it: accuracy by origin ([`Origin::misspecified_accuracy`]), wrong
    /// answers concentrated on neighbours ([`Origin::confusions`]), response by origin and click
    /// ([`misspecified_response`]). Drawn from its own random stream.
    Misspecified,
}

impl SurveyWorld {
    /// The name truth.json records.
    pub fn name(self) -> &'static str {
        match self {
            SurveyWorld::Model => "model",
            SurveyWorld::Misspecified => "misspecified",
        }
    }
}

/// Response in the misspecified world: the origin's rate, 15% lower for customers with a paid
/// click and 15% higher for those without (at most 0.95).
pub fn misspecified_response(origin: Origin, paid_click: bool) -> f64 {
    (origin.response_rate() * if paid_click { 0.85 } else { 1.15 }).min(0.95)
}

/// One ad (keyword for search, creative elsewhere) with its true economics.
#[derive(Debug, Clone)]
pub struct Ad {
    /// Channel name.
    pub channel: &'static str,
    /// Campaign name.
    pub campaign: String,
    /// Ad group / ad set.
    pub ad_group: Option<String>,
    /// Keyword or creative id.
    pub ad: String,
    /// Mean clicks per day at scale 1, before day-of-week and trend.
    pub clicks_per_day: f64,
    /// Cost per click.
    pub cpc: f64,
    /// Click-through rate (impressions = clicks / ctr).
    pub ctr: f64,
    /// Leads per click.
    pub lead_rate: f64,
    /// Probability that a lead eventually buys.
    pub purchase_prob: f64,
    /// Whether this is the brand search campaign (no leads; its clicks follow brand demand).
    pub brand: bool,
}

impl Ad {
    /// True cost per acquired customer: cost / (clicks x lead rate x purchase probability).
    pub fn true_cac(&self) -> f64 {
        self.cpc / (self.lead_rate * self.purchase_prob)
    }
}

/// An influencer with her promo code and posting days.
#[derive(Debug, Clone)]
pub struct Influencer {
    /// Display name (some are Cyrillic).
    pub name: &'static str,
    /// Campaign name.
    pub campaign: String,
    /// Promo code (case varies in orders).
    pub promo_code: String,
    /// Fee per post.
    pub fee: f64,
    /// Reach multiplier.
    pub reach: f64,
    /// Day indexes of posts.
    pub post_days: Vec<usize>,
}

/// The whole synthetic company.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Daily ads (search, meta, youtube), brand first.
    pub ads: Vec<Ad>,
    /// Influencers.
    pub influencers: Vec<Influencer>,
    /// Region names and population weights (one null region at small scale).
    pub regions: Vec<(Option<String>, f64)>,
    /// Target CAC the keyword truth is judged against.
    pub target_cac: f64,
}

const TOPICS: [&str; 10] = [
    "data analytics",
    "sql",
    "python",
    "marketing",
    "product management",
    "ux design",
    "excel",
    "power bi",
    "machine learning",
    "аналитика данных",
];
const MODIFIERS: [&str; 10] =
    ["course", "online course", "training", "certificate", "bootcamp", "for beginners", "classes", "school", "курсы", "обучение"];
const BRAND_KEYWORDS: [&str; 5] = ["upshot", "upshot courses", "upshot academy", "upshot reviews", "апшот"];
const INFLUENCERS: [(&str, &str); 12] = [
    ("anna_codes", "ANNA10"),
    ("dataguy", "DATAGUY"),
    ("Мария Аналитик", "MARIA15"),
    ("techwithtom", "TOM10"),
    ("sql_sarah", "SARAH"),
    ("Иван Продакт", "IVAN20"),
    ("pm_podcast", "PMCAST"),
    ("learn_with_lee", "LEE10"),
    ("Ольга UX", "OLGA10"),
    ("career_switch", "SWITCH"),
    ("excel_queen", "QUEEN"),
    ("ml_mike", "MIKE10"),
];

/// Builds the catalogue from the seed. `days` is the number of days in the period.
pub fn build(seed: u64, regions: usize, days: usize) -> Catalogue {
    let mut rng = stream(seed, "catalogue", 0);
    let target_cac = 150.0;
    let mut ads = Vec::new();
    for keyword in BRAND_KEYWORDS {
        ads.push(Ad {
            channel: "google_search",
            campaign: "brand_search".into(),
            ad_group: Some("brand".into()),
            ad: keyword.to_string(),
            clicks_per_day: 0.0,
            cpc: rng.random_range(2.2..3.6),
            ctr: rng.random_range(0.18..0.32),
            lead_rate: 0.0,
            purchase_prob: 0.0,
            brand: true,
        });
    }
    // Generic search: true CAC is log-normal around 1.65x target, so only a
    // handful of the 100 keywords truly meet it.
    let cac_factor = Normal::new(0.5, 0.35).expect("valid normal");
    let cpc_dist = LogNormal::new(2.4f64.ln(), 0.35).expect("valid lognormal");
    let volume = LogNormal::new(0.0, 0.8).expect("valid lognormal");
    let mut keyword_volumes = Vec::new();
    for (t, topic) in TOPICS.iter().enumerate() {
        let campaign = match t {
            0..=3 => "generic_courses",
            4..=6 => "generic_skills",
            _ => "generic_tech",
        };
        for modifier in MODIFIERS {
            let cpc: f64 = cpc_dist.sample(&mut rng);
            let lead_rate = 0.08;
            let true_cac = target_cac * f64::exp(cac_factor.sample(&mut rng));
            let purchase_prob = (cpc / (lead_rate * true_cac)).min(0.9);
            keyword_volumes.push(volume.sample(&mut rng));
            ads.push(Ad {
                channel: "google_search",
                campaign: campaign.into(),
                ad_group: Some(topic.to_string()),
                ad: format!("{topic} {modifier}"),
                clicks_per_day: 0.0,
                cpc,
                ctr: rng.random_range(0.03..0.09),
                lead_rate,
                purchase_prob,
                brand: false,
            });
        }
    }
    // 125 generic clicks a day at scale 1, spread by keyword volume.
    let total: f64 = keyword_volumes.iter().sum();
    for (ad, v) in ads.iter_mut().filter(|ad| !ad.brand).zip(&keyword_volumes) {
        ad.clicks_per_day = 125.0 * v / total;
    }
    for (campaign, groups, clicks, lead_rate, prob) in [
        ("prospecting_lookalike", 4, 80.0, 0.04, 0.12),
        ("prospecting_interests", 4, 70.0, 0.035, 0.10),
        ("retargeting", 4, 50.0, 0.05, 0.16),
    ] {
        for g in 0..groups {
            for c in 0..5 {
                ads.push(Ad {
                    channel: "meta",
                    campaign: campaign.into(),
                    ad_group: Some(format!("{campaign}_set{:02}", g + 1)),
                    ad: format!("creative_{:02}{:02}", g + 1, c + 1),
                    clicks_per_day: clicks / 20.0 * rng.random_range(0.5..1.5),
                    cpc: rng.random_range(0.6..1.1),
                    ctr: rng.random_range(0.008..0.02),
                    lead_rate: lead_rate * rng.random_range(0.7..1.3),
                    purchase_prob: prob * rng.random_range(0.7..1.3),
                    brand: false,
                });
            }
        }
    }
    for (campaign, clicks) in [("yt_instream", 40.0), ("yt_discovery", 20.0)] {
        for g in 0..3 {
            for c in 0..4 {
                ads.push(Ad {
                    channel: "youtube",
                    campaign: campaign.into(),
                    ad_group: Some(format!("{campaign}_aud{:02}", g + 1)),
                    ad: format!("video_{:02}{:02}", g + 1, c + 1),
                    clicks_per_day: clicks / 12.0 * rng.random_range(0.6..1.4),
                    cpc: rng.random_range(2.5..4.0),
                    ctr: rng.random_range(0.002..0.006),
                    lead_rate: rng.random_range(0.04..0.06),
                    purchase_prob: rng.random_range(0.12..0.18),
                    brand: false,
                });
            }
        }
    }
    let months = (days / 30).max(1);
    let mut influencers = Vec::new();
    for (name, code) in INFLUENCERS {
        let mut post_days = Vec::new();
        for m in 0..months {
            for _ in 0..2 {
                let day = m * 30 + rng.random_range(0..30usize);
                if day < days {
                    post_days.push(day);
                }
            }
        }
        post_days.sort_unstable();
        post_days.dedup();
        influencers.push(Influencer {
            name,
            campaign: format!("influencer_{name}"),
            promo_code: code.to_string(),
            fee: (rng.random_range(150.0..600.0f64) / 50.0).round() * 50.0,
            reach: rng.random_range(0.5..1.8),
            post_days,
        });
    }
    let regions = if regions <= 1 {
        vec![(None, 1.0)]
    } else {
        let weight = LogNormal::new(0.0, 0.7).expect("valid lognormal");
        let raw: Vec<f64> = (0..regions).map(|_| weight.sample(&mut rng)).collect();
        let sum: f64 = raw.iter().sum();
        raw.iter().enumerate().map(|(i, w)| (Some(format!("region-{:03}", i + 1)), w / sum)).collect()
    };
    Catalogue { ads, influencers, regions, target_cac }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_handful_of_keywords_meet_the_target() {
        for seed in 0..20 {
            let catalogue = build(seed, 1, 365);
            let generic: Vec<&Ad> = catalogue.ads.iter().filter(|ad| ad.channel == "google_search" && !ad.brand).collect();
            assert_eq!(generic.len(), 100);
            let winners = generic.iter().filter(|ad| ad.true_cac() <= catalogue.target_cac).count();
            assert!((1..=20).contains(&winners), "seed {seed}: {winners} winners");
        }
    }
}
