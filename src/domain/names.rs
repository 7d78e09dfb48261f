//! Ingest domain names as the API accepts them.

use std::fmt;

/// An ingest domain such as `push.example1.com`, lower-cased, 1 to 253 characters of letters,
/// digits, `-`, `_` and `.`, with no empty label.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

/// Why a text is not a domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("the domain name is empty")]
    Empty,
    #[error("the domain name is longer than 253 characters")]
    TooLong,
    #[error("the domain name has a character other than letters, digits, '-', '_' and '.'")]
    BadCharacter,
    #[error("the domain name has an empty label")]
    EmptyLabel,
}

impl DomainName {
    /// Parses and normalises a domain name.
    pub fn parse(text: &str) -> Result<Self, DomainNameError> {
        if text.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if text.len() > 253 {
            return Err(DomainNameError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if !text.chars().all(allowed) {
            return Err(DomainNameError::BadCharacter);
        }
        if text.split('.').any(str::is_empty) {
            return Err(DomainNameError::EmptyLabel);
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_rejects_malformed_names() {
        assert_eq!(
            DomainName::parse("Push.Example1.com").map(|d| d.0),
            Ok("push.example1.com".to_string())
        );
        assert_eq!(DomainName::parse(""), Err(DomainNameError::Empty));
        assert_eq!(DomainName::parse("a..b"), Err(DomainNameError::EmptyLabel));
        assert_eq!(DomainName::parse("a b"), Err(DomainNameError::BadCharacter));
        assert_eq!(
            DomainName::parse(&"a".repeat(254)),
            Err(DomainNameError::TooLong)
        );
    }
}
