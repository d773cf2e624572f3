//! The `oidc-gen` binary: parses the command line, runs the library, reports on stderr, and maps
//! errors to the documented exit codes.

mod cli;

/// mimalloc: lint of a large account dump spends a third of its time in the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command, GenerateArgs, LintArgs, LintFormat, SimulateArgs, ThumbprintArgs};
use oidc_gen::bounded::{quoted, short_message};
use oidc_gen::issuer::Issuer;
use oidc_gen::output::{self, Written};
use oidc_gen::plan::Plan;
use oidc_gen::simulate::{self, PolicyInput, TokenInput};
use oidc_gen::spec;
use oidc_gen::{Error, Generation, Result, shown};

/// Prints a line for people on standard error, through [`shown::text`].
macro_rules! tell {
    ($($arg:tt)*) => { tell_text(&format!("{}\n", format_args!($($arg)*))) };
}

fn main() -> ExitCode {
    // clap's own messages quote what was given (an unknown option, a bad value): they leave
    // through the same door as every other message. Help and version are oidc-gen's own text.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().to_string();
            if error.use_stderr() {
                tell_text(&text);
            } else {
                let _ = print_text(&text);
            }
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = match &cli.command {
        Some(Command::Thumbprint(args)) => thumbprint(args).map(|()| ExitCode::SUCCESS),
        Some(Command::Simulate(args)) => simulate(args),
        Some(Command::Lint(args)) => lint(args),
        Some(Command::Issuers { json }) => {
            let text = if *json {
                shown::json(&oidc_gen::issuers::ALL)
            } else {
                oidc_gen::issuers::ALL
                    .iter()
                    .map(|preset| preset.describe())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            print_text(&text).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "oidc-gen", &mut script);
            print_bytes(&script).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(stdout_error)
                .and_then(|()| print_bytes(&page))
                .map(|()| ExitCode::SUCCESS)
        }
        None => generate(&cli.generate).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            // One line per cause: a cause the message already tells is not repeated. A value's
            // field is told as its flag.
            let mut told = error.told_with(oidc_gen::role::flag_of);
            tell!("error: {}", short_message(&told));
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !told.contains(&text) {
                    tell!("caused by: {}", short_message(&text));
                    told.push_str(&text);
                }
                source = cause.source();
            }
            ExitCode::from(error.exit_code())
        }
    }
}

fn thumbprint(args: &ThumbprintArgs) -> Result<()> {
    let issuer = Issuer::parse(&args.issuer)?;
    let report = args.network.network().lookup(&issuer)?;
    print_chain_report(&report);
    let mut stdout = checked_stdout()?;
    let printed = if args.json {
        stdout.write_all(shown::json(&report).as_bytes())
    } else {
        report
            .thumbprints
            .iter()
            .try_for_each(|t| writeln!(stdout, "{}", shown::value(t)))
    };
    printed.and_then(|()| stdout.flush()).map_err(stdout_error)
}

/// Generates the files of the flags' role, or of the spec's roles: one flow for both.
fn generate(args: &GenerateArgs) -> Result<()> {
    let plan = match &args.config {
        Some(config) => {
            if args.issuer.is_some() {
                return Err(Error::Usage(
                    "--issuer (or OIDC_GEN_ISSUER) cannot be used with --config; write issuer: in the spec"
                        .into(),
                ));
            }
            if args.to_stdout() {
                return Err(Error::Usage(
                    "--out - prints one file, but a spec writes a folder of them; give --out DIR"
                        .into(),
                ));
            }
            spec::load(config)?
        }
        None => Plan::of_role(args.request().validate()?),
    };
    let others = args.other_clouds();
    if args.config.is_some() && !others.is_empty() {
        return Err(Error::Usage(
            "--cloud gcp and azure write the command line's role; a spec names its clouds under clouds: \
             (gcp, azure), each with its projects or subscriptions"
                .into(),
        ));
    }
    let (formats, mut notes) = match args.aws() {
        true => plan.formats(&args.selection())?,
        false => (Vec::new(), plan.roles[0].trust.notes.clone()),
    };
    if args.to_stdout() && others.is_empty() && formats.len() != 1 {
        return Err(Error::Usage(format!(
            "--out - prints one file, but {} formats are selected; pick one with --format",
            formats.len()
        )));
    }
    // The other clouds' files first: they need no network, and a refusal stops the run before
    // a thumbprint is looked up.
    let mut cloud_files = Vec::new();
    let renderer = oidc_gen::render::Renderer::new(plan.templates.as_ref());
    for cloud in others {
        let (files, cloud_notes) = oidc_gen::clouds::files(
            cloud,
            &plan.roles[0],
            &args.selection(),
            !args.aws(),
            &renderer,
            None,
        )?;
        cloud_files.extend(files);
        notes.extend(cloud_notes);
    }
    let (files, cloud_notes) = plan.render_clouds(&args.selection())?;
    cloud_files.extend(files);
    notes.extend(cloud_notes);
    let mut generation = match args.aws() {
        true => plan.generate(&formats, &args.network.network())?,
        false => Generation {
            files: Vec::new(),
            report: None,
        },
    };
    generation.files.extend(cloud_files);
    if args.to_stdout() {
        if generation.files.len() != 1 {
            return Err(Error::Usage(format!(
                "--out - prints one file, but {} are generated; pick one with --format and --cloud",
                generation.files.len()
            )));
        }
        if args.check {
            return Err(Error::Usage(
                "--check compares files in a folder; it cannot be used with --out -".into(),
            ));
        }
    }

    if let Some(report) = &generation.report {
        print_chain_report(report);
    }

    if args.to_stdout() {
        print_bytes(generation.files[0].contents.as_bytes())?;
        notes.iter().for_each(|note| tell!("note: {note}"));
        return Ok(());
    }
    write_or_check(args, &generation, &notes)
}

/// Compares the files with the folder (`--check`), or writes them; then the notes.
fn write_or_check(args: &GenerateArgs, generation: &Generation, notes: &[String]) -> Result<()> {
    let mut waiting = |pid: Option<u32>| {
        tell!(
            "waiting up to {} s for another oidc-gen run ({}) on {}",
            args.lock_wait,
            pid.map(|p| format!("pid {p}"))
                .unwrap_or_else(|| "pid unknown".into()),
            shown::path(&args.out)
        )
    };
    let wait = std::time::Duration::from_secs(args.lock_wait);
    if args.check {
        let checked = output::check(&args.out, &generation.files, wait, &mut waiting)?;
        checked.notes.iter().for_each(|note| tell!("note: {note}"));
        let differences = checked.differences;
        let mut stdout = checked_stdout()?;
        for difference in &differences {
            let text = format!(
                "{}: {}\n{}",
                difference.change.label(),
                shown::path(&difference.path),
                difference.diff
            );
            stdout
                .write_all(shown::text(&text).as_bytes())
                .map_err(stdout_error)?;
        }
        stdout.flush().map_err(stdout_error)?;
        if !differences.is_empty() {
            return Err(Error::CheckFailed(differences.len()));
        }
        tell!(
            "{} file(s) under {} are up to date",
            generation.files.len(),
            shown::path(&args.out)
        );
        return Ok(());
    }

    let options = output::Options {
        prune: args.prune,
        force: args.force,
        wait,
    };
    let outcome = output::write_all(&args.out, &generation.files, &options, &mut waiting)?;
    for written in outcome.written {
        match written {
            Written::Created(path) => tell!("created {}", shown::path(&path)),
            Written::Updated(path) => tell!("updated {}", shown::path(&path)),
            Written::Unchanged(path) => tell!("unchanged {}", shown::path(&path)),
        }
    }
    for path in outcome.removed {
        tell!("removed {} (stale)", shown::path(&path));
    }
    for path in outcome.stale {
        tell!(
            "stale: {} was written by an earlier run and is no longer generated; --prune removes it",
            shown::path(&path)
        );
    }
    outcome
        .notes
        .iter()
        .chain(notes)
        .for_each(|note| tell!("note: {note}"));
    Ok(())
}

/// Lints the paths; exit 1 for findings at or above `--fail-on`, 2 for an unreadable file.
fn lint(args: &LintArgs) -> Result<ExitCode> {
    let options = oidc_gen::lint::Options {
        terraform: oidc_gen::lint::Inputs {
            var_files: args.var_files.clone(),
            vars: args.vars.clone(),
        },
        parameters: args.parameters.clone(),
    };
    let report = oidc_gen::lint::lint_with(&args.paths, &options);
    match args.format {
        LintFormat::Text => print_text(&report.text())?,
        LintFormat::Json => print_bytes(shown::json(&report.json()).as_bytes())?,
        LintFormat::Sarif => print_bytes(shown::json(&report.sarif()).as_bytes())?,
    }
    Ok(if !report.unreadable.is_empty() {
        ExitCode::from(2)
    } else if report.at_least(args.fail_on) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Evaluates the token against the policy; exit 0 when it gets in, 1 when it does not.
fn simulate(args: &SimulateArgs) -> Result<ExitCode> {
    let token = match (&args.token, &args.aud, &args.sub) {
        (Some(jwt), _, _) => TokenInput::Jwt(jwt.clone()),
        (None, Some(aud), Some(sub)) => TokenInput::Claims {
            aud: aud.clone(),
            sub: sub.clone(),
            claims: args.claim.clone(),
        },
        _ => unreachable!("clap requires --token, or --aud with --sub"),
    };
    let generate = &args.generate;
    let others = generate.other_clouds();
    if !others.is_empty() {
        if args.policy.is_some() || generate.config.is_some() {
            return Err(Error::Usage(
                "--cloud gcp and azure evaluate the trust the command line's options generate; \
                 --policy and --config evaluate AWS policies only"
                    .into(),
            ));
        }
        let (admitted, answer) =
            simulate::run_in_clouds(&token, &generate.request(), &others, generate.aws())?;
        answer.notes.iter().for_each(|note| tell!("note: {note}"));
        print_text(&answer.text)?;
        return Ok(if admitted {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let policy = match (&args.policy, &generate.config) {
        (Some(_), _) if generate.names_tokens() => {
            return Err(Error::Usage(
                "--policy evaluates the policy in the file; the options that describe a policy to generate \
                 (--org, --env, --deploy, --github, --audience, ...) cannot be used with it"
                    .into(),
            ));
        }
        (Some(path), _) => PolicyInput::File {
            path: path.clone(),
            issuer: generate.issuer.clone(),
        },
        (None, Some(spec)) => {
            let plan = spec::load(spec)?;
            let names: Vec<&str> = plan.roles.iter().map(|r| r.role_name()).collect();
            let role = match &args.role {
                Some(name) => plan
                    .roles
                    .iter()
                    .find(|r| r.role_name().eq_ignore_ascii_case(name)),
                None if plan.roles.len() == 1 => plan.roles.first(),
                None => None,
            };
            let Some(role) = role else {
                let start = match &args.role {
                    Some(name) => format!("{} has no role {}", shown::path(spec), quoted(name)),
                    None => format!(
                        "say which role of {} to evaluate with --role NAME",
                        shown::path(spec)
                    ),
                };
                return Err(Error::Usage(format!(
                    "{start}; its roles: {}",
                    names.join(", ")
                )));
            };
            PolicyInput::Checked(Box::new(role.trust.clone()))
        }
        (None, None) => PolicyInput::Generated(Box::new(generate.request())),
    };
    let answer = simulate::run(&token, &policy)?;
    answer.notes.iter().for_each(|note| tell!("note: {note}"));
    print_text(&answer.text)?;
    Ok(if answer.verdict.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The chain each endpoint sent, and the warnings about it, on stderr.
fn print_chain_report(report: &oidc_gen::thumbprint::Report) {
    tell_text(&report.describe());
    for warning in &report.warnings {
        tell!("warning: {warning}");
    }
}

/// Prints `text` for people on standard error, through [`shown::text`]: the one way oidc-gen
/// speaks on standard error.
fn tell_text(text: &str) {
    let _ = std::io::stderr().write_all(shown::text(text).as_bytes());
}

/// Prints `text` for people (a report, a verdict) on standard output, through [`shown::text`].
fn print_text(text: &str) -> Result<()> {
    print_bytes(shown::text(text).as_bytes())
}

/// Writes `bytes` to standard output as they are (a generated file, JSON made by [`shown::json`]),
/// or says why it cannot.
fn print_bytes(bytes: &[u8]) -> Result<()> {
    let mut stdout = checked_stdout()?;
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(stdout_error)
}

/// Standard output, if it was open when oidc-gen started. Rust's runtime opens /dev/null, for
/// reading and writing, in place of a closed one, where what is printed would be lost without a
/// word; a shell's `> /dev/null` opens it for writing only.
fn checked_stdout() -> Result<std::io::StdoutLock<'static>> {
    use rustix::fs::{FileType, OFlags};
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let fd = stdout.as_fd();
    let stat = rustix::fs::fstat(fd).map_err(|e| stdout_error(e.into()))?;
    let mode = rustix::fs::fcntl_getfl(fd).map_err(|e| stdout_error(e.into()))?;
    let null = FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
        && (
            rustix::fs::major(stat.st_rdev),
            rustix::fs::minor(stat.st_rdev),
        ) == (1, 3);
    if null && mode & OFlags::RWMODE == OFlags::RDWR {
        return Err(stdout_error(std::io::Error::other(
            "it is closed; redirect it to a file, or to /dev/null to discard it",
        )));
    }
    Ok(stdout.lock())
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        action: "cannot write to",
        path: "standard output".into(),
        source,
    }
}
