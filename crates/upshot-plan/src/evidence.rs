//! The model layer of the plan: what each analysis in the folder says about each channel, read
//! off its `result.json` into typed evidence. Nothing here decides; `decide` does.

use std::collections::BTreeMap;

use upshot_result::{Action, BrandMatcher, Decision, Incrementality, Metric, RawFactor, ResultJson, names};

use crate::{PlanError, Source};

/// An estimate with its interval, as a metric states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Est {
    pub estimate: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: Option<f64>,
}

impl Est {
    pub fn of(m: &Metric) -> Self {
        Self { estimate: m.estimate, low: m.ci_low, high: m.ci_high, level: m.level }
    }
}

/// One analysis's own call on a subject, kept as evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OwnCall {
    pub action: Action,
    pub reason: String,
}

impl OwnCall {
    fn of(d: &Decision) -> Self {
        Self { action: d.action, reason: d.reason.clone() }
    }
}

/// Survey attribution's numbers for one channel.
#[derive(Debug, Clone, Default)]
pub(crate) struct SurveyChannel {
    pub blended: Option<Est>,
    pub click: f64,
    pub spend: f64,
    pub cac: Option<Est>,
    pub agreement: Option<Est>,
    pub call: Option<OwnCall>,
    /// The survey's measurement model made the estimate (wrong answers and response by true
    /// origin corrected); false: answers taken at face value.
    pub model: bool,
}

/// Cohorts' numbers for one channel (lead-linked purchases, by the lead's channel).
#[derive(Debug, Clone, Default)]
pub(crate) struct CohortChannel {
    pub observed: f64,
    /// New customers without a lead, counted in the cohort CAC beside the projected purchases.
    pub direct: f64,
    pub projected: Option<Est>,
    pub cac: Option<Est>,
    pub cac_max: Option<Est>,
    pub call: Option<OwnCall>,
}

/// Segmentation's numbers for one channel, or for its brand or non-brand campaigns.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Clicks {
    pub cost: f64,
    pub purchases: f64,
    pub projected: f64,
}

impl Clicks {
    fn add(&mut self, other: &Clicks) {
        self.cost += other.cost;
        self.purchases += other.purchases;
        self.projected += other.projected;
    }
}

/// Segmentation by channel: click numbers split into brand and non-brand campaigns, and the
/// per-ad calls counted.
#[derive(Debug, Clone, Default)]
pub(crate) struct SegmentChannel {
    pub non_brand: Clicks,
    pub brand: Clicks,
    /// The channel's brand campaigns by name.
    pub brand_campaigns: Vec<String>,
    /// Per-ad calls: action -> (ads, their stake).
    pub ads: BTreeMap<Action, (usize, f64)>,
    /// The brand on/off test segments sized for the channel's brand campaigns: (days of a daily
    /// switchback at 80% power, `None` past the longest simulated; new customers a day to detect).
    pub brand_test: Option<(Option<f64>, f64)>,
}

/// Pacing's numbers for one channel: the cost run rate, and the brand campaigns' part of it when
/// the plan has campaign lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct PacingChannel {
    pub cost: Option<Est>,
    pub brand_cost: Option<f64>,
    pub completion: Option<(String, Est)>,
    pub call: Option<OwnCall>,
}

/// The brand on/off test.
#[derive(Debug, Clone)]
pub(crate) struct BrandTest {
    pub icpa: Est,
    pub per_unit: Option<Est>,
    pub cannibalization: Option<f64>,
    pub cost: Option<f64>,
    pub call: Option<OwnCall>,
    pub campaigns: String,
}

/// One analysis of the folder with what the plan reads from it.
#[derive(Debug, Clone)]
pub(crate) struct Found<T> {
    pub folder: String,
    pub experiment: String,
    pub by_channel: BTreeMap<String, T>,
}

/// The folder-wide economics, as the results record them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Economics {
    pub factors: Vec<Incrementality>,
    pub target_all: Option<f64>,
    pub target_by_channel: BTreeMap<String, f64>,
    pub decision_probability: Option<f64>,
    pub brand: Option<BrandMatcher>,
}

impl Economics {
    pub fn target(&self, channel: &str) -> Option<f64> {
        self.target_by_channel.get(channel).copied().or(self.target_all)
    }
}

/// Everything the plan reads from a folder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Folder {
    pub currency: String,
    pub economics: Economics,
    pub survey: Option<Found<SurveyChannel>>,
    pub cohorts: Option<Found<CohortChannel>>,
    pub segments: Option<Found<SegmentChannel>>,
    pub pacing: Option<Found<PacingChannel>>,
    pub brand: Option<(String, String, BrandTest)>,
    /// Folders of analyses the plan does not read (inspect), for the list of analyses.
    pub other: Vec<String>,
    /// Earlier results of a kind the folder holds a later one of, in words.
    pub superseded: Vec<String>,
}

/// The one key of a metric's segment when it is `channel` only.
fn channel_only(m: &Metric) -> Option<&str> {
    (m.segment.0.len() == 1).then(|| m.segment.get("channel").map(String::as_str)).flatten()
}

fn from<T: Default>(source: &Source<'_>, fill: impl Fn(&ResultJson, &mut BTreeMap<String, T>)) -> Found<T> {
    let mut by_channel = BTreeMap::new();
    fill(&source.result, &mut by_channel);
    Found { folder: source.folder.clone(), experiment: source.result.experiment.clone(), by_channel }
}

fn survey(result: &ResultJson, out: &mut BTreeMap<String, SurveyChannel>) {
    for m in &result.metrics {
        let Some(channel) = channel_only(m) else { continue };
        let row = out.entry(channel.to_string()).or_default();
        match m.name.as_str() {
            names::BLENDED_CUSTOMERS => row.blended = Some(Est::of(m)),
            names::CLICK_CUSTOMERS => row.click = m.estimate,
            names::SPEND => row.spend = m.estimate,
            names::BLENDED_CAC => row.cac = Some(Est::of(m)),
            names::AGREEMENT => row.agreement = Some(Est::of(m)),
            _ => {}
        }
    }
    for d in &result.decisions {
        if let (1, Some(channel)) = (d.subject.0.len(), d.subject.get("channel")) {
            out.entry(channel.clone()).or_default().call = Some(OwnCall::of(d));
        }
    }
    // The model reports the accuracy it used; its fallback and the other estimators do not.
    let model = result.metrics.iter().any(|m| m.name == names::ANSWER_ACCURACY);
    out.values_mut().for_each(|row| row.model = model);
}

fn cohorts(result: &ResultJson, out: &mut BTreeMap<String, CohortChannel>) {
    for m in &result.metrics {
        let Some(channel) = channel_only(m) else { continue };
        let row = out.entry(channel.to_string()).or_default();
        match m.name.as_str() {
            names::PURCHASES_OBSERVED => row.observed = m.estimate,
            names::PURCHASES_PROJECTED => row.projected = Some(Est::of(m)),
            names::DIRECT_CUSTOMERS => row.direct = m.estimate,
            names::CAC => row.cac = Some(Est::of(m)),
            names::CAC_MAX => row.cac_max = Some(Est::of(m)),
            _ => {}
        }
    }
    for d in &result.decisions {
        if let (1, Some(channel)) = (d.subject.0.len(), d.subject.get("channel")) {
            out.entry(channel.clone()).or_default().call = Some(OwnCall::of(d));
        }
    }
}

fn segments(brand: Option<&BrandMatcher>) -> impl Fn(&ResultJson, &mut BTreeMap<String, SegmentChannel>) + '_ {
    move |result, out| {
        // Campaign rows (channel and campaign keys only) carry the click numbers, split by brand.
        let mut campaigns: BTreeMap<(String, String), Clicks> = BTreeMap::new();
        for m in &result.metrics {
            let seg = &m.segment;
            let (2, Some(channel), Some(campaign)) = (seg.0.len(), seg.get("channel"), seg.get("campaign")) else { continue };
            let row = campaigns.entry((channel.clone(), campaign.clone())).or_default();
            match m.name.as_str() {
                names::COST => row.cost = m.estimate,
                names::PURCHASES => row.purchases = m.estimate,
                names::PURCHASES_PROJECTED => row.projected = m.estimate,
                _ => {}
            }
        }
        for m in &result.metrics {
            let Some(channel) = channel_only(m) else { continue };
            match m.name.as_str() {
                names::BRAND_TEST_DAYS_NEEDED => {
                    out.entry(channel.to_string()).or_default().brand_test.get_or_insert((None, f64::NAN)).0 = Some(m.estimate);
                }
                names::BRAND_TEST_EFFECT => {
                    out.entry(channel.to_string()).or_default().brand_test.get_or_insert((None, f64::NAN)).1 = m.estimate;
                }
                _ => {}
            }
        }
        for ((channel, campaign), clicks) in &campaigns {
            let row = out.entry(channel.clone()).or_default();
            if brand.is_some_and(|b| b.matches(campaign)) {
                row.brand.add(clicks);
                row.brand_campaigns.push(campaign.clone());
            } else {
                row.non_brand.add(clicks);
            }
        }
        for d in &result.decisions {
            let Some(channel) = d.subject.get("channel") else { continue };
            let row = out.entry(channel.clone()).or_default();
            let entry = row.ads.entry(d.action).or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 += d.stake.unwrap_or(0.0);
        }
    }
}

fn pacing(brand: Option<&BrandMatcher>) -> impl Fn(&ResultJson, &mut BTreeMap<String, PacingChannel>) + '_ {
    move |result, out| {
        for m in &result.metrics {
            let seg = &m.segment;
            let (Some(channel), Some(metric)) = (seg.get("channel"), seg.get("metric")) else { continue };
            let campaign = seg.get("campaign");
            let row = out.entry(channel.clone()).or_default();
            match (m.name.as_str(), metric.as_str(), campaign) {
                (names::RUN_RATE, "cost", None) => row.cost = Some(Est::of(m)),
                (names::RUN_RATE, "cost", Some(c)) if brand.is_some_and(|b| b.matches(c)) => {
                    *row.brand_cost.get_or_insert(0.0) += m.estimate;
                }
                (names::PLAN_COMPLETION, key, None) if key != "cost" => {
                    // The volume line a channel is judged on: purchases before target leads before leads.
                    let rank = |k: &str| ["purchase", "target_lead", "lead"].iter().position(|x| *x == k).unwrap_or(9);
                    if row.completion.as_ref().is_none_or(|(k, _)| rank(key) < rank(k)) {
                        row.completion = Some((key.to_string(), Est::of(m)));
                    }
                }
                _ => {}
            }
        }
        for d in &result.decisions {
            if let (1, Some(channel)) = (d.subject.0.len(), d.subject.get("channel")) {
                out.entry(channel.clone()).or_default().call = Some(OwnCall::of(d));
            }
        }
    }
}

fn brand_test(result: &ResultJson) -> Option<BrandTest> {
    let headline = |name: &str| result.metrics.iter().find(|m| m.name == name && m.segment.is_all());
    let icpa = Est::of(headline(names::ICPA)?);
    let call = result.decisions.first();
    Some(BrandTest {
        icpa,
        per_unit: headline(names::INCREMENTAL_PURCHASES_PER_UNIT).map(Est::of),
        cannibalization: headline(names::CANNIBALIZATION_SHARE).map(|m| m.estimate),
        cost: headline(names::INCREMENTAL_COST_TOTAL).map(|m| m.estimate),
        call: call.map(OwnCall::of),
        campaigns: call.and_then(|d| d.subject.get("campaign").cloned()).unwrap_or_default(),
    })
}

fn economics(sources: &[Source<'_>]) -> Result<Economics, PlanError> {
    let mut out = Economics::default();
    for source in sources {
        let bad = |field: &str, message: &str| PlanError::Evidence {
            folder: source.folder.clone(),
            field: format!("economics.{field}"),
            message: message.to_string(),
        };
        let e = &source.result.economics;
        match e.get("target_cac") {
            Some(serde_json::Value::Number(n)) => out.target_all = n.as_f64(),
            Some(serde_json::Value::Object(per)) => {
                for (channel, v) in per {
                    let v = v.as_f64().ok_or_else(|| bad("target_cac", "a per-channel target is not a number"))?;
                    out.target_by_channel.insert(channel.clone(), v);
                }
            }
            Some(_) => return Err(bad("target_cac", "is neither a number nor a table of numbers per channel")),
            None => {}
        }
        if let Some(p) = e.get("decision_probability") {
            out.decision_probability = Some(p.as_f64().ok_or_else(|| bad("decision_probability", "is not a number"))?);
        }
        if let Some(v) = e.get("incrementality").filter(|_| out.factors.is_empty()) {
            let raw: Vec<RawFactor> =
                serde_json::from_value(v.clone()).map_err(|_| bad("incrementality", "is not a list of factors"))?;
            out.factors = upshot_result::incrementality(raw).map_err(|m| bad("incrementality", &m))?;
        }
        if let Some(b) = e.get("brand_campaigns") {
            let patterns: Vec<String> =
                serde_json::from_value(b.clone()).map_err(|_| bad("brand_campaigns", "is not a list of campaign patterns"))?;
            out.brand = Some(BrandMatcher::new(&patterns).map_err(|m| bad("brand_campaigns", &m))?);
        }
    }
    Ok(out)
}

/// A brand test of campaigns that are not the folder's brand campaigns measures something else.
fn check_campaigns(source: &Source<'_>, test: &BrandTest, brand: Option<&BrandMatcher>) -> Result<(), PlanError> {
    let Some(brand) = brand else { return Ok(()) };
    let tested: Vec<&str> = test.campaigns.split(", ").filter(|c| !c.is_empty()).collect();
    if tested.is_empty() || tested.iter().any(|c| brand.matches(c)) {
        return Ok(());
    }
    Err(PlanError::Evidence {
        folder: source.folder.clone(),
        field: "decisions[0].subject.campaign".into(),
        message: format!(
            "is `{}`, which no `brand_campaigns` pattern of the folder ({}) matches: a test of other campaigns cannot judge the brand campaigns",
            test.campaigns,
            brand.written.join(", ")
        ),
    })
}

/// Of several results of one kind, the one to act on: results whose periods are all known and
/// disjoint are runs of different times, and the latest is used (the others are listed); two
/// whose periods overlap, or are not recorded, are an error naming both.
fn current<'s, 'a>(sources: &'s [Source<'a>]) -> Result<(Vec<&'s Source<'a>>, Vec<String>), PlanError> {
    let mut by_kind: BTreeMap<&str, Vec<&Source<'a>>> = BTreeMap::new();
    for s in sources {
        by_kind.entry(s.result.kind.as_str()).or_default().push(s);
    }
    let mut kept = Vec::new();
    let mut superseded = Vec::new();
    for (kind, mut of_kind) in by_kind {
        for (i, a) in of_kind.iter().enumerate() {
            for b in &of_kind[i + 1..] {
                let apart = matches!((&a.result.period, &b.result.period), (Some(p), Some(q)) if !p.overlaps(q));
                if !apart {
                    let period = |s: &Source<'_>| s.result.period.as_ref().map_or("not recorded".to_string(), |p| p.to_string());
                    return Err(PlanError::Duplicate {
                        kind: kind.to_string(),
                        first: a.folder.clone(),
                        first_period: period(a),
                        second: b.folder.clone(),
                        second_period: period(b),
                    });
                }
            }
        }
        of_kind.sort_by(|a, b| {
            let end = |s: &Source<'_>| s.result.period.as_ref().map(|p| p.end.clone());
            end(a).cmp(&end(b)).then_with(|| a.folder.cmp(&b.folder))
        });
        let latest = of_kind.pop().expect("one source at least");
        for older in of_kind {
            superseded.push(format!(
                "{} ({}, {}) is an earlier `{kind}` result than {} ({}); the plan acts on the latest.",
                older.folder,
                older.result.experiment,
                older.result.period.as_ref().map_or(String::new(), |p| p.to_string()),
                latest.folder,
                latest.result.period.as_ref().map_or(String::new(), |p| p.to_string()),
            ));
        }
        kept.push(latest);
    }
    // The folder's own order, so the evidence reads the same whatever the kinds' names.
    kept.sort_by_key(|s| sources.iter().position(|x| std::ptr::eq(x, *s)));
    Ok((kept, superseded))
}

/// A brand test measures incrementality over its own weeks: one whose period overlaps neither
/// the survey's nor segmentation's (the CAC it corrects) measured another time.
fn check_period(folder: &Folder, periods: &BTreeMap<String, (String, upshot_result::Period)>) -> Result<(), PlanError> {
    let Some((test_folder, test)) = periods.get("brand-test") else { return Ok(()) };
    let others: Vec<&(String, upshot_result::Period)> = ["survey", "segments"].iter().filter_map(|k| periods.get(*k)).collect();
    if folder.brand.is_none() || others.is_empty() || others.iter().any(|(_, p)| p.overlaps(test)) {
        return Ok(());
    }
    Err(PlanError::Evidence {
        folder: test_folder.clone(),
        field: "period".into(),
        message: format!(
            "is {test}, which overlaps none of the periods its incrementality would correct ({}): a test of another time cannot judge this spend; re-run the test or report it from another folder",
            others.iter().map(|(f, p)| format!("{f}: {p}")).collect::<Vec<_>>().join("; ")
        ),
    })
}

/// Reads every source into the folder's evidence: one result of each kind (see [`current`]).
pub(crate) fn read(sources: &[Source<'_>]) -> Result<Folder, PlanError> {
    let (kept, superseded) = current(sources)?;
    let kept_sources: Vec<Source<'_>> =
        kept.iter().map(|s| Source { folder: s.folder.clone(), result: std::borrow::Cow::Borrowed(s.result.as_ref()) }).collect();
    let sources = &kept_sources[..];
    let economics = economics(sources)?;
    let mut folder = Folder { currency: String::new(), economics, superseded, ..Folder::default() };
    let periods: BTreeMap<String, (String, upshot_result::Period)> =
        sources.iter().filter_map(|s| s.result.period.clone().map(|p| (s.result.kind.clone(), (s.folder.clone(), p)))).collect();
    for source in sources {
        let result = &source.result;
        if folder.currency.is_empty() {
            folder.currency = result.currency.clone();
        } else if folder.currency != result.currency {
            return Err(PlanError::Evidence {
                folder: source.folder.clone(),
                field: "currency".into(),
                message: format!(
                    "is {}, the folder's other results are in {}: one plan needs one currency",
                    result.currency, folder.currency
                ),
            });
        }
        let brand = folder.economics.brand.clone();
        match result.kind.as_str() {
            "survey" => folder.survey = Some(from(source, survey)),
            "cohorts" => folder.cohorts = Some(from(source, cohorts)),
            "segments" => folder.segments = Some(from(source, segments(brand.as_ref()))),
            "pacing" => folder.pacing = Some(from(source, pacing(brand.as_ref()))),
            "brand-test" => match brand_test(result) {
                Some(test) => {
                    check_campaigns(source, &test, folder.economics.brand.as_ref())?;
                    folder.brand = Some((source.folder.clone(), result.experiment.clone(), test));
                }
                None => {
                    return Err(PlanError::Evidence {
                        folder: source.folder.clone(),
                        field: "metrics".into(),
                        message: "a brand-test result without its headline `icpa` metric".into(),
                    });
                }
            },
            _ => folder.other.push(source.folder.clone()),
        }
    }
    check_period(&folder, &periods)?;
    Ok(folder)
}
