//! Git's rules for a ref name (`git check-ref-format`), which GitHub, GitLab and Buildkite all
//! hold branch and tag names to: a name that breaks them is no branch a token can carry, and
//! refusing it also keeps out what the CI systems' files would read as syntax.

/// The rule `name` (a branch or tag name, or a full `refs/...` ref) breaks, if any. `*` and `?`
/// are allowed where `patterns` is true: they are IAM's wildcards there, not part of a name.
pub fn broken_rule(name: &str, patterns: bool) -> Option<&'static str> {
    let wildcard = |c: char| patterns && matches!(c, '*' | '?');
    if name.is_empty() {
        return Some("a ref name is not empty");
    }
    if name.len() > 1024 {
        return Some("a ref name is at most 1024 bytes");
    }
    if let Some(c) = name.chars().find(|&c| {
        c.is_control()
            || c == ' '
            || matches!(c, '~' | '^' | ':' | '[' | '\\')
            || (!wildcard(c) && matches!(c, '*' | '?'))
    }) {
        return Some(match c {
            '*' | '?' => "git refuses '*' and '?' in a ref name",
            ':' => "git refuses ':' in a ref name (and it separates the fields of a subject)",
            c if c.is_control() => "git refuses control characters in a ref name",
            ' ' => "git refuses spaces in a ref name",
            _ => "git refuses '~', '^', '[' and '\\' in a ref name",
        });
    }
    if name.contains("..") {
        return Some("git refuses '..' in a ref name");
    }
    if name.contains("@{") || name == "@" {
        return Some("git refuses '@{' in a ref name, and '@' alone");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Some("a ref name neither starts nor ends with '/', nor holds '//'");
    }
    if name.ends_with('.') {
        return Some("git refuses a ref name that ends with '.'");
    }
    if name
        .split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return Some("git refuses a part of a ref name that starts with '.' or ends with '.lock'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::broken_rule;

    #[test]
    fn gits_rules() {
        for good in [
            "main",
            "release/1.x",
            "feature/a-b_c",
            "v1.2.3",
            "x\"||\"1",
            "a$b",
            "ünïcode",
            "!bang",
        ] {
            assert_eq!(broken_rule(good, false), None, "{good}");
        }
        for pattern in ["release/*", "v?.*"] {
            assert_eq!(broken_rule(pattern, true), None, "{pattern}");
            assert!(broken_rule(pattern, false).is_some(), "{pattern}");
        }
        for bad in [
            "",
            "a b",
            "a\tb",
            "a\u{7f}",
            "a~1",
            "a^",
            "a:b",
            "a[0]",
            "a\\b",
            "a..b",
            "a@{1}",
            "@",
            "/a",
            "a/",
            "a//b",
            "a.",
            ".hidden",
            "a/.b",
            "a.lock",
            "a/b.lock/c",
        ] {
            assert!(broken_rule(bad, true).is_some(), "{bad:?}");
        }
    }
}
