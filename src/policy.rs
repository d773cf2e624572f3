//! What both the generator and `simulate` know of an IAM trust policy document: its statements
//! as data, the action they allow, how IAM matches `StringLike`, and how IAM counts its size.

use serde::Serialize;
use serde_json::{Value, json};

/// The action a web-identity trust statement allows.
pub const ASSUME_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// IAM's `StringLike`: `*` matches any run of characters (including none), `?` exactly one,
/// everything else itself, case-sensitively.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let (pattern, value): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), value.chars().collect());
    // Greedy matching with one backtrack point, as for shell globs: linear in practice.
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, v));
                p += 1;
            }
            Some(&c) if c == '?' || c == value[v] => {
                p += 1;
                v += 1;
            }
            _ => match star {
                Some((star_p, star_v)) => {
                    p = star_p + 1;
                    v = star_v + 1;
                    star = Some((star_p, star_v + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The size IAM counts against the trust policy quota: characters without whitespace.
pub fn policy_size(policy: &Value) -> usize {
    policy
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// One `Allow` statement of the trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Names the token shape it admits (letters and digits, as IAM requires).
    pub sid: String,
    /// Its `Condition` block, one group per operator; all must hold.
    pub conditions: Vec<ConditionGroup>,
}

/// One condition operator and the keys it tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionGroup {
    /// `StringEquals`, `StringLike` or `StringNotLike`.
    pub operator: &'static str,
    /// The keys tested with this operator.
    pub keys: Vec<ConditionKey>,
}

/// One condition key and the values it is compared with (any of them matches).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionKey {
    /// E.g. `api.pulumi.com/oidc:aud`.
    pub variable: String,
    /// The values.
    pub values: Vec<String>,
}

impl Statement {
    /// Whether this statement's conditions all hold for `claims` (condition key, value); a key
    /// the claims lack fails a positive operator and passes a negated one, as in IAM.
    pub fn admits(&self, claims: &[(String, &str)]) -> bool {
        self.conditions.iter().all(|group| {
            let (like, negated) = match group.operator {
                "StringEquals" => (false, false),
                "StringLike" => (true, false),
                "StringNotEquals" => (false, true),
                _ => (true, true),
            };
            group.keys.iter().all(|key| {
                let value = claims
                    .iter()
                    .find(|(k, _)| *k == key.variable)
                    .map(|(_, v)| *v);
                let hit = value.is_some_and(|value| {
                    key.values.iter().any(|wanted| match like {
                        true => string_like(wanted, value),
                        false => wanted == value,
                    })
                });
                hit != negated
            })
        })
    }
}

/// A condition group of `operator` on `keys`.
pub fn group(operator: &'static str, keys: Vec<ConditionKey>) -> ConditionGroup {
    ConditionGroup { operator, keys }
}

/// Whether IAM's `StringLike` would read `value` as a pattern.
pub fn is_pattern(value: &str) -> bool {
    value.contains(['*', '?'])
}

/// The trust policy document as IAM stores it, with `provider_arn` as the federated principal.
pub fn trust_policy(statements: &[Statement], provider_arn: &str) -> Value {
    let statements: Vec<Value> = statements
        .iter()
        .map(|statement| {
            let condition: serde_json::Map<String, Value> = statement
                .conditions
                .iter()
                .map(|group| {
                    let keys = group
                        .keys
                        .iter()
                        .map(|key| (key.variable.clone(), json!(key.values)));
                    (group.operator.to_owned(), Value::Object(keys.collect()))
                })
                .collect();
            json!({
                "Sid": statement.sid,
                "Effect": "Allow",
                "Principal": { "Federated": provider_arn },
                "Action": ASSUME_ACTION,
                "Condition": condition,
            })
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Removes repeated values, keeping the first of each in order.
pub fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_follows_iam() {
        let cases = [
            ("a*", "a", true),
            ("a*", "abc/def:g", true),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*c", "abcbc", true),
            ("a*c", "abcb", false),
            ("*/*", "dev", false),
            ("*/*", "p/dev", true),
            ("env:dev*", "env:devtools/prod", true),
            ("Acme", "acme", false),
            ("a**b", "ab", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(
                string_like(pattern, value),
                expected,
                "{pattern:?} vs {value:?}"
            );
        }
    }
}
