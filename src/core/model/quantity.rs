//! Casualty quantities as reports state them: a number with a qualifier, or a vague word.
//! How each form bounds an estimate is documented in `docs/reconciliation.md`.

use serde::{Deserialize, Serialize};

use crate::core::error::ValidationError;
use crate::core::limits::MAX_COUNT;

/// A vague quantity word, coded to a number the way ACLED codes them, or left uncoded when it
/// is too vague to carry a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VagueWord {
    /// "a few": coded 3.
    AFew,
    /// "several": coded 3.
    Several,
    /// "tens": coded 10.
    Tens,
    /// "dozens": coded 12.
    Dozens,
    /// "scores": coded 40 (two score).
    Scores,
    /// "hundreds": coded 100.
    Hundreds,
    /// "thousands": coded 1000.
    Thousands,
    /// "some", "a number of": too vague to code.
    Some,
    /// "many", "numerous": too vague to code.
    Many,
}

impl VagueWord {
    /// The coded number, or `None` when the word is too vague to carry one.
    pub fn coded(self) -> Option<u32> {
        match self {
            Self::AFew | Self::Several => Some(3),
            Self::Tens => Some(10),
            Self::Dozens => Some(12),
            Self::Scores => Some(40),
            Self::Hundreds => Some(100),
            Self::Thousands => Some(1000),
            Self::Some | Self::Many => None,
        }
    }
}

/// A stated count with its qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "qualifier", rename_all = "snake_case", deny_unknown_fields)]
pub enum Quantity {
    /// "two soldiers", "only one".
    Exact {
        /// The count.
        value: u32,
    },
    /// "at least 27".
    AtLeast {
        /// The lower bound.
        value: u32,
    },
    /// "up to 50", "at most 3".
    AtMost {
        /// The upper bound.
        value: u32,
    },
    /// "about 30", "some 40".
    Approximately {
        /// The approximate count.
        value: u32,
    },
    /// "between 5 and 7".
    Range {
        /// Lower end.
        min: u32,
        /// Upper end.
        max: u32,
    },
    /// "dozens".
    Vague {
        /// The word.
        word: VagueWord,
    },
}

/// What one claim contributes to an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    /// The lowest figure this claim supports, if it bounds the estimate from below.
    pub low: Option<u32>,
    /// The figure this claim stands for when a single number is needed.
    pub point: u32,
    /// The highest figure this claim states.
    pub high: u32,
    /// The interval of true values consistent with the claim, for dispute checks.
    /// `None` as the upper end means unbounded.
    pub consistent: (u32, Option<u32>),
}

impl Quantity {
    /// Checks the numbers against [`MAX_COUNT`] and range order.
    pub fn validate(self, field: &str) -> Result<Self, ValidationError> {
        let check = |name: &str, v: u32| {
            if v > MAX_COUNT {
                Err(ValidationError::OutOfRange {
                    field: format!("{field}.{name}"),
                    value: v.to_string(),
                    min: "0".into(),
                    max: MAX_COUNT.to_string(),
                })
            } else {
                Ok(())
            }
        };
        match self {
            Self::Exact { value }
            | Self::AtLeast { value }
            | Self::AtMost { value }
            | Self::Approximately { value } => check("value", value)?,
            Self::Range { min, max } => {
                check("min", min)?;
                check("max", max)?;
                if min > max {
                    return Err(ValidationError::Malformed {
                        field: format!("{field}.min"),
                        reason: format!("range min {min} is greater than max {max}"),
                    });
                }
            }
            Self::Vague { .. } => {}
        }
        Ok(self)
    }

    /// What this quantity contributes to an estimate, or `None` for an uncoded vague word.
    pub fn contribution(self) -> Option<Contribution> {
        Some(match self {
            Self::Exact { value } => Contribution {
                low: Some(value),
                point: value,
                high: value,
                consistent: (value, Some(value)),
            },
            Self::AtLeast { value } => Contribution {
                low: Some(value),
                point: value,
                high: value,
                consistent: (value, None),
            },
            Self::AtMost { value } => Contribution {
                low: None,
                point: value,
                high: value,
                consistent: (0, Some(value)),
            },
            Self::Approximately { value } => {
                let slack = (value / 10).max(1);
                Contribution {
                    low: Some(value),
                    point: value,
                    high: value,
                    consistent: (
                        value.saturating_sub(slack),
                        Some(value.saturating_add(slack)),
                    ),
                }
            }
            Self::Range { min, max } => Contribution {
                low: Some(min),
                point: min,
                high: max,
                consistent: (min, Some(max)),
            },
            Self::Vague { word } => {
                let n = word.coded()?;
                Contribution {
                    low: Some(n),
                    point: n,
                    high: n,
                    consistent: (n, None),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_bound_as_documented() {
        let at_least = Quantity::AtLeast { value: 27 }.contribution().unwrap();
        assert_eq!(
            (at_least.low, at_least.point, at_least.high),
            (Some(27), 27, 27)
        );
        assert_eq!(at_least.consistent, (27, None));
        let up_to = Quantity::AtMost { value: 50 }.contribution().unwrap();
        assert_eq!((up_to.low, up_to.high), (None, 50));
        let range = Quantity::Range { min: 5, max: 6 }.contribution().unwrap();
        assert_eq!((range.low, range.point, range.high), (Some(5), 5, 6));
        let about = Quantity::Approximately { value: 30 }
            .contribution()
            .unwrap();
        assert_eq!(about.consistent, (27, Some(33)));
        let dozens = Quantity::Vague {
            word: VagueWord::Dozens,
        }
        .contribution()
        .unwrap();
        assert_eq!(dozens.low, Some(12));
        assert!(Quantity::Vague {
            word: VagueWord::Many
        }
        .contribution()
        .is_none());
    }

    #[test]
    fn validation_enforces_count_limit_and_range_order() {
        assert!(Quantity::Exact { value: MAX_COUNT }.validate("q").is_ok());
        assert!(matches!(
            Quantity::Exact {
                value: MAX_COUNT + 1
            }
            .validate("q"),
            Err(ValidationError::OutOfRange { .. })
        ));
        assert!(matches!(
            Quantity::Range { min: 6, max: 5 }.validate("q"),
            Err(ValidationError::Malformed { .. })
        ));
    }
}
