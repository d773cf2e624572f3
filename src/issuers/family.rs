//! The statements of one family of subjects (a repository, a project, a workspace), as every CI
//! system writes them: `aud` and the exact values with `StringEquals`, patterns with
//! `StringLike`, and, where a subject is a pattern with fields after it, a `StringNotLike` that
//! refuses subjects with more fields than the form has, so no `*` reaches across a field.

use std::collections::BTreeMap;

use crate::issuer::Issuer;
use crate::policy::{self, ConditionKey, Statement, group};

/// One family of subjects and the conditions that go with them.
pub struct Family<'a> {
    /// The statement id (a part gets a suffix when the family is split).
    pub sid: String,
    /// The audiences admitted.
    pub audiences: Vec<String>,
    /// The subjects admitted.
    pub subjects: Vec<String>,
    /// Other claims AWS maps, each with the values admitted (any matches).
    pub claims: Vec<(&'a str, Vec<String>)>,
    /// The character between the subject's fields.
    pub separator: char,
    /// Whether a pattern may end before the subject does (a field follows it): then subjects with
    /// more fields than the form are refused.
    pub guard: bool,
    /// The suffix of the statement id for the part with this many separators, when split.
    pub part_name: fn(usize) -> String,
}

impl Family<'_> {
    /// The statements, appended to `statements` with ids not already taken.
    pub fn write(self, issuer: &Issuer, statements: &mut Vec<Statement>) {
        let key = |claim: &str| issuer.condition_key(claim);
        let guarded = self.guard && self.subjects.iter().any(|s| policy::is_pattern(s));
        let mut parts: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for subject in self.subjects {
            let fields = match guarded {
                true => subject.matches(self.separator).count(),
                false => 0,
            };
            parts.entry(fields).or_default().push(subject);
        }
        let split = parts.len() > 1;
        for (separators, subjects) in parts.into_iter().rev() {
            let mut equals = vec![ConditionKey {
                variable: key("aud"),
                values: self.audiences.clone(),
            }];
            let mut like = Vec::new();
            let claims = std::iter::once(("sub", subjects)).chain(self.claims.iter().cloned());
            for (claim, values) in claims {
                let pattern = values.iter().any(|v| policy::is_pattern(v));
                let condition = ConditionKey {
                    variable: key(claim),
                    values,
                };
                match pattern {
                    true => like.push(condition),
                    false => equals.push(condition),
                }
            }
            let mut conditions = vec![group("StringEquals", equals)];
            if !like.is_empty() {
                conditions.push(group("StringLike", like));
            }
            if guarded {
                let more = format!("{}*", self.separator);
                conditions.push(group(
                    "StringNotLike",
                    vec![ConditionKey {
                        variable: key("sub"),
                        values: vec![format!("*{}", more.repeat(separators + 1))],
                    }],
                ));
            }
            let mut sid = self.sid.clone();
            if split {
                sid.push_str(&(self.part_name)(separators));
            }
            while statements.iter().any(|s| s.sid == sid) {
                sid.push('X');
            }
            statements.push(Statement { sid, conditions });
        }
    }
}

/// `text`'s letters and digits as CamelCase words, for statement ids (IAM allows no others).
pub fn words(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}
