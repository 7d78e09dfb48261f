//! Reading a policy document into typed statements, refusing anything livenotify would
//! have to guess about, with a reason that names the offending field.
//!
//! The grammar (Alibaba's, minus conditions):
//! `{"Version":"1","Statement":[{"Effect":"Allow"|"Deny","Action":A,"Resource":R}, ...]}`
//! where `A` is one string or a non-empty list of `*` or `service:name` (letters, digits,
//! `*`, `?`), and `R` is one string or a non-empty list of `*` or `acs:...` patterns.

use serde_json::{Map, Value};

use super::{Effect, Pattern, Policy, Statement};

/// Alibaba's limit on the size of a policy document.
pub const MAX_DOCUMENT_BYTES: usize = 6144;
/// The longest single `Action` or `Resource` entry accepted.
const MAX_ENTRY_CHARS: usize = 1024;

const DOCUMENT_FIELDS: &[&str] = &["Version", "Statement"];
const STATEMENT_FIELDS: &[&str] = &["Effect", "Action", "Resource"];
/// Fields of Alibaba's grammar that livenotify does not evaluate. Ignoring them would grant
/// more (or deny less) than the author meant, so documents using them are refused.
const UNSUPPORTED_FIELDS: &[&str] = &["Condition", "NotAction", "NotResource", "Principal"];

/// Why a policy document was refused. Each message names the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy document is {len} bytes; the limit is {MAX_DOCUMENT_BYTES}")]
    TooLong { len: usize },
    #[error("the policy document is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("{path} is missing")]
    Missing { path: String },
    #[error("{path} must be {expected}")]
    WrongType {
        path: String,
        expected: &'static str,
    },
    #[error("{path} is not a field of a policy (expected one of {allowed})")]
    UnknownField { path: String, allowed: String },
    #[error("{path} is not supported by livenotify; remove it")]
    Unsupported { path: String },
    #[error("Version must be \"1\", not {found}")]
    Version { found: String },
    #[error("{path} must not be empty")]
    Empty { path: String },
    #[error("{path} must be \"Allow\" or \"Deny\", not {found:?}")]
    Effect { path: String, found: String },
    #[error(
        "{path} {found:?} must be \"*\" or start with a service prefix, such as live:Describe*"
    )]
    Action { path: String, found: String },
    #[error(
        "{path} {found:?} must be \"*\" or start with acs:, \
         such as acs:live:*:<account>:domain/<domain>"
    )]
    Resource { path: String, found: String },
    #[error("{path} is longer than {MAX_ENTRY_CHARS} characters")]
    EntryTooLong { path: String },
}

/// Parses a policy document.
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(PolicyError::TooLong { len: text.len() });
    }
    let value: Value = serde_json::from_str(text)?;
    let document = object(&value, "the policy document")?;
    check_fields(document, "", DOCUMENT_FIELDS)?;

    match document.get("Version") {
        Some(Value::String(version)) if version == "1" => {}
        Some(other) => {
            return Err(PolicyError::Version {
                found: other.to_string(),
            })
        }
        None => return Err(missing("Version")),
    }
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PolicyError::Empty {
                path: "Statement".into(),
            })
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong_type("Statement", "a list of statements")),
        None => return Err(missing("Statement")),
    };
    let statements = statements
        .iter()
        .enumerate()
        .map(|(index, item)| statement(item, &format!("Statement[{index}]")))
        .collect::<Result<_, _>>()?;
    Ok(Policy { statements })
}

fn statement(value: &Value, path: &str) -> Result<Statement, PolicyError> {
    let fields = object(value, path)?;
    check_fields(fields, &format!("{path}."), STATEMENT_FIELDS)?;

    let effect_path = format!("{path}.Effect");
    let effect = match fields.get("Effect") {
        Some(Value::String(text)) if text == "Allow" => Effect::Allow,
        Some(Value::String(text)) if text == "Deny" => Effect::Deny,
        Some(Value::String(text)) => {
            let found = text.clone();
            return Err(PolicyError::Effect {
                path: effect_path,
                found,
            });
        }
        Some(_) => return Err(wrong_type(&effect_path, "\"Allow\" or \"Deny\"")),
        None => return Err(missing(&effect_path)),
    };
    let actions = entries(fields, path, "Action", action_pattern)?;
    let resources = entries(fields, path, "Resource", resource_pattern)?;
    Ok(Statement {
        effect,
        actions,
        resources,
    })
}

/// The `Action` or `Resource` of a statement: one string or a non-empty list of strings.
fn entries(
    fields: &Map<String, Value>,
    statement: &str,
    name: &str,
    pattern: fn(&str, String) -> Result<Pattern, PolicyError>,
) -> Result<Vec<Pattern>, PolicyError> {
    let path = format!("{statement}.{name}");
    let expected = "a string or a non-empty list of strings";
    match fields.get(name) {
        None => Err(missing(&path)),
        Some(Value::String(text)) => Ok(vec![pattern(text, path)?]),
        Some(Value::Array(items)) if items.is_empty() => Err(PolicyError::Empty { path }),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let item_path = format!("{path}[{index}]");
                match item {
                    Value::String(text) => pattern(text, item_path),
                    _ => Err(wrong_type(&item_path, "a string")),
                }
            })
            .collect(),
        Some(_) => Err(wrong_type(&path, expected)),
    }
}

/// `*`, or a service prefix (letters, digits, `-`), a colon and an action name pattern
/// (letters, digits, `*`, `?`).
fn action_pattern(text: &str, path: String) -> Result<Pattern, PolicyError> {
    check_length(text, &path)?;
    if text == "*" {
        return Ok(Pattern::action(text));
    }
    let well_formed = text.split_once(':').is_some_and(|(service, name)| {
        !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    });
    if !well_formed {
        let found = text.to_string();
        return Err(PolicyError::Action { path, found });
    }
    Ok(Pattern::action(text))
}

/// `*`, or an Alibaba Cloud resource name pattern starting with `acs:`.
fn resource_pattern(text: &str, path: String) -> Result<Pattern, PolicyError> {
    check_length(text, &path)?;
    let well_formed = text == "*"
        || (text.starts_with("acs:") && !text.chars().any(|c| c.is_control() || c.is_whitespace()));
    if !well_formed {
        let found = text.to_string();
        return Err(PolicyError::Resource { path, found });
    }
    Ok(Pattern::resource(text))
}

fn check_length(text: &str, path: &str) -> Result<(), PolicyError> {
    if text.chars().count() > MAX_ENTRY_CHARS {
        return Err(PolicyError::EntryTooLong {
            path: path.to_string(),
        });
    }
    Ok(())
}

fn check_fields(
    fields: &Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
) -> Result<(), PolicyError> {
    for name in fields.keys() {
        let path = format!("{prefix}{name}");
        if UNSUPPORTED_FIELDS.contains(&name.as_str()) {
            return Err(PolicyError::Unsupported { path });
        }
        if !allowed.contains(&name.as_str()) {
            let allowed = allowed.join(", ");
            return Err(PolicyError::UnknownField { path, allowed });
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PolicyError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, "a JSON object"))
}

fn missing(path: &str) -> PolicyError {
    PolicyError::Missing {
        path: path.to_string(),
    }
}

fn wrong_type(path: &str, expected: &'static str) -> PolicyError {
    PolicyError::WrongType {
        path: path.to_string(),
        expected,
    }
}
