//! Finding the trust policies in the files `lint` (and `simulate --policy`) is given: which files
//! a folder holds, what kind of input each is, and each role's policy with the line it starts at.
//!
//! A file is an input only if it mentions a policy (`Statement`, `AssumeRolePolicyDocument`,
//! `assume_role_policy`, `aws_iam_policy_document`): any other JSON, YAML or Terraform below a
//! folder (a `package.json`, a GitLab pipeline, a `tsconfig.json` with comments) is not one and is
//! passed over, so that `lint` can be pointed at a whole repository or run by pre-commit.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{cloudformation, terraform};
use crate::bounded;

/// The most a file `lint` reads may hold: a 10,000-role account dump is about 10 MB.
pub const LINT_BYTES: u64 = 64 << 20;
/// The most a Terraform file may hold: configurations are written by hand, and parsing one takes
/// about 45 times its size in memory (5,000 roles in 2.5 MB: 110 MiB).
pub const TERRAFORM_BYTES: u64 = 4 << 20;
/// The most files a folder given to `lint` may hold that it reads.
pub const MAX_FILES: usize = 10_000;
/// The endings of the files `lint` reads below a folder.
pub const EXTENSIONS: [&str; 6] = ["json", "yaml", "yml", "template", "tf", "tfstate"];
/// Words one of which every input mentions.
const MARKERS: [&str; 5] = [
    "Statement",
    "AssumeRolePolicyDocument",
    "assume_role_policy",
    "aws_iam_policy_document",
    "assumeRolePolicy",
];

/// Findings a comment or `Metadata` suppresses: (rule id, reason).
pub type Suppressions = Vec<(String, String)>;

/// Where a role of a document is: its line and the suppressions beside it, by its name.
pub type Place<'p> = &'p dyn Fn(&str) -> (Option<usize>, Suppressions);

/// One role's trust policy, as read from a file.
#[derive(Debug, Clone)]
pub struct Role {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line the role (or its policy) starts at, where the format has lines.
    pub line: Option<usize>,
    /// The role: its name, its CloudFormation logical id, its Terraform address, or the file's
    /// name for a document.
    pub resource: String,
    /// The trust policy document.
    pub policy: Value,
    /// Findings a comment or `Metadata` beside the role suppresses: (rule id, reason).
    pub suppressed: Vec<(String, String)>,
}

/// A role whose policy the file does not spell out (a Terraform variable, a value known only once
/// applied), and what to lint instead.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unresolved {
    /// The file.
    #[serde(serialize_with = "super::report::lossy_path")]
    pub path: PathBuf,
    /// The 1-based line.
    pub line: Option<usize>,
    /// The role.
    pub resource: String,
    /// Why it was not linted, and what to lint instead.
    pub reason: String,
}

/// What a file holds: the roles whose policies it spells out, and those it does not.
#[derive(Debug, Default)]
pub struct Contents {
    /// Roles with their policies.
    pub roles: Vec<Role>,
    /// Roles whose policy is not in the file.
    pub unresolved: Vec<Unresolved>,
    /// Google Cloud and Azure resources that trust an OIDC issuer.
    pub federations: Vec<Federation>,
}

/// A Google Cloud or Azure resource that trusts OIDC tokens (a workload identity pool
/// provider, an IAM member, a federated identity credential), with its arguments evaluated.
#[derive(Debug, Clone)]
pub struct Federation {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line of the resource.
    pub line: Option<usize>,
    /// Its address, e.g. `google_iam_workload_identity_pool_provider.github`.
    pub resource: String,
    /// Its resource type.
    pub kind: String,
    /// Its arguments, nested blocks as objects (unknown values marked as [`super::unknown`] does).
    pub arguments: Value,
    /// Findings a comment beside it suppresses: (rule id, reason).
    pub suppressed: Vec<(String, String)>,
}

/// The files `path` names: itself when given, or the files below a folder with one of the
/// [`EXTENSIONS`], never through a symbolic link. Paths that cannot be read are `(path, reason)`.
pub fn collect(
    path: &Path,
    given: bool,
    files: &mut Vec<PathBuf>,
    refused: &mut Vec<(PathBuf, String)>,
) {
    if given && path == Path::new("-") {
        files.push(path.to_path_buf());
        return;
    }
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if given && path.as_os_str().as_encoded_bytes().starts_with(b"-") => {
            return refused.push((
                path.to_path_buf(),
                format!(
                    "{e}; it was read as a path because it came after `--`: options go before `--` (in \
                     pre-commit, in the hook's entry, not its args)"
                ),
            ));
        }
        Err(e) => return refused.push((path.to_path_buf(), e.to_string())),
    };
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return refused.push((path.to_path_buf(), e.to_string())),
        };
        entries.sort();
        // Terraform's working data (installed modules, providers) is read through the module
        // calls that use it, and git's own folder holds no policy.
        entries.retain(|entry| walked(entry));
        for entry in entries {
            if files.len() >= MAX_FILES {
                refused.push((
                    path.to_path_buf(),
                    format!("more than {MAX_FILES} files; lint fewer at a time"),
                ));
                return;
            }
            collect(&entry, false, files, refused);
        }
    } else if metadata.is_file() {
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if given || wanted {
            files.push(path.to_path_buf());
        }
    } else if given {
        refused.push((
            path.to_path_buf(),
            "it is not a regular file or a folder (a symbolic link is not followed)".into(),
        ));
    }
}

/// Whether a folder's entry is walked: not `.terraform` nor `.git`.
fn walked(entry: &Path) -> bool {
    !entry
        .file_name()
        .is_some_and(|name| name == ".terraform" || name == ".git")
}

/// The roles in a file (`-` for standard input): a Terraform configuration or plan, a policy
/// document, `aws iam get-role`, `list-roles` or `get-account-authorization-details` output, or a
/// CloudFormation template in JSON or YAML. A file that mentions no policy holds none.
pub fn read(path: &Path, options: &super::Options) -> Result<Contents, String> {
    let limit = if is_terraform(path) {
        TERRAFORM_BYTES
    } else {
        LINT_BYTES
    };
    // A file found in a folder was no link when listed; it is not followed if it became one.
    let text = bounded::read_text_unlinked(path, limit).map_err(|e| e.to_string())?;
    roles_with(path, &text, options)
}

/// The folder of a Terraform configuration file (or tfvars file), which Terraform reads as one
/// module with the folder's other `.tf` files.
pub fn module_folder(path: &Path) -> Option<PathBuf> {
    // A tfvars file sets its folder's variables: the module is linted again with it.
    let name = path.to_string_lossy();
    let tfvars = name.ends_with(".tfvars") || name.ends_with(".tfvars.json");
    if !(is_terraform(path) || tfvars) || path == Path::new("-") {
        return None;
    }
    Some(
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    )
}

/// The roles in `text`, read from `path`; see [`read`].
pub fn roles_in(path: &Path, text: &str) -> Result<Contents, String> {
    roles_with(path, text, &super::Options::default())
}

/// [`roles_in`] with values for CloudFormation parameters.
pub fn roles_with(path: &Path, text: &str, options: &super::Options) -> Result<Contents, String> {
    // A key can hide its name only behind an escape (`"\u0053tatement"`): a file with neither a
    // marker nor a backslash holds no policy.
    if !MARKERS.iter().any(|marker| text.contains(marker)) && !text.contains('\\') {
        return Ok(Contents::default());
    }
    super::unknown::check_input(text)?;
    if is_terraform(path) {
        return terraform::read(path, text);
    }
    let stdin = path == Path::new("-");
    match bounded::parse_document(text) {
        // Standard input may be Terraform too, which YAML reads as one string.
        Ok(document) if stdin && !(document.is_object() || document.is_array()) => {
            terraform::read(path, text)
        }
        Ok(document) => contents(path, text, &document, options),
        Err(error) if stdin => terraform::read(path, text).map_err(|_| error),
        Err(error) => Err(error),
    }
}

/// Whether `path` names a Terraform configuration.
fn is_terraform(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "tf") || path.to_string_lossy().ends_with(".tf.json")
}

/// The roles of a parsed JSON or YAML document.
fn contents(
    path: &Path,
    text: &str,
    document: &Value,
    options: &super::Options,
) -> Result<Contents, String> {
    let name = path
        .file_name()
        .map_or_else(|| "-".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut contents = Contents::default();
    let text_lines: Vec<&str> = text.lines().collect();
    // A role whose policy is not JSON is reported, and the file's other roles still linted.
    let add = |contents: &mut Contents,
               resource: String,
               line: Option<usize>,
               policy: &Value,
               suppressed: Vec<(String, String)>| match decoded(&resource, policy) {
        Ok(policy) => contents.roles.push(Role {
            path: path.to_path_buf(),
            line,
            policy,
            resource,
            suppressed,
        }),
        Err(reason) => contents.unresolved.push(Unresolved {
            path: path.to_path_buf(),
            line,
            resource,
            reason,
        }),
    };
    if document.get("Statement").is_some() {
        add(&mut contents, name, Some(1), document, Vec::new());
        return Ok(contents);
    }
    let listed = |list: &Value, contents: &mut Contents| {
        // The roles are written in order: each name is looked for after the one before.
        let mut lines = Lines::new(text);
        let mut cursor = 0;
        for entry in list.as_array().into_iter().flatten() {
            let Some(policy) = entry.get("AssumeRolePolicyDocument") else {
                continue;
            };
            let resource = entry.get("RoleName").and_then(Value::as_str).unwrap_or("?");
            let found = text[cursor..]
                .find(&format!("\"{resource}\""))
                .map(|at| cursor + at);
            if let Some(at) = found {
                cursor = at;
            }
            let line = found.map(|at| lines.at(at));
            add(contents, resource.to_owned(), line, policy, Vec::new());
        }
    };
    if let Some(one) = document.get("Role") {
        listed(&Value::Array(vec![one.clone()]), &mut contents);
    } else if let Some(list) = ["Roles", "RoleDetailList"]
        .iter()
        .find_map(|k| document.get(*k))
    {
        listed(list, &mut contents);
    } else if let Some(resources) = document.get("Resources").and_then(Value::as_object) {
        let place = |id: &str| {
            let line = line_of(text, id, Some(&["Resources"]));
            let mut suppressed = resources
                .get(id)
                .map_or_else(Vec::new, cloudformation_suppressions);
            if let Some(line) = line {
                suppressed.extend(comment_suppressions(&text_lines, line));
            }
            (line, suppressed)
        };
        cloudformation::roles(
            path,
            document,
            &options.parameters,
            &place,
            &mut contents,
            0,
        );
    } else if document
        .get("resources")
        .and_then(Value::as_object)
        .is_some()
    {
        let place = |name: &str| {
            let line = line_of(text, name, Some(&["resources"]));
            let suppressed =
                line.map_or_else(Vec::new, |line| comment_suppressions(&text_lines, line));
            (line, suppressed)
        };
        cloudformation::pulumi(path, document, &place, &mut contents);
    } else if document.get("planned_values").is_some()
        || document.get("format_version").is_some()
        || (document.get("terraform_version").is_some() && document.get("resources").is_some())
    {
        terraform::plan(path, document, &mut contents);
    }
    Ok(contents)
}

/// A policy as IAM returns it: an object, or a string (URL-encoded by `get-role`, JSON in
/// `get-account-authorization-details` and Terraform plans).
fn decoded(resource: &str, policy: &Value) -> Result<Value, String> {
    let Value::String(encoded) = policy else {
        return Ok(policy.clone());
    };
    let decoded = url::form_urlencoded::parse(format!("x={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    bounded::parse_json(&decoded)
        .or_else(|_| bounded::parse_json(encoded))
        .map_err(|e| format!("the trust policy of {resource} is not JSON: {e}"))
}

/// `Metadata: {oidc-gen: {suppress: [{rule: OIDC002, reason: ...}]}}` on a CloudFormation role.
fn cloudformation_suppressions(resource: &Value) -> Vec<(String, String)> {
    let entries = resource
        .pointer("/Metadata/oidc-gen/suppress")
        .and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .map(|entry| {
            let field = |key| {
                entry
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            (field("rule"), field("reason"))
        })
        .collect()
}

/// The 1-based lines of byte offsets, counted from the last one asked for when it is not past it.
pub struct Lines<'t> {
    text: &'t str,
    offset: usize,
    line: usize,
}

impl<'t> Lines<'t> {
    /// Lines of `text`.
    pub fn new(text: &'t str) -> Lines<'t> {
        Lines {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of byte `offset`.
    pub fn at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            *self = Lines::new(self.text);
        }
        self.line += memchr::memchr_iter(b'\n', &self.text.as_bytes()[self.offset..offset]).count();
        self.offset = offset;
        self.line
    }
}

/// The 1-based line where `key` is first written as a mapping key (in JSON `"key":`, in YAML
/// `key:`), after the keys of `within` if given.
pub fn line_of(text: &str, key: &str, within: Option<&[&str]>) -> Option<usize> {
    let mut after = 0;
    for parent in within.into_iter().flatten() {
        after = key_at(text, parent, after)?;
    }
    let at = key_at(text, key, after)?;
    Some(text[..at].matches('\n').count() + 1)
}

/// The byte offset of the first `key` at or after `from` written as a mapping key.
fn key_at(text: &str, key: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let rest = trimmed
            .strip_prefix('"')
            .and_then(|t| t.strip_prefix(key))
            .and_then(|t| t.strip_prefix('"'))
            .or_else(|| trimmed.strip_prefix(key));
        if rest.is_some_and(|rest| rest.trim_start().starts_with(':')) {
            return Some(offset);
        }
        offset += line.len();
    }
    // The key is on a line with others (minified JSON): its first quoted occurrence.
    text[from..].find(&format!("\"{key}\"")).map(|at| from + at)
}

/// `# oidc-gen:ignore=OIDC002 reason` (or `//`) on the lines right above `line` or on it.
pub fn comment_suppressions(lines: &[&str], line: usize) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut index = line.saturating_sub(1);
    let on_line = lines.get(index).copied().unwrap_or("");
    let mut candidates = vec![on_line];
    while index > 0 {
        index -= 1;
        let above = lines[index].trim_start();
        if !(above.starts_with('#') || above.starts_with("//")) {
            break;
        }
        candidates.push(above);
    }
    for candidate in candidates {
        if let Some((_, rest)) = candidate.split_once("oidc-gen:ignore=") {
            let (rule, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            found.push((rule.trim().to_owned(), reason.trim().to_owned()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_on_their_lines() {
        let yaml = "Resources:\n  Provider:\n    Type: x\n  Role:\n    Type: AWS::IAM::Role\n";
        assert_eq!(line_of(yaml, "Role", Some(&["Resources"])), Some(4));
        let json = "{\n  \"Resources\": {\n    \"Role\": {\n";
        assert_eq!(line_of(json, "Role", Some(&["Resources"])), Some(3));
        let minified = "{\"Resources\":{\"Role\":{\"Type\":\"AWS::IAM::Role\"}}}";
        assert_eq!(line_of(minified, "Role", Some(&["Resources"])), Some(1));
        assert_eq!(line_of(yaml, "Missing", None), None);
        let mut lines = Lines::new("a\nb\nc");
        assert_eq!((lines.at(2), lines.at(4), lines.at(0)), (2, 3, 1));
    }

    #[test]
    fn a_role_whose_policy_is_not_json_is_reported_and_the_others_read() {
        let dump = r#"{"Roles": [
            {"RoleName": "broken", "AssumeRolePolicyDocument": "%7B%22Statement"},
            {"RoleName": "fine", "AssumeRolePolicyDocument": {"Statement": []}}
        ]}"#;
        let contents = roles_in(Path::new("roles.json"), dump).unwrap();
        assert_eq!(contents.roles.len(), 1);
        assert_eq!(contents.roles[0].resource, "fine");
        assert_eq!(contents.roles[0].line, Some(3));
        assert_eq!(contents.unresolved[0].resource, "broken");
        assert!(contents.unresolved[0].reason.contains("not JSON"));
    }

    #[test]
    fn comments_above_a_block_suppress_with_reasons() {
        let text = "# keep\n# oidc-gen:ignore=OIDC201 repository ids are not known yet\nresource \"x\" \"y\" {\n";
        assert_eq!(
            comment_suppressions(&text.lines().collect::<Vec<_>>(), 3),
            vec![(
                "OIDC201".to_owned(),
                "repository ids are not known yet".to_owned()
            )]
        );
        assert!(comment_suppressions(&["resource \"x\" \"y\" {"], 1).is_empty());
    }
}
