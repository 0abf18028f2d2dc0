//! `upshot synth`: deterministic synthetic exports.

use upshot_synth::{Scale, SurveyWorld, SynthOptions, generate};

use crate::cli::{ScaleArg, SurveyWorldArg, SynthArgs};
use crate::error::CliError;
use crate::printer::Printer;

pub fn cmd(args: &SynthArgs, printer: &Printer) -> Result<(), CliError> {
    let scale = match args.scale {
        ScaleArg::Small => Scale::Small,
        ScaleArg::Medium => Scale::Medium,
        ScaleArg::Large => Scale::Large,
        ScaleArg::Xl => Scale::Xl,
    };
    let survey_world = match args.survey_world {
        SurveyWorldArg::Model => SurveyWorld::Model,
        SurveyWorldArg::Misspecified => SurveyWorld::Misspecified,
    };
    let options = SynthOptions { seed: args.seed, scale, out: args.out.clone(), survey_world };
    let bar = printer.progress(upshot_synth::PERIOD_DAYS as u64, "days");
    let truth = generate(&options, &|done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let rows: Vec<String> = truth.rows.iter().map(|(table, n)| format!("{table} {n}")).collect();
    printer.out(&format!("wrote {} (seed {}, {:?}): {}", args.out.display(), args.seed, args.scale, rows.join(", ")));
    printer.out(&format!(
        "truth: brand test adds {:.2} purchases per on-day; {} of 100 keywords meet the ${:.0} target CAC",
        truth.brand_test.incremental_purchases_per_on_day,
        truth.keywords.iter().filter(|k| k.meets_target).count(),
        truth.target_cac
    ));
    Ok(())
}
