//! Catalog forms: the fields an item asks for, and validation of the values
//! a requester submits against them.
//!
//! Field definitions are checked when an item is saved ([`parse_form`]);
//! submitted values are checked and normalised when a request is created
//! ([`validate_values`]). Errors name the offending field so the API can
//! answer 422 with per-field messages: `fields[2].options` for a bad
//! definition, `fields.<key>` for a bad value.

use crate::{Email, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// At most this many fields per form.
pub const MAX_FIELDS: usize = 50;
/// At most this many options per select or multiselect.
pub const MAX_OPTIONS: usize = 100;
pub const MAX_KEY_LEN: usize = 40;
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_OPTION_CHARS: usize = 200;
pub const MAX_HELP_CHARS: usize = 500;
/// Longest single-line text value.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Longest textarea value.
pub const MAX_TEXTAREA_CHARS: usize = 10_000;
/// Largest magnitude of a number value (beyond it, doubles lose integers).
pub const MAX_NUMBER: f64 = 1e15;

/// The kind of input a field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Textarea,
    Number,
    Date,
    Select,
    Multiselect,
    Checkbox,
    Email,
}

impl FieldType {
    pub const ALL: [FieldType; 8] = [
        Self::Text,
        Self::Textarea,
        Self::Number,
        Self::Date,
        Self::Select,
        Self::Multiselect,
        Self::Checkbox,
        Self::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Textarea => "textarea",
            Self::Number => "number",
            Self::Date => "date",
            Self::Select => "select",
            Self::Multiselect => "multiselect",
            Self::Checkbox => "checkbox",
            Self::Email => "email",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the field takes its values from `options`.
    pub fn has_options(self) -> bool {
        matches!(self, Self::Select | Self::Multiselect)
    }
}

/// A validated form field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormField {
    /// Stable name of the value: `[a-z][a-z0-9_]*`, at most 40 characters.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Choices of a select or multiselect (empty for other types).
    #[serde(default)]
    pub options: Vec<String>,
    /// A hint shown under the field.
    #[serde(default)]
    pub help: String,
}

/// A field definition as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormFieldInput {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub label: String,
    /// One of text, textarea, number, date, select, multiselect, checkbox, email.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub help: Option<String>,
}

impl From<&FormField> for FormFieldInput {
    fn from(f: &FormField) -> Self {
        Self {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind.as_str().to_owned(),
            required: f.required,
            options: f.options.clone(),
            help: Some(f.help.clone()),
        }
    }
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_KEY_LEN
        && k.as_bytes()[0].is_ascii_lowercase()
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Check a form definition. Errors are keyed `fields[i].<part>`.
pub fn parse_form(inputs: &[FormFieldInput]) -> Result<Vec<FormField>, ValidationError> {
    let mut err = ValidationError::new();
    if inputs.len() > MAX_FIELDS {
        return Err(ValidationError::field("fields", format!("may have at most {MAX_FIELDS} fields")));
    }
    let mut keys = BTreeSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, f) in inputs.iter().enumerate() {
        let at = |part: &str| format!("fields[{i}].{part}");
        let key = f.key.trim();
        if !valid_key(key) {
            err.add(
                at("key"),
                format!("must start with a lowercase letter and use only a-z, 0-9 and _ (at most {MAX_KEY_LEN})"),
            );
        } else if !keys.insert(key.to_owned()) {
            err.add(at("key"), "is used by another field");
        }
        let label = f.label.trim();
        if label.is_empty() {
            err.add(at("label"), "is required");
        } else if label.chars().count() > MAX_LABEL_CHARS || has_control(label, false) {
            err.add(at("label"), format!("must be one line of at most {MAX_LABEL_CHARS} characters"));
        }
        let Some(kind) = FieldType::from_str_opt(f.kind.trim()) else {
            err.add(at("type"), format!("must be one of {}", FieldType::ALL.map(FieldType::as_str).join(", ")));
            continue;
        };
        let help = f.help.as_deref().unwrap_or("").trim();
        if help.chars().count() > MAX_HELP_CHARS || has_control(help, false) {
            err.add(at("help"), format!("must be one line of at most {MAX_HELP_CHARS} characters"));
        }
        let mut options = Vec::new();
        if kind.has_options() {
            if f.options.is_empty() {
                err.add(at("options"), "a choice field needs at least one option");
            } else if f.options.len() > MAX_OPTIONS {
                err.add(at("options"), format!("may have at most {MAX_OPTIONS} options"));
            }
            let mut seen = BTreeSet::new();
            for o in &f.options {
                let o = o.trim();
                if o.is_empty() || o.chars().count() > MAX_OPTION_CHARS || has_control(o, false) {
                    err.add(at("options"), format!("each option must be 1–{MAX_OPTION_CHARS} characters on one line"));
                } else if !seen.insert(o.to_owned()) {
                    err.add(at("options"), format!("option {o:?} appears twice"));
                } else {
                    options.push(o.to_owned());
                }
            }
        }
        out.push(FormField {
            key: key.to_owned(),
            label: label.to_owned(),
            kind,
            required: f.required,
            options,
            help: help.to_owned(),
        });
    }
    err.into_result().map(|()| out)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Validate submitted `values` (a JSON object keyed by field key, or
/// absent) against `form`. Returns the normalised values: trimmed strings,
/// numbers as numbers, dates as `YYYY-MM-DD`, multiselects as arrays in
/// option order, checkboxes as booleans (absent = false); empty optional
/// fields are left out. Errors are keyed `fields.<key>`.
pub fn validate_values(form: &[FormField], values: Option<&Value>) -> Result<Map<String, Value>, ValidationError> {
    let empty = Map::new();
    let obj = match values {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ValidationError::field("fields", "must be an object of field values")),
    };
    let mut err = ValidationError::new();
    for k in obj.keys() {
        if !form.iter().any(|f| &f.key == k) {
            let shown: String = k.chars().take(MAX_KEY_LEN + 10).collect();
            err.add(format!("fields.{shown}"), "is not a field of this form");
        }
    }
    let mut out = Map::new();
    for f in form {
        let name = format!("fields.{}", f.key);
        let raw = obj.get(&f.key).unwrap_or(&Value::Null);
        if f.kind == FieldType::Checkbox {
            match checkbox(raw) {
                Some(b) if f.required && !b => err.add(name, "must be checked"),
                Some(b) => {
                    out.insert(f.key.clone(), Value::Bool(b));
                }
                None => err.add(name, "must be true or false"),
            }
            continue;
        }
        if is_empty(raw) {
            if f.required {
                err.add(name, "is required");
            }
            continue;
        }
        match value(f, raw) {
            Ok(v) => {
                out.insert(f.key.clone(), v);
            }
            Err(msg) => err.add(name, msg),
        }
    }
    err.into_result().map(|()| out)
}

fn checkbox(v: &Value) -> Option<bool> {
    match v {
        Value::Null => Some(false),
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "off" | "0" | "no" => Some(false),
            "true" | "on" | "1" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

fn value(f: &FormField, raw: &Value) -> Result<Value, String> {
    let text = |max: usize, lines: bool| -> Result<Value, String> {
        let Value::String(s) = raw else { return Err("must be text".into()) };
        let s = s.trim();
        if s.chars().count() > max {
            return Err(format!("must be at most {max} characters"));
        }
        if has_control(s, lines) {
            return Err(if lines { "must not contain control characters" } else { "must be a single line" }.into());
        }
        Ok(Value::String(s.to_owned()))
    };
    match f.kind {
        FieldType::Text => text(MAX_TEXT_CHARS, false),
        FieldType::Textarea => text(MAX_TEXTAREA_CHARS, true),
        FieldType::Number => {
            let n = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) if s.trim().len() <= 40 => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or("must be a number")?;
            if n.abs() > MAX_NUMBER {
                return Err("is too large".into());
            }
            if n.fract() == 0.0 {
                Ok(Value::from(n as i64))
            } else {
                serde_json::Number::from_f64(n).map(Value::Number).ok_or_else(|| "must be a number".into())
            }
        }
        FieldType::Date => {
            let Value::String(s) = raw else { return Err("must be a date (YYYY-MM-DD)".into()) };
            let s = s.trim();
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            match time::Date::parse(s, &fmt) {
                Ok(d) if s.len() == 10 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) => {
                    Ok(Value::String(d.format(&fmt).map_err(|_| "must be a date")?))
                }
                _ => Err("must be a date (YYYY-MM-DD)".into()),
            }
        }
        FieldType::Select => {
            let Value::String(s) = raw else { return Err("must be one of the options".into()) };
            let s = s.trim();
            if f.options.iter().any(|o| o == s) {
                Ok(Value::String(s.to_owned()))
            } else {
                Err("must be one of the options".into())
            }
        }
        FieldType::Multiselect => {
            let picked: Vec<&str> = match raw {
                Value::String(s) => vec![s.trim()],
                Value::Array(a) if a.len() <= MAX_OPTIONS => {
                    let mut v = Vec::with_capacity(a.len());
                    for x in a {
                        match x {
                            Value::String(s) => v.push(s.trim()),
                            _ => return Err("must be a list of options".into()),
                        }
                    }
                    v
                }
                _ => return Err("must be a list of options".into()),
            };
            if let Some(bad) = picked.iter().find(|p| !f.options.iter().any(|o| o == *p)) {
                let shown: String = bad.chars().take(50).collect();
                return Err(format!("{shown:?} is not one of the options"));
            }
            let chosen: Vec<Value> =
                f.options.iter().filter(|o| picked.contains(&o.as_str())).map(|o| Value::String(o.clone())).collect();
            Ok(Value::Array(chosen))
        }
        FieldType::Email => {
            let Value::String(s) = raw else { return Err("must be an e-mail address".into()) };
            Email::parse("v", s)
                .map(|e| Value::String(e.as_str().to_owned()))
                .map_err(|_| "must be a valid e-mail address".into())
        }
        FieldType::Checkbox => checkbox(raw).map(Value::Bool).ok_or_else(|| "must be true or false".into()),
    }
}

/// Build a values object from HTML form pairs named `prefix<key>` (e.g.
/// `f.laptop_model=…`): repeated names of a multiselect become an array,
/// checkboxes become booleans. Pairs for unknown keys are ignored; the
/// result still goes through [`validate_values`].
pub fn values_from_pairs(form: &[FormField], prefix: &str, pairs: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for f in form {
        let name = format!("{prefix}{}", f.key);
        let given: Vec<&str> = pairs.iter().filter(|(k, _)| *k == name).map(|(_, v)| v.as_str()).collect();
        let v = match f.kind {
            FieldType::Multiselect => Value::Array(given.iter().map(|s| Value::String((*s).to_owned())).collect()),
            FieldType::Checkbox => {
                Value::Bool(given.iter().any(|s| checkbox(&Value::String((*s).to_owned())) == Some(true)))
            }
            _ => match given.first() {
                Some(s) => Value::String((*s).to_owned()),
                None => continue,
            },
        };
        out.insert(f.key.clone(), v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn field(key: &str, kind: &str, required: bool, options: &[&str]) -> FormFieldInput {
        FormFieldInput {
            key: key.into(),
            label: format!("{key} label"),
            kind: kind.into(),
            required,
            options: options.iter().map(|s| (*s).to_owned()).collect(),
            help: None,
        }
    }

    fn sample() -> Vec<FormField> {
        parse_form(&[
            field("model", "select", true, &["13 inch", "15 inch"]),
            field("extras", "multiselect", false, &["mouse", "dock", "bag"]),
            field("needed_by", "date", false, &[]),
            field("count", "number", false, &[]),
            field("why", "textarea", true, &[]),
            field("manager", "email", false, &[]),
            field("agree", "checkbox", true, &[]),
            field("note", "text", false, &[]),
        ])
        .unwrap()
    }

    #[test]
    fn definitions_are_checked() {
        let e = parse_form(&[
            field("Bad Key", "text", false, &[]),
            field("ok", "colour", false, &[]),
            field("pick", "select", false, &[]),
            field("pick", "text", false, &[]),
            field("dup", "multiselect", false, &["a", "a"]),
        ])
        .unwrap_err();
        for k in ["fields[0].key", "fields[1].type", "fields[2].options", "fields[3].key", "fields[4].options"] {
            assert!(e.fields.contains_key(k), "{k}: {e:?}");
        }
        // Options of non-choice fields are dropped.
        let f = parse_form(&[field("t", "text", false, &["x"])]).unwrap();
        assert!(f[0].options.is_empty());
    }

    #[test]
    fn values_are_validated_and_normalised() {
        let form = sample();
        let ok = validate_values(
            &form,
            Some(&json!({"model": " 15 inch ", "extras": ["bag", "mouse"], "needed_by": "2030-02-28",
                          "count": "3", "why": "new starter\nneeds it", "manager": "Boss@Example.com", "agree": "on"})),
        )
        .unwrap();
        assert_eq!(
            Value::Object(ok),
            json!({"model": "15 inch", "extras": ["mouse", "bag"], "needed_by": "2030-02-28", "count": 3,
                   "why": "new starter\nneeds it", "manager": "boss@example.com", "agree": true})
        );
        let e = validate_values(
            &form,
            Some(&json!({"model": "17 inch", "extras": ["cape"], "needed_by": "2030-02-30", "count": "many",
                          "manager": "nope", "agree": false, "bogus": 1, "note": "a\nb"})),
        )
        .unwrap_err();
        for k in [
            "fields.model",
            "fields.extras",
            "fields.needed_by",
            "fields.count",
            "fields.why",
            "fields.manager",
            "fields.agree",
            "fields.bogus",
            "fields.note",
        ] {
            assert!(e.fields.contains_key(k), "{k}: {e:?}");
        }
        assert_eq!(e.fields["fields.why"], "is required");
        assert!(validate_values(&form, Some(&json!([1]))).is_err());
        assert!(validate_values(&[], None).unwrap().is_empty());
        assert!(validate_values(&[], Some(&json!({"x": 1}))).is_err());
    }

    #[test]
    fn pairs_become_values() {
        let form = sample();
        let pairs: Vec<(String, String)> = [
            ("f.model", "13 inch"),
            ("f.extras", "dock"),
            ("f.extras", "mouse"),
            ("f.agree", "on"),
            ("f.why", "x"),
            ("title", "ignored"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let v = values_from_pairs(&form, "f.", &pairs);
        let ok = validate_values(&form, Some(&v)).unwrap();
        assert_eq!(ok["extras"], json!(["mouse", "dock"]));
        assert_eq!(ok["agree"], json!(true));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            "\\PC{0,30}".prop_map(Value::String),
            prop::sample::select(vec!["13 inch", "15 inch", "mouse", "dock", "2024-01-01", "a@b.co", "on"])
                .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(3, 20, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_values() -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(vec![
            "model",
            "extras",
            "needed_by",
            "count",
            "why",
            "manager",
            "agree",
            "note",
            "zz",
        ]);
        prop::collection::btree_map(keys, arb_json(), 0..9)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    proptest! {
        /// Validation never panics, and whatever it accepts satisfies the
        /// form: required fields present, choices among the options, and
        /// the normalised values validate to themselves.
        #[test]
        fn accepted_values_satisfy_the_form(v in prop_oneof![arb_json(), arb_values()]) {
            let form = sample();
            if let Ok(out) = validate_values(&form, Some(&v)) {
                for f in &form {
                    if f.required {
                        prop_assert!(out.contains_key(&f.key), "{} missing", f.key);
                    }
                    match (f.kind, out.get(&f.key)) {
                        (FieldType::Select, Some(Value::String(s))) => prop_assert!(f.options.contains(s)),
                        (FieldType::Multiselect, Some(Value::Array(a))) => {
                            prop_assert!(a.iter().all(|x| x.as_str().is_some_and(|s| f.options.iter().any(|o| o == s))));
                        }
                        (FieldType::Select | FieldType::Multiselect, Some(other)) => prop_assert!(false, "{other:?}"),
                        _ => {}
                    }
                }
                prop_assert!(out.keys().all(|k| form.iter().any(|f| &f.key == k)));
                let again = validate_values(&form, Some(&Value::Object(out.clone()))).unwrap();
                prop_assert_eq!(again, out);
            }
        }

        #[test]
        fn definitions_never_panic(keys in prop::collection::vec("\\PC{0,12}", 0..8), kind in "[a-z]{0,12}", opts in prop::collection::vec("\\PC{0,12}", 0..6)) {
            let inputs: Vec<FormFieldInput> = keys.iter().map(|k| FormFieldInput {
                key: k.clone(), label: k.clone(), kind: kind.clone(), required: false, options: opts.clone(), help: None,
            }).collect();
            if let Ok(form) = parse_form(&inputs) {
                let keys: BTreeSet<_> = form.iter().map(|f| f.key.clone()).collect();
                prop_assert_eq!(keys.len(), form.len());
                prop_assert!(form.iter().all(|f| valid_key(&f.key) && !f.label.is_empty()));
            }
        }
    }
}
