//! From survey answers and promo codes to channels.
//!
//! Answers are compared trimmed and case-insensitively. Exact labels (`match`)
//! are tried before patterns (`pattern`, an unanchored case-insensitive regex);
//! within each kind the first rule in the config wins. An answer no rule maps
//! is *unmapped*: it counts as no answer for blending and is reported with its
//! count, never dropped silently. Maps run once per distinct answer, not per row.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

use crate::SurveyError;

/// The channel name for organic and direct.
pub const ORGANIC: &str = "organic";

/// One rule of the answer map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerRule {
    /// The trimmed answer equals `label`, ignoring case.
    Exact {
        /// The option label.
        label: String,
        /// The channel it names.
        channel: String,
    },
    /// The answer contains a match of `pattern`, ignoring case.
    Pattern {
        /// The regular expression.
        pattern: String,
        /// The channel it names.
        channel: String,
    },
}

impl AnswerRule {
    /// The channel the rule maps to.
    pub fn channel(&self) -> &str {
        match self {
            AnswerRule::Exact { channel, .. } | AnswerRule::Pattern { channel, .. } => channel,
        }
    }

    /// The rule as written, for tables (`match "YouTube"`, `pattern "you ?tube"`).
    pub fn describe(&self) -> String {
        match self {
            AnswerRule::Exact { label, .. } => format!("match \"{label}\""),
            AnswerRule::Pattern { pattern, .. } => format!("pattern \"{pattern}\""),
        }
    }
}

/// The compiled answer map.
#[derive(Debug, Clone)]
pub struct AnswerMap {
    rules: Vec<AnswerRule>,
    exact: Vec<(String, usize)>,
    patterns: Vec<(Regex, usize)>,
}

fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

impl AnswerMap {
    /// Compiles the rules; a pattern that is not a valid regex is a params error.
    pub fn new(rules: Vec<AnswerRule>) -> Result<Self, SurveyError> {
        let mut exact = Vec::new();
        let mut patterns = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.channel().trim().is_empty() {
                return Err(SurveyError::Params(format!("`answer_map` entry {} has an empty `channel`", i + 1)));
            }
            match rule {
                AnswerRule::Exact { label, .. } => exact.push((normalise(label), i)),
                AnswerRule::Pattern { pattern, .. } => {
                    let regex = RegexBuilder::new(pattern).case_insensitive(true).build().map_err(|e| {
                        SurveyError::Params(format!("`answer_map` entry {}: `{pattern}` is not a valid regex: {e}", i + 1))
                    })?;
                    patterns.push((regex, i));
                }
            }
        }
        Ok(Self { rules, exact, patterns })
    }

    /// The rules as configured.
    pub fn rules(&self) -> &[AnswerRule] {
        &self.rules
    }

    /// The rule that maps `answer`, if any.
    pub fn rule_for(&self, answer: &str) -> Option<&AnswerRule> {
        let key = normalise(answer);
        if key.is_empty() {
            return None;
        }
        let index = self
            .exact
            .iter()
            .find(|(label, _)| *label == key)
            .map(|(_, i)| *i)
            .or_else(|| self.patterns.iter().find(|(regex, _)| regex.is_match(answer.trim())).map(|(_, i)| *i))?;
        self.rules.get(index)
    }

    /// The channel `answer` maps to, if any.
    pub fn channel_for(&self, answer: &str) -> Option<&str> {
        self.rule_for(answer).map(AnswerRule::channel)
    }
}

/// Whether an answer is the generic "Other" option (reported on its own).
pub fn is_other(answer: &str) -> bool {
    matches!(normalise(answer).as_str(), "other" | "другое" | "other (please specify)")
}

/// Promo code -> channel, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromoMap {
    /// Normalised code -> (code as configured, channel).
    codes: BTreeMap<String, (String, String)>,
}

impl PromoMap {
    /// Builds the map; the same code (ignoring case) mapped to two channels is an error.
    pub fn new(raw: BTreeMap<String, String>) -> Result<Self, SurveyError> {
        let mut codes: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (code, channel) in raw {
            let key = normalise(&code);
            if key.is_empty() || channel.trim().is_empty() {
                return Err(SurveyError::Params(format!("`promo_codes`: `{code} = \"{channel}\"` needs a code and a channel")));
            }
            if let Some((first_code, first_channel)) = codes.get(&key)
                && *first_channel != channel
            {
                return Err(SurveyError::Params(format!(
                    "`promo_codes` maps the code `{key}` to two channels: `{first_code}` -> {first_channel} and `{code}` -> {channel} (codes are compared ignoring case); keep one"
                )));
            }
            codes.insert(key, (code, channel));
        }
        Ok(Self { codes })
    }

    /// The channel of a code, if mapped.
    pub fn channel_for(&self, code: &str) -> Option<&str> {
        self.codes.get(&normalise(code)).map(|(_, channel)| channel.as_str())
    }

    /// Every (code as configured, channel), in code order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.codes.values().map(|(code, channel)| (code.as_str(), channel.as_str()))
    }

    /// Whether no code is mapped.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> AnswerMap {
        AnswerMap::new(vec![
            AnswerRule::Pattern { pattern: "you ?tube|ютуб".into(), channel: "youtube".into() },
            AnswerRule::Exact { label: "YouTube Shorts".into(), channel: "youtube_shorts".into() },
            AnswerRule::Exact { label: "Instagram / Facebook".into(), channel: "meta".into() },
            AnswerRule::Pattern { pattern: "блогер|influencer".into(), channel: "influencers".into() },
            AnswerRule::Pattern { pattern: "google".into(), channel: "google_search".into() },
        ])
        .expect("valid")
    }

    #[test]
    fn exact_labels_win_over_patterns_then_first_pattern_wins() {
        let m = map();
        // "YouTube Shorts" matches the first pattern too, but exact labels come first.
        assert_eq!(m.channel_for("  youtube shorts "), Some("youtube_shorts"));
        assert_eq!(m.channel_for("Saw a YouTube ad"), Some("youtube"));
        assert_eq!(m.channel_for("instagram / FACEBOOK"), Some("meta"));
        assert_eq!(m.channel_for("Реклама на ЮТУБе"), Some("youtube"), "case-insensitive in Cyrillic too");
        assert_eq!(m.channel_for("Блогер"), Some("influencers"));
        // An influencer on Google matches two patterns: the first in config order wins.
        assert_eq!(m.channel_for("an influencer I googled"), Some("influencers"));
        assert_eq!(m.channel_for("Friend"), None);
        assert_eq!(m.channel_for("   "), None);
        assert_eq!(m.rule_for("youtube").map(AnswerRule::describe).as_deref(), Some("pattern \"you ?tube|ютуб\""));
    }

    #[test]
    fn invalid_patterns_are_params_errors() {
        let err = AnswerMap::new(vec![AnswerRule::Pattern { pattern: "(".into(), channel: "x".into() }]).expect_err("bad regex");
        assert!(err.to_string().contains("not a valid regex"), "{err}");
    }

    #[test]
    fn promo_codes_ignore_case_and_reject_conflicts() {
        let mut raw = BTreeMap::new();
        raw.insert("ANNA10".to_string(), "influencers".to_string());
        let promo = PromoMap::new(raw.clone()).expect("valid");
        assert_eq!(promo.channel_for("anna10"), Some("influencers"));
        assert_eq!(promo.channel_for("BORIS"), None);
        raw.insert("anna10".to_string(), "youtube".to_string());
        let err = PromoMap::new(raw).expect_err("two channels").to_string();
        assert!(err.contains("anna10") && err.contains("influencers") && err.contains("youtube"), "{err}");
    }

    #[test]
    fn other_is_recognised() {
        assert!(is_other(" Other "));
        assert!(is_other("Другое"));
        assert!(!is_other("Others told me"));
    }
}
