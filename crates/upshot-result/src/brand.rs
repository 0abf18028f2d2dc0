//! The brand campaigns of the folder's economics (`brand_campaigns`): case-insensitive globs
//! that the brand test, segmentation and the plan all read the same way.

/// Case-insensitive glob patterns for brand campaigns.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandMatcher {
    patterns: Vec<glob::Pattern>,
    /// The patterns as written.
    pub written: Vec<String>,
}

impl BrandMatcher {
    /// Compiles the patterns; the message names the pattern that is not a valid glob.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let compiled = patterns
            .iter()
            .map(|p| glob::Pattern::new(p).map_err(|e| format!("`brand_campaigns` pattern `{p}` is not a valid glob: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { patterns: compiled, written: patterns.to_vec() })
    }

    /// The names among `campaigns` that match.
    pub fn matching(&self, campaigns: &[String]) -> Vec<String> {
        campaigns.iter().filter(|c| self.matches(c)).cloned().collect()
    }

    /// Whether a campaign name matches.
    pub fn matches(&self, campaign: &str) -> bool {
        let options =
            glob::MatchOptions { case_sensitive: false, require_literal_separator: false, require_literal_leading_dot: false };
        self.patterns.iter().any(|p| p.matches_with(campaign, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_case_insensitively_and_bad_globs_are_named() {
        let m = BrandMatcher::new(&["brand_*".to_string(), "Acme".to_string()]).expect("valid");
        assert!(m.matches("Brand_Search") && m.matches("acme") && !m.matches("generic_search"));
        assert_eq!(m.matching(&["brand_x".into(), "shop".into()]), vec!["brand_x".to_string()]);
        let bad = BrandMatcher::new(&["[".to_string()]).expect_err("invalid");
        assert!(bad.contains("`brand_campaigns` pattern `[`"), "{bad}");
    }
}
