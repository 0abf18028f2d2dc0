//! The daily digest: a few lines for a chat bot, from the same numbers as the
//! pacing result.

use upshot_result::format::{count, money, percent};

use crate::model::{Computed, Line};
use crate::present::{flag, key_metric, unit_cost};

/// Funnel steps the digest reports for the last day.
const STEPS: [(&str, &str); 2] = [("target_lead", "Target leads"), ("call", "Calls")];
/// A channel is out of its KPI range beyond this share from plan (cost per unit or completion).
const KPI_RANGE: f64 = 0.15;

fn kpi_issue(line: &Line, currency: &str) -> Option<String> {
    let pace = key_metric(line)?;
    let (completion, _, _) = pace.completion()?;
    let metric = if pace.metric == "purchase" { "CAC" } else { "CPA" };
    let mut issues = Vec::new();
    if let Some((actual, planned)) = unit_cost(line, pace)
        && (actual / planned - 1.0).abs() > KPI_RANGE
    {
        issues.push(format!(
            "{metric} {} vs {} plan ({}{})",
            money(actual, currency),
            money(planned, currency),
            if actual > planned { "+" } else { "-" },
            percent((actual / planned - 1.0).abs())
        ));
    }
    if (completion - 1.0).abs() > KPI_RANGE {
        issues.push(format!("{} of the {} plan at the current pace", percent(completion), pace.metric.replace('_', " ")));
    }
    (!issues.is_empty()).then(|| format!("{}: {}", line.channel, issues.join(", ")))
}

/// The digest of the as-of day: target leads and calls against the daily pace
/// the plan still needs, and the channels out of their KPI range.
pub fn digest(computed: &Computed, currency: &str) -> String {
    let mut out = vec![format!(
        "upshot digest for {} ({} days left in {})",
        computed.as_of,
        (computed.month_end - computed.as_of).num_days(),
        computed.month_start.format("%B %Y")
    )];
    for (metric, label) in STEPS {
        let Some(p) = computed.total.pace(metric) else { continue };
        let line = match (p.plan, p.needed_per_day()) {
            (Some(plan), None) => format!(
                "{label}: {} on the month's last day; the month closes at {} of {} ({} of plan)",
                count(p.last_day),
                count(p.fact_to_date),
                count(plan),
                p.completion().map_or_else(String::new, |c| percent(c.0))
            ),
            (Some(plan), Some(needed)) => format!(
                "{label}: {} yesterday vs {} a day needed to make the plan ({} of {} so far, {} at the current pace)",
                count(p.last_day),
                count(needed.ceil()),
                count(p.fact_to_date),
                count(plan),
                p.completion().map_or_else(String::new, |c| format!("{} of plan", percent(c.0)))
            ),
            _ => format!("{label}: {} yesterday, {} this month (no plan)", count(p.last_day), count(p.fact_to_date)),
        };
        out.push(line);
    }
    let issues: Vec<String> = computed.channels.iter().filter_map(|l| kpi_issue(l, currency)).collect();
    if issues.is_empty() {
        out.push("All channels within their KPI range.".into());
    } else {
        out.push(format!("Out of KPI range (more than {} from plan):", percent(KPI_RANGE)));
        out.extend(issues.into_iter().map(|i| format!("- {i}")));
    }
    let scale: Vec<&str> = computed
        .channels
        .iter()
        .filter(|l| flag(l, currency, computed.level).is_some_and(|f| f.0 == upshot_result::Action::Scale))
        .map(|l| l.channel.as_str())
        .collect();
    if !scale.is_empty() {
        out.push(format!("Room to scale: {}.", scale.join(", ")));
    }
    out.join("\n")
}
