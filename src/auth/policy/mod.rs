//! RAM policy documents: parsed once into typed statements when attached to a RAM user, and
//! evaluated for every request the user signs.
//!
//! Evaluation follows Alibaba: a statement applies when one of its `Action` patterns matches
//! the action (`live:<ActionName>`, case-insensitively) and one of its `Resource` patterns
//! matches the resource (case-sensitively). An applicable `Deny` in any policy wins; else an
//! applicable `Allow` grants; else the request is denied.

mod parse;
mod pattern;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

pub use parse::{PolicyError, MAX_DOCUMENT_BYTES};
pub use pattern::Pattern;

/// The service prefix of ApsaraVideo Live's RAM actions and resources.
pub const SERVICE: &str = "live";

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    statements: Vec<Statement>,
}

/// One statement: an effect on every pairing of its actions and resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    effect: Effect,
    actions: Vec<Pattern>,
    resources: Vec<Pattern>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// The outcome of evaluating a principal's policies for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// A `Deny` statement matched.
    ExplicitDeny,
    /// No `Allow` statement matched.
    ImplicitDeny,
}

impl Verdict {
    /// A short, fixed description for logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::ExplicitDeny => "explicit deny",
            Self::ImplicitDeny => "no allow statement matched",
        }
    }
}

impl Policy {
    /// Parses a policy document; see [`parse`] for the grammar.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        parse::parse(text)
    }

    /// The document in canonical form: every `Action` and `Resource` as a list.
    pub fn to_json(&self) -> String {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|statement| {
                json!({
                    "Effect": statement.effect.as_str(),
                    "Action": texts(&statement.actions),
                    "Resource": texts(&statement.resources),
                })
            })
            .collect();
        json!({ "Version": "1", "Statement": statements }).to_string()
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

impl Statement {
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether this statement speaks about `action` on `resource`.
    pub fn applies_to(&self, action: &str, resource: &str) -> bool {
        self.actions.iter().any(|pattern| pattern.matches(action))
            && self
                .resources
                .iter()
                .any(|pattern| pattern.matches(resource))
    }
}

/// Evaluates every statement of `policies` for `action` on `resource`: an explicit deny
/// anywhere wins over any allow.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
    action: &str,
    resource: &str,
) -> Verdict {
    let mut verdict = Verdict::ImplicitDeny;
    let applicable = policies
        .into_iter()
        .flat_map(|policy| policy.statements.iter())
        .filter(|statement| statement.applies_to(action, resource));
    for statement in applicable {
        match statement.effect {
            Effect::Deny => return Verdict::ExplicitDeny,
            Effect::Allow => verdict = Verdict::Allowed,
        }
    }
    verdict
}

/// The RAM action name of an API action: `live:<ActionName>`.
pub fn action_name(action: &str) -> String {
    format!("{SERVICE}:{action}")
}

/// The resource name of an ingest domain: `acs:live:*:<account>:domain/<domain>`.
pub fn domain_resource(account: &str, domain: &str) -> String {
    format!("acs:{SERVICE}:*:{account}:domain/{domain}")
}

fn texts(patterns: &[Pattern]) -> Vec<&str> {
    patterns.iter().map(Pattern::as_str).collect()
}
