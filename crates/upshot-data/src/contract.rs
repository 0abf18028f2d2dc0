//! The input contract of `CONTRACTS.md`: the seven tables, their columns and types.

use std::fmt;

use polars::prelude::{DataType, TimeUnit};

/// The funnel stages after `lead` when the config does not name its own.
pub const DEFAULT_STAGES: [&str; 5] = ["target_lead", "call", "proposal", "negotiation", "purchase"];

/// The seven contract tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    /// Ad delivery and cost, one row per day x ad (x region).
    Spend,
    /// CRM funnel, one row per lead.
    Leads,
    /// Payments, one row per order; refunds are rows with negative revenue.
    Orders,
    /// Journeys, one row per interaction.
    Touchpoints,
    /// Post-purchase "How did you hear about us?" answers.
    Survey,
    /// Monthly plan, long format.
    Plan,
    /// Brand on/off test assignment.
    Schedule,
}

impl TableKind {
    /// Every table, in loading order: leads before orders (orders check their
    /// `lead_id` against leads) and orders before survey.
    pub const ALL: [TableKind; 7] = [
        TableKind::Spend,
        TableKind::Leads,
        TableKind::Orders,
        TableKind::Touchpoints,
        TableKind::Survey,
        TableKind::Plan,
        TableKind::Schedule,
    ];

    /// The contract name, as used in `[inputs]` and `[columns.<table>]`.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Spend => "spend",
            TableKind::Leads => "leads",
            TableKind::Orders => "orders",
            TableKind::Touchpoints => "touchpoints",
            TableKind::Survey => "survey",
            TableKind::Plan => "plan",
            TableKind::Schedule => "schedule",
        }
    }

    /// Parses a contract name.
    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The column that places a row in time, used for the config's window.
    pub fn time_column(self) -> Option<&'static str> {
        match self {
            TableKind::Spend | TableKind::Schedule => Some("date"),
            TableKind::Leads => Some("created_at"),
            TableKind::Orders => Some("paid_at"),
            TableKind::Touchpoints => Some("at"),
            TableKind::Survey => Some("sent_at"),
            TableKind::Plan => Some("month"),
        }
    }

    /// The column that must be unique, if any.
    pub fn id_column(self) -> Option<&'static str> {
        match self {
            TableKind::Leads => Some("lead_id"),
            TableKind::Orders | TableKind::Survey => Some("order_id"),
            _ => None,
        }
    }

    /// The contract columns of this table; `stages` are the funnel stages
    /// after `lead` (they add `<stage>_at` columns to leads).
    pub fn columns(self, stages: &[String]) -> Vec<ColumnSpec> {
        use ColType::*;
        let c = ColumnSpec::required;
        let n = ColumnSpec::nullable;
        match self {
            TableKind::Spend => vec![
                c("date", Date),
                c("channel", Utf8),
                c("campaign", Utf8),
                n("ad_group", Utf8),
                n("ad", Utf8),
                n("region", Utf8),
                c("impressions", Int64),
                c("clicks", Int64),
                c("cost", Float64),
            ],
            TableKind::Leads => {
                let mut columns = vec![
                    c("lead_id", Utf8),
                    c("created_at", Datetime),
                    n("channel", Utf8),
                    n("campaign", Utf8),
                    n("ad_group", Utf8),
                    n("ad", Utf8),
                    n("region", Utf8),
                    n("score", Float64),
                ];
                columns.extend(stages.iter().map(|stage| ColumnSpec {
                    name: format!("{stage}_at"),
                    ty: Datetime,
                    nullable: true,
                }));
                columns.push(n("revenue", Float64));
                columns
            }
            TableKind::Orders => vec![
                c("order_id", Utf8),
                c("customer_id", Utf8),
                n("lead_id", Utf8),
                c("paid_at", Datetime),
                c("revenue", Float64),
                n("product", Utf8),
                n("promo_code", Utf8),
                n("channel", Utf8),
                n("campaign", Utf8),
                n("ad_group", Utf8),
                n("ad", Utf8),
                n("region", Utf8),
            ],
            TableKind::Touchpoints => {
                vec![c("customer_id", Utf8), c("at", Datetime), c("channel", Utf8), n("campaign", Utf8), c("kind", Utf8)]
            }
            TableKind::Survey => vec![c("order_id", Utf8), c("sent_at", Datetime), n("answered_at", Datetime), n("answer", Utf8)],
            TableKind::Plan => {
                vec![c("month", Date), c("channel", Utf8), n("campaign", Utf8), c("metric", Utf8), c("value", Float64)]
            }
            TableKind::Schedule => vec![c("date", Date), n("region", Utf8), c("brand_on", Boolean), c("washout", Boolean)],
        }
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The logical type of a contract column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Text.
    Utf8,
    /// 64-bit integer.
    Int64,
    /// 64-bit float.
    Float64,
    /// Calendar date.
    Date,
    /// Timestamp (UTC unless the config sets a timezone).
    Datetime,
    /// True or false.
    Boolean,
}

impl ColType {
    /// The polars type every loaded column is cast to.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Utf8 => DataType::String,
            ColType::Int64 => DataType::Int64,
            ColType::Float64 => DataType::Float64,
            ColType::Date => DataType::Date,
            ColType::Datetime => DataType::Datetime(TimeUnit::Microseconds, None),
            ColType::Boolean => DataType::Boolean,
        }
    }

    /// Whether a column of type `found` can be read as this type without
    /// losing information. Anything else is a mistyped column.
    pub fn accepts(self, found: &DataType) -> bool {
        match self {
            ColType::Utf8 => matches!(found, DataType::String | DataType::Categorical(..) | DataType::Enum(..)),
            ColType::Int64 => found.is_integer(),
            ColType::Float64 => found.is_float() || found.is_integer(),
            ColType::Date => matches!(found, DataType::Date),
            // A date column is read as midnight of that day.
            ColType::Datetime => matches!(found, DataType::Datetime(..) | DataType::Date),
            ColType::Boolean => matches!(found, DataType::Boolean),
        }
    }

    /// The contract's name for the type, as error messages print it.
    pub fn name(self) -> &'static str {
        match self {
            ColType::Utf8 => "Utf8",
            ColType::Int64 => "Int64",
            ColType::Float64 => "Float64",
            ColType::Date => "Date",
            ColType::Datetime => "Datetime",
            ColType::Boolean => "Boolean",
        }
    }
}

/// One contract column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Canonical name.
    pub name: String,
    /// Logical type.
    pub ty: ColType,
    /// Whether nulls are legal (and the column may be left out).
    pub nullable: bool,
}

impl ColumnSpec {
    fn required(name: &str, ty: ColType) -> Self {
        Self { name: name.to_string(), ty, nullable: false }
    }

    fn nullable(name: &str, ty: ColType) -> Self {
        Self { name: name.to_string(), ty, nullable: true }
    }
}

/// Metric names a plan row may carry: `cost`, `lead`, each stage, `revenue`.
pub fn plan_metrics(stages: &[String]) -> Vec<String> {
    let mut metrics = vec!["cost".to_string(), "lead".to_string()];
    metrics.extend(stages.iter().cloned());
    metrics.push("revenue".to_string());
    metrics
}

/// The design of an on/off schedule, stored in the schedule file's Parquet key-value metadata
/// (`upshot.design`, `upshot.seed`, `upshot.block_days`, `upshot.washout_days`). Written by
/// `upshot brand design` and `upshot synth`, read by the brand analysis: one record, so the keys
/// cannot drift apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleDesign {
    /// How the schedule was drawn, in words (`day switchback, balanced by day of week`).
    pub design: String,
    /// The seed it was drawn with.
    pub seed: u64,
    /// Length of one on/off block in days (1 for a day switchback).
    pub block_days: usize,
    /// Days at the start of each block excluded as washout.
    pub washout_days: usize,
}

impl ScheduleDesign {
    const DESIGN: &'static str = "upshot.design";
    const SEED: &'static str = "upshot.seed";
    const BLOCK_DAYS: &'static str = "upshot.block_days";
    const WASHOUT_DAYS: &'static str = "upshot.washout_days";
    /// The design of a multi-day block switchback balanced by its blocks' start weekdays.
    pub const BLOCKS_BY_WEEKDAY: &'static str = "block switchback, balanced by block start weekday";

    /// A switchback of `block_days`-day blocks, named as the design command names it.
    pub fn switchback(seed: u64, block_days: usize, washout_days: usize) -> Self {
        let design = if block_days == 1 { "day switchback, balanced by day of week" } else { Self::BLOCKS_BY_WEEKDAY };
        Self { design: design.to_string(), seed, block_days, washout_days }
    }

    /// The key-value metadata to write into the schedule file.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        vec![
            (Self::DESIGN.to_string(), self.design.clone()),
            (Self::SEED.to_string(), self.seed.to_string()),
            (Self::BLOCK_DAYS.to_string(), self.block_days.to_string()),
            (Self::WASHOUT_DAYS.to_string(), self.washout_days.to_string()),
        ]
    }

    /// The block length a schedule file's metadata states: 1 (a day switchback) when the file
    /// has none or an unreadable one, as a schedule written by other tools has.
    pub fn block_days_of(metadata: &std::collections::BTreeMap<String, String>) -> usize {
        metadata.get(Self::BLOCK_DAYS).and_then(|v| v.parse().ok()).filter(|b| *b >= 1).unwrap_or(1)
    }

    /// Whether a schedule file says its multi-day blocks were balanced by start weekday (what
    /// `upshot brand-test design` draws). Files without the statement (earlier block
    /// switchbacks, other tools) were not, and are re-randomized as drawn: all blocks together.
    pub fn weekday_balanced_of(metadata: &std::collections::BTreeMap<String, String>) -> bool {
        metadata.get(Self::DESIGN).is_some_and(|d| d == Self::BLOCKS_BY_WEEKDAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_get_one_column_per_stage() {
        let stages: Vec<String> = DEFAULT_STAGES.iter().map(|s| s.to_string()).collect();
        let names: Vec<String> = TableKind::Leads.columns(&stages).into_iter().map(|c| c.name).collect();
        assert!(names.contains(&"negotiation_at".to_string()));
        assert!(names.contains(&"purchase_at".to_string()));
        assert_eq!(names.first().map(String::as_str), Some("lead_id"));
    }

    #[test]
    fn table_names_round_trip() {
        for kind in TableKind::ALL {
            assert_eq!(TableKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(TableKind::from_name("sales"), None);
    }

    #[test]
    fn schedule_design_round_trips_through_metadata() {
        let design = ScheduleDesign::switchback(7, 3, 1);
        let metadata: std::collections::BTreeMap<String, String> = design.to_metadata().into_iter().collect();
        assert_eq!(ScheduleDesign::block_days_of(&metadata), 3);
        assert_eq!(metadata["upshot.design"], "block switchback, balanced by block start weekday");
        assert!(ScheduleDesign::weekday_balanced_of(&metadata));
        assert_eq!(ScheduleDesign::block_days_of(&Default::default()), 1);
        let earlier: std::collections::BTreeMap<String, String> =
            [("upshot.design".to_string(), "block switchback".to_string())].into_iter().collect();
        assert!(!ScheduleDesign::weekday_balanced_of(&earlier));
    }

    #[test]
    fn integer_money_is_accepted_but_text_dates_are_not() {
        assert!(ColType::Float64.accepts(&DataType::Int32));
        assert!(!ColType::Date.accepts(&DataType::String));
        assert!(!ColType::Int64.accepts(&DataType::Float64));
    }
}
