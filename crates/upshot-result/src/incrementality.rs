//! Incrementality factors measured outside the folder (`incrementality` in economics.toml), read
//! the same way by segmentation (from its params) and by the plan (from `result.json`).

use crate::BrandMatcher;

/// An incrementality factor measured outside this folder (a geo test, a platform lift study) for the
/// campaigns matching a pattern, as `incrementality = [{ campaigns = "brand_*", factor = 0.5,
/// low = 0.3, high = 0.7, source = "geo test 2025-09" }]` sets it: the share of the campaigns'
/// attributed buyers they really add, with its interval.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFactor {
    /// The campaign pattern (a case-insensitive glob).
    pub campaigns: String,
    /// The factor.
    pub factor: f64,
    /// Its interval's lower end.
    pub low: f64,
    /// Its interval's upper end.
    pub high: f64,
    /// Where it was measured.
    pub source: Option<String>,
}

/// A checked incrementality factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Incrementality {
    matcher: BrandMatcher,
    /// The campaign pattern as written.
    pub campaigns: String,
    /// The factor: incremental CAC = attributed CAC / factor.
    pub factor: f64,
    /// Its interval's lower end.
    pub low: f64,
    /// Its interval's upper end.
    pub high: f64,
    /// Where it was measured.
    pub source: String,
}

/// The largest factor accepted: attribution can miss buyers (views, other devices), so a factor
/// above 1 is possible, but one above 1.5 is an entry error far more often than a finding.
pub const MAX_FACTOR: f64 = 1.5;

impl Incrementality {
    /// Whether a campaign is covered.
    pub fn matches(&self, campaign: &str) -> bool {
        self.matcher.matches(campaign)
    }
}

/// Checks `incrementality` entries: 0 < low <= factor <= high <= 1.5, a valid glob; the message
/// names the entry (`entry `brand_*`: ...`; callers say which key it belongs to).
pub fn incrementality(raw: Vec<RawFactor>) -> Result<Vec<Incrementality>, String> {
    raw.into_iter()
        .map(|r| {
            let bad = |m: String| format!("entry `{}`: {m}", r.campaigns);
            if !(r.low > 0.0 && r.low <= r.factor && r.factor <= r.high && r.high <= MAX_FACTOR) {
                return Err(bad(format!(
                    "factor {} (interval {} to {}) must satisfy 0 < low <= factor <= high <= {MAX_FACTOR}",
                    r.factor, r.low, r.high
                )));
            }
            let matcher = BrandMatcher::new(std::slice::from_ref(&r.campaigns)).map_err(bad)?;
            Ok(Incrementality {
                matcher,
                campaigns: r.campaigns,
                factor: r.factor,
                low: r.low,
                high: r.high,
                source: r.source.unwrap_or_else(|| "configured".into()),
            })
        })
        .collect()
}

/// The factor a brand on/off test measured, as an `incrementality` entry for `campaigns`: the purchases
/// the campaign really adds per unit on (all channels together: `incremental_purchases_per_unit`) over the
/// purchases its own clicks gain on the same units (its `paid_brand` component), with the interval of the
/// first over the point of the second (the click gain is counted, the total effect is what is uncertain).
/// The interval is kept inside the accepted range, (0, 1.5]: a lower end at or below zero is read as 0.01
/// and said in `source`. `Err` says why the document cannot give a factor.
pub fn factor_from_brand_test(campaigns: &str, result: &crate::ResultJson) -> Result<RawFactor, String> {
    if result.kind != "brand-test" {
        return Err(format!("is a `{}` result, not a brand test's", result.kind));
    }
    let headline = |segment: Option<(&str, &str)>| {
        result.metrics.iter().find(|m| {
            m.name == crate::names::INCREMENTAL_PURCHASES_PER_UNIT
                && match segment {
                    None => m.segment.is_all(),
                    Some((k, v)) => m.segment.0.len() == 1 && m.segment.get(k).is_some_and(|x| x == v),
                }
        })
    };
    let total = headline(None).ok_or("has no `incremental_purchases_per_unit` headline")?;
    let clicks = headline(Some(("component", "paid_brand"))).ok_or("has no paid_brand component")?;
    let (Some(low), Some(high)) = (total.ci_low, total.ci_high) else {
        return Err("gives the effect without an interval".into());
    };
    if !clicks.estimate.is_finite() || clicks.estimate <= 0.0 {
        return Err("shows no purchases gained through the brand campaign's own clicks".into());
    }
    const FLOOR: f64 = 0.01;
    let raw = (total.estimate / clicks.estimate, low / clicks.estimate, high / clicks.estimate);
    let high = raw.2.clamp(FLOOR, MAX_FACTOR);
    let low = raw.1.clamp(FLOOR, high);
    let factor = raw.0.clamp(low, high);
    let period = result.period.as_ref().map(|p| format!(", {} to {}", p.start, p.end)).unwrap_or_default();
    let floored = if raw.1 < FLOOR { "; its interval reaches zero, read as 0.01" } else { "" };
    Ok(RawFactor {
        campaigns: campaigns.to_string(),
        factor,
        low,
        high,
        source: Some(format!("brand test `{}`{period}{floored}", result.experiment)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incrementality_factors_are_checked_and_match_their_campaigns() {
        let raw: Vec<RawFactor> =
            serde_json::from_str(r#"[{ "campaigns": "brand_*", "factor": 0.5, "low": 0.3, "high": 0.7 }]"#).expect("json");
        let f = incrementality(raw.clone()).expect("valid");
        assert!(f[0].matches("Brand_Search") && !f[0].matches("generic") && f[0].source == "configured");
        for (factor, low, high) in [(2.0, 1.0, 2.0), (0.5, 0.6, 0.7), (0.5, 0.0, 0.7)] {
            let e = incrementality(vec![RawFactor { factor, low, high, ..raw[0].clone() }]).expect_err("out of range");
            assert!(e.starts_with("entry `brand_*`: factor"), "{e}");
        }
    }
}
