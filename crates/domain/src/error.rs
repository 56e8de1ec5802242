//! Validation errors carried from parsing to the API's 422 response.

use std::collections::BTreeMap;

/// Per-field validation messages, keyed by the client's field name.
pub type FieldErrors = BTreeMap<String, String>;

/// A value failed validation. `fields` maps field names to human messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("validation failed: {fields:?}")]
pub struct ValidationError {
    pub fields: FieldErrors,
}

impl ValidationError {
    pub fn new() -> Self {
        Self { fields: FieldErrors::new() }
    }

    pub fn field(name: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(name, message);
        e
    }

    pub fn add(&mut self, name: impl Into<String>, message: impl Into<String>) {
        self.fields.entry(name.into()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Ok(())` when no field failed, the error otherwise.
    pub fn into_result(self) -> Result<(), ValidationError> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Collect the error of `r` under `name` (keeping the first message per
    /// field), returning the value when it parsed.
    pub fn collect<T>(&mut self, r: Result<T, ValidationError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                for (k, v) in e.fields {
                    self.add(k, v);
                }
                None
            }
        }
    }
}

impl Default for ValidationError {
    fn default() -> Self {
        Self::new()
    }
}
