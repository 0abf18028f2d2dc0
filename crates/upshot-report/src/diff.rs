//! `upshot diff OLD NEW`: what changed between two runs of the same experiments on fresh
//! exports, for a pull-request comment (Markdown) and for machines (JSON). A call that flipped,
//! a metric whose new estimate falls outside its previous interval, an input whose excluded
//! share of rows rose: the things a growth team wants CI to stop on before a deck goes out.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;
use upshot_result::format::{count, percent};
use upshot_result::{Action, Metric, ResultJson, Segment, Unit};

use upshot_plan::{Plan, Source};

use crate::{ReportError, metric_value};

/// One call that changed: same subject, another action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    /// What the call is about.
    pub subject: Segment,
    /// The action before.
    pub was: Action,
    /// The action now.
    pub now: Action,
    /// The new call's reason.
    pub reason: String,
}

/// A call that exists in only one of the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// What the call is about.
    pub subject: Segment,
    /// Its action.
    pub action: Action,
}

/// A metric whose new estimate is outside the interval the previous run gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// Contract name.
    pub name: String,
    /// Segment keys.
    pub segment: Segment,
    /// Unit (a currency code for money).
    pub unit: Unit,
    /// The previous estimate.
    pub was: f64,
    /// The previous interval.
    pub was_low: f64,
    /// The previous interval's upper end.
    pub was_high: f64,
    /// Its level.
    pub level: f64,
    /// The new estimate.
    pub now: f64,
}

/// An input whose share of excluded rows rose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowsDropped {
    /// Contract table.
    pub table: String,
    /// Rows, before and now.
    pub rows: (u64, u64),
    /// Share of rows excluded, before and now.
    pub excluded_share: (f64, f64),
    /// Rows excluded per reason, before and now (reasons whose count rose).
    pub reasons: BTreeMap<String, (u64, u64)>,
}

/// The changes of one experiment present in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentDiff {
    /// The experiment's folder name.
    pub experiment: String,
    /// Its kind.
    pub kind: String,
    /// Currency of its money metrics.
    pub currency: String,
    /// The headline now.
    pub headline: String,
    /// Calls that flipped.
    pub flips: Vec<Flip>,
    /// Calls only in the new run.
    pub new_calls: Vec<Call>,
    /// Calls only in the old run.
    pub gone_calls: Vec<Call>,
    /// Metrics outside their previous interval.
    pub moved: Vec<Moved>,
    /// Inputs whose excluded share rose.
    pub rows_dropped: Vec<RowsDropped>,
}

/// A row of the executive plan whose call changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowFlip {
    /// The row (`meta`, `google_search brand`).
    pub row: String,
    /// The call before; `None` for a row only in the new plan.
    pub was: Option<Action>,
    /// The call now; `None` for a row no longer in the plan.
    pub now: Option<Action>,
    /// The new row's reason.
    pub reason: String,
}

/// The executive plans of the two folders compared (`upshot-plan`, the same as `upshot report`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    /// The new plan's headline.
    pub headline: String,
    /// Rows whose call flipped, appeared or went away.
    pub flips: Vec<RowFlip>,
    /// Share of the plan's stake on rows without a CAC (no evidence attributes customers to that
    /// spend), before and now.
    pub unattributed_share: (f64, f64),
}

/// Everything that changed between two report folders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The executive plans compared; `None` when either folder cannot be reconciled (see `plan_note`).
    pub plan: Option<PlanDiff>,
    /// Why there is no plan comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_note: Option<String>,
    /// Experiments in both runs, in name order.
    pub experiments: Vec<ExperimentDiff>,
    /// Experiments only in the old run.
    pub only_old: Vec<String>,
    /// Experiments only in the new run.
    pub only_new: Vec<String>,
}

/// What makes `upshot diff` fail (exit 3).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Guards {
    /// Fail when any analysis's call flipped (or a call appeared or went away).
    pub flips: bool,
    /// Fail when an input's share of excluded rows rose.
    pub rows: bool,
    /// Fail when a row of the executive plan (a channel, or its brand campaigns) changed its call.
    pub channels: bool,
    /// Fail when more than this share of the new plan's stake is on rows without a CAC.
    pub max_unattributed: Option<f64>,
}

fn read(path: &Path) -> Result<ResultJson, ReportError> {
    let text = std::fs::read_to_string(path).map_err(crate::io_err(path))?;
    serde_json::from_str(&text).map_err(|e| ReportError::Result { path: path.display().to_string(), message: e.to_string() })
}

/// `<dir>/<experiment>/result.json` by experiment folder name; a folder that is itself one
/// experiment's output counts as one entry under its own name.
fn results(dir: &Path) -> Result<BTreeMap<String, ResultJson>, ReportError> {
    let mut out = BTreeMap::new();
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if dir.join("result.json").is_file() {
        out.insert(name(dir), read(&dir.join("result.json"))?);
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).map_err(crate::io_err(dir))? {
        let path = entry.map_err(crate::io_err(dir))?.path();
        if !crate::output::is_hidden(&path) && path.join("result.json").is_file() {
            out.insert(name(&path), read(&path.join("result.json"))?);
        }
    }
    if out.is_empty() {
        return Err(ReportError::NoResults { dir: dir.display().to_string() });
    }
    Ok(out)
}

fn excluded_share(rows: u64, excluded: &BTreeMap<String, u64>) -> f64 {
    if rows == 0 { 0.0 } else { excluded.values().sum::<u64>() as f64 / rows as f64 }
}

/// Compares one experiment's two results.
pub fn compare_results(experiment: &str, old: &ResultJson, new: &ResultJson) -> ExperimentDiff {
    let calls = |r: &ResultJson| -> BTreeMap<Segment, (Action, String)> {
        r.decisions.iter().map(|d| (d.subject.clone(), (d.action, d.reason.clone()))).collect()
    };
    let (was, now) = (calls(old), calls(new));
    let mut flips = Vec::new();
    let mut new_calls = Vec::new();
    for (subject, (action, reason)) in &now {
        match was.get(subject) {
            Some((before, _)) if before != action => {
                flips.push(Flip { subject: subject.clone(), was: *before, now: *action, reason: reason.clone() })
            }
            Some(_) => {}
            None => new_calls.push(Call { subject: subject.clone(), action: *action }),
        }
    }
    let gone_calls = was
        .iter()
        .filter(|(subject, _)| !now.contains_key(*subject))
        .map(|(subject, (action, _))| Call { subject: subject.clone(), action: *action })
        .collect();
    let before: BTreeMap<(&str, &Segment), &Metric> = old.metrics.iter().map(|m| ((m.name.as_str(), &m.segment), m)).collect();
    let moved = new
        .metrics
        .iter()
        .filter_map(|m| {
            let prior = before.get(&(m.name.as_str(), &m.segment))?;
            let (low, high, level) = (prior.ci_low?, prior.ci_high?, prior.level?);
            (m.estimate.is_finite() && (m.estimate < low || m.estimate > high)).then(|| Moved {
                name: m.name.clone(),
                segment: m.segment.clone(),
                unit: m.unit.clone(),
                was: prior.estimate,
                was_low: low,
                was_high: high,
                level,
                now: m.estimate,
            })
        })
        .collect();
    let rows_dropped = new
        .inputs
        .iter()
        .filter_map(|input| {
            let prior = old.inputs.iter().find(|i| i.table == input.table)?;
            let shares = (excluded_share(prior.rows, &prior.rows_excluded), excluded_share(input.rows, &input.rows_excluded));
            if shares.1 <= shares.0 + 1e-12 {
                return None;
            }
            let reasons = input
                .rows_excluded
                .iter()
                .map(|(reason, n)| (reason.clone(), (prior.rows_excluded.get(reason).copied().unwrap_or(0), *n)))
                .filter(|(_, (a, b))| b > a)
                .collect();
            Some(RowsDropped { table: input.table.clone(), rows: (prior.rows, input.rows), excluded_share: shares, reasons })
        })
        .collect();
    ExperimentDiff {
        experiment: experiment.to_string(),
        kind: new.kind.clone(),
        currency: new.currency.clone(),
        headline: new.headline.clone(),
        flips,
        new_calls,
        gone_calls,
        moved,
        rows_dropped,
    }
}

fn plan_of(results: &BTreeMap<String, ResultJson>) -> Result<Plan, upshot_plan::PlanError> {
    let sources: Vec<Source> =
        results.iter().map(|(folder, result)| Source { folder: folder.clone(), result: Cow::Borrowed(result) }).collect();
    upshot_plan::reconcile(&sources)
}

fn unattributed(plan: &Plan) -> f64 {
    let none: f64 = plan.calls.iter().filter(|c| c.cac.is_none()).map(|c| c.stake).sum();
    if plan.total_stake > 0.0 { none / plan.total_stake } else { 0.0 }
}

/// The two plans' rows compared by channel and brand.
pub fn compare_plans(old: &Plan, new: &Plan) -> PlanDiff {
    let rows = |p: &Plan| -> BTreeMap<(String, bool), (String, Action, String)> {
        p.calls.iter().map(|c| ((c.channel.clone(), c.brand), (c.label(), c.action, c.reason.clone()))).collect()
    };
    let (was, now) = (rows(old), rows(new));
    let mut flips = Vec::new();
    for (key, (label, action, reason)) in &now {
        match was.get(key) {
            Some((_, before, _)) if before == action => {}
            before => {
                flips.push(RowFlip { row: label.clone(), was: before.map(|b| b.1), now: Some(*action), reason: reason.clone() })
            }
        }
    }
    for (key, (label, action, _)) in &was {
        if !now.contains_key(key) {
            flips.push(RowFlip { row: label.clone(), was: Some(*action), now: None, reason: "no longer in the plan".into() });
        }
    }
    PlanDiff { headline: new.headline.clone(), flips, unattributed_share: (unattributed(old), unattributed(new)) }
}

/// Compares two report folders (what `upshot run --out` wrote), experiment by experiment, and
/// their executive plans.
pub fn compare(old: &Path, new: &Path) -> Result<Diff, ReportError> {
    let (old, new) = (results(old)?, results(new)?);
    let experiments =
        new.iter().filter_map(|(name, result)| old.get(name).map(|prior| compare_results(name, prior, result))).collect();
    let (plan, plan_note) = match (plan_of(&old), plan_of(&new)) {
        (Ok(a), Ok(b)) => (Some(compare_plans(&a, &b)), None),
        (Err(e), _) | (_, Err(e)) => (None, Some(format!("no plan comparison: {e}"))),
    };
    Ok(Diff {
        plan,
        plan_note,
        experiments,
        only_old: old.keys().filter(|k| !new.contains_key(*k)).cloned().collect(),
        only_new: new.keys().filter(|k| !old.contains_key(*k)).cloned().collect(),
    })
}

/// Metrics listed per experiment in the Markdown (the JSON has all).
const INLINE_MOVED: usize = 20;

impl Diff {
    /// The guards this diff breaks, one sentence each; empty when it passes.
    pub fn breaches(&self, guards: Guards) -> Vec<String> {
        let mut out = Vec::new();
        let plan = self.plan.as_ref();
        if (guards.channels || guards.max_unattributed.is_some()) && plan.is_none() {
            out.push(self.plan_note.clone().unwrap_or_else(|| "no plan comparison".into()));
        }
        if let Some(p) = plan.filter(|_| guards.channels) {
            for f in &p.flips {
                let call = |a: Option<Action>| a.map_or("(none)", Action::label);
                out.push(format!("plan: {} was {}, is {}", f.row, call(f.was), call(f.now)));
            }
        }
        if let (Some(p), Some(max)) = (plan, guards.max_unattributed)
            && p.unattributed_share.1 > max
        {
            out.push(format!(
                "plan: {} of the stake is on rows without a CAC (the guard allows {})",
                percent(p.unattributed_share.1),
                percent(max)
            ));
        }
        for e in &self.experiments {
            let changed = e.flips.len() + e.new_calls.len() + e.gone_calls.len();
            if guards.flips && changed > 0 {
                out.push(format!(
                    "{}: {} call(s) flipped, {} new, {} gone",
                    e.experiment,
                    e.flips.len(),
                    e.new_calls.len(),
                    e.gone_calls.len()
                ));
            }
            if guards.rows {
                for r in &e.rows_dropped {
                    out.push(format!(
                        "{}: {} excludes {} of its rows (was {})",
                        e.experiment,
                        r.table,
                        percent(r.excluded_share.1),
                        percent(r.excluded_share.0)
                    ));
                }
            }
        }
        out
    }

    /// The JSON document (pretty, trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).map(|s| s + "\n").unwrap_or_else(|_| "{}\n".into())
    }

    /// Markdown for a pull-request comment: a count line, then per experiment with changes its
    /// flipped calls, metrics outside their previous interval and inputs that lost rows.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let flips: usize = self.experiments.iter().map(|e| e.flips.len()).sum();
        let moved: usize = self.experiments.iter().map(|e| e.moved.len()).sum();
        let dropped: usize = self.experiments.iter().map(|e| e.rows_dropped.len()).sum();
        let _ = writeln!(out, "## upshot diff\n");
        let _ = writeln!(
            out,
            "{} of {} experiments changed: {} call(s) flipped, {} metric(s) outside their previous interval, {} input(s) excluding a larger share of rows.\n",
            self.experiments.iter().filter(|e| !e.is_quiet()).count(),
            self.experiments.len(),
            flips,
            moved,
            dropped
        );
        self.plan_markdown(&mut out);
        for (label, names) in [("Only in the old run", &self.only_old), ("Only in the new run", &self.only_new)] {
            if !names.is_empty() {
                let _ = writeln!(out, "{label}: {}.\n", names.join(", "));
            }
        }
        for e in self.experiments.iter().filter(|e| !e.is_quiet()) {
            let currency = e.currency.as_str();
            let _ = writeln!(out, "### {} ({})\n\n{}\n", e.experiment, e.kind, e.headline);
            if !e.flips.is_empty() || !e.new_calls.is_empty() || !e.gone_calls.is_empty() {
                let _ = writeln!(out, "| subject | was | now | why now |\n|---|---|---|---|");
                for f in &e.flips {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        f.subject,
                        f.was.label(),
                        f.now.label(),
                        f.reason.replace('|', "/")
                    );
                }
                for c in &e.new_calls {
                    let _ = writeln!(out, "| {} | (none) | {} | new call |", c.subject, c.action.label());
                }
                for c in &e.gone_calls {
                    let _ = writeln!(out, "| {} | {} | (none) | no longer decided |", c.subject, c.action.label());
                }
                let _ = writeln!(out);
            }
            if !e.moved.is_empty() {
                let _ = writeln!(out, "| metric | segment | was (interval) | now |\n|---|---|---|---|");
                for m in e.moved.iter().take(INLINE_MOVED) {
                    let unit = Metric::point(&m.name, m.unit.clone(), m.now);
                    let value = |v: f64| metric_value(&unit, Some(v), currency);
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} ({} to {}, {}) | {} |",
                        m.name,
                        m.segment,
                        value(m.was),
                        value(m.was_low),
                        value(m.was_high),
                        upshot_result::format::level_text(m.level),
                        value(m.now)
                    );
                }
                if e.moved.len() > INLINE_MOVED {
                    let _ = writeln!(out, "\n{} more in the JSON.", count((e.moved.len() - INLINE_MOVED) as f64));
                }
                let _ = writeln!(out);
            }
            for r in &e.rows_dropped {
                let reasons: Vec<String> =
                    r.reasons.iter().map(|(k, (a, b))| format!("{k} {} -> {}", count(*a as f64), count(*b as f64))).collect();
                let _ = writeln!(
                    out,
                    "- `{}` excludes {} of {} rows (was {} of {}): {}\n",
                    r.table,
                    percent(r.excluded_share.1),
                    count(r.rows.1 as f64),
                    percent(r.excluded_share.0),
                    count(r.rows.0 as f64),
                    reasons.join(", ")
                );
            }
        }
        out
    }
}

impl Diff {
    fn plan_markdown(&self, out: &mut String) {
        let Some(p) = &self.plan else {
            if let Some(note) = &self.plan_note {
                let _ = writeln!(out, "Plan: {note}.\n");
            }
            return;
        };
        let _ = writeln!(
            out,
            "### The plan\n\n{}\n\n{} row(s) changed their call; spend on rows without a CAC: {} (was {}).\n",
            p.headline,
            p.flips.len(),
            percent(p.unattributed_share.1),
            percent(p.unattributed_share.0)
        );
        if !p.flips.is_empty() {
            let _ = writeln!(out, "| row | was | now | why now |\n|---|---|---|---|");
            for f in &p.flips {
                let call = |a: Option<Action>| a.map_or("(none)", Action::label);
                let _ = writeln!(out, "| {} | {} | {} | {} |", f.row, call(f.was), call(f.now), f.reason.replace('|', "/"));
            }
            let _ = writeln!(out);
        }
    }
}

impl ExperimentDiff {
    /// Nothing changed that the page reports.
    pub fn is_quiet(&self) -> bool {
        self.flips.is_empty()
            && self.new_calls.is_empty()
            && self.gone_calls.is_empty()
            && self.moved.is_empty()
            && self.rows_dropped.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use upshot_plan::Call;

    use super::*;

    fn call(channel: &str, brand: bool, action: Action, stake: f64, with_cac: bool) -> Call {
        let cac = with_cac.then_some(upshot_plan::Cac {
            basis: upshot_plan::Basis::Blended,
            estimate: 50.0,
            ci_low: Some(40.0),
            ci_high: Some(60.0),
            level: 0.9,
            spend: 1.0,
            customers: Some(1.0),
        });
        Call {
            channel: channel.into(),
            brand,
            action,
            confidence: 1.0,
            stake,
            cac,
            target: Some(150.0),
            reason: "r".into(),
            evidence: vec![],
        }
    }

    fn plan(calls: Vec<Call>) -> Plan {
        let total_stake = calls.iter().map(|c| c.stake).sum();
        Plan {
            headline: "h".into(),
            currency: "USD".into(),
            horizon: "this month".into(),
            total_stake,
            decision_probability: 0.9,
            calls,
            disagreements: vec![],
            notes: vec![],
        }
    }

    fn diff(plan: PlanDiff) -> Diff {
        Diff { plan: Some(plan), plan_note: None, experiments: vec![], only_old: vec![], only_new: vec![] }
    }

    #[test]
    fn plan_rows_are_matched_by_channel_and_brand_and_guarded() {
        let old =
            plan(vec![call("meta", false, Action::Scale, 600.0, true), call("google_search", true, Action::Keep, 400.0, true)]);
        let new = plan(vec![
            call("meta", false, Action::Optimize, 600.0, true),
            call("google_search", true, Action::NeedsData, 300.0, false),
            call("youtube", false, Action::Scale, 100.0, true),
        ]);
        let p = compare_plans(&old, &new);
        let rows: Vec<(&str, Option<Action>, Option<Action>)> = p.flips.iter().map(|f| (f.row.as_str(), f.was, f.now)).collect();
        assert_eq!(
            rows,
            [
                ("google_search brand", Some(Action::Keep), Some(Action::NeedsData)),
                ("meta", Some(Action::Scale), Some(Action::Optimize)),
                ("youtube", None, Some(Action::Scale)),
            ]
        );
        assert_eq!(p.unattributed_share, (0.0, 0.3));
        let d = diff(p);
        assert!(d.breaches(Guards::default()).is_empty());
        let channels = d.breaches(Guards { channels: true, ..Guards::default() });
        assert_eq!(channels.len(), 3, "{channels:?}");
        assert_eq!(channels[1], "plan: meta was SCALE, is OPTIMIZE");
        let share = d.breaches(Guards { max_unattributed: Some(0.25), ..Guards::default() });
        assert_eq!(share, ["plan: 30% of the stake is on rows without a CAC (the guard allows 25%)"]);
        assert!(d.breaches(Guards { max_unattributed: Some(0.3), ..Guards::default() }).is_empty());
        let none = Diff { plan: None, plan_note: Some("no plan comparison: x".into()), ..d };
        assert_eq!(none.breaches(Guards { channels: true, ..Guards::default() }), ["no plan comparison: x"]);
    }
}
