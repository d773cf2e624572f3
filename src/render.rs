//! Rendering the model into each format's file with minijinja.
//!
//! Templates are found by folder, and the output tree mirrors the template tree: the one template
//! in `templates/<format>/` is the flags' role's file of that format (`terraform/main.tf.j2` writes
//! `terraform/main.tf`), and every template under `templates/spec/` is a file a spec writes once
//! (`spec/terraform/modules/pulumi-oidc/main.tf.j2` writes `terraform/modules/pulumi-oidc/main.tf`);
//! a name starting with `_` is a partial that templates include. They are embedded in the binary;
//! `--templates DIR` is tried first, file by file, so a team can override one format and keep the
//! others. Each format's folder picks its escaping (see [`crate::escape`]), undefined values are
//! errors, and every rendered file is parsed back before it is returned, so a broken template can
//! never write a broken file.

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::context::Model;
use crate::error::{Error, Result};
use crate::escape::{self, Language};
use crate::issuers::ALL;

/// Every built-in template, by its path under `templates/`.
static TEMPLATES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The folder of the files a spec writes once (not per account and role).
const SPEC_FOLDER: &str = "spec";

/// The folder of each cloud's templates besides AWS: `clouds/<cloud>/<format>/...`.
const CLOUDS_FOLDER: &str = "clouds";

/// The templates of `cloud` (`templates/clouds/<cloud>/<format>/`), with each file's format and
/// path (`<cloud>/<format>/<file>`), in the order of [`Format::all`].
pub fn cloud_templates(cloud: &str) -> Vec<(Format, &'static str, String)> {
    let mut found = Vec::new();
    if let Some(folder) = TEMPLATES.get_dir(format!("{CLOUDS_FOLDER}/{cloud}")) {
        templates_under(folder, &mut found);
    }
    let mut templates: Vec<(Format, &'static str, String)> = found
        .into_iter()
        .filter_map(|name| {
            let format = Format::of_template(name)?;
            let path = name
                .strip_prefix(&format!("{CLOUDS_FOLDER}/"))?
                .trim_end_matches(".j2");
            Some((format, name, path.to_owned()))
        })
        .collect();
    templates.sort_by_key(|(format, _, path)| (*format, path.clone()));
    templates
}

/// A generated artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// A Terraform root module.
    Terraform,
    /// A CloudFormation template.
    CloudFormation,
    /// A Pulumi YAML program.
    Pulumi,
    /// A Pulumi ESC environment definition.
    Esc,
    /// A stack's Pulumi Deployments settings (the OIDC part).
    Deployments,
    /// The file that makes a CI system's job use the role: the system's preset id.
    Ci(&'static str),
}

/// What defines a format: its name on the command line (and its templates' folder), what it is,
/// and the language the file is written in.
struct FormatSpec {
    format: Format,
    name: &'static str,
    description: &'static str,
    language: Language,
}

/// The one table of formats, in the order files are written and reported.
const FORMATS: [FormatSpec; 5] = [
    FormatSpec {
        format: Format::Terraform,
        description: "A Terraform root module: terraform/main.tf",
        name: "terraform",
        language: Language::Hcl,
    },
    FormatSpec {
        format: Format::CloudFormation,
        description: "A CloudFormation template: cloudformation/template.json",
        name: "cloudformation",
        language: Language::Json,
    },
    FormatSpec {
        format: Format::Pulumi,
        description: "A Pulumi YAML program: pulumi/Pulumi.yaml",
        name: "pulumi",
        language: Language::InterpolatedYaml,
    },
    FormatSpec {
        format: Format::Esc,
        description: "A Pulumi ESC environment definition: esc/environment.yaml (needs --account-id)",
        name: "esc",
        language: Language::InterpolatedYaml,
    },
    FormatSpec {
        format: Format::Deployments,
        description: "A stack's Pulumi Deployments settings: deployments/settings.json (needs --deploy and --account-id)",
        name: "deployments",
        language: Language::Json,
    },
];

impl Format {
    /// Every format, in the order files are written and reported: the infrastructure's, then
    /// each CI system's file.
    pub fn all() -> Vec<Format> {
        FORMATS
            .iter()
            .map(|spec| spec.format)
            .chain(
                ALL.iter()
                    .filter(|p| p.consumer_file.is_some())
                    .map(|p| Format::Ci(p.id)),
            )
            .collect()
    }

    /// The format called `name` on the command line.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::all().into_iter().find(|f| f.name() == name)
    }

    /// What defines the format.
    fn spec(self) -> FormatSpec {
        if let Format::Ci(id) = self {
            let file = ALL
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.consumer_file.as_ref())
                .expect("a CI format names a preset with a consumer file");
            return FormatSpec {
                format: self,
                name: file.format,
                description: file.description,
                language: file.language,
            };
        }
        let spec = FORMATS
            .iter()
            .find(|spec| spec.format == self)
            .expect("every format is in the table");
        FormatSpec { ..*spec }
    }

    /// The name on the command line, e.g. `terraform`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// What the format is, for `--help`.
    pub fn description(self) -> &'static str {
        self.spec().description
    }

    /// The template the flags' role's file of this format is rendered from: the one template in
    /// the format's folder that is not a partial.
    pub fn template(self) -> &'static str {
        let folder = TEMPLATES
            .get_dir(self.name())
            .expect("every format has a folder of templates");
        let mut files = folder.files().filter(|file| !is_partial(file.path()));
        match (files.next(), files.next()) {
            (Some(file), None) => file.path().to_str().expect("template names are UTF-8"),
            _ => panic!(
                "templates/{}/ holds one template besides partials",
                self.name()
            ),
        }
    }

    /// The templates of the files a spec writes once, in this format, with each file's path:
    /// `templates/spec/<format>/...`, by name.
    pub fn spec_templates(self) -> Vec<(&'static str, String)> {
        let mut found = Vec::new();
        if let Some(folder) = TEMPLATES.get_dir(format!("{SPEC_FOLDER}/{}", self.name())) {
            templates_under(folder, &mut found);
        }
        found.sort();
        found
            .into_iter()
            .map(|name| {
                let path = name
                    .strip_prefix(&format!("{SPEC_FOLDER}/"))
                    .unwrap_or(name)
                    .trim_end_matches(".j2");
                (name, path.to_owned())
            })
            .collect()
    }

    /// Where the file goes, relative to the output folder: the template name without `.j2`.
    pub fn path(self) -> &'static str {
        self.template().trim_end_matches(".j2")
    }

    /// The language the file is written in.
    pub fn language(self) -> Language {
        self.spec().language
    }

    /// The format whose folder holds a template, judged by the name's first component (after
    /// `spec/`, or `clouds/<cloud>/`).
    fn of_template(name: &str) -> Option<Format> {
        let name = name
            .strip_prefix(&format!("{SPEC_FOLDER}/"))
            .or_else(|| {
                let (_, rest) = name
                    .strip_prefix(&format!("{CLOUDS_FOLDER}/"))?
                    .split_once('/')?;
                Some(rest)
            })
            .unwrap_or(name);
        let folder = name.split('/').next()?;
        Format::all().into_iter().find(|f| f.name() == folder)
    }
}

/// Whether a template is a partial (its name starts with `_`): included, never a file.
fn is_partial(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with('_'))
}

/// The templates (not partials) in `folder` and below, by name.
fn templates_under(folder: &'static include_dir::Dir<'static>, found: &mut Vec<&'static str>) {
    for file in folder.files().filter(|file| !is_partial(file.path())) {
        found.push(file.path().to_str().expect("template names are UTF-8"));
    }
    for dir in folder.dirs() {
        templates_under(dir, found);
    }
}

/// A rendered file, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The format it belongs to.
    pub format: Format,
    /// The path relative to the output folder, with `/` between folders.
    pub path: String,
    /// The whole file.
    pub contents: String,
}

/// Renders models with the built-in templates, or a user's where they exist.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// A renderer that tries `overrides` (a folder laid out like `templates/`) before the built-ins.
    pub fn new(overrides: Option<&Overrides>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_auto_escape_callback(|name| match Format::of_template(name) {
            Some(format) => AutoEscape::Custom(format.language().auto_escape_name().into()),
            None => AutoEscape::None,
        });
        env.set_formatter(escape::formatter);
        env.add_filter("comment", |value: String| escape::comment(&value));
        env.add_filter("hcl_attributes", escape::hcl_attributes);
        env.add_filter("hcl_key", escape::hcl_key);
        env.add_filter("bare", escape::bare);
        env.add_filter("reference", escape::reference);
        let overrides = overrides.cloned();
        env.set_loader(move |name| load(overrides.as_ref(), name));
        Renderer { env }
    }

    /// Renders one format, then parses the result to prove it is valid in its language.
    pub fn render(&self, format: Format, model: &Model) -> Result<RenderedFile> {
        self.render_as(format.template(), format, format.path().into(), model)
    }

    /// Renders `name` with `context` into the file at `path`, checked in `format`'s language.
    pub fn render_as(
        &self,
        name: &str,
        format: Format,
        path: String,
        context: &impl serde::Serialize,
    ) -> Result<RenderedFile> {
        let template_error = |source| Error::Template {
            name: name.to_owned(),
            source,
        };
        let template = self.env.get_template(name).map_err(template_error)?;
        let rendered = template
            .render(Value::from(Serde(context)))
            .map_err(template_error)?;
        let contents = check_syntax(name, format.language(), rendered)?;
        Ok(RenderedFile {
            format,
            path,
            contents,
        })
    }
}

/// A user's folder of templates, tried before the built-in ones. Below it, every folder and
/// template is reached without following a symbolic link, and a template is a regular file of at
/// most [`crate::bounded::TEMPLATE_BYTES`]: a link planted in a repository's template folder (to
/// `/proc/self/environ`, to a file outside) is refused, never rendered into a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overrides {
    /// The folder opened as named (the command line's, or a spec's folder).
    root: PathBuf,
    /// Plain names of the folders from `root` down to the templates.
    below: Vec<String>,
}

impl Overrides {
    /// The folder the command line names (`--templates DIR`), opened as given.
    pub fn given(dir: &Path) -> Overrides {
        Overrides {
            root: dir.to_path_buf(),
            below: Vec::new(),
        }
    }

    /// A spec's `templates:`, a folder inside the spec's folder `base`: `None` when `relative`
    /// is absolute or holds `..` (or anything but plain names).
    pub fn in_spec(base: &Path, relative: &Path) -> Option<Overrides> {
        let names = crate::confined::names(relative.to_str()?)?;
        let here = base.as_os_str().is_empty();
        Some(Overrides {
            root: if here {
                PathBuf::from(".")
            } else {
                base.to_path_buf()
            },
            below: names.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The folder's path, for messages.
    pub fn path(&self) -> PathBuf {
        self.below
            .iter()
            .fold(self.root.clone(), |path, name| path.join(name))
    }

    /// The text of the template `name` (a path of plain names), `None` if the folder has no
    /// such file.
    fn read(&self, name: &[&str]) -> Result<Option<String>, String> {
        use crate::confined::{Blocked, Folder, walk};
        let (file, folders) = name.split_last().expect("a template has a name");
        let root = match Folder::open(&self.root) {
            Ok(root) => root,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(format!(
                    "cannot open {}: {e}",
                    crate::shown::path(&self.root)
                ));
            }
        };
        let mut path: Vec<&str> = self.below.iter().map(String::as_str).collect();
        path.extend(folders);
        let folder = match walk(&root, &path) {
            Ok(Some(folder)) => folder,
            Ok(None) => return Ok(None),
            Err(Blocked::Kind { path, .. }) => {
                return Err(format!(
                    "{} is not a folder (a symbolic link is not followed below the template folder)",
                    crate::shown::path(&path)
                ));
            }
            Err(Blocked::Io { path, source }) => {
                return Err(format!(
                    "cannot open {}: {source}",
                    crate::shown::path(&path)
                ));
            }
        };
        let shown = || crate::shown::path(&folder.path().join(file));
        let refused = |why: &str| Err(format!("{}: {why}", shown()));
        match folder.kind(file).map_err(|e| format!("{}: {e}", shown()))? {
            crate::confined::Kind::Missing => return Ok(None),
            crate::confined::Kind::File { .. } => {}
            crate::confined::Kind::Link => {
                return refused(
                    "it is a symbolic link; a template is read from a regular file, never through a link",
                );
            }
            _ => return refused("it is not a regular file"),
        }
        let limit = crate::bounded::TEMPLATE_BYTES;
        match folder.read(file, limit) {
            Ok(Some(bytes)) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("{}: it is not UTF-8 text", shown())),
            Ok(None) => refused(&format!(
                "it is larger than {limit} bytes, the most a template may hold"
            )),
            Err(e) => Err(format!("cannot read {}: {e}", shown())),
        }
    }
}

fn load(overrides: Option<&Overrides>, name: &str) -> Result<Option<String>, minijinja::Error> {
    let Some(names) = crate::confined::names(name) else {
        return Ok(None);
    };
    if let Some(overrides) = overrides {
        match overrides.read(&names) {
            Ok(Some(source)) => return Ok(Some(source)),
            Ok(None) => {}
            Err(why) => {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    why,
                ));
            }
        }
    }
    Ok(built_in(name).map(str::to_owned))
}

/// The built-in template called `name`.
fn built_in(name: &str) -> Option<&'static str> {
    TEMPLATES
        .get_file(name)
        .and_then(|file| file.contents_utf8())
}

/// Parses a rendered file in its language. JSON is also re-indented, so templates need not
/// care about commas and indentation inside loops.
fn check_syntax(name: &str, language: Language, rendered: String) -> Result<String> {
    let invalid = |language, reason: String| Error::InvalidOutput {
        name: name.to_owned(),
        language,
        reason,
    };
    match language {
        Language::Json => {
            let mut pretty = reformat_json(&rendered, serde_json::ser::PrettyFormatter::new())
                .map_err(|e| invalid("JSON", e.to_string()))?;
            pretty.push('\n');
            Ok(pretty)
        }
        Language::InterpolatedYaml | Language::Yaml => {
            // Event by event, keeping none: a tree (or libyaml's list of events) of a file of
            // thousands of roles would take many times its size.
            let mut parser = yaml_rust2::parser::Parser::new_from_str(&rendered);
            loop {
                match parser.next_token() {
                    Ok((yaml_rust2::parser::Event::StreamEnd, _)) => break,
                    Ok(_) => {}
                    Err(e) => return Err(invalid("YAML", e.to_string())),
                }
            }
            Ok(rendered)
        }
        Language::Hcl => Ok(rendered),
    }
}

/// `json` written again with `formatter`, keys in their order, without building a tree of it
/// (a template of thousands of roles would take ten times its size).
pub fn reformat_json<F: serde_json::ser::Formatter>(
    json: &str,
    formatter: F,
) -> Result<String, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let mut output = Vec::with_capacity(json.len());
    let mut serializer = serde_json::Serializer::with_formatter(&mut output, formatter);
    serde_transcode::transcode(&mut deserializer, &mut serializer)?;
    deserializer.end()?;
    Ok(String::from_utf8(output).expect("serde_json writes UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in template parses, and every folder of templates is a format's: a folder no
    /// format names would be a format written by nobody.
    #[test]
    fn every_template_loads_and_every_folder_is_a_format() {
        let renderer = Renderer::new(None);
        let mut every = Vec::new();
        templates_under(&TEMPLATES, &mut every);
        assert!(every.len() >= 15, "{every:?}");
        for name in every {
            renderer.env.get_template(name).unwrap();
            assert!(Format::of_template(name).is_some(), "{name} is no format's");
        }
        for format in Format::all() {
            assert_eq!(Format::of_template(format.template()), Some(format));
        }
        let spec_files: Vec<String> = Format::all()
            .into_iter()
            .flat_map(|f| f.spec_templates().into_iter().map(|(_, path)| path))
            .collect();
        assert_eq!(
            spec_files,
            [
                "terraform/main.tf",
                "terraform/modules/pulumi-oidc/main.tf",
                "cloudformation/stackset.json",
                "cloudformation/template.json",
                "pulumi/Pulumi.yaml"
            ]
        );
    }

    #[test]
    fn paths_follow_template_names() {
        let paths: Vec<_> = Format::all().iter().map(|f| f.path()).collect();
        assert_eq!(
            paths,
            [
                "terraform/main.tf",
                "cloudformation/template.json",
                "pulumi/Pulumi.yaml",
                "esc/environment.yaml",
                "deployments/settings.json",
                "github/workflow.yml",
                "gitlab/.gitlab-ci.yml",
                "hcp-terraform/variables.tf",
                "buildkite/pipeline.yml",
                "circleci/config.yml"
            ]
        );
    }

    /// The size check counts the policy the templates write, every statement included.
    #[test]
    fn the_size_check_counts_the_rendered_policy() {
        use crate::claims::Attribute;
        use crate::policy::policy_size;
        use crate::request::{Request, ThumbprintChoice};
        use crate::role::RoleFields;
        let roles = [
            RoleFields {
                envs: vec!["platform/prod".into(), "legacy-*".into()],
                deploy: vec!["infra/*".into()],
                ..RoleFields::default()
            },
            RoleFields {
                subject_attributes: vec![Attribute::CurrentEnvironment, Attribute::UserLogin],
                envs: vec!["p/*".into(), "dev*".into()],
                ..RoleFields::default()
            },
            RoleFields::default(),
        ];
        for role in roles {
            let inputs = Request {
                org: Some("acme".into()),
                role: RoleFields {
                    name: Some("r".into()),
                    session_name: "s-s".into(),
                    ..role
                },
                thumbprints: ThumbprintChoice::Omit,
                ..Request::default()
            }
            .validate()
            .unwrap();
            let file = Renderer::new(None)
                .render(Format::CloudFormation, &inputs.model(&[]))
                .unwrap();
            let template: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
            let mut policy =
                template["Resources"]["PulumiEscRole"]["Properties"]["AssumeRolePolicyDocument"]
                    .clone();
            for statement in policy["Statement"].as_array_mut().unwrap() {
                statement["Principal"]["Federated"] =
                    inputs.trust.provider_arn("000000000000").into();
            }
            assert_eq!(policy, inputs.trust.trust_policy(None));
            assert_eq!(policy_size(&policy), inputs.trust_policy_size());
        }
    }

    #[test]
    fn templates_outside_the_tree_are_not_loaded() {
        assert!(load(None, "../Cargo.toml").unwrap().is_none());
        assert!(load(None, "/etc/passwd").unwrap().is_none());
    }
}
