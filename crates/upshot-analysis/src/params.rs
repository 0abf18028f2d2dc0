//! Parameter vocabulary several kinds share: the target CAC and the checks of
//! `level`, `draws` and `margin`, worded once.

use std::collections::BTreeMap;

use upshot_data::AnalysisError;

/// Reads a `[params]` table into a kind's raw parameter struct (declared with
/// `#[serde(deny_unknown_fields)]`, so an unknown key is an error that names it); the kind's
/// `from_table` then checks the values once.
pub fn read<T: serde::de::DeserializeOwned>(table: &toml::Table) -> Result<T, AnalysisError> {
    toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| AnalysisError::Params(e.to_string()))
}

/// Target CAC of a `[params]` table (survey, segments): one for every channel, or per channel.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetCac {
    /// No target: no decisions.
    None,
    /// The same target for every paid channel.
    All(f64),
    /// A target per channel; channels not listed get no decision.
    PerChannel(BTreeMap<String, f64>),
}

impl TargetCac {
    /// The target of one channel.
    pub fn of(&self, channel: &str) -> Option<f64> {
        match self {
            TargetCac::None => None,
            TargetCac::All(target) => Some(*target),
            TargetCac::PerChannel(targets) => targets.get(channel).copied(),
        }
    }

    /// Reads `target_cac = 150` or `[params.target_cac] meta = 120`; every target must be a positive number.
    pub fn parse(raw: Option<toml::Value>) -> Result<Self, AnalysisError> {
        let positive = |key: &str, value: &toml::Value| -> Result<f64, AnalysisError> {
            let number = match value {
                toml::Value::Float(f) => *f,
                toml::Value::Integer(i) => *i as f64,
                other => return Err(AnalysisError::Params(format!("`{key}` must be a number, found {other}"))),
            };
            if number > 0.0 && number.is_finite() {
                Ok(number)
            } else {
                Err(AnalysisError::Params(format!("`{key} = {number}` must be positive")))
            }
        };
        match raw {
            None => Ok(TargetCac::None),
            Some(toml::Value::Table(table)) => {
                let mut targets = BTreeMap::new();
                for (channel, value) in &table {
                    targets.insert(channel.clone(), positive(&format!("target_cac.{channel}"), value)?);
                }
                Ok(TargetCac::PerChannel(targets))
            }
            Some(value) => Ok(TargetCac::All(positive("target_cac", &value)?)),
        }
    }
}

/// `level` of an interval: in [0.5, 1).
pub fn check_level(level: f64) -> Result<f64, AnalysisError> {
    if (0.5..1.0).contains(&level) {
        Ok(level)
    } else {
        Err(AnalysisError::Params(format!("`level = {level}` must be in [0.5, 1)")))
    }
}

/// `draws` of a simulation: at least `minimum` (`default` when not given).
pub fn check_draws(draws: usize, minimum: usize, default: usize) -> Result<usize, AnalysisError> {
    if draws >= minimum {
        Ok(draws)
    } else {
        Err(AnalysisError::Params(format!("`draws = {draws}` is too few; use at least {minimum} ({default} by default)")))
    }
}

/// `margin`, the share of revenue that is profit: in (0, 1].
pub fn check_margin(margin: f64) -> Result<f64, AnalysisError> {
    if margin > 0.0 && margin <= 1.0 {
        Ok(margin)
    } else {
        Err(AnalysisError::Params(format!("`margin = {margin}` is the share of revenue that is profit: in (0, 1]")))
    }
}

/// Case-insensitive glob patterns for brand campaigns (the vocabulary lives in `upshot-result`,
/// so the plan reads the same patterns from `result.json` without the data stack).
pub use upshot_result::BrandMatcher;

/// Compiles `brand_campaigns` patterns, naming the key when one is not a valid glob.
pub fn brand_matcher(patterns: &[String]) -> Result<BrandMatcher, AnalysisError> {
    BrandMatcher::new(patterns).map_err(AnalysisError::Params)
}

/// Incrementality factors measured elsewhere (the vocabulary lives in `upshot-result`, so the
/// plan reads the same entries from `result.json`).
pub use upshot_result::{Incrementality, MAX_FACTOR, RawFactor};

/// Checks `incrementality` entries, as a params error naming the entry.
pub fn incrementality(raw: Vec<RawFactor>) -> Result<Vec<Incrementality>, AnalysisError> {
    upshot_result::incrementality(raw).map_err(|m| AnalysisError::Params(format!("`incrementality` {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_key_and_the_range() {
        assert_eq!(check_level(0.9).ok(), Some(0.9));
        assert!(check_level(1.0).expect_err("1 is out").to_string().contains("`level = 1` must be in [0.5, 1)"));
        assert!(check_draws(100, 200, 1000).expect_err("few").to_string().contains("at least 200 (1000 by default)"));
        assert_eq!(check_margin(1.0).ok(), Some(1.0));
        assert!(check_margin(0.0).is_err() && check_margin(f64::NAN).is_err() && check_margin(1.5).is_err());
    }

    #[test]
    fn target_cac_reads_one_or_per_channel() {
        assert_eq!(TargetCac::parse(None).ok(), Some(TargetCac::None));
        assert_eq!(TargetCac::parse(Some(toml::Value::Integer(150))).ok(), Some(TargetCac::All(150.0)));
        let table: toml::Table = toml::from_str("meta = 120\ngoogle = 90.5").expect("toml");
        let per = TargetCac::parse(Some(toml::Value::Table(table))).expect("parses");
        assert_eq!((per.of("meta"), per.of("google"), per.of("youtube")), (Some(120.0), Some(90.5), None));
        let bad = TargetCac::parse(Some(toml::Value::Integer(-1))).expect_err("negative");
        assert!(bad.to_string().contains("`target_cac = -1` must be positive"), "{bad}");
    }
}
