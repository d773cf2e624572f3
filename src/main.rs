//! The `oidc-gen` binary: parses the command line, runs the library, reports on stderr, and maps
//! errors to the documented exit codes.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, GenerateArgs, ThumbprintArgs};
use oidc_gen::output::{self, Written};
use oidc_gen::{Error, Result};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Thumbprint(args)) => thumbprint(args),
        None => generate(&cli.generate),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(error.exit_code())
        }
    }
}

fn thumbprint(args: &ThumbprintArgs) -> Result<()> {
    let issuer = oidc_gen::model::parse_issuer(&args.network.issuer)?;
    let report = args.network.network().lookup(&issuer)?;
    print_chain_report(&report);
    let mut stdout = std::io::stdout().lock();
    let printed = if args.json {
        writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        )
    } else {
        report
            .thumbprints
            .iter()
            .try_for_each(|t| writeln!(stdout, "{t}"))
    };
    printed.map_err(stdout_error)
}

fn generate(args: &GenerateArgs) -> Result<()> {
    let inputs = args.request().validate()?;
    let (formats, notes) = oidc_gen::plan(&args.selection(), &inputs)?;
    if args.to_stdout() {
        if formats.len() != 1 {
            return Err(Error::Usage(format!(
                "--out - prints one file, but {} formats are selected; pick one with --format",
                formats.len()
            )));
        }
        if args.check {
            return Err(Error::Usage(
                "--check compares files in a folder; it cannot be used with --out -".into(),
            ));
        }
    }

    let generation = oidc_gen::generate(&inputs, &formats, &args.network.network())?;
    if let Some(report) = &generation.report {
        print_chain_report(report);
    }

    if args.to_stdout() {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(generation.files[0].contents.as_bytes())
            .map_err(stdout_error)?;
        notes.iter().for_each(|note| eprintln!("note: {note}"));
        return Ok(());
    }
    if args.check {
        let differences = output::check(&args.out, &generation.files)?;
        for difference in &differences {
            eprintln!("differs: {}", difference.path.display());
            print!("{}", difference.diff);
        }
        if !differences.is_empty() {
            return Err(Error::CheckFailed(differences.len()));
        }
        eprintln!(
            "{} file(s) under {} are up to date",
            generation.files.len(),
            args.out.display()
        );
        return Ok(());
    }

    for written in output::write_all(&args.out, &generation.files)? {
        match written {
            Written::Created(path) => eprintln!("created {}", path.display()),
            Written::Updated(path) => eprintln!("updated {}", path.display()),
            Written::Unchanged(path) => eprintln!("unchanged {}", path.display()),
        }
    }
    notes.iter().for_each(|note| eprintln!("note: {note}"));
    Ok(())
}

/// The chain each endpoint sent, and the warnings about it, on stderr.
fn print_chain_report(report: &oidc_gen::thumbprint::Report) {
    eprint!("{}", report.describe());
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        action: "cannot write to",
        path: "standard output".into(),
        source,
    }
}
