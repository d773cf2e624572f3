//! The issuer URL: checked once, then known in the forms IAM, tokens and discovery use.

use std::fmt;

use url::Url;

use crate::error::{Error, Result};

/// Pulumi Cloud's OIDC issuer.
pub const PULUMI_CLOUD: &str = "https://api.pulumi.com/oidc";

/// An https issuer URL in canonical form, as tokens name it: no trailing slash, query, fragment or
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    url: Url,
    text: String,
}

impl Issuer {
    /// Checks `value` as `--issuer`.
    pub fn parse(value: &str) -> Result<Self> {
        let what = "issuer";
        let invalid = |hint: String| Error::invalid(what, value, hint);
        let url = Url::parse(value)
            .map_err(|e| invalid(format!("{e}; give an https URL such as {PULUMI_CLOUD}")))?;
        if url.scheme() != "https" {
            return Err(invalid("the issuer must be an https URL".into()));
        }
        if url.host().is_none() {
            return Err(invalid("the issuer URL has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "remove the user name and password from the URL".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "IAM refuses an issuer URL with a query or fragment; remove it".into(),
            ));
        }
        if value.contains('$') {
            return Err(invalid(
                "a '$' in the issuer URL would be read as an interpolation by Pulumi YAML and ESC; remove it"
                    .into(),
            ));
        }
        if value.len() > 1 && value.ends_with('/') {
            return Err(invalid(
                "remove the trailing slash: tokens name the issuer without it".into(),
            ));
        }
        // `Url` writes a bare host with a trailing slash; tokens and IAM never do.
        let text = url.as_str().trim_end_matches('/').to_owned();
        if text != value {
            return Err(invalid(format!(
                "write it in canonical form, as tokens name it: {text}"
            )));
        }
        Ok(Issuer { url, text })
    }

    /// The issuer as tokens name it in `iss`, e.g. `https://api.pulumi.com/oidc`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL without its scheme, as IAM stores the provider and as condition keys start:
    /// `api.pulumi.com/oidc`.
    pub fn host_path(&self) -> &str {
        self.text.trim_start_matches("https://")
    }

    /// The host name (or IP address, without brackets), for telling issuers apart.
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The parsed URL, for the network code.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Where the OpenID Connect discovery document is: the issuer followed by
    /// `/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> Url {
        Url::parse(&format!("{}/.well-known/openid-configuration", self.text))
            .expect("an issuer URL plus a path is a URL")
    }

    /// The condition key IAM sets from the token's claim `claim`, e.g. `api.pulumi.com/oidc:sub`.
    pub fn condition_key(&self, claim: &str) -> String {
        format!("{}:{claim}", self.host_path())
    }

    /// Whether this is Pulumi Cloud's own issuer.
    pub fn is_pulumi_cloud(&self) -> bool {
        self.text == PULUMI_CLOUD
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers() {
        let cases = [
            ("https://api.pulumi.com/oidc", true),
            ("https://127.0.0.1:8443/oidc", true),
            ("https://[::1]:8443", true),
            ("https://token.actions.githubusercontent.com", true),
            ("http://api.pulumi.com/oidc", false),
            ("https://api.pulumi.com/oidc/", false),
            ("https://api.pulumi.com/oidc?x=1", false),
            ("https://api.pulumi.com/oidc#f", false),
            ("https://user@api.pulumi.com/oidc", false),
            ("https://API.pulumi.com/oidc", false),
            ("https://api.pulumi.com:443/oidc", false),
            ("api.pulumi.com/oidc", false),
        ];
        for (input, valid) in cases {
            assert_eq!(Issuer::parse(input).is_ok(), valid, "issuer {input:?}");
        }
    }

    #[test]
    fn forms() {
        let issuer = Issuer::parse("https://pulumi.example.com/oidc").unwrap();
        assert_eq!(issuer.host_path(), "pulumi.example.com/oidc");
        assert_eq!(issuer.condition_key("aud"), "pulumi.example.com/oidc:aud");
        assert_eq!(
            issuer.discovery_url().as_str(),
            "https://pulumi.example.com/oidc/.well-known/openid-configuration"
        );
        let bare = Issuer::parse("https://token.actions.githubusercontent.com").unwrap();
        assert_eq!(bare.as_str(), "https://token.actions.githubusercontent.com");
        assert_eq!(bare.host_path(), "token.actions.githubusercontent.com");
        assert_eq!(
            bare.discovery_url().as_str(),
            "https://token.actions.githubusercontent.com/.well-known/openid-configuration"
        );
        assert_eq!(Issuer::parse("https://[::1]:8443").unwrap().host(), "::1");
    }
}
