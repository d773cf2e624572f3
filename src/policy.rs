//! What both the generator and `simulate` know of an IAM trust policy document: the action it
//! allows, how IAM matches `StringLike`, and how IAM counts its size.

use serde_json::Value;

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
