//! `upshot brand-test design`: a randomized schedule, and power by simulation.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use upshot_analysis::Kind;
use upshot_brand::BrandTest;
use upshot_brand::design::{DesignParams, design as draw_schedule};
use upshot_brand::power;
use upshot_data::{DataError, ExperimentConfig, InputSpec, Mode, TableKind, validate_config};
use upshot_result::{Analysis, ResultJson};

use crate::cli::DesignArgs;
use crate::error::CliError;
use crate::printer::Printer;

pub fn design(args: &DesignArgs, printer: &Printer) -> Result<(), CliError> {
    let start = NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .map_err(|_| CliError::Usage(format!("--start `{}` is not a date like 2026-03-02", args.start)))?;
    if args.block_days == 0 || args.washout_days >= args.block_days {
        return Err(CliError::Usage("--block-days must be at least 1 and larger than --washout-days".into()));
    }
    if args.days < 2 * args.block_days {
        return Err(CliError::Usage(format!("--days {} gives fewer than 2 blocks of {} days", args.days, args.block_days)));
    }
    if !(0.5..1.0).contains(&args.power) || args.draws < 100 || args.simulations < 10 {
        return Err(CliError::Usage("--power must be in [0.5, 1), --draws at least 100, --simulations at least 10".into()));
    }
    if args.effect.is_some_and(|e| !(e.is_finite() && e > 0.0)) {
        return Err(CliError::Usage("--effect must be a positive number of purchases per on-day".into()));
    }
    let regions: Vec<Option<String>> =
        if args.regions.is_empty() { vec![None] } else { args.regions.iter().map(|r| Some(r.clone())).collect() };
    let params = DesignParams {
        start,
        days: args.days,
        regions,
        block_days: args.block_days,
        washout_days: args.washout_days,
        seed: args.seed,
    };
    let strata = {
        let blocks = args.days.div_ceil(args.block_days);
        let keys: Vec<(usize, u32)> = (0..params.regions.len())
            .flat_map(|r| {
                (0..blocks).map(move |b| {
                    let block_start = start + chrono::Days::new((b * args.block_days) as u64);
                    upshot_brand::design::stratum_of(r, block_start, args.block_days, upshot_brand::design::Balance::Weekday)
                })
            })
            .collect();
        upshot_brand::design::Strata::new(&keys)
    };
    if strata.smallest_p() > 0.05 {
        return Err(CliError::Usage(format!(
            "--days {} in blocks of {} gives only {:.0} possible on/off assignments: the smallest p-value the analysis's re-randomization test can reach is {:.3}, above 0.05, so no effect could ever be significant; use more days, shorter blocks or more regions",
            args.days,
            args.block_days,
            strata.assignments(),
            strata.smallest_p()
        )));
    }
    // The power report first: a history it cannot use stops the command before any file is written.
    if let Some(history) = &args.history {
        power_report(history, args, printer)?;
    }
    let rows = draw_schedule(&params);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let polars_error =
        |source| DataError::Polars { file: args.out.display().to_string(), context: "cannot build the schedule".into(), source };
    let mut frame = DataFrame::new_infer_height(vec![
        Column::new("date".into(), rows.iter().map(|r| (r.date - epoch).num_days() as i32).collect::<Vec<i32>>())
            .cast(&DataType::Date)
            .map_err(polars_error)?,
        Column::new("region".into(), rows.iter().map(|r| r.region.clone()).collect::<Vec<Option<String>>>())
            .cast(&DataType::String)
            .map_err(polars_error)?,
        Column::new("brand_on".into(), rows.iter().map(|r| r.brand_on).collect::<Vec<bool>>()),
        Column::new("washout".into(), rows.iter().map(|r| r.washout).collect::<Vec<bool>>()),
    ])
    .map_err(polars_error)?;
    let metadata = upshot_data::ScheduleDesign::switchback(args.seed, args.block_days, args.washout_days).to_metadata();
    upshot_data::load::write_parquet(&args.out, &mut frame, metadata)?;
    let on = rows.iter().filter(|r| r.brand_on && !r.washout).count();
    let off = rows.iter().filter(|r| !r.brand_on && !r.washout).count();
    printer.out(&format!(
        "wrote {}: {} units from {start}, {on} on, {off} off, {} washout (seed {})",
        args.out.display(),
        rows.len(),
        rows.len() - on - off,
        args.seed
    ));
    Ok(())
}

fn power_report(history: &Path, args: &DesignArgs, printer: &Printer) -> Result<(), CliError> {
    let config = ExperimentConfig {
        path: history.to_path_buf(),
        name: "brand-test-design".into(),
        kind: BrandTest::NAME.into(),
        currency: "USD".into(),
        seed: args.seed,
        timezone: None,
        stages: upshot_data::DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
        window: None,
        inputs: vec![InputSpec {
            table: TableKind::Orders,
            display_path: history.display().to_string(),
            path: history.to_path_buf(),
            renames: Default::default(),
        }],
        params: Default::default(),
        sha256: String::new(),
    };
    let dataset = validate_config(&config, Mode::Load, &upshot_data::NoProgress)?;
    let orders = dataset.get(TableKind::Orders).ok_or(CliError::Usage("history has no orders".into()))?;
    let (start, series) = if args.regions.is_empty() {
        let (start, daily) = upshot_brand::power::daily_new_customers(&orders.frame)?;
        (start, vec![daily])
    } else {
        if orders.frame.column("region").is_err() {
            return Err(CliError::Usage(format!(
                "--regions with --history needs a `region` column in {}: the power of a region design is simulated on each region's own days",
                history.display()
            )));
        }
        upshot_brand::power::daily_new_customers_by_region(&orders.frame, &args.regions).map_err(|e| match e {
            upshot_data::AnalysisError::Params(message) => CliError::Usage(format!("{}: {message}", history.display())),
            other => other.into(),
        })?
    };
    let daily = &series[0];
    let params = power::PowerParams {
        test_lengths: vec![28, 42, 56, 84, 112, 168, 224],
        block_lengths: vec![1, 2, 7],
        simulations: args.simulations,
        draws: args.draws,
        alpha: 0.05,
        power: args.power,
        effect: args.effect,
        washout_days: args.washout_days,
        seed: args.seed,
    };
    let slices: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
    let rows = power::simulate_regions(start, &slices, &params);
    let (table, chart) = power::present(&rows, daily.len(), &params, (args.days, args.block_days));
    for row in &rows {
        match (row.mde, &row.refusal) {
            (Some(mde), _) => printer.out(&format!(
                "  {:>3} days, blocks of {}: detects {:.1} purchases a {} ({:.1}% of {:.1}){}",
                row.test_days,
                row.block_days,
                mde,
                power::unit_word(row.regions),
                100.0 * mde / row.baseline,
                row.baseline,
                row.power_at_effect
                    .map(|p| format!(", power {:.0}% at {}", 100.0 * p, args.effect.unwrap_or_default()))
                    .unwrap_or_default()
            )),
            (None, reason) => printer.out(&format!(
                "  {:>3} days, blocks of {}: no detectable effect: {}",
                row.test_days,
                row.block_days,
                reason.as_deref().unwrap_or("not simulated")
            )),
        }
    }
    if let Some(effect) = args.effect {
        for block_days in &params.block_lengths {
            match power::days_needed(&rows, *block_days, args.power) {
                Some(days) => printer.out(&format!(
                    "  to detect {effect} purchases a {} with {:.0}% power in blocks of {block_days}: {days} days",
                    power::unit_word(series.len()),
                    100.0 * args.power
                )),
                None => printer.out(&format!(
                    "  to detect {effect} purchases a {} with {:.0}% power in blocks of {block_days}: more than the {} days simulated (or more history)",
                    power::unit_word(series.len()),
                    100.0 * args.power,
                    rows.iter().filter(|r| r.block_days == *block_days).map(|r| r.test_days).max().unwrap_or(0)
                )),
            }
        }
    }
    let analysis = Analysis {
        headline: chart.title.clone(),
        context: vec![format!(
            "Power by simulation on {} days of daily new customers{} from {}: {} simulated tests per design, each a window of the history with a schedule drawn by the real design (blocks balanced by start weekday) and the fixed-effects re-randomization test the analysis runs ({} draws, or every assignment when a design has fewer); designs whose smallest attainable p-value is above alpha get no detectable effect.",
            daily.len(),
            if series.len() > 1 {
                format!(" in each of {} regions (date and region fixed effects, as the analysis)", series.len())
            } else {
                String::new()
            },
            history.display(),
            args.simulations,
            args.draws
        )],
        metrics: Vec::new(),
        decisions: Vec::new(),
        warnings: Vec::new(),
        tables: vec![table],
        charts: vec![chart],
        period: None,
    };
    let run = ResultJson {
        upshot_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: "brand-test-design".into(),
        kind: "brand-test-design".into(),
        headline: analysis.headline.clone(),
        currency: "USD".into(),
        economics: Default::default(),
        period: None,
        inputs: Vec::new(),
        config_sha256: String::new(),
        seed: args.seed,
        metrics: Vec::new(),
        decisions: Vec::new(),
        warnings: Vec::new(),
    };
    let folder = upshot_report::write_report(&args.report_out, &run, &analysis)?;
    printer.out(&format!("power report: {}", folder.display()));
    Ok(())
}
