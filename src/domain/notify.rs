//! The two enumerations of a notify record: what kind of callback it was and how it ended.

use std::{fmt, str::FromStr};

/// A text that is none of an enumeration's wire values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of {expected}")]
pub struct UnknownValue {
    pub value: String,
    pub expected: &'static str,
}

/// The callback type: the stream started (`publish`) or stopped (`publish_done`) being pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyType {
    Publish,
    PublishDone,
}

impl NotifyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::PublishDone => "publish_done",
        }
    }
}

impl FromStr for NotifyType {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "publish" => Ok(Self::Publish),
            "publish_done" => Ok(Self::PublishDone),
            _ => Err(UnknownValue {
                value: text.to_string(),
                expected: "publish, publish_done",
            }),
        }
    }
}

impl fmt::Display for NotifyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one callback attempt, the `Status` filter's and `NotifyResult`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyResult {
    Success,
    Failed,
}

impl NotifyResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for NotifyResult {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "success" => Ok(Self::Success),
            "failed" => Ok(Self::Failed),
            _ => Err(UnknownValue {
                value: text.to_string(),
                expected: "success, failed",
            }),
        }
    }
}

impl fmt::Display for NotifyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
