//! Wildcard patterns of RAM policies: `*` matches any run of characters (none included) and
//! `?` exactly one. Resources match case-sensitively; actions case-insensitively, because
//! Alibaba treats action names that way.

use std::fmt;

/// A parsed `Action` or `Resource` entry of a statement.
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The entry as the document wrote it, kept for display and storage.
    text: String,
    /// What is matched: the text itself, or its ASCII lower case for actions.
    glob: Box<[char]>,
    case_insensitive: bool,
}

impl Pattern {
    /// A resource pattern, matched case-sensitively.
    pub fn resource(text: &str) -> Self {
        Self {
            text: text.to_string(),
            glob: text.chars().collect(),
            case_insensitive: false,
        }
    }

    /// An action pattern, matched without regard to ASCII case.
    pub fn action(text: &str) -> Self {
        Self {
            text: text.to_string(),
            glob: text.to_ascii_lowercase().chars().collect(),
            case_insensitive: true,
        }
    }

    /// The entry as written in the document.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `candidate` (an action or resource name) matches this pattern.
    pub fn matches(&self, candidate: &str) -> bool {
        let text: Vec<char> = if self.case_insensitive {
            candidate.to_ascii_lowercase().chars().collect()
        } else {
            candidate.chars().collect()
        };
        glob_match(&self.glob, &text)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

/// Matches `text` against `pattern` in O(len(pattern) * len(text)) at worst, without
/// recursion: on a mismatch it backtracks to the last `*` and lets it swallow one more
/// character.
pub fn glob_match(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((star, swallowed)) => {
                    p = star + 1;
                    t = swallowed + 1;
                    last_star = Some((star, swallowed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    /// The obvious recursive definition, as the reference for the fast matcher.
    fn reference(pattern: &[char], text: &[char]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some('*'), _) => {
                reference(&pattern[1..], text)
                    || (!text.is_empty() && reference(pattern, &text[1..]))
            }
            (Some(_), None) => false,
            (Some(&p), Some(&t)) => (p == '?' || p == t) && reference(&pattern[1..], &text[1..]),
        }
    }

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            (
                "live:Describe*",
                "live:DescribeLiveStreamsNotifyRecords",
                true,
            ),
            (
                "live:Describe*",
                "live:SetLiveStreamsNotifyUrlConfig",
                false,
            ),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*.example.com", "push.example.com", true),
            ("*.example.com", "example.com", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "a", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(&chars(pattern), &chars(text)),
                expected,
                "{pattern} ~ {text}"
            );
        }
    }

    #[test]
    fn actions_ignore_case_and_resources_do_not() {
        assert!(Pattern::action("LIVE:describe*").matches("live:DescribeLiveStreamsNotifyRecords"));
        let resource = "acs:live:*:1:domain/a.com";
        assert!(!Pattern::resource("acs:live:*:1:domain/A.com").matches(resource));
        assert!(Pattern::resource(resource).matches(resource));
    }

    proptest! {
        #[test]
        fn the_fast_matcher_agrees_with_the_reference(
            pattern in "[ab*?]{0,8}",
            text in "[ab]{0,10}",
        ) {
            let (pattern, text) = (chars(&pattern), chars(&text));
            prop_assert_eq!(glob_match(&pattern, &text), reference(&pattern, &text));
        }
    }
}
