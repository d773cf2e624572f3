//! Rendering the model into each format's file with minijinja.
//!
//! Templates are embedded in the binary; `--templates DIR` is tried first, file by file, so a team
//! can override one format and keep the others. Each format's folder picks its escaping (see
//! [`crate::escape`]), undefined values are errors, and every rendered file is parsed back before
//! it is returned, so a broken template can never write a broken file.

use std::path::{Component, Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::error::{Error, Result};
use crate::escape::{self, Language};
use crate::model::Model;

/// The Terraform root module template.
pub const TERRAFORM_TEMPLATE: &str = "terraform/main.tf.j2";
/// The CloudFormation template's template.
pub const CLOUDFORMATION_TEMPLATE: &str = "cloudformation/template.json.j2";
/// The Pulumi YAML program template.
pub const PULUMI_TEMPLATE: &str = "pulumi/Pulumi.yaml.j2";
/// The ESC environment definition template.
pub const ESC_TEMPLATE: &str = "esc/environment.yaml.j2";
/// The provider ARN expression the CloudFormation template includes twice.
pub const CLOUDFORMATION_PROVIDER_ARN: &str = "cloudformation/provider_arn.json.j2";

const BUILT_IN: [(&str, &str); 5] = [
    (
        TERRAFORM_TEMPLATE,
        include_str!("../templates/terraform/main.tf.j2"),
    ),
    (
        CLOUDFORMATION_TEMPLATE,
        include_str!("../templates/cloudformation/template.json.j2"),
    ),
    (
        PULUMI_TEMPLATE,
        include_str!("../templates/pulumi/Pulumi.yaml.j2"),
    ),
    (
        ESC_TEMPLATE,
        include_str!("../templates/esc/environment.yaml.j2"),
    ),
    (
        CLOUDFORMATION_PROVIDER_ARN,
        include_str!("../templates/cloudformation/provider_arn.json.j2"),
    ),
];

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
}

impl Format {
    /// Every format, in the order files are written and reported.
    pub const ALL: [Format; 4] = [
        Format::Terraform,
        Format::CloudFormation,
        Format::Pulumi,
        Format::Esc,
    ];

    /// The template this format is rendered from.
    pub fn template(self) -> &'static str {
        match self {
            Format::Terraform => TERRAFORM_TEMPLATE,
            Format::CloudFormation => CLOUDFORMATION_TEMPLATE,
            Format::Pulumi => PULUMI_TEMPLATE,
            Format::Esc => ESC_TEMPLATE,
        }
    }

    /// Where the file goes, relative to the output folder: the template name without `.j2`.
    pub fn path(self) -> &'static str {
        self.template().trim_end_matches(".j2")
    }

    /// The language the file is written in.
    pub fn language(self) -> Language {
        match self {
            Format::Terraform => Language::Hcl,
            Format::CloudFormation => Language::Json,
            Format::Pulumi | Format::Esc => Language::InterpolatedYaml,
        }
    }

    /// The format whose folder holds a template, judged by the name's first component.
    fn of_template(name: &str) -> Option<Format> {
        let folder = name.split('/').next()?;
        Format::ALL
            .into_iter()
            .find(|f| f.template().starts_with(&format!("{folder}/")))
    }
}

/// A rendered file, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The format it belongs to.
    pub format: Format,
    /// The path relative to the output folder.
    pub path: &'static str,
    /// The whole file.
    pub contents: String,
}

/// Renders models with the built-in templates, or a user's where they exist.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// A renderer that tries `overrides` (a folder laid out like `templates/`) before the built-ins.
    pub fn new(overrides: Option<&Path>) -> Self {
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
        let overrides = overrides.map(Path::to_path_buf);
        env.set_loader(move |name| load(overrides.as_deref(), name));
        Renderer { env }
    }

    /// Renders one format, then parses the result to prove it is valid in its language.
    pub fn render(&self, format: Format, model: &Model) -> Result<RenderedFile> {
        let name = format.template();
        let template_error = |source| Error::Template {
            name: name.to_owned(),
            source,
        };
        let template = self.env.get_template(name).map_err(template_error)?;
        let rendered = template
            .render(Value::from(Serde(model)))
            .map_err(template_error)?;
        let contents = check_syntax(format, rendered)?;
        Ok(RenderedFile {
            format,
            path: format.path(),
            contents,
        })
    }
}

fn load(overrides: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    let relative = PathBuf::from(name);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Ok(None);
    }
    if let Some(dir) = overrides {
        let path = dir.join(&relative);
        match std::fs::read_to_string(&path) {
            Ok(source) => return Ok(Some(source)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::TemplateNotFound,
                    format!("cannot read {}", path.display()),
                )
                .with_source(e));
            }
        }
    }
    Ok(BUILT_IN
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, source)| (*source).to_owned()))
}

/// Parses a rendered file in its language. JSON is also re-indented, so templates need not
/// care about commas and indentation inside loops.
fn check_syntax(format: Format, rendered: String) -> Result<String> {
    let invalid = |language, reason: String| Error::InvalidOutput {
        name: format.template().to_owned(),
        language,
        reason,
    };
    match format.language() {
        Language::Json => {
            let value: serde_json::Value =
                serde_json::from_str(&rendered).map_err(|e| invalid("JSON", e.to_string()))?;
            let mut pretty = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
            pretty.push('\n');
            Ok(pretty)
        }
        Language::InterpolatedYaml => {
            serde_yaml::from_str::<serde_yaml::Value>(&rendered)
                .map_err(|e| invalid("YAML", e.to_string()))?;
            Ok(rendered)
        }
        Language::Hcl => Ok(rendered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_constant_loads() {
        let renderer = Renderer::new(None);
        for (name, _) in BUILT_IN {
            renderer.env.get_template(name).unwrap();
        }
        for format in Format::ALL {
            assert!(BUILT_IN.iter().any(|(name, _)| *name == format.template()));
        }
    }

    #[test]
    fn paths_follow_template_names() {
        let paths: Vec<_> = Format::ALL.iter().map(|f| f.path()).collect();
        assert_eq!(
            paths,
            [
                "terraform/main.tf",
                "cloudformation/template.json",
                "pulumi/Pulumi.yaml",
                "esc/environment.yaml"
            ]
        );
    }

    #[test]
    fn templates_outside_the_tree_are_not_loaded() {
        assert!(load(None, "../Cargo.toml").unwrap().is_none());
        assert!(load(None, "/etc/passwd").unwrap().is_none());
    }
}
